#pragma once

// `certdock doctor`: reads a haproxy.cfg and checks what `haproxy -c` does not — that every
// certificate it references exists, parses, matches its key, has its chain in order, is not
// about to expire and follows the configured key policy; that http-01 responder rules and
// their maps agree; that the stats socket answers at level admin; and that each SNI name is
// served the certificate on disk. Each problem comes with the fix.

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"
#include "crypto/key_spec.hpp"

namespace certdock::agent {

enum class Severity { kOk, kWarning, kFailure };
std::string_view to_string(Severity severity);  // "ok", "warning", "failure"

struct Finding {
    Severity severity = Severity::kOk;
    std::string check{};  // "certificate", "key-policy", "acme", "http-01", "socket", "served", ...
    std::string subject{};  // where: "haproxy.cfg:12", "certs.crtlist:3", "/run/haproxy.sock"
    std::string message{};  // what was found
    std::string fix{};      // what to do; empty when nothing is wrong
};

struct DoctorOptions {
    std::filesystem::path config{};
    // Replace the `stats socket` lines of the configuration ("/run/haproxy/admin.sock",
    // "127.0.0.1:9999").
    std::vector<std::string> sockets{};
    // The key every certificate should have, on top of what `acme` sections ask for.
    std::optional<crypto::KeySpec> key_policy{};
    bool check_sockets = true;                 // false: no Runtime API connection
    bool probe = true;                         // false: no TLS handshakes
    std::chrono::milliseconds timeout{3'000};  // per socket exchange and per handshake
    std::chrono::hours expiry_warning{24 * 7};
    std::optional<std::chrono::system_clock::time_point> now{};  // default: the clock
    // Relative paths in the configuration are taken from here, as HAProxy takes them from
    // its working directory; default: the configuration file's directory.
    std::optional<std::filesystem::path> base_dir{};
};

struct DoctorReport {
    std::vector<Finding> findings{};

    bool failed() const;
    size_t count(Severity severity) const;
};

// Fails only when the configuration cannot be read or split into words; every other problem
// is a finding.
Result<DoctorReport> run_doctor(const DoctorOptions& options);

}  // namespace certdock::agent
