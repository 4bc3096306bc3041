#pragma once

// Parsed bundles by file, parsed again only when the file changes, so that a scan over
// thousands of certificates stats each bundle instead of reading and parsing it every time.
//
// A file's version is its device, inode, size, mtime and ctime: an atomic replacement (a
// temporary renamed over it, as the deployer writes) brings a new inode, a rewrite in place
// changes the size or the times, and ctime cannot be set back by `cp -p`, `rsync -t` or
// `touch -d`. A version that changed in the last two seconds (kSettleTime) is never
// remembered, so a same-size rewrite within the file system's timestamp granularity cannot
// go unnoticed (the "racily clean" rule of git's index).
//
// A missing or unreadable file is not remembered; an unusable bundle is, for that version of
// the file. Every method is thread-safe.

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "base/clock.hpp"
#include "crypto/bundle.hpp"

namespace certdock::agent {

struct FileVersion {
    dev_t device = 0;
    ino_t inode = 0;
    off_t size = 0;
    std::int64_t mtime_ns = 0;
    std::int64_t ctime_ns = 0;
    bool operator==(const FileVersion&) const = default;
};

// The bundle in a file's text, or nothing when the text holds no usable bundle.
// `chain_memo` is the cache's: passed to parse_haproxy_bundle, it parses each intermediate
// once for all the bundles that carry it.
using BundleParser = std::function<std::optional<crypto::BundleParts>(
    std::string_view text, crypto::CertificateMemo& chain_memo)>;

class BundleCache {
public:
    static constexpr std::chrono::seconds kSettleTime{2};
    // Above this many files, the cache starts over (a configuration that outgrew it, or a
    // long life of renamed certificates); it never grows without bound.
    static constexpr size_t kDefaultMaxEntries = 200'000;

    explicit BundleCache(const Clock& clock = system_clock(),
                         size_t max_entries = kDefaultMaxEntries);

    // The bundle in `file`: the one parsed before when the file has the same version, else
    // `parse` of its text now. Nothing when the file is missing or unreadable, or `parse`
    // found no bundle.
    std::optional<crypto::BundleParts> read(const std::filesystem::path& file,
                                            const BundleParser& parse);

    size_t size() const;    // files remembered now
    size_t parses() const;  // times `parse` ran, all files together
    void clear();

private:
    struct Entry {
        FileVersion version{};
        std::optional<crypto::BundleParts> bundle{};
    };
    bool settled(const FileVersion& version) const;
    void remember(const std::string& file, Entry entry);

    const Clock& clock_;
    size_t max_entries_;
    mutable std::mutex mutex_;
    std::unordered_map<std::string, Entry> entries_;
    crypto::CertificateMemo chain_memo_;  // one parsed copy of each intermediate, shared
    size_t parses_ = 0;
};

// The cache the agent's renewals share: a file's version says whether it changed, whoever
// asks, so one per process serves every Renewer.
BundleCache& shared_bundle_cache();

}  // namespace certdock::agent
