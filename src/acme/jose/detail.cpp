#include "acme/jose/detail.hpp"

#include "acme/problem.hpp"

#include <set>
#include <utility>
#include <vector>

namespace certdock::acme::jose::detail {
namespace {

// JOSE objects are shallow (a header holds a JWK, nothing deeper); a limit keeps hostile
// nesting from costing anything.
constexpr int kMaxJsonDepth = 16;

}  // namespace

Error malformed(std::string message) {
    return problem_error(ProblemType::kMalformed, std::move(message));
}

Error bad_signature_algorithm(std::string message) {
    return problem_error(ProblemType::kBadSignatureAlgorithm, std::move(message));
}

Error bad_public_key(std::string message) {
    return problem_error(ProblemType::kBadPublicKey, std::move(message));
}

Error unauthorized(std::string message) {
    return problem_error(ProblemType::kUnauthorized, std::move(message));
}

Result<nlohmann::json> parse_json_strict(std::string_view text, std::string_view what) {
    using nlohmann::json;
    std::vector<std::set<std::string>> seen;  // member names per open object
    std::string duplicate;
    bool too_deep = false;
    auto callback = [&](int depth, json::parse_event_t event, json& parsed) {
        if (depth > kMaxJsonDepth) too_deep = true;
        switch (event) {
            case json::parse_event_t::object_start:
                seen.emplace_back();
                break;
            case json::parse_event_t::object_end:
                seen.pop_back();
                break;
            case json::parse_event_t::key:
                if (!seen.empty() && !seen.back().insert(parsed.get<std::string>()).second &&
                    duplicate.empty()) {
                    duplicate = parsed.get<std::string>();
                }
                break;
            default:
                break;
        }
        return true;
    };
    json value;
    try {
        value = json::parse(text.begin(), text.end(), callback);
    } catch (const json::exception& e) {
        return Unexpected(malformed(std::string(what) + " is not valid JSON")
                              .caused_by(Error(ErrorCategory::kProtocol, e.what())));
    }
    if (too_deep) {
        return Unexpected(malformed(std::string(what) + " nests deeper than " +
                                    std::to_string(kMaxJsonDepth) + " levels"));
    }
    if (!duplicate.empty()) {
        return Unexpected(
            malformed(std::string(what) + " has a duplicate member \"" + duplicate + "\""));
    }
    return value;
}

Result<std::string> string_member(const nlohmann::json& object, std::string_view name,
                                  std::string_view what) {
    auto it = object.find(name);
    if (it == object.end()) {
        return Unexpected(
            malformed(std::string(what) + " is missing \"" + std::string(name) + "\""));
    }
    if (!it->is_string()) {
        return Unexpected(
            malformed(std::string(what) + " member \"" + std::string(name) + "\" is not a string"));
    }
    return it->get<std::string>();
}

}  // namespace certdock::acme::jose::detail
