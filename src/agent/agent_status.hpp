#pragma once

// What `certdock ctl status` reports, as plain values: per certificate what its state says
// (serial, renewal, last attempt, retries), what the running loop is doing with it, and what
// each HAProxy target serves. The StatusBoard is where the agent's loop publishes these and
// the control server reads them: the only state the two threads share.

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "agent/cert_state.hpp"
#include "agent/config.hpp"
#include "base/time.hpp"

namespace certdock::agent {

// What one HAProxy process serves under the certificate's name (`show ssl cert <name>`).
struct ServedBy {
    std::string haproxy{};  // the [haproxy.<name>] target
    std::string socket{};   // its Runtime API address (with the master CLI target, if any)
    std::string serial{};   // empty when `error` is set
    std::string error{};    // "unreachable: ...", "not loaded: ..."
};

struct CertificateStatus {
    std::string name{};
    std::vector<std::string> domains{};
    std::string serial{};  // the certificate served; empty: none issued yet
    std::optional<SystemTime> not_after{};
    // The loop's last decision: a due_kind_name ("not-due", "waiting-retry", "first-issue",
    // ...), or "error" when the state could not be read or written.
    std::string decision{};
    std::optional<SystemTime> next_renewal{};
    std::string next_renewal_reason{};
    std::optional<SystemTime> last_attempt{};
    std::string last_result{};  // "none", "success", "failure"
    std::string last_error{};
    int consecutive_failures = 0;
    std::optional<SystemTime> next_retry{};
    std::string next_retry_reason{};
    std::optional<SystemTime> renewing_since{};  // set while a renewal runs
    std::string key_pin{};                       // pin-sha256 of the served certificate's key
    // reuse-key = "rotate": the key waiting to be used, so its pins can be published ahead.
    std::string next_key_pin{};
    std::string next_key_tlsa{};  // "3 1 1 <hex>"
    std::optional<SystemTime> next_key_usable_after{};
    std::vector<ServedBy> served{};  // filled when a status is asked for

    // No failure pending and a certificate issued.
    bool healthy() const { return !serial.empty() && consecutive_failures == 0; }
    // Healthy, and every HAProxy asked serves its serial.
    bool served_everywhere() const;
};

// The status of `name` from its stored state and the loop's decision.
CertificateStatus status_from_state(const CertificateConfig& certificate, const CertState& state,
                                    std::string decision);

struct AgentInfo {
    long pid = 0;
    std::string config_file{};
    std::optional<SystemTime> started{};
    std::optional<SystemTime> last_scan{};  // when the last scan ended
    std::optional<SystemTime> next_scan{};
};

struct StatusSnapshot {
    AgentInfo agent{};
    ConfigPtr config{};  // immutable, so readers may use it after the lock is released
    std::vector<CertificateStatus> certificates{};  // in configuration order
};

// Written by the agent's loop, read by the control server. Every call takes the lock for a
// copy or an update only: never across I/O.
class StatusBoard {
public:
    // A new configuration: certificates it no longer has are forgotten, new ones start with
    // no decision.
    void set_config(ConfigPtr config);
    void set_agent(AgentInfo info);
    void update_scan_times(std::optional<SystemTime> last, std::optional<SystemTime> next);
    // Replaces the certificate's entry (kept: renewing_since, which begin/end_renewal own).
    void update(CertificateStatus status);
    void begin_renewal(const std::string& name, SystemTime since);
    void end_renewal(const std::string& name);

    StatusSnapshot snapshot() const;

private:
    mutable std::mutex mutex_;
    AgentInfo agent_{};
    ConfigPtr config_{};
    std::map<std::string, CertificateStatus, std::less<>> certificates_{};
};

}  // namespace certdock::agent
