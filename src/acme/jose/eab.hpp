#pragma once

// External Account Binding (RFC 8555 §7.3.4): a JWS, MAC'd with a key the CA handed out
// beforehand, whose payload is the new account's public JWK. It proves the holder of the CA's
// MAC key asked for this account key to be registered.
//
// All functions are pure and safe to call from any thread.

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

#include "acme/jose/jwa.hpp"
#include "acme/jose/jws.hpp"
#include "base/encoding.hpp"
#include "base/result.hpp"
#include "crypto/key.hpp"

namespace certdock::acme::jose {

// Client side: the value of the newAccount payload's "externalAccountBinding" member, a JWS
// with protected header {"alg", "kid": key_id, "url": new_account_url} over
// public_jwk(account_key). `mac_key` is the raw key: callers decode the base64url text the CA
// gave them. Errors (kUsage): empty key_id or URL, a non-MAC algorithm, a MAC key shorter
// than kMinMacKeySize.
Result<FlattenedJws> sign_external_account_binding(const crypto::PublicKey& account_key,
                                                   std::string_view key_id,
                                                   std::string_view new_account_url,
                                                   const Bytes& mac_key,
                                                   Algorithm algorithm = Algorithm::kHs256);

// Server side, after parse_external_account_binding: a well-formed binding whose MAC is not
// yet checked.
struct ExternalAccountBinding {
    ParsedJws jws;
    std::string key_id;  // header "kid": which MAC key the gateway must look up
};

// Server side, step 1: checks everything that needs no MAC key. `value` is the
// "externalAccountBinding" member; `new_account_url` is the "url" of the outer JWS, which
// the binding must repeat. Errors carry an ACME problem: whatever parse_jws_object reports,
// badSignatureAlgorithm for a non-HMAC "alg", malformed for a "nonce" (forbidden), a missing
// or empty "kid", or a "url" that differs.
Result<ExternalAccountBinding> parse_external_account_binding(const nlohmann::json& value,
                                                              std::string_view new_account_url);

// Server side, step 2, once the gateway has found the MAC key for binding.key_id: checks the
// MAC in constant time, then that the payload is the JWK of `account_key` (the key that signed
// the outer JWS). Errors carry an ACME problem: unauthorized for a wrong MAC or a payload
// naming another key, malformed (or badPublicKey) for a payload that is no usable JWK.
Status verify_external_account_binding(const ExternalAccountBinding& binding, const Bytes& mac_key,
                                       const crypto::PublicKey& account_key);

}  // namespace certdock::acme::jose
