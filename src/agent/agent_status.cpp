#include "agent/agent_status.hpp"

#include <algorithm>

#include "haproxy/replies.hpp"

namespace certdock::agent {

bool CertificateStatus::served_everywhere() const {
    return healthy() && std::all_of(served.begin(), served.end(), [this](const ServedBy& by) {
               return by.error.empty() && haproxy::same_serial(by.serial, serial);
           });
}

CertificateStatus status_from_state(const CertificateConfig& certificate, const CertState& state,
                                    std::string decision) {
    return CertificateStatus{.name = certificate.name,
                             .domains = certificate.domains,
                             .serial = state.serial,
                             .not_after = state.not_after,
                             .decision = std::move(decision),
                             .next_renewal = state.next_renewal,
                             .next_renewal_reason = state.next_renewal_reason,
                             .last_attempt = state.last_attempt,
                             .last_result = std::string(attempt_result_name(state.last_result)),
                             .last_error = state.last_error,
                             .consecutive_failures = state.consecutive_failures,
                             .next_retry = state.next_retry,
                             .next_retry_reason = state.next_retry_reason,
                             .key_pin = state.key_pin};
}

void StatusBoard::set_config(ConfigPtr config) {
    std::lock_guard lock(mutex_);
    std::map<std::string, CertificateStatus, std::less<>> kept;
    for (const auto& certificate : config->certificates) {
        auto found = certificates_.find(certificate.name);
        if (found != certificates_.end()) {
            kept.emplace(certificate.name, std::move(found->second));
        } else {
            kept.emplace(certificate.name, CertificateStatus{.name = certificate.name,
                                                             .domains = certificate.domains});
        }
    }
    certificates_ = std::move(kept);
    config_ = std::move(config);
}

void StatusBoard::set_agent(AgentInfo info) {
    std::lock_guard lock(mutex_);
    agent_ = std::move(info);
}

void StatusBoard::update_scan_times(std::optional<SystemTime> last,
                                    std::optional<SystemTime> next) {
    std::lock_guard lock(mutex_);
    agent_.last_scan = last;
    agent_.next_scan = next;
}

void StatusBoard::update(CertificateStatus status) {
    std::lock_guard lock(mutex_);
    auto& entry = certificates_[status.name];
    const auto renewing_since = entry.renewing_since;
    entry = std::move(status);
    entry.renewing_since = renewing_since;
}

void StatusBoard::begin_renewal(const std::string& name, SystemTime since) {
    std::lock_guard lock(mutex_);
    auto& entry = certificates_[name];
    entry.name = name;
    entry.renewing_since = since;
}

void StatusBoard::end_renewal(const std::string& name) {
    std::lock_guard lock(mutex_);
    auto found = certificates_.find(name);
    if (found != certificates_.end()) found->second.renewing_since.reset();
}

StatusSnapshot StatusBoard::snapshot() const {
    std::lock_guard lock(mutex_);
    StatusSnapshot out{.agent = agent_, .config = config_};
    if (!config_) return out;
    out.certificates.reserve(config_->certificates.size());
    for (const auto& certificate : config_->certificates) {
        auto found = certificates_.find(certificate.name);
        if (found != certificates_.end()) out.certificates.push_back(found->second);
    }
    return out;
}

}  // namespace certdock::agent
