#pragma once

// JSON Web Algorithms (RFC 7518, RFC 8037 for EdDSA): the "alg" values certdock speaks and
// the raw signature operations behind them. Signatures here are in JWS form: ECDSA is the
// fixed-width R||S of RFC 7518 §3.4, never DER.
//
// All functions are pure and safe to call from any thread.

#include <cstddef>
#include <optional>
#include <string_view>

#include "base/encoding.hpp"
#include "base/result.hpp"
#include "crypto/key.hpp"
#include "crypto/key_spec.hpp"

namespace certdock::acme::jose {

enum class Algorithm {
    kRs256,  // RSASSA-PKCS1-v1_5 with SHA-256
    kEs256,  // ECDSA P-256 with SHA-256
    kEs384,  // ECDSA P-384 with SHA-384
    kEdDsa,  // Ed25519 (RFC 8037)
    kHs256,  // HMAC with SHA-256: External Account Binding only
    kHs384,
    kHs512,
};

// The registered name, e.g. "ES256".
std::string_view algorithm_name(Algorithm algorithm);

// Exact, case-sensitive match on the registered name (RFC 7515 §4.1.1). "none" and any
// algorithm certdock does not implement give nullopt.
std::optional<Algorithm> parse_algorithm(std::string_view name);

// HS256/HS384/HS512: shared-secret MACs, which RFC 8555 allows only for the External Account
// Binding, never for a request signed with an account key.
bool is_mac_algorithm(Algorithm algorithm);

// The one algorithm a key of this kind signs with: RSA -> RS256, P-256 -> ES256,
// P-384 -> ES384, Ed25519 -> EdDSA.
Algorithm signature_algorithm_for(const crypto::KeySpec& spec);

// True when `algorithm` is what a key of this kind signs with (ES256 needs P-256, ...).
// Always false for MAC algorithms.
bool algorithm_matches_key(Algorithm algorithm, const crypto::KeySpec& spec);

// Bytes of each half of an ECDSA JWS signature: the curve's field size (32 for P-256,
// 48 for P-384).
std::size_t ecdsa_coordinate_size(crypto::Curve curve);

// DER ECDSA-Sig-Value (what OpenSSL produces) -> R||S, each half left-padded to
// `coordinate_size` bytes. Fails on trailing bytes or a value that does not fit.
Result<Bytes> ecdsa_der_to_jose(const Bytes& der, std::size_t coordinate_size);

// R||S -> DER. The length must be exactly 2 * coordinate_size; anything else is reported as a
// malformed signature (a client sending DER instead of R||S gets told so).
Result<Bytes> ecdsa_jose_to_der(const Bytes& raw, std::size_t coordinate_size);

// Signs `signing_input` with the key's own algorithm (signature_algorithm_for).
// Errors are OpenSSL failures (category kCrypto).
Result<Bytes> create_signature(const crypto::PrivateKey& key, std::string_view signing_input);

// Checks a JWS-form signature made with `algorithm` by `key`.
// Errors carry an ACME problem: badSignatureAlgorithm when `algorithm` does not fit the key
// (including any MAC algorithm), malformed when the signature has the wrong length or does
// not verify. OpenSSL failures come back without a problem (category kCrypto).
Status check_signature(const crypto::PublicKey& key, Algorithm algorithm,
                       std::string_view signing_input, const Bytes& signature);

// Shortest MAC key accepted. RFC 7518 §3.2 asks for keys as long as the hash output, but the
// CA chooses EAB keys, not us; 128 bits still rules out the empty and the toy key.
inline constexpr std::size_t kMinMacKeySize = 16;

// HMAC over `signing_input`. Fails (kUsage) for a non-MAC algorithm or a key shorter than
// kMinMacKeySize.
Result<Bytes> create_mac(Algorithm algorithm, const Bytes& mac_key, std::string_view signing_input);

// Recomputes the HMAC and compares in constant time. Errors carry an ACME problem:
// badSignatureAlgorithm for a non-MAC algorithm, unauthorized when the MAC does not match
// (a MAC only ever guards an External Account Binding, so a mismatch means "not entitled").
// A MAC key that is too short is the server's configuration error (kUsage, no problem).
Status check_mac(Algorithm algorithm, const Bytes& mac_key, std::string_view signing_input,
                 const Bytes& mac);

}  // namespace certdock::acme::jose
