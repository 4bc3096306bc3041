#include "challenge/http01_webroot.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "base/file.hpp"
#include "support/must.hpp"
#include "support/temp_dir.hpp"

namespace certdock::challenge {
namespace {

namespace fs = std::filesystem;
using certdock::test::must;
using ::testing::HasSubstr;

ChallengeTask task_for(const std::string& token) {
    ChallengeTask task;
    task.type = ChallengeType::kHttp01;
    task.identifier = "example.com";
    task.token = token;
    task.key_authorization = token + ".nP1qzpXGymHBrUEepNY9HCsQk7K8KhOypzEt62jcerQ";
    return task;
}

unsigned mode_of(const fs::path& path) {
    struct stat info {};
    if (::stat(path.c_str(), &info) != 0) return 0;
    return info.st_mode & 07777;
}

// Runs a test body under a restrictive umask, as a daemon handling keys would.
class ScopedUmask {
public:
    explicit ScopedUmask(mode_t mask) : previous_(::umask(mask)) {}
    ScopedUmask(const ScopedUmask&) = delete;
    ScopedUmask& operator=(const ScopedUmask&) = delete;
    ~ScopedUmask() { ::umask(previous_); }

private:
    mode_t previous_;
};

class Http01WebrootTest : public ::testing::Test {
protected:
    certdock::test::TempDir webroot_;
    Http01Webroot solver_{webroot_.path()};
    ChallengeTask task_ = task_for("LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0");
    fs::path challenge_dir_ = webroot_.path() / ".well-known" / "acme-challenge";
};

TEST_F(Http01WebrootTest, WritesKeyAuthorizationReadableByTheWebServer) {
    ScopedUmask umask(077);
    Status presented = solver_.present(task_);
    ASSERT_TRUE(presented) << presented.error().describe();

    fs::path file = challenge_dir_ / task_.token;
    EXPECT_EQ(must(read_file(file)), task_.key_authorization);  // no trailing newline
    EXPECT_EQ(mode_of(file), 0644u);
    EXPECT_EQ(mode_of(webroot_.path() / ".well-known"), 0755u);
    EXPECT_EQ(mode_of(challenge_dir_), 0755u);
    EXPECT_EQ(solver_.challenge_dir(), challenge_dir_);
}

TEST_F(Http01WebrootTest, CleanupRemovesFileAndCreatedDirectories) {
    ASSERT_TRUE(solver_.present(task_));
    ASSERT_TRUE(solver_.cleanup(task_));
    EXPECT_FALSE(fs::exists(challenge_dir_ / task_.token));
    EXPECT_FALSE(fs::exists(webroot_.path() / ".well-known"));
    EXPECT_TRUE(fs::is_directory(webroot_.path()));
    // A second cleanup of the same task is harmless.
    EXPECT_TRUE(solver_.cleanup(task_));
}

TEST_F(Http01WebrootTest, KeepsDirectoriesThatExistedBefore) {
    fs::create_directory(webroot_.path() / ".well-known");
    ASSERT_TRUE(solver_.present(task_));
    ASSERT_TRUE(solver_.cleanup(task_));
    EXPECT_FALSE(fs::exists(challenge_dir_));                        // ours
    EXPECT_TRUE(fs::is_directory(webroot_.path() / ".well-known"));  // theirs
}

TEST_F(Http01WebrootTest, KeepsDirectoriesThatHoldOtherFiles) {
    ASSERT_TRUE(solver_.present(task_));
    ASSERT_TRUE(write_file_atomic(challenge_dir_ / "someone-else", "x"));
    ASSERT_TRUE(solver_.cleanup(task_));
    EXPECT_FALSE(fs::exists(challenge_dir_ / task_.token));
    EXPECT_TRUE(fs::exists(challenge_dir_ / "someone-else"));
}

TEST_F(Http01WebrootTest, SeveralTasksAtOnce) {
    ChallengeTask other = task_for("9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI");
    ASSERT_TRUE(solver_.present(task_));
    ASSERT_TRUE(solver_.present(other));
    EXPECT_EQ(must(read_file(challenge_dir_ / task_.token)), task_.key_authorization);
    EXPECT_EQ(must(read_file(challenge_dir_ / other.token)), other.key_authorization);

    ASSERT_TRUE(solver_.cleanup(task_));
    EXPECT_FALSE(fs::exists(challenge_dir_ / task_.token));
    EXPECT_EQ(must(read_file(challenge_dir_ / other.token)), other.key_authorization);

    ASSERT_TRUE(solver_.cleanup(other));
    EXPECT_FALSE(fs::exists(webroot_.path() / ".well-known"));
}

TEST_F(Http01WebrootTest, TokenCannotLeaveTheDirectory) {
    ChallengeTask hostile = task_for("..");
    hostile.token = "../../escape";
    hostile.key_authorization = "../../escape.abc";
    Status presented = solver_.present(hostile);
    ASSERT_FALSE(presented);
    EXPECT_EQ(presented.error().category(), ErrorCategory::kUsage);
    EXPECT_THAT(presented.error().describe(), HasSubstr("base64url"));
    EXPECT_FALSE(fs::exists(webroot_.path() / "escape"));
    EXPECT_FALSE(fs::exists(webroot_.path().parent_path() / "escape"));
    EXPECT_FALSE(solver_.cleanup(hostile));
}

TEST(Http01Webroot, MissingWebrootIsAnError) {
    certdock::test::TempDir dir;
    fs::path missing = dir.path() / "no-such-webroot";
    Http01Webroot solver(missing);
    Status presented = solver.present(task_for("LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0"));
    ASSERT_FALSE(presented);
    EXPECT_EQ(presented.error().category(), ErrorCategory::kIo);
    EXPECT_THAT(presented.error().describe(), HasSubstr(missing.string()));
    EXPECT_FALSE(fs::exists(missing));
}

}  // namespace
}  // namespace certdock::challenge
