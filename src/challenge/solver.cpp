#include "challenge/solver.hpp"

#include "crypto/digest.hpp"

namespace certdock::challenge {

std::string_view challenge_type_name(ChallengeType type) {
    switch (type) {
        case ChallengeType::kHttp01:
            return "http-01";
        case ChallengeType::kDns01:
            return "dns-01";
        case ChallengeType::kTlsAlpn01:
            return "tls-alpn-01";
    }
    return "unknown";
}

std::optional<ChallengeType> parse_challenge_type(std::string_view name) {
    for (ChallengeType type :
         {ChallengeType::kHttp01, ChallengeType::kDns01, ChallengeType::kTlsAlpn01}) {
        if (challenge_type_name(type) == name) return type;
    }
    return std::nullopt;
}

std::string dns01_record_name(const ChallengeTask& task) {
    return "_acme-challenge." + task.identifier;
}

std::string dns01_record_value(const ChallengeTask& task) {
    return base64url_encode(crypto::sha256(task.key_authorization));
}

}  // namespace certdock::challenge
