#include "agent/cert_state.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include "base/file.hpp"
#include "support/must.hpp"
#include "support/temp_dir.hpp"

namespace certdock::agent {
namespace {

using std::chrono::days;
using std::chrono::hours;
using std::chrono::minutes;
using test::must;

const SystemTime kStart = std::chrono::system_clock::from_time_t(1'800'000'000);

CertState full_state() {
    return {.serial = "04A1B2C3",
            .not_before = kStart,
            .not_after = kStart + days(90),
            .key_pin = "n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=",
            .next_renewal = kStart + days(60),
            .next_renewal_reason = "one third of the 90-day lifetime remains",
            .last_attempt = kStart + days(59),
            .last_result = AttemptResult::kFailure,
            .last_error = "acme: order failed: urn:ietf:params:acme:error:rateLimited",
            .last_success = kStart,
            .consecutive_failures = 3,
            .next_retry = kStart + days(59) + minutes(15),
            .next_retry_reason = "failure 3 in a row: next try in 15 minutes (schedule)",
            .pending_order_url = "https://ca.example/order/17",
            .ari_cert_id = "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE",
            .ari_window_start = kStart + days(58),
            .ari_window_end = kStart + days(60),
            .ari_explanation_url = "https://ca.example/why",
            .next_ari_poll = kStart + days(59) + hours(6)};
}

std::string error_of(const Result<CertState>& result) {
    return result ? std::string("(no error)") : result.error().describe();
}

TEST(CertState, RoundTripsEveryField) {
    CertState state = full_state();
    std::string text = serialize_cert_state(state);
    EXPECT_EQ(must(parse_cert_state(text, "test")), state);
    EXPECT_EQ(must(parse_cert_state(serialize_cert_state(CertState{}), "test")), CertState{});
}

TEST(CertState, IsReadableJson) {
    std::string text = serialize_cert_state(full_state());
    EXPECT_NE(text.find("\"version\": 1"), std::string::npos) << text;
    EXPECT_NE(text.find("\"not_after\": \"2027-04-15T08:00:00Z\""), std::string::npos) << text;
    EXPECT_NE(text.find("\"last_result\": \"failure\""), std::string::npos) << text;
    EXPECT_NE(text.find("\"pending_order_url\": \"https://ca.example/order/17\""),
              std::string::npos)
        << text;
}

TEST(CertState, CorruptJsonNamesTheFileAndWhatToDo) {
    auto result = parse_cert_state("{\"version\": 1, \"serial\": ", "/var/lib/x/www.json");
    ASSERT_FALSE(result);
    EXPECT_EQ(result.error().category(), ErrorCategory::kInput);
    std::string text = error_of(result);
    EXPECT_NE(text.find("state file /var/lib/x/www.json is corrupt: not JSON"), std::string::npos)
        << text;
    EXPECT_NE(text.find("move it aside"), std::string::npos) << text;
}

TEST(CertState, WrongTypesNameTheField) {
    std::string text =
        error_of(parse_cert_state(R"({"version": 1, "consecutive_failures": "three"})", "f.json"));
    EXPECT_NE(text.find("\"consecutive_failures\" must be a whole number from 0, not \"three\""),
              std::string::npos)
        << text;
    text = error_of(parse_cert_state(R"({"version": 1, "not_after": "tomorrow"})", "f.json"));
    EXPECT_NE(text.find("\"not_after\": invalid RFC 3339 time 'tomorrow'"), std::string::npos)
        << text;
    text = error_of(parse_cert_state(R"({"version": 1, "last_result": "maybe"})", "f.json"));
    EXPECT_NE(text.find("\"last_result\" must be none, success or failure"), std::string::npos)
        << text;
    text = error_of(parse_cert_state("[1, 2]", "f.json"));
    EXPECT_NE(text.find("expected a JSON object"), std::string::npos) << text;
}

TEST(CertState, AFailureWithoutARetryTimeIsRefused) {
    // Loading it as "no retry pending" would retry at once after every restart.
    std::string text =
        error_of(parse_cert_state(R"({"version": 1, "consecutive_failures": 2})", "f.json"));
    EXPECT_NE(text.find("\"consecutive_failures\" is 2 but \"next_retry\" is missing"),
              std::string::npos)
        << text;
}

TEST(CertState, NewerVersionIsRefused) {
    std::string text = error_of(parse_cert_state(R"({"version": 2})", "f.json"));
    EXPECT_NE(text.find("state file f.json has version 2, this certdock reads version 1"),
              std::string::npos)
        << text;
    text = error_of(parse_cert_state(R"({"serial": "01"})", "f.json"));
    EXPECT_NE(text.find("no \"version\" number"), std::string::npos) << text;
}

TEST(CertState, UnknownFieldsAreIgnored) {
    CertState state =
        must(parse_cert_state(R"({"version": 1, "serial": "0A", "added_later": [1]})", "f.json"));
    EXPECT_EQ(state.serial, "0A");
}

TEST(StateName, OnlyPlainFileNames) {
    EXPECT_TRUE(check_state_name("www.example.com"));
    EXPECT_TRUE(check_state_name("api_v2-ecdsa"));
    for (const char* bad : {"", ".hidden", "../etc/passwd", "a/b", "with space", "..", "ü"}) {
        Status status = check_state_name(bad);
        ASSERT_FALSE(status) << bad;
        EXPECT_EQ(status.error().category(), ErrorCategory::kUsage);
    }
}

TEST(DirectoryStateStore, MissingFileAndMissingDirectoryGiveAFreshState) {
    test::TempDir dir;
    DirectoryStateStore store(dir.path() / "state" / "not-yet");
    EXPECT_EQ(must(store.load("www")), CertState{});
    EXPECT_TRUE(must(store.names()).empty());
}

TEST(DirectoryStateStore, SavesAtomicallyPrivatelyAndLoadsBack) {
    test::TempDir dir;
    DirectoryStateStore store(dir.path() / "state");
    ASSERT_TRUE(store.save("www", full_state()));
    ASSERT_TRUE(store.save("api", CertState{.serial = "01"}));
    EXPECT_EQ(must(store.load("www")), full_state());
    EXPECT_EQ(must(store.load("api")).serial, "01");
    EXPECT_EQ(must(store.names()), (std::vector<std::string>{"api", "www"}));

    struct stat info {};
    ASSERT_EQ(::stat(store.path_of("www").c_str(), &info), 0);
    EXPECT_EQ(info.st_mode & 0777, 0600u);
    ASSERT_EQ(::stat((dir.path() / "state").c_str(), &info), 0);
    EXPECT_EQ(info.st_mode & 0777, 0700u);

    // Only the two state files: no temporary file left behind.
    int files = 0;
    for ([[maybe_unused]] const auto& entry :
         std::filesystem::directory_iterator(dir.path() / "state")) {
        ++files;
    }
    EXPECT_EQ(files, 2);

    ASSERT_TRUE(store.remove("api"));
    EXPECT_EQ(must(store.load("api")), CertState{});
    EXPECT_EQ(must(store.names()), (std::vector<std::string>{"www"}));
}

TEST(DirectoryStateStore, CorruptFileIsAnErrorNotAFreshState) {
    test::TempDir dir;
    DirectoryStateStore store(dir.path());
    ASSERT_TRUE(write_file_atomic(store.path_of("www"), "{\"version\": 1, \"seri"));
    auto result = store.load("www");
    ASSERT_FALSE(result);
    std::string text = result.error().describe();
    EXPECT_NE(text.find("state file " + store.path_of("www").string() + " is corrupt"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("move it aside"), std::string::npos) << text;
}

TEST(DirectoryStateStore, RefusesNamesThatLeaveTheDirectory) {
    test::TempDir dir;
    DirectoryStateStore store(dir.path() / "state");
    EXPECT_FALSE(store.save("../escape", CertState{}));
    EXPECT_FALSE(std::filesystem::exists(dir.path() / "escape.json"));
    EXPECT_FALSE(store.load("../escape"));
}

TEST(InMemoryStateStore, BehavesLikeTheDirectory) {
    InMemoryStateStore store;
    EXPECT_EQ(must(store.load("www")), CertState{});
    ASSERT_TRUE(store.save("www", full_state()));
    EXPECT_EQ(must(store.load("www")), full_state());
    EXPECT_EQ(store.saves(), 1);
    store.put_raw("bad", "not json");
    std::string text = error_of(store.load("bad"));
    EXPECT_NE(text.find("state file memory:bad is corrupt"), std::string::npos) << text;
    ASSERT_TRUE(store.remove("www"));
    EXPECT_EQ(must(store.names()), (std::vector<std::string>{"bad"}));
}

}  // namespace
}  // namespace certdock::agent
