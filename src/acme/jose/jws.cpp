#include "acme/jose/jws.hpp"

#include <algorithm>
#include <array>
#include <utility>

#include "acme/jose/detail.hpp"

namespace certdock::acme::jose {
namespace {

using nlohmann::json;

constexpr std::string_view kWhat = "JWS";
constexpr std::array<std::string_view, 3> kMembers = {"protected", "payload", "signature"};

// Three base64url segments joined by dots: someone sent the compact serialization.
bool looks_compact(std::string_view body) {
    if (std::count(body.begin(), body.end(), '.') != 2) return false;
    return std::all_of(body.begin(), body.end(), [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
               c == '-' || c == '_' || c == '.' || c == '=';
    });
}

Result<Bytes> decode_member(const json& value, std::string_view name, std::string& encoded) {
    CERTDOCK_TRY(encoded, detail::string_member(value, name, kWhat));
    auto bytes = base64url_decode(encoded);
    if (!bytes) {
        return Unexpected(
            detail::malformed("JWS \"" + std::string(name) + "\" is not unpadded base64url")
                .caused_by(std::move(bytes).error()));
    }
    return std::move(bytes).value();
}

Status check_shape(const json& value) {
    if (!value.is_object()) return detail::malformed("JWS is not a JSON object");
    if (value.contains("signatures")) {
        return detail::malformed(
            "JWS general serialization (\"signatures\") is not accepted: send one signature "
            "in the flattened JSON serialization (RFC 8555 §6.2)");
    }
    if (value.contains("header")) {
        return detail::malformed(
            "JWS unprotected \"header\" is not accepted: every header parameter belongs in "
            "\"protected\" (RFC 8555 §6.2)");
    }
    for (const auto& [name, member] : value.items()) {
        if (std::find(kMembers.begin(), kMembers.end(), name) == kMembers.end()) {
            return detail::malformed("JWS has an unexpected member \"" + name.substr(0, 40) + "\"");
        }
    }
    return {};
}

Result<Algorithm> header_algorithm(const json& header) {
    auto it = header.find("alg");
    if (it == header.end()) {
        return Unexpected(detail::malformed("JWS protected header has no \"alg\""));
    }
    if (!it->is_string()) {
        return Unexpected(detail::malformed("JWS protected header \"alg\" is not a string"));
    }
    const auto& name = it->get_ref<const std::string&>();
    if (auto algorithm = parse_algorithm(name)) return *algorithm;
    if (name == "none") {
        return Unexpected(detail::bad_signature_algorithm(R"(JWS "alg" "none" is not allowed)"));
    }
    return Unexpected(
        detail::bad_signature_algorithm(R"(unsupported JWS "alg" ")" + name.substr(0, 40) +
                                        "\" (supported: RS256, ES256, ES384, EdDSA)"));
}

Result<FlattenedJws> encode_unsigned(json& protected_header, Algorithm algorithm,
                                     std::string_view payload) {
    if (!protected_header.is_object()) {
        return fail(ErrorCategory::kInternal, "JWS protected header must be a JSON object");
    }
    protected_header["alg"] = std::string(algorithm_name(algorithm));
    return FlattenedJws{base64url_encode(protected_header.dump()), base64url_encode(payload), {}};
}

}  // namespace

std::string FlattenedJws::signing_input() const {
    return protected_header + "." + payload;
}

json FlattenedJws::to_json() const {
    return json{{"protected", protected_header}, {"payload", payload}, {"signature", signature}};
}

std::string FlattenedJws::serialize() const {
    return to_json().dump();
}

Result<FlattenedJws> sign_jws(const crypto::PrivateKey& key, json protected_header,
                              std::string_view payload) {
    CERTDOCK_TRY(FlattenedJws jws,
                 encode_unsigned(protected_header, signature_algorithm_for(key.spec()), payload));
    CERTDOCK_TRY(Bytes signature, create_signature(key, jws.signing_input()));
    jws.signature = base64url_encode(signature);
    return jws;
}

Result<FlattenedJws> sign_jws_mac(Algorithm algorithm, const Bytes& mac_key, json protected_header,
                                  std::string_view payload) {
    CERTDOCK_TRY(FlattenedJws jws, encode_unsigned(protected_header, algorithm, payload));
    CERTDOCK_TRY(Bytes mac, create_mac(algorithm, mac_key, jws.signing_input()));
    jws.signature = base64url_encode(mac);
    return jws;
}

Result<ParsedJws> parse_jws(std::string_view body) {
    if (looks_compact(body)) {
        return Unexpected(detail::malformed(
            "JWS compact serialization is not accepted: ACME requires the flattened JSON "
            "serialization (RFC 8555 §6.2)"));
    }
    CERTDOCK_TRY(json value, detail::parse_json_strict(body, "JWS body"));
    return parse_jws_object(value);
}

Result<ParsedJws> parse_jws_object(const json& value) {
    CERTDOCK_TRY_STATUS(check_shape(value));
    ParsedJws jws;
    CERTDOCK_TRY(Bytes header_bytes,
                 decode_member(value, "protected", jws.encoded.protected_header));
    CERTDOCK_TRY(Bytes payload, decode_member(value, "payload", jws.encoded.payload));
    CERTDOCK_TRY(jws.signature, decode_member(value, "signature", jws.encoded.signature));
    if (header_bytes.empty()) return Unexpected(detail::malformed("JWS protected header is empty"));
    if (jws.signature.empty()) return Unexpected(detail::malformed("JWS signature is empty"));

    CERTDOCK_TRY(jws.header,
                 detail::parse_json_strict(to_string(header_bytes), "JWS protected header"));
    if (!jws.header.is_object()) {
        return Unexpected(detail::malformed("JWS protected header is not a JSON object"));
    }
    // RFC 7515 §4.1.11: "crit" names extensions the recipient must understand; ACME defines
    // none, so any "crit" is one we cannot honour.
    if (jws.header.contains("crit")) {
        return Unexpected(detail::malformed("JWS \"crit\" header parameter is not supported"));
    }
    if (jws.header.contains("b64")) {
        return Unexpected(detail::malformed(
            "JWS \"b64\" header parameter is not allowed: payloads are always base64url "
            "(RFC 8555 §6.2)"));
    }
    CERTDOCK_TRY(jws.algorithm, header_algorithm(jws.header));
    jws.payload = to_string(payload);
    return jws;
}

Status verify_jws(const ParsedJws& jws, const crypto::PublicKey& key) {
    return check_signature(key, jws.algorithm, jws.encoded.signing_input(), jws.signature);
}

Status verify_jws_mac(const ParsedJws& jws, const Bytes& mac_key) {
    return check_mac(jws.algorithm, mac_key, jws.encoded.signing_input(), jws.signature);
}

}  // namespace certdock::acme::jose
