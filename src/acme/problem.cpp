#include "acme/problem.hpp"

#include <array>

namespace certdock::acme {
namespace {

struct ProblemInfo {
    ProblemType type;
    std::string_view name;
    int status;
};

// One row per type: the name after the URN prefix and the status a server uses for it
// (the statuses Boulder and Pebble answer with).
constexpr std::array<ProblemInfo, 26> kProblems = {{
    {ProblemType::kAccountDoesNotExist, "accountDoesNotExist", 400},
    {ProblemType::kAlreadyReplaced, "alreadyReplaced", 409},
    {ProblemType::kAlreadyRevoked, "alreadyRevoked", 400},
    {ProblemType::kBadCsr, "badCSR", 400},
    {ProblemType::kBadNonce, "badNonce", 400},
    {ProblemType::kBadPublicKey, "badPublicKey", 400},
    {ProblemType::kBadRevocationReason, "badRevocationReason", 400},
    {ProblemType::kBadSignatureAlgorithm, "badSignatureAlgorithm", 400},
    {ProblemType::kCaa, "caa", 403},
    {ProblemType::kCompound, "compound", 403},
    {ProblemType::kConnection, "connection", 400},
    {ProblemType::kDns, "dns", 400},
    {ProblemType::kExternalAccountRequired, "externalAccountRequired", 400},
    {ProblemType::kIncorrectResponse, "incorrectResponse", 403},
    {ProblemType::kInvalidContact, "invalidContact", 400},
    {ProblemType::kInvalidProfile, "invalidProfile", 400},
    {ProblemType::kMalformed, "malformed", 400},
    {ProblemType::kOrderNotReady, "orderNotReady", 403},
    {ProblemType::kRateLimited, "rateLimited", 429},
    {ProblemType::kRejectedIdentifier, "rejectedIdentifier", 400},
    {ProblemType::kServerInternal, "serverInternal", 500},
    {ProblemType::kTls, "tls", 400},
    {ProblemType::kUnauthorized, "unauthorized", 403},
    {ProblemType::kUnsupportedContact, "unsupportedContact", 400},
    {ProblemType::kUnsupportedIdentifier, "unsupportedIdentifier", 400},
    {ProblemType::kUserActionRequired, "userActionRequired", 403},
}};

constexpr bool rows_follow_the_enum() {
    for (size_t i = 0; i < kProblems.size(); ++i) {
        if (static_cast<size_t>(kProblems[i].type) != i) return false;
    }
    return true;
}
static_assert(rows_follow_the_enum(), "kProblems must list ProblemType in declaration order");

const ProblemInfo& info(ProblemType type) {
    return kProblems[static_cast<size_t>(type)];
}

std::optional<AcmeProblem> from_json(const nlohmann::json& body, int http_status) {
    if (!body.is_object() || !body.contains("type") || !body["type"].is_string()) {
        return std::nullopt;
    }
    AcmeProblem problem;
    problem.type = body["type"].get<std::string>();
    if (body.contains("detail") && body["detail"].is_string()) {
        problem.detail = body["detail"].get<std::string>();
    }
    problem.status = body.contains("status") && body["status"].is_number_integer()
                         ? body["status"].get<int>()
                         : http_status;
    if (body.contains("identifier") && body["identifier"].is_object()) {
        const auto& id = body["identifier"];
        problem.identifier = id.value("type", "") + ":" + id.value("value", "");
    }
    if (body.contains("algorithms") && body["algorithms"].is_array()) {
        for (const auto& alg : body["algorithms"]) {
            if (alg.is_string()) problem.algorithms.push_back(alg.get<std::string>());
        }
    }
    if (body.contains("subproblems") && body["subproblems"].is_array()) {
        for (const auto& sub : body["subproblems"]) {
            if (auto parsed = from_json(sub, http_status)) problem.subproblems.push_back(*parsed);
        }
    }
    return problem;
}

}  // namespace

std::string problem_urn(ProblemType type) {
    return std::string(kProblemUrnPrefix) + std::string(info(type).name);
}

int problem_status(ProblemType type) {
    return info(type).status;
}

std::optional<ProblemType> problem_type_from_urn(std::string_view urn) {
    if (!urn.starts_with(kProblemUrnPrefix)) return std::nullopt;
    urn.remove_prefix(kProblemUrnPrefix.size());
    for (const auto& row : kProblems) {
        if (row.name == urn) return row.type;
    }
    return std::nullopt;
}

Error problem_error(ProblemType type, std::string detail) {
    AcmeProblem problem{problem_urn(type), detail, problem_status(type), {}, {}, {}};
    return Error(ErrorCategory::kProtocol, std::move(detail)).with_problem(std::move(problem));
}

bool has_problem(const Error& error, ProblemType type) {
    return error.problem().has_value() && error.problem()->type == problem_urn(type);
}

std::optional<AcmeProblem> parse_problem(std::string_view body, int http_status) {
    auto json = nlohmann::json::parse(body, nullptr, false);
    if (json.is_discarded()) return std::nullopt;
    return from_json(json, http_status);
}

nlohmann::json problem_to_json(const AcmeProblem& problem) {
    nlohmann::json out = {{"type", problem.type}, {"detail", problem.detail}};
    if (problem.status != 0) out["status"] = problem.status;
    if (!problem.identifier.empty()) {
        auto colon = problem.identifier.find(':');
        out["identifier"] = {{"type", problem.identifier.substr(0, colon)},
                             {"value", problem.identifier.substr(colon + 1)}};
    }
    if (!problem.algorithms.empty()) out["algorithms"] = problem.algorithms;
    for (const auto& sub : problem.subproblems) out["subproblems"].push_back(problem_to_json(sub));
    return out;
}

std::string_view problem_hint(std::string_view urn) {
    auto type = problem_type_from_urn(urn);
    if (!type) return "";
    switch (*type) {
        case ProblemType::kBadNonce:
            return "the server kept rejecting nonces; check that no proxy strips Replay-Nonce";
        case ProblemType::kBadCsr:
            return "check that the CSR's names match the order and its key type is one the CA "
                   "accepts (or that it reuses the key the CA expects)";
        case ProblemType::kExternalAccountRequired:
            return "this CA requires External Account Binding: give the key id and MAC key "
                   "files it issued you";
        case ProblemType::kUserActionRequired:
            return "the CA needs you to accept its terms of service (--agree-tos) or visit "
                   "the URL it gave";
        case ProblemType::kRateLimited:
            return "wait until the time the CA gave before trying again";
        case ProblemType::kRejectedIdentifier:
        case ProblemType::kUnsupportedIdentifier:
            return "the CA will not issue for this name; check its policy and the spelling";
        case ProblemType::kConnection:
        case ProblemType::kIncorrectResponse:
            return "the CA could not fetch the right response: check that it reaches this "
                   "host on the challenge's port and nothing else answers there";
        case ProblemType::kDns:
            return "the CA could not resolve the name or the TXT record: check DNS and "
                   "its propagation to every authoritative server";
        case ProblemType::kCaa:
            return "a CAA record forbids this CA: add it to the domain's CAA records";
        case ProblemType::kAccountDoesNotExist:
            return "register an account first (certdock account register)";
        case ProblemType::kUnauthorized:
            return "the account is not allowed to do this: check the key, the account and "
                   "its bindings";
        case ProblemType::kOrderNotReady:
            return "an authorization of this order is not valid yet";
        case ProblemType::kAlreadyReplaced:
            return "this certificate was already renewed; order again without replaces";
        case ProblemType::kInvalidProfile:
            return "choose one of the profiles the CA's directory lists";
        default:
            return "";
    }
}

}  // namespace certdock::acme
