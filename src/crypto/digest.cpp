#include "crypto/digest.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>

#include <array>

#include "crypto/openssl_error.hpp"

namespace certdock::crypto {
namespace {

Bytes digest_raw(DigestAlgorithm algorithm, const void* data, size_t size) {
    std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
    unsigned int length = 0;
    if (EVP_Digest(data, size, out.data(), &length, evp_md(algorithm), nullptr) != 1) {
        detail::bad_result_access("EVP_Digest failed");
    }
    return Bytes(out.begin(), out.begin() + length);
}

}  // namespace

const EVP_MD* evp_md(DigestAlgorithm algorithm) {
    switch (algorithm) {
        case DigestAlgorithm::kSha256:
            return EVP_sha256();
        case DigestAlgorithm::kSha384:
            return EVP_sha384();
        case DigestAlgorithm::kSha512:
            return EVP_sha512();
    }
    return EVP_sha256();
}

std::string_view digest_name(DigestAlgorithm algorithm) {
    switch (algorithm) {
        case DigestAlgorithm::kSha256:
            return "SHA256";
        case DigestAlgorithm::kSha384:
            return "SHA384";
        case DigestAlgorithm::kSha512:
            return "SHA512";
    }
    return "SHA256";
}

Bytes digest(DigestAlgorithm algorithm, const Bytes& data) {
    return digest_raw(algorithm, data.data(), data.size());
}

Bytes sha256(std::string_view data) {
    return digest_raw(DigestAlgorithm::kSha256, data.data(), data.size());
}

Result<Bytes> hmac(DigestAlgorithm algorithm, const Bytes& key, std::string_view data) {
    if (key.empty()) return fail(ErrorCategory::kInput, "HMAC key is empty");
    MacPtr mac(EVP_MAC_fetch(nullptr, "HMAC", nullptr));
    if (!mac) return Unexpected(openssl_error("HMAC is not available"));
    MacCtxPtr ctx(EVP_MAC_CTX_new(mac.get()));
    std::string name(digest_name(algorithm));
    std::array<OSSL_PARAM, 2> params = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, name.data(), 0),
        OSSL_PARAM_construct_end()};
    std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
    size_t length = 0;
    if (!ctx || EVP_MAC_init(ctx.get(), key.data(), key.size(), params.data()) != 1 ||
        EVP_MAC_update(ctx.get(), reinterpret_cast<const unsigned char*>(data.data()),
                       data.size()) != 1 ||
        EVP_MAC_final(ctx.get(), out.data(), &length, out.size()) != 1) {
        return Unexpected(openssl_error("HMAC-" + name + " failed"));
    }
    return Bytes(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(length));
}

std::optional<DigestAlgorithm> natural_digest(const KeySpec& spec) {
    switch (spec.type) {
        case KeyType::kRsa:
            return DigestAlgorithm::kSha256;
        case KeyType::kEcdsa:
            return spec.curve == Curve::kP384 ? DigestAlgorithm::kSha384 : DigestAlgorithm::kSha256;
        case KeyType::kEd25519:
            return std::nullopt;
        case KeyType::kUnsupported:
            break;
    }
    return DigestAlgorithm::kSha256;
}

Result<Bytes> sign(const PrivateKey& key, std::optional<DigestAlgorithm> digest,
                   std::string_view data) {
    MdCtxPtr ctx(EVP_MD_CTX_new());
    // Ed25519 hashes internally and refuses a digest; every other type needs one.
    const EVP_MD* md = key.spec().type == KeyType::kEd25519
                           ? nullptr
                           : evp_md(digest.value_or(DigestAlgorithm::kSha256));
    if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, md, nullptr, key.get()) != 1) {
        return Unexpected(
            openssl_error("cannot start signing with the " + key.describe() + " key"));
    }
    size_t length = 0;
    const auto* input = reinterpret_cast<const unsigned char*>(data.data());
    if (EVP_DigestSign(ctx.get(), nullptr, &length, input, data.size()) != 1) {
        return Unexpected(openssl_error("cannot sign with the " + key.describe() + " key"));
    }
    Bytes signature(length);
    if (EVP_DigestSign(ctx.get(), signature.data(), &length, input, data.size()) != 1) {
        return Unexpected(openssl_error("cannot sign with the " + key.describe() + " key"));
    }
    signature.resize(length);
    return signature;
}

Result<bool> verify(const PublicKey& key, std::optional<DigestAlgorithm> digest,
                    std::string_view data, const Bytes& signature) {
    MdCtxPtr ctx(EVP_MD_CTX_new());
    const EVP_MD* md = key.spec().type == KeyType::kEd25519
                           ? nullptr
                           : evp_md(digest.value_or(DigestAlgorithm::kSha256));
    if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, md, nullptr, key.get()) != 1) {
        return Unexpected(
            openssl_error("cannot start verifying with the " + key.describe() + " key"));
    }
    int rc = EVP_DigestVerify(ctx.get(), signature.data(), signature.size(),
                              reinterpret_cast<const unsigned char*>(data.data()), data.size());
    // 0 is a clean "does not verify"; negative values are malformed signatures, also a no.
    drain_openssl_errors();
    return rc == 1;
}

bool equal_constant_time(const Bytes& a, const Bytes& b) {
    return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace certdock::crypto
