#include "challenge/dns01_rfc2136.hpp"

#include <algorithm>
#include <thread>
#include <utility>

#include "challenge/task_check.hpp"
#include "dns/resolver.hpp"
#include "dns/server_address.hpp"

namespace certdock::challenge {
namespace {

Status check_dns01_task(const ChallengeTask& task) {
    CERTDOCK_TRY_STATUS(check_task(task, ChallengeType::kDns01));
    if (task.identifier_type == "ip") {
        return fail(ErrorCategory::kUsage, "dns-01 cannot validate IP address " + task.identifier +
                                               " (RFC 8738 §7); use http-01 or tls-alpn-01");
    }
    return {};
}

std::string format_duration(std::chrono::milliseconds duration) {
    if (duration.count() % 1000 == 0) return std::to_string(duration.count() / 1000) + " s";
    return std::to_string(duration.count()) + " ms";
}

// What a server returned instead of the value we wait for; always names the server.
std::string describe_lack(const std::string& server,
                          const Result<std::vector<std::string>>& values) {
    if (!values) return values.error().describe();
    if (values->empty()) return server + " has no TXT record there";
    return server + " has " + std::to_string(values->size()) +
           " TXT record(s), none with the value";
}

}  // namespace

Result<SolverPtr> Dns01Rfc2136::create(Rfc2136Options options) {
    for (const std::string& server : options.check_servers) {
        if (auto parsed = dns::parse_server_address(server); !parsed) {
            return std::move(parsed).error();
        }
    }
    if (options.query_timeout.count() <= 0 || options.poll_interval.count() <= 0 ||
        options.propagation_timeout.count() < 0) {
        return fail(ErrorCategory::kUsage,
                    "dns-01 RFC 2136: query timeout and poll interval must be positive");
    }
    CERTDOCK_TRY(dns::UpdateClient client, dns::UpdateClient::create(options.update));
    return SolverPtr(new Dns01Rfc2136(std::move(options), std::move(client)));
}

Result<std::string> Dns01Rfc2136::zone_for(const std::string& record_name) {
    if (!options_.zone.empty()) return options_.zone;
    if (auto known = zones_.find(record_name); known != zones_.end()) return known->second;
    CERTDOCK_TRY(std::string zone, client_.find_zone(record_name));
    zones_.emplace(record_name, zone);
    return zone;
}

Status Dns01Rfc2136::present(const ChallengeTask& task) {
    CERTDOCK_TRY_STATUS(check_dns01_task(task));
    std::string name = dns01_record_name(task);
    std::string what = "cannot publish the dns-01 record for " + task.identifier;
    auto zone = zone_for(name);
    if (!zone) return Error(zone.error().category(), what).caused_by(zone.error());
    auto added = client_.add_txt(*zone, name, dns01_record_value(task), options_.ttl);
    if (!added) return Error(added.error().category(), what).caused_by(added.error());
    return {};
}

Status Dns01Rfc2136::wait_ready(const ChallengeTask& task) {
    CERTDOCK_TRY_STATUS(check_dns01_task(task));
    std::string name = dns01_record_name(task);
    std::string value = dns01_record_value(task);
    // Each server with what it last showed; a server leaves the list once it has the value.
    std::vector<std::pair<std::string, std::string>> lacking;
    if (options_.check_servers.empty()) {
        lacking.emplace_back(options_.update.server, "not asked");
    } else {
        for (const std::string& server : options_.check_servers) {
            lacking.emplace_back(server, "not asked");
        }
    }
    auto deadline = std::chrono::steady_clock::now() + options_.propagation_timeout;
    while (true) {
        for (auto entry = lacking.begin(); entry != lacking.end();) {
            auto values = dns::query_txt(name, {entry->first}, options_.query_timeout);
            if (values && std::find(values->begin(), values->end(), value) != values->end()) {
                entry = lacking.erase(entry);
            } else {
                entry->second = describe_lack(entry->first, values);
                ++entry;
            }
        }
        if (lacking.empty()) return {};
        if (std::chrono::steady_clock::now() + options_.poll_interval > deadline) break;
        std::this_thread::sleep_for(options_.poll_interval);
    }
    std::string where;
    for (const auto& entry : lacking) where += (where.empty() ? "" : "; ") + entry.second;
    return fail(ErrorCategory::kNetwork, "the dns-01 record " + name + " for " + task.identifier +
                                             " is still missing after " +
                                             format_duration(options_.propagation_timeout) + ": " +
                                             where);
}

Status Dns01Rfc2136::cleanup(const ChallengeTask& task) {
    CERTDOCK_TRY_STATUS(check_dns01_task(task));
    std::string name = dns01_record_name(task);
    std::string what = "cannot remove the dns-01 record for " + task.identifier;
    auto zone = zone_for(name);
    if (!zone) return Error(zone.error().category(), what).caused_by(zone.error());
    auto deleted = client_.delete_txt(*zone, name, dns01_record_value(task));
    if (!deleted) return Error(deleted.error().category(), what).caused_by(deleted.error());
    return {};
}

}  // namespace certdock::challenge
