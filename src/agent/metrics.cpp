#include "agent/metrics.hpp"

#include <algorithm>
#include <utility>

#include "haproxy/endpoint.hpp"

namespace certdock::agent {
namespace {

double seconds_since_epoch(SystemTime time) {
    return std::chrono::duration<double>(time.time_since_epoch()).count();
}

void set_or_remove(MetricFamily& family, const LabelValues& labels,
                   const std::optional<SystemTime>& time) {
    if (time) {
        family.set(labels, seconds_since_epoch(*time));
    } else {
        family.remove(labels);
    }
}

// The Renewer's text for a delivery that reached the disk but not every HAProxy or probe
// (see delivery_failures in renewer.cpp).
constexpr std::string_view kNotDelivered = "not delivered: ";

}  // namespace

AgentMetrics::AgentMetrics(std::string_view version)
    : not_after_(registry_.gauge("certdock_certificate_not_after_seconds",
                                 "Expiry of the certificate being served, Unix time", {"cert"})),
      next_renewal_(registry_.gauge("certdock_certificate_next_renewal_seconds",
                                    "When the certificate is due for renewal, Unix time",
                                    {"cert"})),
      last_success_(registry_.gauge("certdock_last_success_seconds",
                                    "When the certificate was last delivered, Unix time",
                                    {"cert"})),
      consecutive_failures_(registry_.gauge(
          "certdock_consecutive_failures",
          "Failed renewal attempts since the last delivery (0 when the last one succeeded)",
          {"cert"})),
      renewals_(registry_.counter("certdock_renewals_total",
                                  "Renewal attempts by result: delivered or failed",
                                  {"cert", "result"})),
      deploy_failures_(registry_.counter(
          "certdock_deploy_failures_total",
          "Deliveries a HAProxy target refused or did not serve (haproxy=\"\": not known which)",
          {"cert", "haproxy"})),
      acme_requests_(registry_.counter(
          "certdock_acme_requests_total",
          "Requests to the CA by HTTP status (\"error\": no response at all)", {"acme", "status"})),
      scan_duration_(registry_.gauge("certdock_scan_duration_seconds",
                                     "How long the last scan of every certificate took")),
      certificates_(
          registry_.gauge("certdock_certificates", "Certificates in the configuration in force")),
      build_info_(
          registry_.gauge("certdock_build_info", "The running certdock, always 1", {"version"})) {
    build_info_.set({std::string(version)}, 1);
}

void AgentMetrics::configure(const Config& config) {
    std::set<std::string> certificates;
    std::set<std::string> accounts;
    std::map<std::string, std::vector<std::string>> addresses;
    std::map<std::string, std::set<std::string>> targets_of;
    for (const auto& certificate : config.certificates) {
        certificates.insert(certificate.name);
        targets_of[certificate.name].insert(certificate.placement.haproxy.begin(),
                                            certificate.placement.haproxy.end());
    }
    for (const auto& account : config.accounts) accounts.insert(account.name);
    for (const auto& target : config.haproxies) {
        for (const auto& socket : target.sockets) {
            addresses[target.name].push_back(haproxy::describe_endpoint(socket));
        }
    }

    const std::lock_guard lock(mutex_);
    for (const auto& gone : certificates_known_) {
        if (!certificates.contains(gone)) registry_.remove_where("cert", gone);
    }
    for (const auto& gone : accounts_known_) {
        if (!accounts.contains(gone)) acme_requests_.remove_where("acme", gone);
    }
    // A target taken off a certificate takes its series along; haproxy="" stays.
    deploy_failures_.remove_if([&](const LabelValues& labels) {
        auto found = targets_of.find(labels[0]);
        return found != targets_of.end() && !labels[1].empty() &&
               !found->second.contains(labels[1]);
    });
    for (const auto& certificate : config.certificates) {
        renewals_.touch({certificate.name, "delivered"});
        renewals_.touch({certificate.name, "failed"});
        for (const auto& target : certificate.placement.haproxy) {
            deploy_failures_.touch({certificate.name, target});
        }
    }
    certificates_.set({}, static_cast<double>(config.certificates.size()));
    certificates_known_ = std::move(certificates);
    accounts_known_ = std::move(accounts);
    target_addresses_ = std::move(addresses);
}

void AgentMetrics::observe(const CertificateConfig& certificate, const CertState& state) {
    const LabelValues labels{certificate.name};
    set_or_remove(not_after_, labels, state.not_after);
    set_or_remove(next_renewal_, labels, state.next_renewal);
    set_or_remove(last_success_, labels, state.last_success);
    consecutive_failures_.set(labels, state.consecutive_failures);
}

void AgentMetrics::observe_outcome(const CertificateConfig& certificate,
                                   const RenewOutcome& outcome) {
    switch (outcome.result) {
        case RenewResult::kNotDue:
            return;
        case RenewResult::kDelivered:
            renewals_.add({certificate.name, "delivered"});
            return;
        case RenewResult::kFailed:
            renewals_.add({certificate.name, "failed"});
            break;
    }
    if (!outcome.error.starts_with(kNotDelivered)) return;

    std::vector<std::string> failed;
    {
        const std::lock_guard lock(mutex_);
        for (const auto& target : certificate.placement.haproxy) {
            auto addresses = target_addresses_.find(target);
            if (addresses == target_addresses_.end()) continue;
            const bool named = std::any_of(
                addresses->second.begin(), addresses->second.end(), [&](const std::string& a) {
                    return outcome.error.find("HAProxy " + a + ": ") != std::string::npos;
                });
            if (named) failed.push_back(target);
        }
    }
    if (failed.empty()) {
        // Only probes failed, or the address is not known: the certificate's only target is
        // the one not serving it.
        failed.push_back(certificate.placement.haproxy.size() == 1
                             ? certificate.placement.haproxy.front()
                             : std::string());
    }
    for (const auto& target : failed) deploy_failures_.add({certificate.name, target});
}

void AgentMetrics::observe_acme_request(std::string_view account,
                                        const acme::RequestObservation& request) {
    acme_requests_.add({std::string(account), acme::status_label(request)});
}

acme::RequestObserver AgentMetrics::acme_observer(std::string account) {
    return [this, account = std::move(account)](const acme::RequestObservation& request) {
        observe_acme_request(account, request);
    };
}

void AgentMetrics::observe_scan(std::chrono::steady_clock::duration duration) {
    scan_duration_.set({}, std::chrono::duration<double>(duration).count());
}

}  // namespace certdock::agent
