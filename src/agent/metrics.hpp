#pragma once

// What an operator graphs and alerts on, as Prometheus metrics (documented in
// docs/metrics.md): when each certificate expires and renews, how renewals and deliveries
// went, how the CA answered, how long a scan took. Each method takes the agent's own values,
// so the agent loop makes one call per event.
//
// Thread-safe: the loop observes while the metrics server renders.

#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "acme/observed_transport.hpp"
#include "agent/cert_state.hpp"
#include "agent/config.hpp"
#include "agent/metrics_registry.hpp"
#include "agent/renewer.hpp"

namespace certdock::agent {

class AgentMetrics {
public:
    explicit AgentMetrics(std::string_view version);
    AgentMetrics(const AgentMetrics&) = delete;
    AgentMetrics& operator=(const AgentMetrics&) = delete;

    // The configuration in force, at start and after each reload: the certificate count,
    // zeroed counters for every certificate (so the first failure shows in increase()), and
    // no series left for a certificate, CA account or HAProxy target no longer configured.
    void configure(const Config& config);

    // A certificate's recorded state (after a scan or a renewal): expiry, next renewal, last
    // success, consecutive failures. Times not known yet leave no series.
    void observe(const CertificateConfig& certificate, const CertState& state);

    // What Renewer::run returned: a delivery or a failure counted; a failed delivery also
    // counted per HAProxy target named in the error (or the certificate's only target, or
    // haproxy="" when neither tells).
    void observe_outcome(const CertificateConfig& certificate, const RenewOutcome& outcome);

    // One request to the CA of `account` (through acme::ObservedTransport).
    void observe_acme_request(std::string_view account, const acme::RequestObservation& request);
    // The observer to give ObservedTransport for `account`'s transport. It refers to this
    // object, which must outlive the transport.
    acme::RequestObserver acme_observer(std::string account);

    // How long the last scan of every certificate took.
    void observe_scan(std::chrono::steady_clock::duration duration);

    // The exposition text for GET /metrics.
    std::string render() const { return registry_.render(); }
    MetricsRegistry& registry() { return registry_; }

private:
    MetricsRegistry registry_;
    MetricFamily& not_after_;
    MetricFamily& next_renewal_;
    MetricFamily& last_success_;
    MetricFamily& consecutive_failures_;
    MetricFamily& renewals_;
    MetricFamily& deploy_failures_;
    MetricFamily& acme_requests_;
    MetricFamily& scan_duration_;
    MetricFamily& certificates_;
    MetricFamily& build_info_;

    std::mutex mutex_;  // guards what configure() records below
    // Runtime API addresses as the Deployer names them in errors, per HAProxy target.
    std::map<std::string, std::vector<std::string>> target_addresses_;
    std::set<std::string> certificates_known_;
    std::set<std::string> accounts_known_;
};

}  // namespace certdock::agent
