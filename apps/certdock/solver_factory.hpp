#pragma once

// Building the challenge solver a command or the agent asked for, in one place: `certdock
// issue` fills a SolverSpec from its flags, the agent from a certificate's configuration.

#include <string>
#include <vector>

#include "base/result.hpp"
#include "challenge/solver.hpp"
#include "haproxy/runtime_api.hpp"

namespace certdock::cli {

struct SolverSpec {
    challenge::ChallengeType type = challenge::ChallengeType::kHttp01;
    // http-01 answered by HAProxy from this map (as HAProxy names it) on every endpoint.
    std::string haproxy_map{};
    std::vector<haproxy::RuntimeApiOptions> haproxy_endpoints{};
    // http-01 otherwise: a webroot, else a responder of our own on http_listen.
    std::string webroot{};
    std::string http_listen = ":80";
    std::string tls_alpn_listen = ":443";
    // dns-01: a hook program, else RFC 2136 updates.
    std::string dns_hook{};
    std::string rfc2136_server{};
    std::string tsig_key_file{};
    std::string dns_zone{};
    std::vector<std::string> dns_check_servers{};
};

// "host:port", "[v6]:port", ":port" (every address); the port is required. `flag` names the
// option in the error.
Result<std::pair<std::string, std::uint16_t>> parse_listen(const std::string& text,
                                                           const std::string& flag);

// The solver for `spec`. With a HAProxy map every endpoint and the map are checked before the
// CA hears from us, so a typo costs no order; a failed cleanup is reported on stderr, since the
// operator may have to remove a token by hand.
Result<challenge::SolverPtr> build_solver(const SolverSpec& spec);

}  // namespace certdock::cli
