#pragma once

// Helpers shared by the jose .cpp files; not part of the public API.

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

#include "base/error.hpp"
#include "base/result.hpp"

namespace certdock::acme::jose::detail {

// Errors about JOSE input received from a peer. Each carries the RFC 8555 §6.7 problem the
// gateway answers with, so it never has to guess from a message.
Error malformed(std::string message);                // 400 malformed
Error bad_signature_algorithm(std::string message);  // 400 badSignatureAlgorithm
Error bad_public_key(std::string message);           // 400 badPublicKey
Error unauthorized(std::string message);             // 403 unauthorized

// Parses `text` as JSON, rejecting duplicate member names at any depth: RFC 7515 §4 allows
// either rejecting them or taking the last, and taking the last lets two parsers disagree
// about what was signed. `what` names the input in error messages ("JWS protected header").
Result<nlohmann::json> parse_json_strict(std::string_view text, std::string_view what);

// The member `name` of a JSON object as a string; malformed when missing or not a string.
Result<std::string> string_member(const nlohmann::json& object, std::string_view name,
                                  std::string_view what);

}  // namespace certdock::acme::jose::detail
