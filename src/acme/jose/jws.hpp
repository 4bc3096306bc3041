#pragma once

// JSON Web Signatures as ACME uses them (RFC 8555 §6.2): flattened JSON serialization only,
// one signature, everything in the protected header, never "none", never unencoded payloads.
//
// Signing is for the client side; parsing and verifying are for the gateway, whose errors
// carry the ACME problem to answer with (Error::problem()):
//   malformed              the body or header is not a well-formed ACME JWS, or the
//                          signature does not verify
//   badSignatureAlgorithm  "alg" is unsupported, "none", or does not fit the key
//   unauthorized           an HMAC does not verify (External Account Binding)
// Rules RFC 8555 puts on header contents ("jwk" xor "kid", "nonce", "url") are the gateway's
// to check against its state; this layer only decodes them.
//
// All functions are pure and safe to call from any thread.

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

#include "acme/jose/jwa.hpp"
#include "base/encoding.hpp"
#include "base/result.hpp"
#include "crypto/key.hpp"

namespace certdock::acme::jose {

// A JWS in flattened JSON serialization (RFC 7515 §7.2.2). Each part is base64url without
// padding, exactly as it travels.
struct FlattenedJws {
    std::string protected_header;  // base64url(UTF-8 JSON header)
    std::string payload;           // base64url(payload); "" for POST-as-GET
    std::string signature;         // base64url(signature or MAC)

    // ASCII(protected_header "." payload), the bytes signed (RFC 7515 §5.1).
    std::string signing_input() const;
    // {"protected": ..., "payload": ..., "signature": ...}
    nlohmann::json to_json() const;
    // to_json() as a compact string: the request body for application/jose+json.
    std::string serialize() const;

    bool operator==(const FlattenedJws&) const = default;
};

// Signs `payload` with an account key. `protected_header` must be a JSON object; its "alg" is
// set (or overwritten) to the key's algorithm (signature_algorithm_for). The payload is sent
// as given: pass "" for POST-as-GET, a dumped JSON object otherwise.
// Errors: kInternal if the header is not an object, kCrypto if OpenSSL fails.
Result<FlattenedJws> sign_jws(const crypto::PrivateKey& key, nlohmann::json protected_header,
                              std::string_view payload);

// Same with an HMAC algorithm and a raw MAC key, for External Account Binding.
// Errors: kInternal if the header is not an object, kUsage for a non-MAC algorithm or a MAC
// key shorter than kMinMacKeySize.
Result<FlattenedJws> sign_jws_mac(Algorithm algorithm, const Bytes& mac_key,
                                  nlohmann::json protected_header, std::string_view payload);

// A JWS that passed parse_jws: well formed, with a supported "alg". Not yet verified.
struct ParsedJws {
    FlattenedJws encoded;                     // as received; its signing_input() is what was signed
    nlohmann::json header;                    // the decoded protected header, a JSON object
    Algorithm algorithm = Algorithm::kEs256;  // header "alg", always set by parsing
    std::string payload;                      // decoded payload bytes; empty for POST-as-GET
    Bytes signature;                          // decoded signature bytes
};

// Parses a request body strictly. The body must be a JSON object with exactly the string
// members "protected", "payload" and "signature", each canonical unpadded base64url. Rejected
// with a message saying why: compact serialization, general serialization ("signatures"), an
// unprotected "header", duplicate member names, an empty protected header or signature, a
// protected header that is not a JSON object, "crit" or "b64" (RFC 8555 §6.2 rules out
// RFC 7797), and a missing, non-string, unknown or "none" "alg".
Result<ParsedJws> parse_jws(std::string_view body);
// The same for a JWS already parsed as JSON, e.g. the "externalAccountBinding" member of a
// newAccount payload. Duplicate member names in `value` itself can no longer be detected.
Result<ParsedJws> parse_jws_object(const nlohmann::json& value);

// Verifies the signature with an account key. "alg" must be the key's own algorithm (ES256
// needs P-256, ...); MAC algorithms are rejected (badSignatureAlgorithm).
Status verify_jws(const ParsedJws& jws, const crypto::PublicKey& key);

// Verifies an HMAC with a raw MAC key, in constant time. "alg" must be HS256/HS384/HS512
// (badSignatureAlgorithm); a wrong MAC is unauthorized.
Status verify_jws_mac(const ParsedJws& jws, const Bytes& mac_key);

}  // namespace certdock::acme::jose
