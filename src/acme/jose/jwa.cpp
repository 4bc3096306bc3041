#include "acme/jose/jwa.hpp"

#include <array>
#include <string>
#include <utility>

#include "acme/jose/detail.hpp"
#include "crypto/digest.hpp"
#include "crypto/openssl_error.hpp"
#include "crypto/ossl_ptr.hpp"

namespace certdock::acme::jose {
namespace {

using crypto::Curve;
using crypto::DigestAlgorithm;
using crypto::KeySpec;
using crypto::KeyType;

struct AlgorithmInfo {
    Algorithm algorithm;
    std::string_view name;
};

constexpr std::array<AlgorithmInfo, 7> kAlgorithms = {{
    {Algorithm::kRs256, "RS256"},
    {Algorithm::kEs256, "ES256"},
    {Algorithm::kEs384, "ES384"},
    {Algorithm::kEdDsa, "EdDSA"},
    {Algorithm::kHs256, "HS256"},
    {Algorithm::kHs384, "HS384"},
    {Algorithm::kHs512, "HS512"},
}};

// The hash a signature or MAC algorithm uses; nullopt for EdDSA, which hashes internally.
std::optional<DigestAlgorithm> digest_of(Algorithm algorithm) {
    switch (algorithm) {
        case Algorithm::kRs256:
        case Algorithm::kEs256:
        case Algorithm::kHs256:
            return DigestAlgorithm::kSha256;
        case Algorithm::kEs384:
        case Algorithm::kHs384:
            return DigestAlgorithm::kSha384;
        case Algorithm::kHs512:
            return DigestAlgorithm::kSha512;
        case Algorithm::kEdDsa:
            return std::nullopt;
    }
    return std::nullopt;
}

std::string name_of(Algorithm algorithm) {
    return std::string(algorithm_name(algorithm));
}

constexpr std::size_t kEd25519SignatureSize = 64;

}  // namespace

std::string_view algorithm_name(Algorithm algorithm) {
    for (const auto& info : kAlgorithms) {
        if (info.algorithm == algorithm) return info.name;
    }
    return "unknown";
}

std::optional<Algorithm> parse_algorithm(std::string_view name) {
    for (const auto& info : kAlgorithms) {
        if (info.name == name) return info.algorithm;
    }
    return std::nullopt;
}

bool is_mac_algorithm(Algorithm algorithm) {
    return algorithm == Algorithm::kHs256 || algorithm == Algorithm::kHs384 ||
           algorithm == Algorithm::kHs512;
}

Algorithm signature_algorithm_for(const KeySpec& spec) {
    switch (spec.type) {
        case KeyType::kRsa:
            return Algorithm::kRs256;
        case KeyType::kEcdsa:
            return spec.curve == Curve::kP384 ? Algorithm::kEs384 : Algorithm::kEs256;
        case KeyType::kEd25519:
            return Algorithm::kEdDsa;
        case KeyType::kUnsupported:
            break;
    }
    return Algorithm::kEs256;
}

bool algorithm_matches_key(Algorithm algorithm, const KeySpec& spec) {
    if (is_mac_algorithm(algorithm)) return false;
    if (spec.type == KeyType::kUnsupported) return false;
    if (spec.type == KeyType::kEcdsa && spec.curve == Curve::kNone) return false;
    return signature_algorithm_for(spec) == algorithm;
}

std::size_t ecdsa_coordinate_size(Curve curve) {
    return static_cast<std::size_t>(crypto::curve_bits(curve) + 7) / 8;
}

Result<Bytes> ecdsa_der_to_jose(const Bytes& der, std::size_t coordinate_size) {
    const unsigned char* cursor = der.data();
    crypto::EcdsaSigPtr sig(d2i_ECDSA_SIG(nullptr, &cursor, static_cast<long>(der.size())));
    if (!sig || cursor != der.data() + der.size()) {
        return Unexpected(crypto::openssl_error("cannot decode a DER ECDSA signature"));
    }
    const BIGNUM* r = nullptr;
    const BIGNUM* s = nullptr;
    ECDSA_SIG_get0(sig.get(), &r, &s);
    Bytes raw(2 * coordinate_size);
    const int size = static_cast<int>(coordinate_size);
    if (BN_bn2binpad(r, raw.data(), size) != size ||
        BN_bn2binpad(s, raw.data() + coordinate_size, size) != size) {
        return fail(ErrorCategory::kCrypto, "ECDSA signature value does not fit in " +
                                                std::to_string(coordinate_size) + " bytes");
    }
    return raw;
}

Result<Bytes> ecdsa_jose_to_der(const Bytes& raw, std::size_t coordinate_size) {
    if (raw.size() != 2 * coordinate_size) {
        std::string message = "ECDSA signature must be " + std::to_string(2 * coordinate_size) +
                              " bytes (R||S, RFC 7518 §3.4), got " + std::to_string(raw.size());
        if (!raw.empty() && raw.front() == 0x30) message += "; DER encoding is not accepted";
        return Unexpected(detail::malformed(std::move(message)));
    }
    const int size = static_cast<int>(coordinate_size);
    crypto::BignumPtr r(BN_bin2bn(raw.data(), size, nullptr));
    crypto::BignumPtr s(BN_bin2bn(raw.data() + coordinate_size, size, nullptr));
    crypto::EcdsaSigPtr sig(ECDSA_SIG_new());
    if (!r || !s || !sig || ECDSA_SIG_set0(sig.get(), r.get(), s.get()) != 1) {
        return Unexpected(crypto::openssl_error("cannot build an ECDSA signature"));
    }
    // ECDSA_SIG_set0 took ownership of both numbers.
    static_cast<void>(r.release());
    static_cast<void>(s.release());
    unsigned char* der = nullptr;
    const int length = i2d_ECDSA_SIG(sig.get(), &der);
    if (length <= 0) return Unexpected(crypto::openssl_error("cannot encode an ECDSA signature"));
    crypto::OsslBytesPtr owned(der);
    return Bytes(der, der + length);
}

Result<Bytes> create_signature(const crypto::PrivateKey& key, std::string_view signing_input) {
    const Algorithm algorithm = signature_algorithm_for(key.spec());
    CERTDOCK_TRY(Bytes signature, crypto::sign(key, digest_of(algorithm), signing_input));
    if (key.spec().type != KeyType::kEcdsa) return signature;
    return ecdsa_der_to_jose(signature, ecdsa_coordinate_size(key.spec().curve));
}

Status check_signature(const crypto::PublicKey& key, Algorithm algorithm,
                       std::string_view signing_input, const Bytes& signature) {
    if (!algorithm_matches_key(algorithm, key.spec())) {
        std::string message = "JWS algorithm " + name_of(algorithm) + " cannot be used with an " +
                              key.describe() + " key";
        if (is_mac_algorithm(algorithm)) message += "; MAC algorithms are for EAB only";
        message += " (expected " + name_of(signature_algorithm_for(key.spec())) + ")";
        return detail::bad_signature_algorithm(std::move(message));
    }
    Bytes to_verify = signature;
    switch (key.spec().type) {
        case KeyType::kEcdsa: {
            CERTDOCK_TRY(to_verify,
                         ecdsa_jose_to_der(signature, ecdsa_coordinate_size(key.spec().curve)));
            break;
        }
        case KeyType::kEd25519:
            if (signature.size() != kEd25519SignatureSize) {
                return detail::malformed("EdDSA signature must be 64 bytes, got " +
                                         std::to_string(signature.size()));
            }
            break;
        case KeyType::kRsa: {
            // PKCS#1 v1.5 signatures are exactly as long as the modulus (RFC 8017 §8.2.2).
            const auto expected = static_cast<std::size_t>(EVP_PKEY_get_size(key.get()));
            if (signature.size() != expected) {
                return detail::malformed("RS256 signature must be " + std::to_string(expected) +
                                         " bytes for this key, got " +
                                         std::to_string(signature.size()));
            }
            break;
        }
        case KeyType::kUnsupported:  // refused by algorithm_matches_key above
            break;
    }
    CERTDOCK_TRY(bool valid, crypto::verify(key, digest_of(algorithm), signing_input, to_verify));
    if (!valid) return detail::malformed("JWS signature is invalid");
    return {};
}

Result<Bytes> create_mac(Algorithm algorithm, const Bytes& mac_key,
                         std::string_view signing_input) {
    if (!is_mac_algorithm(algorithm)) {
        return fail(ErrorCategory::kUsage, name_of(algorithm) + " is not a MAC algorithm");
    }
    if (mac_key.size() < kMinMacKeySize) {
        return fail(ErrorCategory::kUsage, "MAC key is " + std::to_string(mac_key.size()) +
                                               " bytes; at least " +
                                               std::to_string(kMinMacKeySize) + " are required");
    }
    return crypto::hmac(*digest_of(algorithm), mac_key, signing_input);
}

Status check_mac(Algorithm algorithm, const Bytes& mac_key, std::string_view signing_input,
                 const Bytes& mac) {
    if (!is_mac_algorithm(algorithm)) {
        return detail::bad_signature_algorithm(name_of(algorithm) +
                                               " is not a MAC algorithm (HS256, HS384, HS512)");
    }
    CERTDOCK_TRY(Bytes expected, create_mac(algorithm, mac_key, signing_input));
    if (!crypto::equal_constant_time(expected, mac)) {
        return detail::unauthorized("MAC does not verify");
    }
    return {};
}

}  // namespace certdock::acme::jose
