#include "challenge/http01_webroot.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/file.hpp"
#include "challenge/task_check.hpp"

namespace certdock::challenge {
namespace {

namespace fs = std::filesystem;

constexpr mode_t kDirMode = 0755;
constexpr unsigned kFileMode = 0644;

Error io_error(const std::string& what, const fs::path& path, int err) {
    return Error(ErrorCategory::kIo, what + " " + path.string() + ": " + std::strerror(err));
}

}  // namespace

Http01Webroot::Http01Webroot(fs::path webroot)
    : webroot_(std::move(webroot)), challenge_dir_(webroot_ / ".well-known" / "acme-challenge") {}

Status Http01Webroot::make_directories() {
    struct stat info {};
    if (::stat(webroot_.c_str(), &info) != 0) {
        int err = errno;
        return Unexpected(io_error("webroot", webroot_, err)
                              .caused_by(Error(ErrorCategory::kUsage,
                                               "the webroot must be the directory the web server "
                                               "serves for this domain on port 80")));
    }
    if (!S_ISDIR(info.st_mode)) {
        return fail(ErrorCategory::kIo, "webroot " + webroot_.string() + " is not a directory");
    }
    for (const fs::path& dir : {webroot_ / ".well-known", challenge_dir_}) {
        if (::mkdir(dir.c_str(), kDirMode) == 0) {
            created_dirs_.push_back(dir);
            // mkdir applied the umask; the web server's user must still be able to enter.
            if (::chmod(dir.c_str(), kDirMode) != 0) {
                return Unexpected(io_error("cannot set permissions on", dir, errno));
            }
        } else if (errno != EEXIST) {
            return Unexpected(io_error("cannot create directory", dir, errno));
        }
    }
    return {};
}

Status Http01Webroot::present(const ChallengeTask& task) {
    CERTDOCK_TRY_STATUS(check_task(task, ChallengeType::kHttp01));
    CERTDOCK_TRY_STATUS(make_directories());
    WriteOptions options;
    options.mode = kFileMode;
    return write_file_atomic(challenge_dir_ / task.token, task.key_authorization, options);
}

Status Http01Webroot::cleanup(const ChallengeTask& task) {
    // Never unlink a path built from a token that failed the check in present().
    CERTDOCK_TRY_STATUS(check_token(task.token));
    fs::path file = challenge_dir_ / task.token;
    if (::unlink(file.c_str()) != 0 && errno != ENOENT) {
        return Unexpected(io_error("cannot remove", file, errno));
    }
    // Innermost first; a directory still holding another task's file (or anything else)
    // stays, and is tried again at the next cleanup.
    while (!created_dirs_.empty()) {
        if (::rmdir(created_dirs_.back().c_str()) != 0 && errno != ENOENT) break;
        created_dirs_.pop_back();
    }
    return {};
}

}  // namespace certdock::challenge
