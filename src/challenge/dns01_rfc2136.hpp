#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "challenge/solver.hpp"
#include "dns/update.hpp"

namespace certdock::challenge {

struct Rfc2136Options {
    dns::UpdateConfig update;  // the zone's primary, TSIG key, timeout of one update message
    std::string zone;          // empty: found per record name by SOA queries at the primary
    std::uint32_t ttl = 60;
    // wait_ready() asks each of these; empty: the primary. List every authoritative server
    // (secondaries lag behind the primary) or the resolvers the CA is known to use.
    std::vector<std::string> check_servers;
    std::chrono::milliseconds query_timeout{2'000};          // one TXT query
    std::chrono::milliseconds propagation_timeout{120'000};  // wait_ready() gives up after this
    std::chrono::milliseconds poll_interval{2'000};
};

// dns-01 through RFC 2136 dynamic updates: present() adds the TXT record
// "_acme-challenge.<identifier>" = base64url(SHA-256(key authorization)) at the primary;
// wait_ready() polls the check servers until each returns that value, and on timeout names
// the servers still lacking it; cleanup() deletes that one value, so the records of other
// tasks at the same name (a wildcard and its base name) stay. Several tasks may be presented
// at once; calls come from one thread.
class Dns01Rfc2136 final : public Solver {
public:
    // Fails when an address is malformed or an interval is not positive.
    static Result<SolverPtr> create(Rfc2136Options options);

    ChallengeType type() const override { return ChallengeType::kDns01; }
    Status present(const ChallengeTask& task) override;
    Status wait_ready(const ChallengeTask& task) override;
    Status cleanup(const ChallengeTask& task) override;

private:
    Dns01Rfc2136(Rfc2136Options options, dns::UpdateClient client)
        : options_(std::move(options)), client_(std::move(client)) {}

    // The configured zone, or the one the primary reports for `record_name` (asked once).
    Result<std::string> zone_for(const std::string& record_name);

    Rfc2136Options options_;
    dns::UpdateClient client_;
    std::map<std::string, std::string> zones_;  // record name → zone found for it
};

}  // namespace certdock::challenge
