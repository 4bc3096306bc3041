#pragma once

#include <string_view>

#include "base/encoding.hpp"
#include "base/result.hpp"
#include "crypto/key.hpp"

namespace certdock::crypto {

enum class DigestAlgorithm { kSha256, kSha384, kSha512 };

std::string_view digest_name(DigestAlgorithm algorithm);  // "SHA256"
const EVP_MD* evp_md(DigestAlgorithm algorithm);
Bytes digest(DigestAlgorithm algorithm, const Bytes& data);
inline Bytes sha256(const Bytes& data) {
    return digest(DigestAlgorithm::kSha256, data);
}
Bytes sha256(std::string_view data);

Result<Bytes> hmac(DigestAlgorithm algorithm, const Bytes& key, std::string_view data);

// The digest a key signs with when nothing else is asked: SHA-256 for RSA and P-256,
// SHA-384 for P-384, none (intrinsic) for Ed25519.
std::optional<DigestAlgorithm> natural_digest(const KeySpec& spec);

// Signs `data` with the key. ECDSA signatures come back DER-encoded, as OpenSSL produces
// them; RSA uses PKCS#1 v1.5. `digest` is ignored for Ed25519.
Result<Bytes> sign(const PrivateKey& key, std::optional<DigestAlgorithm> digest,
                   std::string_view data);
Result<bool> verify(const PublicKey& key, std::optional<DigestAlgorithm> digest,
                    std::string_view data, const Bytes& signature);

// Constant-time comparison for MACs.
bool equal_constant_time(const Bytes& a, const Bytes& b);

}  // namespace certdock::crypto
