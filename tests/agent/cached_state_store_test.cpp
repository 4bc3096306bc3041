#include "agent/cached_state_store.hpp"

#include <gtest/gtest.h>

#include <filesystem>

#include "base/file.hpp"
#include "support/must.hpp"
#include "support/temp_dir.hpp"

namespace certdock::agent {
namespace {

using std::chrono::days;
using test::must;

const SystemTime kIssued = std::chrono::system_clock::from_time_t(1'800'000'000);

CertState delivered(const std::string& serial) {
    return {.serial = serial,
            .not_before = kIssued,
            .not_after = kIssued + days(90),
            .next_renewal = kIssued + days(60),
            .next_renewal_reason = "one third of the 90-day lifetime remains",
            .last_result = AttemptResult::kSuccess,
            .last_success = kIssued};
}

// The state directory the agent uses, with a second handle on it to play "someone else".
struct StoreOnDisk {
    test::TempDir dir;
    std::filesystem::path states = dir.path() / "state";
    DirectoryStateStore other{states};
    CachedStateStore cache{std::make_unique<DirectoryStateStore>(states)};
};

TEST(CachedStateStore, ReadsAStateFileOnceThenAnswersFromMemory) {
    StoreOnDisk store;
    must(store.other.save("site", delivered("0a")));
    EXPECT_EQ(must(store.cache.load("site")).serial, "0a");
    // Gone from disk: a cache that still read the file would now see a fresh state.
    std::filesystem::remove(store.other.path_of("site"));
    EXPECT_EQ(must(store.cache.load("site")).serial, "0a");
    EXPECT_EQ(store.cache.cached(), 1U);
}

TEST(CachedStateStore, SavesGoToTheDirectoryAndToMemory) {
    StoreOnDisk store;
    must(store.cache.save("site", delivered("0b")));
    EXPECT_EQ(must(store.other.load("site")), delivered("0b"));
    EXPECT_EQ(must(store.cache.load("site")), delivered("0b"));

    CertState failed = delivered("0b");
    failed.consecutive_failures = 1;
    failed.next_retry = kIssued + days(61);
    must(store.cache.save("site", failed));
    EXPECT_EQ(must(store.other.load("site")), failed);
    EXPECT_EQ(must(store.cache.load("site")), failed);
}

TEST(CachedStateStore, NeverHidesACertificateItHasNotSeen) {
    StoreOnDisk store;
    must(store.cache.save("first", delivered("01")));
    EXPECT_EQ(must(store.cache.load("first")).serial, "01");
    // A certificate added to the configuration, with a state already on disk.
    must(store.other.save("second", delivered("02")));
    EXPECT_EQ(must(store.cache.load("second")).serial, "02");
}

TEST(CachedStateStore, LooksAgainForAStateThatWasMissing) {
    StoreOnDisk store;
    EXPECT_EQ(must(store.cache.load("restored")), CertState{});
    // Restored from a backup while the agent runs.
    must(store.other.save("restored", delivered("03")));
    EXPECT_EQ(must(store.cache.load("restored")).serial, "03");
}

TEST(CachedStateStore, ReadsACorruptStateAgainOnceFixed) {
    StoreOnDisk store;
    must(store.other.save("site", delivered("04")));
    const auto file = store.other.path_of("site");
    must(write_file_atomic(file, "{ not json"));
    EXPECT_FALSE(store.cache.load("site").has_value());
    must(store.other.save("site", delivered("04")));
    EXPECT_EQ(must(store.cache.load("site")).serial, "04");
}

TEST(CachedStateStore, RemoveForgetsTheStateOnDiskAndInMemory) {
    StoreOnDisk store;
    must(store.cache.save("site", delivered("05")));
    must(store.cache.remove("site"));
    EXPECT_FALSE(std::filesystem::exists(store.other.path_of("site")));
    EXPECT_EQ(must(store.cache.load("site")), CertState{});
    EXPECT_EQ(store.cache.cached(), 0U);
}

TEST(CachedStateStore, AFailedSaveLeavesWhatTheDirectoryHolds) {
    StoreOnDisk store;
    must(store.cache.save("site", delivered("06")));
    // The state directory replaced by a file: every save fails.
    std::filesystem::remove_all(store.states);
    must(write_file_atomic(store.states, "not a directory"));
    EXPECT_FALSE(store.cache.save("site", delivered("07")).has_value());
    // Not the state it could not write: the load goes to the store, which cannot read either.
    auto loaded = store.cache.load("site");
    EXPECT_TRUE(!loaded || loaded->serial != "07");
}

TEST(CachedStateStore, ListsNamesFromTheDirectory) {
    StoreOnDisk store;
    must(store.cache.save("b", delivered("08")));
    must(store.other.save("a", delivered("09")));
    EXPECT_EQ(must(store.cache.names()), (std::vector<std::string>{"a", "b"}));
}

TEST(CachedStateStore, RefusesNamesTheDirectoryRefuses) {
    StoreOnDisk store;
    EXPECT_FALSE(store.cache.load("../escape").has_value());
    EXPECT_FALSE(store.cache.save("../escape", delivered("0a")).has_value());
}

}  // namespace
}  // namespace certdock::agent
