#include "challenge/dns01_hook.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>

#include "base/file.hpp"
#include "support/must.hpp"
#include "support/temp_dir.hpp"

namespace certdock::challenge {
namespace {

namespace fs = std::filesystem;
using certdock::test::must;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using namespace std::chrono_literals;

ChallengeTask dns_task() {
    ChallengeTask task;
    task.type = ChallengeType::kDns01;
    task.identifier = "example.com";
    task.wildcard = true;
    task.token = "LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0";
    task.key_authorization = task.token + ".nP1qzpXGymHBrUEepNY9HCsQk7K8KhOypzEt62jcerQ";
    return task;
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::size_t start = 0;
    while (start < text.size()) {
        std::size_t end = text.find('\n', start);
        if (end == std::string::npos) end = text.size();
        lines.push_back(text.substr(start, end - start));
        start = end + 1;
    }
    return lines;
}

class Dns01HookTest : public ::testing::Test {
protected:
    // An executable shell script in the temporary directory.
    fs::path script(const std::string& name, const std::string& body) {
        fs::path path = dir_.path() / name;
        WriteOptions options;
        options.mode = 0755;
        if (!write_file_atomic(path, "#!/bin/sh\n" + body + "\n", options)) std::abort();
        return path;
    }

    // A hook that records its arguments, then two variables, one line each.
    fs::path recording_hook() {
        return script("record",
                      "printf '%s\\n' \"$@\" \"${CERTDOCK_CHALLENGE_RECORD_NAME-unset}\" "
                      "\"$CERTDOCK_IDENTIFIER_TYPE\" \"${CERTDOCK_TEST_INHERITED-unset}\" > '" +
                          (dir_.path() / "calls").string() + "'");
    }

    std::vector<std::string> recorded() { return lines_of(must(read_file(dir_.path() / "calls"))); }

    HookOptions options_for(const fs::path& executable, ChallengeType type) {
        HookOptions options;
        options.executable = executable;
        options.type = type;
        return options;
    }

