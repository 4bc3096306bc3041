#pragma once

// Keeping ONE certificate of the configuration issued and served: decide whether it is due
// (from its state, the bundle on disk, the configuration and the CA's ARI window), make or
// reuse its key, run the ACME issuance, deliver it (disk, every HAProxy, TLS proof), run its
// deploy hooks, and record the outcome in its state so a restart knows when to act next.
//
// The ACME client and the challenge solver come through seams (RenewerDeps), so the
// composition stays in the application and tests can pass a fake CA or Pebble. A Renewer is
// used from one thread; it renews one certificate at a time, which also keeps to HAProxy's one
// certificate transaction per process.

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "acme/client.hpp"
#include "agent/cert_state.hpp"
#include "agent/config.hpp"
#include "agent/renewal_schedule.hpp"
#include "base/clock.hpp"
#include "base/result.hpp"
#include "challenge/solver.hpp"
#include "crypto/certificate.hpp"

namespace certdock::agent {

// The solver answering the certificate's challenge (checked ready, when it can be).
using SolverFactory = std::function<Result<challenge::SolverPtr>(const CertificateConfig&)>;
// The client of an account, with its key set and the account registered; the reference stays
// valid for the Renewer's lifetime. `fresh`: the CA said it does not know the cached account
// URL, so look the account up (or register it) again.
using AccountClients = std::function<Result<acme::Client*>(const AcmeAccount& account, bool fresh)>;
// One line per event, without the certificate prefix (the Renewer adds "cert=<name> ").
using EventLog = std::function<void(std::string_view line)>;

struct RenewerDeps {
    AccountClients clients{};
    SolverFactory solvers{};
    StateStore* states = nullptr;
    Clock* clock = &system_clock();
    UniformRandom random{};  // unset: make_uniform_random()
    EventLog log{};          // unset: nothing logged
    // How long an unreachable HAProxy is retried within one delivery.
    std::chrono::milliseconds deploy_retry_for{30'000};
    std::chrono::seconds issue_timeout{300};
};

enum class DueKind {
    kNotDue,         // the served certificate renews later
    kWaitingRetry,   // the last attempt failed; the retry time has not come
    kFirstIssue,     // no usable bundle on disk (missing, unreadable, a placeholder)
    kRenewal,        // the renewal time has come
    kRetry,          // the retry time after a failure has come
    kRedeliver,      // a certificate issued earlier is on disk but was never proven served
    kConfigChanged,  // the served certificate lacks a configured name or has another key type
};
std::string_view due_kind_name(DueKind kind);

struct DueCheck {
    DueKind kind = DueKind::kNotDue;
    SystemTime next{};  // when to look again (now when due)
    std::string reason{};
    // When the CA's RenewalInfo is fetched again (ARI); unset when the CA was not asked.
    std::optional<SystemTime> next_ari_poll{};
    // Challenge responses an interrupted renewal left in place (CertState::presented).
    bool leftovers = false;
    bool due() const { return kind != DueKind::kNotDue && kind != DueKind::kWaitingRetry; }
};

enum class RenewResult {
    kNotDue,     // nothing done
    kDelivered,  // issued (or redelivered), on disk and served
    kFailed,     // recorded in the state with the next retry
};

struct RenewOutcome {
    RenewResult result = RenewResult::kNotDue;
    DueCheck check{};
    std::string serial{};  // the new certificate's, when issued
    std::string error{};   // when kFailed
    SystemTime next{};     // when this certificate needs attention again
    bool hooks_failed = false;
};

class Renewer {
public:
    Renewer(ConfigPtr config, RenewerDeps deps);

    // Whether `certificate` is due, updating its state when the bundle on disk is not the one
    // the state knows (a state deleted or written by hand). Fails when the state is unreadable.
    // When an ARI poll is due (docs/renewal.md) it fetches the served certificate's RenewalInfo
    // through the account's client, and a window that moved moves the renewal time; a fetch
    // that fails is logged and asked again later, never making the certificate due or failed.
    // Otherwise it touches no network.
    Result<DueCheck> check_due(const CertificateConfig& certificate);

    // check_due, and when due the whole renewal. Fails only when the state cannot be read or
    // written; every other failure is recorded in the state and returned as kFailed.
    Result<RenewOutcome> run(const CertificateConfig& certificate);
    // The same with the answer of check_due just made (a caller that logs it first).
    Result<RenewOutcome> run(const CertificateConfig& certificate, const DueCheck& check);

    const Config& config() const { return *config_; }

private:
    // The delivered leaf.
    Result<crypto::Certificate> renew(const CertificateConfig& certificate, const DueCheck& check,
                                      CertState& state, bool& hooks_failed);
    // Fetches `served`'s RenewalInfo into `state`; true when the window differs from the one
    // recorded before.
    bool refresh_ari(const CertificateConfig& certificate, const crypto::Certificate& served,
                     CertState& state, SystemTime now);
    RenewalDecision decide_renewal(const CertificateConfig& certificate, const CertState& state,
                                   SystemTime now) const;
    void log(const CertificateConfig& certificate, std::string_view line) const;
    Result<DueCheck> decide_due(const CertificateConfig& certificate, bool& leftovers);
    // Takes away what an interrupted renewal left in place, when no renewal is due to do it.
    Status clean_up_leftovers(const CertificateConfig& certificate);

    ConfigPtr config_;
    RenewerDeps deps_;
};

// The environment a deploy hook gets: names and paths, never key material (documented in
// docs/agent-config.md). `serial` and `not_after` describe the delivered certificate.
std::vector<std::string> deploy_hook_environment(const CertificateConfig& certificate,
                                                 std::string_view serial,
                                                 std::string_view not_after);

}  // namespace certdock::agent
