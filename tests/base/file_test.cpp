#include "base/file.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "support/temp_dir.hpp"

namespace certdock {
namespace {

TEST(WriteFileAtomic, WritesWithTheRequestedMode) {
    test::TempDir dir;
    auto path = dir.path() / "site.key";
    ASSERT_TRUE(write_file_atomic(path, "secret", {.mode = 0600}));
    EXPECT_EQ(*read_file(path), "secret");
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600U);
}

TEST(WriteFileAtomic, RefusesToOverwriteWhenAsked) {
    test::TempDir dir;
    auto path = dir.path() / "site.key";
    ASSERT_TRUE(write_file_atomic(path, "first"));
    auto second = write_file_atomic(path, "second", {.overwrite = false});
    ASSERT_FALSE(second);
    EXPECT_NE(second.error().message().find("--force"), std::string::npos);
    EXPECT_EQ(*read_file(path), "first");
}

TEST(WriteFileAtomic, KeepsThePreviousVersion) {
    test::TempDir dir;
    auto path = dir.path() / "site.pem";
    ASSERT_TRUE(write_file_atomic(path, "v1", {.keep_previous = true}));
    ASSERT_TRUE(write_file_atomic(path, "v2", {.keep_previous = true}));
    ASSERT_TRUE(write_file_atomic(path, "v3", {.keep_previous = true}));
    EXPECT_EQ(*read_file(path), "v3");
    EXPECT_EQ(*read_file(dir.path() / ".site.pem.previous"), "v2");
}

TEST(WriteFileAtomic, LeavesNoTemporaryFilesBehind) {
    test::TempDir dir;
    ASSERT_TRUE(write_file_atomic(dir.path() / "a", "x"));
    int entries = 0;
    for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(dir.path())) {
        ++entries;
    }
    EXPECT_EQ(entries, 1);
}

TEST(WriteFileAtomic, ReportsAMissingDirectory) {
    test::TempDir dir;
    auto result = write_file_atomic(dir.path() / "missing" / "a", "x");
    ASSERT_FALSE(result);
    EXPECT_EQ(result.error().category(), ErrorCategory::kIo);
    EXPECT_NE(result.error().message().find("missing"), std::string::npos);
}

TEST(ReadFile, ReportsWhatCannotBeRead) {
    auto result = read_file("/nonexistent/certdock/file");
    ASSERT_FALSE(result);
    EXPECT_NE(result.error().message().find("/nonexistent/certdock/file"), std::string::npos);
}

}  // namespace
}  // namespace certdock
