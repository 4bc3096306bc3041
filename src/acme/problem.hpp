#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>

#include "base/error.hpp"
#include "base/result.hpp"

namespace certdock::acme {

// RFC 8555 §6.7 error types (plus ARI's alreadyReplaced and the profiles draft's
// invalidProfile), each with the HTTP status a server answers it with.
enum class ProblemType {
    kAccountDoesNotExist,
    kAlreadyReplaced,
    kAlreadyRevoked,
    kBadCsr,
    kBadNonce,
    kBadPublicKey,
    kBadRevocationReason,
    kBadSignatureAlgorithm,
    kCaa,
    kCompound,
    kConnection,
    kDns,
    kExternalAccountRequired,
    kIncorrectResponse,
    kInvalidContact,
    kInvalidProfile,
    kMalformed,
    kOrderNotReady,
    kRateLimited,
    kRejectedIdentifier,
    kServerInternal,
    kTls,
    kUnauthorized,
    kUnsupportedContact,
    kUnsupportedIdentifier,
    kUserActionRequired,
};

inline constexpr std::string_view kProblemUrnPrefix = "urn:ietf:params:acme:error:";

std::string problem_urn(ProblemType type);  // "urn:ietf:params:acme:error:badNonce"
int problem_status(ProblemType type);       // 400, 403, 404, 429, 500, ...
std::optional<ProblemType> problem_type_from_urn(std::string_view urn);

// An Error carrying the problem document a server sends for it. Category kProtocol.
Error problem_error(ProblemType type, std::string detail);

// True when `error` carries a problem of this type.
bool has_problem(const Error& error, ProblemType type);

// Reads an application/problem+json body. Unknown members are ignored; a body that is not a
// problem document yields nullopt so the caller can quote the raw body instead.
std::optional<AcmeProblem> parse_problem(std::string_view body, int http_status);

nlohmann::json problem_to_json(const AcmeProblem& problem);

// What an operator can try when a CA answers with this problem; "" when nothing general helps.
std::string_view problem_hint(std::string_view urn);

}  // namespace certdock::acme
