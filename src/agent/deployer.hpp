#pragma once

// Delivering one certificate to a HAProxy host: disk first (so a restart serves it), then
// every HAProxy process through its Runtime API (so nothing restarts), then a TLS handshake
// per frontend and SNI name (so "delivered" means "served").
//
// Each HAProxy is updated on its own: one that is down does not stop the others, and it is
// retried until the deadline. HAProxy allows one certificate transaction per process, so a
// deployer must not run twice at once against the same HAProxy.

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "agent/tls_probe.hpp"
#include "base/clock.hpp"
#include "base/result.hpp"
#include "crypto/bundle.hpp"
#include "haproxy/runtime_api.hpp"

namespace certdock::agent {

// Where a certificate goes, apart from the file: the HAProxy processes and the frontends
// that must then present it.
struct DeployTargets {
    // The certificate's name on the Runtime API: the path as HAProxy's configuration spells it
    // (relative to crt-base, or as seen inside a chroot). Empty: whichever name HAProxy lists
    // that is the same file, or the file's absolute path for a certificate HAProxy lacks.
    std::string cert_name{};
    std::vector<haproxy::RuntimeApiOptions> haproxies{};
    // For a certificate HAProxy does not serve yet: the crt-list it is added to (as HAProxy
    // names it), live and on disk, with `sni` as filters. Without it an unknown certificate is
    // an error.
    std::string crt_list{};
    std::filesystem::path crt_list_file{};  // empty: `crt_list`
    std::vector<std::string> sni{};
    // Frontends to handshake with; each is probed with every name of `probe_names`, or, when
    // that is empty, with `sni`, or else with the certificate's DNS names.
    std::vector<ProbeTarget> probes{};
    std::vector<std::string> probe_names{};
    // How long an unreachable HAProxy is retried.
    std::chrono::milliseconds retry_for{30'000};
};

struct DeployRequest {
    crypto::BundleParts bundle;  // leaf, intermediates, key
    // The file HAProxy loads (`bind ... crt <file>` or a crt-list line), written as one bundle.
    std::filesystem::path file{};
    DeployTargets targets{};
};

enum class HaproxyAction {
    kUpdated,        // set + commit of a certificate HAProxy already served
    kAdded,          // new ssl cert + set + commit + add ssl crt-list
    kAlreadyServed,  // HAProxy already served this very certificate: nothing sent
    kFailed,
};
std::string_view action_name(HaproxyAction action);  // "updated", "added", ...

struct HaproxyOutcome {
    std::string address{};  // the socket, with the master CLI target if any
    HaproxyAction action = HaproxyAction::kFailed;
    int attempts = 0;
    std::chrono::milliseconds elapsed{0};  // first attempt to outcome
    std::optional<Error> error{};          // the last one, when kFailed
};

struct ProbeOutcome {
    ProbeTarget target{};
    bool serves_new = false;
    std::string served_serial{};  // what the handshake showed, when it completed
    std::optional<Error> error{};
};

// Wall time of each step, for the operator and the benchmark (the agent runs in-process, so
// this is its "certificate ready" to "proven served" time).
struct DeployTimings {
    std::chrono::microseconds disk{0};         // checks, bundle, atomic write
    std::chrono::microseconds runtime_api{0};  // every HAProxy, retries included
    std::chrono::microseconds probes{0};       // every TLS handshake
};

struct DeployReport {
    bool file_changed = false;   // false: the file already held exactly this bundle
    bool previous_kept = false;  // the replaced file is now previous_file_of(file)
    std::string serial{};        // the new leaf's
    std::vector<HaproxyOutcome> haproxies{};
    std::vector<ProbeOutcome> probes{};
    DeployTimings timings{};
    bool ok() const;
};

// Fails, having changed nothing, when the bundle is not deliverable (key does not match,
// chain out of order) or the file cannot be written. Otherwise returns a report; failures of
// single HAProxy processes and probes are in it (report.ok() is false).
Result<DeployReport> deploy(const DeployRequest& request, Clock& clock = system_clock());

}  // namespace certdock::agent
