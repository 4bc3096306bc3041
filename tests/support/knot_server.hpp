#pragma once

// A real authoritative DNS server for integration tests: Knot DNS (Debian package "knot")
// started as the current user in a temporary directory, on 127.0.0.1 at a free port, with
// TSIG keys allowed to update its zones. Stopped and removed with the object.

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "base/result.hpp"
#include "support/temp_dir.hpp"

namespace certdock::test {

struct KnotKey {
    std::string name;       // absolute: "certdock-test."
    std::string algorithm;  // "hmac-sha256"
    std::string secret;     // base64
};

struct KnotZone {
    std::string name;  // absolute: "example.test."
    // Zone-file lines after the SOA, NS and "ns1 A 127.0.0.1" every zone gets, with owners
    // relative to the zone: "multi TXT \"abc\" \"def\"".
    std::vector<std::string> records;
};

struct KnotOptions {
    std::vector<KnotZone> zones = {{"example.test.", {}}};
};

class KnotServer {
public:
    // Fails, saying what to install, when knotd is missing; fails with knotd's log when it
    // does not answer SOA queries for every zone within a few seconds.
    static Result<std::unique_ptr<KnotServer>> start(const KnotOptions& options = {});

    KnotServer(const KnotServer&) = delete;
    KnotServer& operator=(const KnotServer&) = delete;
    ~KnotServer();

    std::string address() const;  // "127.0.0.1:<port>"
    std::uint16_t port() const { return port_; }
    // Keys allowed to update every zone: hmac-sha256 (key()), hmac-sha512, hmac-sha1.
    const KnotKey& key() const { return keys_.front(); }
    const std::vector<KnotKey>& keys() const { return keys_; }
    const std::filesystem::path& directory() const { return dir_.path(); }
    std::string log() const;  // what knotd printed so far

private:
    KnotServer() = default;
    Status launch(const std::filesystem::path& knotd, const KnotOptions& options);
    Status wait_until_serving(const KnotOptions& options, std::chrono::milliseconds limit);
    void stop();

    TempDir dir_;
    std::uint16_t port_ = 0;
    std::vector<KnotKey> keys_;
    pid_t pid_ = -1;
};

}  // namespace certdock::test
