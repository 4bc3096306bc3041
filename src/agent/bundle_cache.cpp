#include "agent/bundle_cache.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <utility>

#include "base/unique_fd.hpp"

namespace certdock::agent {
namespace {

std::int64_t nanoseconds(const timespec& time) {
    return static_cast<std::int64_t>(time.tv_sec) * 1'000'000'000 + time.tv_nsec;
}

FileVersion version_of(const struct stat& info) {
    return FileVersion{.device = info.st_dev,
                       .inode = info.st_ino,
                       .size = info.st_size,
                       .mtime_ns = nanoseconds(info.st_mtim),
                       .ctime_ns = nanoseconds(info.st_ctim)};
}

// The whole file through one descriptor, with the version of what was read.
std::optional<std::pair<FileVersion, std::string>> read_versioned(
    const std::filesystem::path& file) {
    UniqueFd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
    struct stat info {};
    if (!fd.valid() || ::fstat(fd.get(), &info) != 0 || !S_ISREG(info.st_mode)) {
        return std::nullopt;
    }
    std::string text;
    text.resize(static_cast<size_t>(info.st_size));
    size_t got = 0;
    while (true) {
        if (got == text.size()) text.resize(text.size() + 4096);  // it grew while we read
        const ssize_t n = ::read(fd.get(), text.data() + got, text.size() - got);
        if (n < 0) return std::nullopt;
        if (n == 0) break;
        got += static_cast<size_t>(n);
    }
    text.resize(got);
    // A write during the read shows in the times: then this version is not remembered.
    if (::fstat(fd.get(), &info) != 0) return std::nullopt;
    return std::pair{version_of(info), std::move(text)};
}

}  // namespace

BundleCache::BundleCache(const Clock& clock, size_t max_entries)
    : clock_(clock), max_entries_(max_entries) {}

bool BundleCache::settled(const FileVersion& version) const {
    const std::int64_t settle_before = std::chrono::duration_cast<std::chrono::nanoseconds>(
                                           (clock_.now() - kSettleTime).time_since_epoch())
                                           .count();
    return version.mtime_ns < settle_before && version.ctime_ns < settle_before;
}

std::optional<crypto::BundleParts> BundleCache::read(const std::filesystem::path& file,
                                                     const BundleParser& parse) {
    const std::lock_guard lock(mutex_);
    auto found = entries_.find(file.native());
    struct stat info {};
    if (::stat(file.c_str(), &info) != 0) {
        if (found != entries_.end()) entries_.erase(found);
        return std::nullopt;
    }
    if (found != entries_.end() && found->second.version == version_of(info)) {
        return found->second.bundle;
    }
    auto read = read_versioned(file);
    if (!read) {
        if (found != entries_.end()) entries_.erase(found);
        return std::nullopt;
    }
    ++parses_;
    Entry entry{.version = read->first, .bundle = parse(read->second, chain_memo_)};
    std::optional<crypto::BundleParts> bundle = entry.bundle;
    if (settled(entry.version)) {
        remember(file.native(), std::move(entry));
    } else if (found != entries_.end()) {
        entries_.erase(found);
    }
    return bundle;
}

void BundleCache::remember(const std::string& file, Entry entry) {
    auto found = entries_.find(file);
    if (found != entries_.end()) {
        found->second = std::move(entry);
        return;
    }
    if (entries_.size() >= max_entries_) {
        entries_.clear();
        chain_memo_ = {};
    }
    entries_.emplace(file, std::move(entry));
}

size_t BundleCache::size() const {
    const std::lock_guard lock(mutex_);
    return entries_.size();
}

size_t BundleCache::parses() const {
    const std::lock_guard lock(mutex_);
    return parses_;
}

void BundleCache::clear() {
    const std::lock_guard lock(mutex_);
    entries_.clear();
    chain_memo_ = {};
}

BundleCache& shared_bundle_cache() {
    static BundleCache cache;
    return cache;
}

}  // namespace certdock::agent
