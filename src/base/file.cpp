#include "base/file.hpp"

#include "base/unique_fd.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>

namespace certdock {
namespace {

Error io_error(const std::string& what, const std::filesystem::path& path, int err) {
    return Error(ErrorCategory::kIo, what + " " + path.string() + ": " + std::strerror(err));
}

std::string random_suffix() {
    static thread_local std::mt19937_64 rng{std::random_device{}()};
    std::ostringstream out;
    out << std::hex << rng();
    return out.str();
}

}  // namespace

Result<std::string> read_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return io_error("cannot read", path, errno);
    std::ostringstream content;
    content << in.rdbuf();
    if (in.bad()) return io_error("error while reading", path, errno);
    return content.str();
}

Status create_parent_directories(const std::filesystem::path& file) {
    if (!file.has_parent_path()) return {};
    std::error_code error;
    std::filesystem::create_directories(file.parent_path(), error);
    if (error) {
        return fail(ErrorCategory::kIo, "cannot create the directory " +
                                            file.parent_path().string() + ": " + error.message());
    }
    return {};
}

std::filesystem::path previous_file_of(const std::filesystem::path& path) {
    return path.parent_path() / ("." + path.filename().string() + ".previous");
}

Status write_file_atomic(const std::filesystem::path& path, std::string_view data,
                         const WriteOptions& options) {
    std::error_code ec;
    if (!options.overwrite && std::filesystem::exists(path, ec)) {
        return fail(ErrorCategory::kUsage,
                    path.string() + " already exists; pass --force to replace it");
    }
    std::filesystem::path dir = path.parent_path().empty() ? "." : path.parent_path();
    std::filesystem::path temp = dir / ("." + path.filename().string() + ".tmp-" + random_suffix());

    UniqueFd fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, options.mode & 0777));
    if (fd.get() < 0) return io_error("cannot create", temp, errno);
    // open() applied the umask; the caller's mode is what they asked for (0600 for keys).
    if (::fchmod(fd.get(), options.mode & 0777) != 0) {
        int err = errno;
        ::unlink(temp.c_str());
        return io_error("cannot set permissions on", temp, err);
    }
    const char* cursor = data.data();
    size_t left = data.size();
    while (left > 0) {
        ssize_t n = ::write(fd.get(), cursor, left);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            int err = errno;
            ::unlink(temp.c_str());
            return io_error("cannot write", temp, err);
        }
        cursor += n;
        left -= static_cast<size_t>(n);
    }
    if (::fsync(fd.get()) != 0 || ::close(fd.release()) != 0) {
        int err = errno;
        ::unlink(temp.c_str());
        return io_error("cannot flush", temp, err);
    }
    if (options.keep_previous && std::filesystem::exists(path, ec)) {
        // A hard link keeps the old content reachable without copying; renaming it into
        // place replaces any older previous version atomically.
        const std::string previous = previous_file_of(path).string();
        const std::string staging = previous + ".tmp";
        ::unlink(staging.c_str());
        if (::link(path.c_str(), staging.c_str()) == 0) ::rename(staging.c_str(), previous.c_str());
    }
    if (::rename(temp.c_str(), path.c_str()) != 0) {
        int err = errno;
        ::unlink(temp.c_str());
        return io_error("cannot replace", path, err);
    }
    UniqueFd dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (dir_fd.get() >= 0) ::fsync(dir_fd.get());
    return {};
}

}  // namespace certdock
