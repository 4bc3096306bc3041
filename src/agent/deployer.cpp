#include "agent/deployer.hpp"

#include <strings.h>

#include <algorithm>

#include "base/file.hpp"
#include "haproxy/crt_list.hpp"
#include "haproxy/endpoint.hpp"
#include "haproxy/hot_update.hpp"
#include "haproxy/replies.hpp"

namespace certdock::agent {
namespace {

using namespace std::chrono_literals;

constexpr auto kFirstRetryDelay = 250ms;
constexpr auto kMaxRetryDelay = 4'000ms;
constexpr int kProbeAttempts = 3;  // a mismatch may be a connection to a draining old process
constexpr auto kProbeRetryDelay = 100ms;

// Whether waiting can help: an unreachable socket can come back, a refused certificate not.
bool worth_retrying(const Error& error) {
    for (const Error* e = &error; e != nullptr; e = e->cause()) {
        if (e->category() == ErrorCategory::kNetwork) return true;
    }
    return false;
}

bool serves(const haproxy::CertInfo& info, const crypto::Certificate& leaf) {
    std::string fingerprint = info.sha1_fingerprint;
    std::erase(fingerprint, ':');
    return haproxy::same_serial(info.serial, leaf.serial_hex()) &&
           strcasecmp(fingerprint.c_str(), hex_encode(leaf.sha1_fingerprint()).c_str()) == 0;
}

std::string crt_list_line(const DeployRequest& request, const std::string& cert_name) {
    std::string line = cert_name;
    for (const auto& name : request.targets.sni) line += " " + name;
    return line;
}

// The crt-list on disk names the certificate, so a restart keeps serving it.
Status persist_crt_list_line(const DeployRequest& request, const std::string& cert_name) {
    std::filesystem::path file = request.targets.crt_list_file.empty()
                                     ? std::filesystem::path(request.targets.crt_list)
                                     : request.targets.crt_list_file;
    std::string content;
    if (std::filesystem::exists(file)) {
        CERTDOCK_TRY(content, read_file(file));
    }
    std::vector<haproxy::ConfigWarning> ignored;
    CERTDOCK_TRY(auto entries, haproxy::parse_crt_list(content, file.string(), ignored));
    for (const auto& entry : entries) {
        if (entry.crt == cert_name) return {};
    }
    if (!content.empty() && content.back() != '\n') content += '\n';
    content += crt_list_line(request, cert_name) + "\n";
    return write_file_atomic(file, content, {.keep_previous = true});
}

// HAProxy names a certificate by the path its configuration spells; without an explicit name,
// any absolute name that is the same file as ours will do ("site.pem" run from /etc/haproxy).
std::optional<std::string> served_name(const std::vector<std::string>& names,
                                       const DeployRequest& request, const std::string& cert_name) {
    if (std::find(names.begin(), names.end(), cert_name) != names.end()) return cert_name;
    if (!request.targets.cert_name.empty()) return std::nullopt;
    std::error_code error;
    const auto ours = std::filesystem::weakly_canonical(request.file, error);
    if (error) return std::nullopt;
    for (const std::string& name : names) {
        if (!name.starts_with('/')) continue;
        if (std::filesystem::weakly_canonical(name, error) == ours && !error) return name;
    }
    return std::nullopt;
}

Result<HaproxyAction> deliver_once(haproxy::RuntimeApi& api, const DeployRequest& request,
                                   const std::string& cert_name, const std::string& bundle_pem) {
    const crypto::Certificate& leaf = request.bundle.leaf;
    CERTDOCK_TRY(std::vector<std::string> names, api.show_ssl_cert_list());
    if (auto name = served_name(names, request, cert_name)) {
        CERTDOCK_TRY(haproxy::CertInfo info, api.show_ssl_cert(*name));
        if (serves(info, leaf)) return HaproxyAction::kAlreadyServed;
        CERTDOCK_TRY_STATUS(haproxy::hot_update(api, *name, bundle_pem));
        return HaproxyAction::kUpdated;
    }
    if (request.targets.crt_list.empty()) {
        std::string known;
        for (size_t i = 0; i < names.size() && i < 5; ++i) known += (i ? ", " : "") + names[i];
        if (names.size() > 5) known += ", ...";
        return fail(ErrorCategory::kInput,
                    "HAProxy does not serve a certificate named " + cert_name +
                        " (it has: " + (known.empty() ? "none" : known) +
                        "); give the name as haproxy.cfg spells the crt path (--cert-name), or "
                        "a crt-list to add it to");
    }
    CERTDOCK_TRY_STATUS(api.new_ssl_cert(cert_name));
    CERTDOCK_TRY_STATUS(haproxy::hot_update(api, cert_name, bundle_pem));
    CERTDOCK_TRY_STATUS(
        api.add_ssl_crt_list(request.targets.crt_list, crt_list_line(request, cert_name)));
    return HaproxyAction::kAdded;
}

void deliver_everywhere(const DeployRequest& request, const std::string& cert_name,
                        const std::string& bundle_pem, Clock& clock, DeployReport& report) {
    const Clock::TimePoint start = clock.now();
    const Clock::TimePoint give_up = start + request.targets.retry_for;
    std::vector<size_t> pending;
    for (size_t i = 0; i < request.targets.haproxies.size(); ++i) {
        report.haproxies.push_back(
            {.address = haproxy::describe_endpoint(request.targets.haproxies[i])});
        pending.push_back(i);
    }
    std::chrono::milliseconds delay = kFirstRetryDelay;
    while (!pending.empty()) {
        std::vector<size_t> retry;
        for (size_t i : pending) {
            HaproxyOutcome& outcome = report.haproxies[i];
            haproxy::RuntimeApi api(request.targets.haproxies[i]);
            ++outcome.attempts;
            auto action = deliver_once(api, request, cert_name, bundle_pem);
            outcome.elapsed =
                std::chrono::duration_cast<std::chrono::milliseconds>(clock.now() - start);
            if (action) {
                outcome.action = *action;
                outcome.error.reset();
                continue;
            }
            outcome.action = HaproxyAction::kFailed;
            outcome.error = std::move(action).error();
            if (worth_retrying(*outcome.error)) retry.push_back(i);
        }
        Clock::TimePoint now = clock.now();
        if (retry.empty() || now >= give_up) break;
        clock.sleep_for(std::min<std::chrono::milliseconds>(
            delay, std::chrono::duration_cast<std::chrono::milliseconds>(give_up - now)));
        delay = std::min<std::chrono::milliseconds>(delay * 2, kMaxRetryDelay);
        pending = std::move(retry);
    }
}

std::vector<std::string> probe_names(const DeployRequest& request) {
    if (!request.targets.probe_names.empty()) return request.targets.probe_names;
    if (!request.targets.sni.empty()) return request.targets.sni;
    std::vector<std::string> names;
    for (const auto& name : request.bundle.leaf.dns_names()) {
        // A wildcard is proven with a label it covers.
        names.push_back(name.starts_with("*.") ? "certdock-probe" + name.substr(1) : name);
    }
    if (names.empty()) names.emplace_back();  // an IP-only certificate: no SNI
    return names;
}

ProbeOutcome probe_one(ProbeTarget target, const crypto::Certificate& leaf, Clock& clock) {
    ProbeOutcome outcome{.target = std::move(target)};
    for (int attempt = 1; attempt <= kProbeAttempts; ++attempt) {
        if (attempt > 1) clock.sleep_for(kProbeRetryDelay);
        auto chain = probe_served_chain(outcome.target);
        if (!chain) {
            outcome.error = std::move(chain).error();
            continue;
        }
        const crypto::Certificate& served = chain->front();
        outcome.served_serial = served.serial_hex();
        outcome.serves_new = served.der() == leaf.der();
        if (outcome.serves_new) {
            outcome.error.reset();
            return outcome;
        }
        outcome.error =
            Error(ErrorCategory::kProtocol, describe(outcome.target) + " still presents serial " +
                                                served.serial_hex() + " (" + served.subject() +
                                                "), not the new " + leaf.serial_hex());
    }
    return outcome;
}

}  // namespace

std::string_view action_name(HaproxyAction action) {
    switch (action) {
        case HaproxyAction::kUpdated:
            return "updated";
        case HaproxyAction::kAdded:
            return "added";
        case HaproxyAction::kAlreadyServed:
            return "already served";
        case HaproxyAction::kFailed:
            break;
    }
    return "failed";
}

bool DeployReport::ok() const {
    return std::none_of(haproxies.begin(), haproxies.end(),
                        [](const auto& h) { return h.action == HaproxyAction::kFailed; }) &&
           std::all_of(probes.begin(), probes.end(), [](const auto& p) { return p.serves_new; });
}

Result<DeployReport> deploy(const DeployRequest& request, Clock& clock) {
    // Checks key ↔ certificate and chain order; nothing is touched when that fails.
    CERTDOCK_TRY(std::string bundle_pem, crypto::build_haproxy_bundle(request.bundle));
    // A certificate HAProxy does not know yet is added under its absolute path, which is
    // also what the crt-list on disk then names.
    const std::string cert_name =
        request.targets.cert_name.empty()
            ? std::filesystem::absolute(request.file).lexically_normal().string()
            : request.targets.cert_name;
    DeployReport report;
    report.serial = request.bundle.leaf.serial_hex();
    auto lap = [last = std::chrono::steady_clock::now()]() mutable {
        auto now = std::chrono::steady_clock::now();
        auto elapsed = std::chrono::duration_cast<std::chrono::microseconds>(now - last);
        last = now;
        return elapsed;
    };

    std::string on_disk;
    const bool existed = std::filesystem::exists(request.file);
    if (existed) {
        CERTDOCK_TRY(on_disk, read_file(request.file));
    }
    report.file_changed = on_disk != bundle_pem;
    report.previous_kept = existed && report.file_changed;
    if (report.file_changed) {
        CERTDOCK_TRY_STATUS(
            write_file_atomic(request.file, bundle_pem, {.mode = 0600, .keep_previous = true}));
    }
    if (!request.targets.crt_list.empty()) {
        CERTDOCK_TRY_STATUS(persist_crt_list_line(request, cert_name));
    }
    report.timings.disk = lap();

    deliver_everywhere(request, cert_name, bundle_pem, clock, report);
    report.timings.runtime_api = lap();

    for (const ProbeTarget& target : request.targets.probes) {
        for (const std::string& name : probe_names(request)) {
            ProbeTarget named = target;
            named.sni = name;
            report.probes.push_back(probe_one(std::move(named), request.bundle.leaf, clock));
        }
    }
    report.timings.probes = lap();
    return report;
}

}  // namespace certdock::agent
