#pragma once

// The agent's configuration: one TOML file describing ACME accounts, HAProxy targets, deploy
// hooks and the certificates to keep issued. The layout is documented in
// docs/agent-config.md; keyword names follow HAProxy's `acme` section where one exists.
//
// Loading never stops at the first problem: every issue found is reported with the file, the
// line, the key and what to write instead. A Config exists only when there was no issue, and
// is immutable once built (shared as ConfigPtr, so a reload can swap it whole).

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/tls_probe.hpp"
#include "base/result.hpp"
#include "challenge/solver.hpp"
#include "crypto/key_spec.hpp"
#include "haproxy/runtime_api.hpp"

namespace certdock::agent {

enum class LogFormat { kText, kJson };

// [agent]
struct AgentSettings {
    std::filesystem::path state_dir = "/var/lib/certdock";
    std::filesystem::path control_socket = "/run/certdock/control.sock";
    std::string metrics_listen{};  // "HOST:PORT"; empty: no metrics endpoint
    LogFormat log_format = LogFormat::kText;
};

// External account binding (RFC 8555 §7.3.4); both values come from files, never the config.
struct EabFiles {
    std::filesystem::path key_id_file{};
    std::filesystem::path mac_key_file{};  // base64url HMAC key
    std::string mac_algorithm = "HS256";   // HS256, HS384 or HS512
};

// [acme.<name>]: one CA and the account certdock holds there.
struct AcmeAccount {
    std::string name{};
    std::string directory{};  // https URL of the ACME directory
    // Default: <state-dir>/accounts/<name>.account.key; created when missing.
    std::filesystem::path account_key{};
    std::vector<std::string> contact{};  // "mailto:..." URLs
    std::optional<EabFiles> eab{};
    std::filesystem::path ca_roots{};  // PEM roots for the directory's TLS; empty: system's
    std::string profile{};             // default certificate profile; empty: the CA's default
    std::uint32_t line = 0;
};

// [haproxy.<name>]: one HAProxy (every process of it reachable through `sockets`).
struct HaproxyTarget {
    std::string name{};
    std::vector<haproxy::RuntimeApiOptions> sockets{};
    std::string map{};  // http-01 token map as HAProxy names it; empty: none
    std::uint32_t line = 0;
};

// [deploy-hook.<name>]: run after a certificate was delivered and proven served.
struct DeployHook {
    std::string name{};
    std::filesystem::path program{};
    std::vector<std::string> args{};
    std::chrono::seconds timeout{60};
    std::uint32_t line = 0;
};

enum class ReuseKey {
    kOn,      // renewals keep the key (stable pins)
    kOff,     // a fresh key per renewal
    kRotate,  // the next key is made `rotate_ahead` before it is used, its pins published
};

// The certificate's key. `spec` unset: the type of the key already in `key_file`, or
// HAProxy's default (ECDSA P-384) when there is none yet; see key_policy.hpp.
struct KeyPolicy {
    std::optional<crypto::KeySpec> spec{};
    ReuseKey reuse = ReuseKey::kOn;
    std::chrono::seconds rotate_ahead{0};  // kRotate only
    std::filesystem::path key_file{};      // default: <state-dir>/keys/<certificate>.key
};

struct ChallengeConfig {
    challenge::ChallengeType type = challenge::ChallengeType::kHttp01;
    // http-01 is answered by HAProxy from the map of the certificate's HAProxy target.
    // dns-01: one of a hook program or RFC 2136 updates.
    std::filesystem::path dns_hook{};
    std::string rfc2136_server{};  // "HOST[:PORT]" of the zone's primary
    std::filesystem::path tsig_key_file{};
    std::string dns_zone{};  // empty: found by SOA queries
    // tls-alpn-01: the built-in responder's address, where HAProxy sends acme-tls/1.
    std::string tls_alpn_listen{};
};

// Where a certificate goes once issued.
struct Placement {
    std::vector<std::string> haproxy{};  // target names; empty: disk (and hooks) only
    std::filesystem::path file{};        // the PEM bundle HAProxy loads (`crt <file>`)
    std::string runtime_name{};          // its name on the Runtime API; empty: `file`
    std::filesystem::path crt_list{};    // for a certificate HAProxy does not serve yet
    std::vector<std::string> sni{};      // filters on its crt-list line
    std::vector<ProbeTarget> probes{};   // frontends that must serve it afterwards
};

// [[certificate]]
struct CertificateConfig {
    std::string name{};
    std::vector<std::string> domains{};  // DNS names (lower case) and IP addresses, in order
    std::string acme{};                  // AcmeAccount name
    KeyPolicy key{};
    std::filesystem::path csr{};  // CSR mode: every renewal finalizes this CSR; no KeyPolicy
    ChallengeConfig challenge{};
    std::string profile{};  // empty: the account's
    std::string preferred_chain{};
    std::optional<std::chrono::seconds> renew_before{};  // unset: ARI or a third of the lifetime
    Placement placement{};
    std::vector<std::string> deploy_hooks{};  // DeployHook names, run in this order
    std::uint32_t line = 0;

    bool csr_mode() const { return !csr.empty(); }
};

struct Config {
    std::filesystem::path file{};  // as given to load_config
    AgentSettings agent{};
    std::vector<AcmeAccount> accounts{};
    std::vector<HaproxyTarget> haproxies{};
    std::vector<DeployHook> hooks{};
    std::vector<CertificateConfig> certificates{};

    // Names were checked at load, so these find what a certificate refers to.
    const AcmeAccount* find_account(const std::string& name) const;
    const HaproxyTarget* find_haproxy(const std::string& name) const;
    const DeployHook* find_hook(const std::string& name) const;
};

using ConfigPtr = std::shared_ptr<const Config>;

// One problem in the file: "certdock.toml:14: certificate "site": keytype "EC" is not a key
// type; write keytype = "ECDSA"".
struct ConfigIssue {
    std::string file{};
    std::uint32_t line = 0;  // 0: the file as a whole
    std::string key{};       // the key at fault, e.g. "keytype"; empty for syntax errors
    std::string message{};   // names the section, the key and the fix
    std::string to_string() const;
};

struct LoadOptions {
    // Check that the files the agent reads (CA roots, EAB and TSIG files, CSRs, hook
    // programs) exist and parse. Off to check a file written for another machine.
    bool check_files = true;
};

struct ConfigCheck {
    ConfigPtr config{};                 // set exactly when `issues` is empty
    std::vector<ConfigIssue> issues{};  // in file order
};

// Reads and validates `file`; relative paths in it are resolved against its directory.
ConfigCheck check_config(const std::filesystem::path& file, const LoadOptions& options = {});
// The same for text already read; `file` names it in issues and anchors relative paths.
ConfigCheck check_config_text(std::string_view text, const std::filesystem::path& file,
                              const LoadOptions& options = {});

// check_config as a Result: the error (kInput) lists every issue, one per line.
Result<ConfigPtr> load_config(const std::filesystem::path& file, const LoadOptions& options = {});

// "3 certificates, 1 CA, 2 HAProxy targets".
std::string summarize(const Config& config);

}  // namespace certdock::agent
