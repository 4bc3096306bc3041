#pragma once

// JSON Web Keys for account public keys (RFC 7517, RFC 7518 §6, RFC 8037 §2), their RFC 7638
// thumbprint, and the two values ACME derives from it (RFC 8555 §8.1, §8.4).
//
// All functions are pure and safe to call from any thread.

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

#include "base/result.hpp"
#include "crypto/key.hpp"

namespace certdock::acme::jose {

// The public JWK with only the members RFC 7638 §3.2 requires:
//   RSA      {"e", "kty":"RSA", "n"}         n and e in the fewest octets
//   P-256/384 {"crv", "kty":"EC", "x", "y"}  x and y left-padded to the field size
//   Ed25519  {"crv":"Ed25519", "kty":"OKP", "x"}
// nlohmann::json keeps members sorted, so dump() of this value is the RFC 7638 canonical form.
// Every key PublicKey can hold is representable; an OpenSSL failure here aborts.
nlohmann::json public_jwk(const crypto::PublicKey& key);

// Reads a public JWK as found in a JWS "jwk" header, strictly. Errors carry an ACME problem:
//   malformed     not an object; "kty"/"crv"/"n"/"e"/"x"/"y" missing, not strings or not
//                 base64url; coordinates or "x" of the wrong length; "n"/"e" with leading
//                 zero octets; private members ("d", "p", "q", "dp", "dq", "qi", "oth", "k");
//                 a "y" on an OKP key
//   badPublicKey  unsupported "kty" or "crv"; RSA outside 2048..8192 bits, with an even
//                 exponent or one outside (2^16, 2^256); an EC point not on the curve; any
//                 key OpenSSL's public key check refuses (an even RSA modulus, ...)
// Members JWK allows but ACME does not need ("kid", "use", "alg", ...) are ignored.
Result<crypto::PublicKey> public_key_from_jwk(const nlohmann::json& jwk);

// RFC 7638 thumbprint: base64url(SHA-256(canonical public JWK)).
std::string jwk_thumbprint(const crypto::PublicKey& key);

// RFC 8555 §8.1: token "." thumbprint. Both parts are used as given.
std::string key_authorization(std::string_view token, std::string_view thumbprint);

// RFC 8555 §8.4: the TXT record value for dns-01, base64url(SHA-256(key authorization)).
std::string dns01_txt_value(std::string_view key_authorization);

}  // namespace certdock::acme::jose
