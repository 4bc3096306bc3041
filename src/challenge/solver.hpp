#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.hpp"

namespace certdock::challenge {

enum class ChallengeType { kHttp01, kDns01, kTlsAlpn01 };

std::string_view challenge_type_name(ChallengeType type);  // "http-01", "dns-01", "tls-alpn-01"
std::optional<ChallengeType> parse_challenge_type(std::string_view name);

// One challenge to answer: everything a solver needs, nothing about the ACME exchange.
struct ChallengeTask {
    ChallengeType type = ChallengeType::kHttp01;
    std::string identifier_type = "dns";  // "dns" or "ip" (RFC 8738)
    std::string identifier;               // "example.com" for "*.example.com" too; "192.0.2.1"
    bool wildcard = false;
    std::string token;
    std::string key_authorization;  // token "." base64url(JWK thumbprint), RFC 8555 §8.1
};

// dns-01: the TXT record name and value (RFC 8555 §8.4).
std::string dns01_record_name(const ChallengeTask& task);   // "_acme-challenge.example.com"
std::string dns01_record_value(const ChallengeTask& task);  // base64url(SHA-256(key auth))

// Makes the response to a challenge visible to the CA, and takes it away again.
//
// Contract: present() returns once the response is in place; wait_ready() returns once it
// can be seen from outside (DNS propagation) or fails with what is missing; cleanup() is
// called after every present(), successful or not, and removes what present() added. A solver
// may be used for several tasks at once (all authorizations of an order are presented
// before any is answered), so present() must not drop an earlier task's response. Calls come
// from one thread.
class Solver {
public:
    virtual ~Solver() = default;
    virtual ChallengeType type() const = 0;
    virtual Status present(const ChallengeTask& task) = 0;
    virtual Status wait_ready(const ChallengeTask& /*task*/) { return {}; }
    virtual Status cleanup(const ChallengeTask& task) = 0;
};

using SolverPtr = std::unique_ptr<Solver>;

}  // namespace certdock::challenge
