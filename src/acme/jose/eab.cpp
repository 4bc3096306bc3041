#include "acme/jose/eab.hpp"

#include <utility>

#include "acme/jose/detail.hpp"
#include "acme/jose/jwk.hpp"

namespace certdock::acme::jose {

namespace {
constexpr std::string_view kWhat = "externalAccountBinding protected header";
}  // namespace

Result<FlattenedJws> sign_external_account_binding(const crypto::PublicKey& account_key,
                                                   std::string_view key_id,
                                                   std::string_view new_account_url,
                                                   const Bytes& mac_key, Algorithm algorithm) {
    if (key_id.empty()) return fail(ErrorCategory::kUsage, "EAB key identifier is empty");
    if (new_account_url.empty()) return fail(ErrorCategory::kUsage, "newAccount URL is empty");
    nlohmann::json header = {{"kid", std::string(key_id)}, {"url", std::string(new_account_url)}};
    return sign_jws_mac(algorithm, mac_key, std::move(header), public_jwk(account_key).dump());
}

Result<ExternalAccountBinding> parse_external_account_binding(const nlohmann::json& value,
                                                              std::string_view new_account_url) {
    CERTDOCK_TRY(ParsedJws jws, parse_jws_object(value));
    if (!is_mac_algorithm(jws.algorithm)) {
        return Unexpected(detail::bad_signature_algorithm(
            "externalAccountBinding must use HS256, HS384 or HS512, not " +
            std::string(algorithm_name(jws.algorithm))));
    }
    if (jws.header.contains("nonce")) {
        return Unexpected(detail::malformed(std::string(kWhat) + " must not have a \"nonce\""));
    }
    CERTDOCK_TRY(std::string key_id, detail::string_member(jws.header, "kid", kWhat));
    if (key_id.empty()) {
        return Unexpected(detail::malformed(std::string(kWhat) + " has an empty \"kid\""));
    }
    CERTDOCK_TRY(std::string url, detail::string_member(jws.header, "url", kWhat));
    if (url != new_account_url) {
        return Unexpected(detail::malformed(std::string(kWhat) +
                                            " \"url\" differs from the newAccount request URL"));
    }
    return ExternalAccountBinding{std::move(jws), std::move(key_id)};
}

Status verify_external_account_binding(const ExternalAccountBinding& binding, const Bytes& mac_key,
                                       const crypto::PublicKey& account_key) {
    // The MAC first: until it verifies, nothing in the payload is worth reading.
    CERTDOCK_TRY_STATUS(verify_jws_mac(binding.jws, mac_key));
    CERTDOCK_TRY(nlohmann::json jwk,
                 detail::parse_json_strict(binding.jws.payload, "externalAccountBinding payload"));
    CERTDOCK_TRY(crypto::PublicKey bound_key, public_key_from_jwk(jwk));
    if (!bound_key.same_key(account_key)) {
        return detail::unauthorized(
            "externalAccountBinding is for a different key than the one signing the request");
    }
    return {};
}

}  // namespace certdock::acme::jose