    certdock::test::TempDir dir_;
};

TEST_F(Dns01HookTest, BeginPassesTxtValueAndRecordName) {
    ::setenv("CERTDOCK_TEST_INHERITED", "yes", 1);
    Dns01Hook hook(options_for(recording_hook(), ChallengeType::kDns01));
    ChallengeTask task = dns_task();
    EXPECT_EQ(hook.type(), ChallengeType::kDns01);

    Status presented = hook.present(task);
    ASSERT_TRUE(presented) << presented.error().describe();
    EXPECT_THAT(recorded(),
                ElementsAre("begin", "dns-01", "example.com", task.token, dns01_record_value(task),
                            "_acme-challenge.example.com", "dns", "yes"));
    // base64url of a SHA-256 digest, without padding
    EXPECT_EQ(dns01_record_value(task).size(), 43u);
    ::unsetenv("CERTDOCK_TEST_INHERITED");
}

TEST_F(Dns01HookTest, CleanupSaysDoneOrFailed) {
    Dns01Hook hook(options_for(recording_hook(), ChallengeType::kDns01));
    ChallengeTask task = dns_task();
    ASSERT_TRUE(hook.present(task));
    ASSERT_TRUE(hook.cleanup(task));
    EXPECT_EQ(recorded().at(0), "done");

    ASSERT_TRUE(hook.present(task));
    hook.mark_failed(task);
    ASSERT_TRUE(hook.cleanup(task));
    EXPECT_EQ(recorded().at(0), "failed");

    // The mark is used up by that cleanup.
    ASSERT_TRUE(hook.present(task));
    ASSERT_TRUE(hook.cleanup(task));
    EXPECT_EQ(recorded().at(0), "done");
}

TEST_F(Dns01HookTest, FailedBeginIsCleanedUpAsFailed) {
    fs::path calls = dir_.path() / "calls";
    fs::path hook_path =
        script("begin-fails", "echo \"$1\" >> '" + calls.string() + "'\n[ \"$1\" != begin ]");
    Dns01Hook hook(options_for(hook_path, ChallengeType::kDns01));
    ChallengeTask task = dns_task();
    EXPECT_FALSE(hook.present(task));
    EXPECT_TRUE(hook.cleanup(task));
    EXPECT_THAT(recorded(), ElementsAre("begin", "failed"));
}

TEST_F(Dns01HookTest, Http01PassesKeyAuthorizationAndNoRecordName) {
    ::setenv("CERTDOCK_CHALLENGE_RECORD_NAME", "stale.example.com", 1);
    Dns01Hook hook(options_for(recording_hook(), ChallengeType::kHttp01));
    ChallengeTask task = dns_task();
    task.type = ChallengeType::kHttp01;
    task.wildcard = false;
    task.identifier_type = "ip";
    task.identifier = "192.0.2.1";
    ASSERT_TRUE(hook.present(task));
    EXPECT_THAT(recorded(), ElementsAre("begin", "http-01", "192.0.2.1", task.token,
                                        task.key_authorization, "unset", "ip", "unset"));
    ::unsetenv("CERTDOCK_CHALLENGE_RECORD_NAME");
}

TEST_F(Dns01HookTest, TlsAlpn01PassesKeyAuthorization) {
    Dns01Hook hook(options_for(recording_hook(), ChallengeType::kTlsAlpn01));
    ChallengeTask task = dns_task();
    task.type = ChallengeType::kTlsAlpn01;
    task.wildcard = false;
    ASSERT_TRUE(hook.present(task));
    EXPECT_THAT(recorded(), ElementsAre("begin", "tls-alpn-01", "example.com", task.token,
                                        task.key_authorization, "unset", "dns", "unset"));
}

TEST_F(Dns01HookTest, FailureQuotesExitStatusAndStderr) {
    fs::path hook_path = script("failing",
                                "echo 'looking up zone' >&2\n"
                                "echo 'this goes nowhere'\n"
                                "echo 'zone example.com not found' >&2\n"
                                "exit 3");
    Dns01Hook hook(options_for(hook_path, ChallengeType::kDns01));
    Status presented = hook.present(dns_task());
    ASSERT_FALSE(presented);
    EXPECT_EQ(presented.error().category(), ErrorCategory::kIo);
    std::string message = presented.error().describe();
    EXPECT_THAT(message, HasSubstr(hook_path.string()));
    EXPECT_THAT(message, HasSubstr("begin dns-01 example.com"));
    EXPECT_THAT(message, HasSubstr("exited with status 3"));
    EXPECT_THAT(message, HasSubstr("looking up zone | zone example.com not found"));
    EXPECT_THAT(message, Not(HasSubstr("goes nowhere")));  // stdout is not stderr
}

TEST_F(Dns01HookTest, FailureShowsOnlyTheLastLines) {
    fs::path hook_path = script("chatty",
                                "for i in 1 2 3 4 5 6 7 8 9; do echo line$i >&2; done\n"
                                "exit 1");
    Dns01Hook hook(options_for(hook_path, ChallengeType::kDns01));
    std::string message = hook.present(dns_task()).error().describe();
    EXPECT_THAT(message, HasSubstr("line5 | line6 | line7 | line8 | line9"));
    EXPECT_THAT(message, Not(HasSubstr("line4")));
}

TEST_F(Dns01HookTest, TimeoutKillsTheHook) {
    fs::path marker = dir_.path() / "survived";
    fs::path hook_path = script("sleepy", "sleep 30\ntouch '" + marker.string() + "'");
    HookOptions options = options_for(hook_path, ChallengeType::kDns01);
    options.timeout = 300ms;
    Dns01Hook hook(options);

    auto started = std::chrono::steady_clock::now();
    Status presented = hook.present(dns_task());
    auto elapsed = std::chrono::steady_clock::now() - started;
    ASSERT_FALSE(presented);
    EXPECT_THAT(presented.error().describe(), HasSubstr("did not finish within 300 ms"));
    EXPECT_LT(elapsed, 5s);
    EXPECT_FALSE(fs::exists(marker));
}

TEST_F(Dns01HookTest, HookThatCannotRunIsNamed) {
    fs::path missing = dir_.path() / "missing-hook";
    Dns01Hook hook(options_for(missing, ChallengeType::kDns01));
    Status presented = hook.present(dns_task());
    ASSERT_FALSE(presented);
    EXPECT_THAT(presented.error().describe(), HasSubstr(missing.string()));
    EXPECT_THAT(presented.error().describe(), HasSubstr("no such file"));

    fs::path not_executable = dir_.path() / "plain";
    ASSERT_TRUE(write_file_atomic(not_executable, "#!/bin/sh\nexit 0\n"));
    Dns01Hook plain(options_for(not_executable, ChallengeType::kDns01));
    EXPECT_THAT(plain.present(dns_task()).error().describe(), HasSubstr("chmod +x"));
}

TEST_F(Dns01HookTest, RefusesTasksItCannotPassOn) {
    Dns01Hook hook(options_for(recording_hook(), ChallengeType::kDns01));
    ChallengeTask wildcard_name = dns_task();
    wildcard_name.identifier = "*.example.com";
    EXPECT_FALSE(hook.present(wildcard_name));

    ChallengeTask ip = dns_task();
    ip.identifier_type = "ip";
    ip.identifier = "192.0.2.1";
    Status presented = hook.present(ip);
    ASSERT_FALSE(presented);
    EXPECT_THAT(presented.error().describe(), HasSubstr("RFC 8738"));

    ChallengeTask http = dns_task();
    http.type = ChallengeType::kHttp01;
    EXPECT_FALSE(hook.present(http));

    // Their cleanups have nothing to undo.
    for (const ChallengeTask* task : {&wildcard_name, &ip, &http}) EXPECT_TRUE(hook.cleanup(*task));
    EXPECT_FALSE(fs::exists(dir_.path() / "calls"));
}

}  // namespace
}  // namespace certdock::challenge
