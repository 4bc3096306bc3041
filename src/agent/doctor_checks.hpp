#pragma once

// The pieces of `certdock doctor`, one file per family of checks, sharing one context.
// Internal to the agent library.

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "agent/doctor.hpp"
#include "crypto/certificate.hpp"
#include "haproxy/config.hpp"

namespace certdock::agent::doctor {

struct Context {
    const DoctorOptions& options;
    const haproxy::Config& config;
    std::filesystem::path base_dir;
    std::chrono::system_clock::time_point now;
    std::vector<Finding>& findings;

    void add(Severity severity, std::string check, std::string subject, std::string message,
             std::string fix = {}) const;
    // `written` as HAProxy opens it: absolute, or under `base` (crt-base, key-base), or
    // relative to the working directory.
    std::filesystem::path resolve(const std::string& written,
                                  const std::optional<std::string>& base = {}) const;
};

// A certificate file as the configuration uses it, merged over every place that names it.
struct CertUse {
    std::filesystem::path path{};
    std::optional<std::filesystem::path> key_path{};  // an explicit `key <file>`
    std::optional<std::string> acme{};                // the `acme` section it renews with
    bool acme_creates_missing = false;       // crt-store load with acme: HAProxy 3.3 starts without
    std::vector<std::string> sni_filters{};  // from crt-list lines
    std::vector<size_t> binds{};             // indices into config.binds that serve it
    haproxy::Location where{};               // the first place that names it
};

// The certificate a use holds on disk, once read (no value when it could not be read).
struct DiskCertificate {
    CertUse use{};
    std::optional<crypto::Certificate> leaf{};
};

// Where certificates come from: binds (crt, crt-list, directories), crt-store loads and
// ssl-f-use lines. Reports what cannot be resolved (missing crt-list, unknown alias).
std::vector<CertUse> collect_certificates(const Context& context);

// Existence, parsing, key, chain order, expiry and key policy of each file.
std::vector<DiskCertificate> check_certificates(const Context& context,
                                                const std::vector<CertUse>& uses);

// The key an `acme` section makes HAProxy generate (HAProxy's default: ECDSA P-384).
Result<crypto::KeySpec> policy_of(const haproxy::AcmeSection& acme);

// `acme` sections and the references to them: keytype, reuse-key, experimental directives.
void check_acme_sections(const Context& context);

// Responder rules and maps for http-01.
void check_http01(const Context& context);

// Stats sockets from the configuration (or the command line) answer at level admin.
void check_sockets(const Context& context);

// Each SNI name of each bind is served the certificate on disk.
void check_served(const Context& context, const std::vector<DiskCertificate>& certificates);

}  // namespace certdock::agent::doctor
