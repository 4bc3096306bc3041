#include "acme/jose/jwk.hpp"

#include <openssl/core_names.h>

#include <array>
#include <utility>

#include "acme/jose/detail.hpp"
#include "acme/jose/jwa.hpp"
#include "base/encoding.hpp"
#include "crypto/digest.hpp"
#include "crypto/openssl_error.hpp"
#include "crypto/ossl_ptr.hpp"

namespace certdock::acme::jose {
namespace {

using crypto::Curve;
using crypto::KeyType;
using crypto::PublicKey;
using nlohmann::json;

// Same bounds PrivateKey::generate accepts; smaller is weak, larger only costs the server.
constexpr int kMinRsaBits = 2048;
constexpr int kMaxRsaBits = 8192;
constexpr int kMinRsaExponentBits = 16;   // e > 2^16
constexpr int kMaxRsaExponentBits = 256;  // e < 2^256
// RFC 7518 §6.3.2 and §6.2.2 name these as private key members; a JWK in a JWS header that
// carries one leaks the key, and accepting it would hide that from the client's author.
constexpr std::array<std::string_view, 8> kPrivateMembers = {"d",  "p",  "q",   "dp",
                                                             "dq", "qi", "oth", "k"};
constexpr std::size_t kEd25519KeySize = 32;
constexpr std::string_view kWhat = "JWK";

// Peer-supplied text in a message: quoted and cut short so a hostile value stays harmless.
std::string shown(std::string_view text) {
    constexpr std::size_t kMax = 40;
    if (text.size() > kMax) return "\"" + std::string(text.substr(0, kMax)) + "...\"";
    return "\"" + std::string(text) + "\"";
}

[[noreturn]] void broken_invariant(const std::string& what) {
    certdock::detail::bad_result_access((what + ": " + crypto::drain_openssl_errors()).c_str());
}

Bytes bignum_bytes(const BIGNUM* bn) {
    Bytes out(static_cast<std::size_t>(BN_num_bytes(bn)));
    BN_bn2bin(bn, out.data());
    return out;
}

crypto::BignumPtr bignum_param(const PublicKey& key, const char* name) {
    BIGNUM* raw = nullptr;
    if (EVP_PKEY_get_bn_param(key.get(), name, &raw) != 1) {
        broken_invariant(std::string("cannot read ") + name + " of a " + key.describe() + " key");
    }
    return crypto::BignumPtr(raw);
}

Bytes padded(const BIGNUM* bn, std::size_t size) {
    Bytes out(size);
    if (BN_bn2binpad(bn, out.data(), static_cast<int>(size)) < 0) {
        broken_invariant("EC coordinate larger than its field");
    }
    return out;
}

// badPublicKey carrying what OpenSSL said, for keys OpenSSL refuses.
Error rejected_key(std::string message) {
    Error error = detail::bad_public_key(std::move(message));
    std::string reason = crypto::drain_openssl_errors();
    if (reason.empty()) return error;
    return std::move(error).caused_by(Error(ErrorCategory::kCrypto, "OpenSSL: " + reason));
}

Result<Bytes> bytes_member(const json& jwk, std::string_view name) {
    CERTDOCK_TRY(std::string text, detail::string_member(jwk, name, kWhat));
    auto bytes = base64url_decode(text);
    if (!bytes) {
        return Unexpected(
            detail::malformed("JWK member \"" + std::string(name) + "\" is not base64url")
                .caused_by(std::move(bytes).error()));
    }
    return std::move(bytes).value();
}

// A JWK integer (RFC 7518 §6.3.1.1): big-endian in the fewest octets, so never empty and
// never starting with zero; otherwise one key would have several thumbprints.
Result<Bytes> integer_member(const json& jwk, std::string_view name) {
    CERTDOCK_TRY(Bytes bytes, bytes_member(jwk, name));
    if (bytes.empty() || bytes.front() == 0) {
        return Unexpected(detail::malformed("JWK member \"" + std::string(name) +
                                            "\" must be a non-zero integer without leading "
                                            "zero octets"));
    }
    return bytes;
}

Result<Bytes> sized_member(const json& jwk, std::string_view name, std::size_t size,
                           std::string_view curve) {
    CERTDOCK_TRY(Bytes bytes, bytes_member(jwk, name));
    if (bytes.size() != size) {
        return Unexpected(detail::malformed(
            "JWK member \"" + std::string(name) + "\" must be " + std::to_string(size) +
            " bytes for " + std::string(curve) + ", got " + std::to_string(bytes.size())));
    }
    return bytes;
}

// Imports public key parameters and runs OpenSSL's public key validation, which checks an EC
// point is on the curve and of the right order, and an RSA modulus and exponent are sane.
Result<PublicKey> import_public_key(const char* type, OSSL_PARAM_BLD* builder,
                                    std::string_view what) {
    crypto::ParamPtr params(OSSL_PARAM_BLD_to_param(builder));
    crypto::PKeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
    if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1) {
        return Unexpected(
            crypto::openssl_error("cannot prepare a " + std::string(type) + " key import"));
    }
    EVP_PKEY* raw = nullptr;
    if (EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
        return Unexpected(rejected_key("JWK is not a valid " + std::string(what) + " key"));
    }
    crypto::PKeyPtr key(raw);
    crypto::PKeyCtxPtr check(EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr));
    if (!check || EVP_PKEY_public_check(check.get()) != 1) {
        return Unexpected(rejected_key("JWK is not a valid " + std::string(what) + " key"));
    }
    auto spec = crypto::spec_of(key.get());
    if (!spec) {
        return Unexpected(
            detail::bad_public_key("unsupported JWK key").caused_by(std::move(spec).error()));
    }
    return PublicKey(std::move(key));
}

Result<PublicKey> rsa_from_jwk(const json& jwk) {
    CERTDOCK_TRY(Bytes n, integer_member(jwk, "n"));
    CERTDOCK_TRY(Bytes e, integer_member(jwk, "e"));
    crypto::BignumPtr bn_n(BN_bin2bn(n.data(), static_cast<int>(n.size()), nullptr));
    crypto::BignumPtr bn_e(BN_bin2bn(e.data(), static_cast<int>(e.size()), nullptr));
    if (!bn_n || !bn_e) return Unexpected(crypto::openssl_error("cannot read RSA JWK"));
    const int bits = BN_num_bits(bn_n.get());
    if (bits < kMinRsaBits || bits > kMaxRsaBits) {
        return Unexpected(detail::bad_public_key("RSA JWK has " + std::to_string(bits) + " bits; " +
                                                 std::to_string(kMinRsaBits) + " to " +
                                                 std::to_string(kMaxRsaBits) + " are accepted"));
    }
    // FIPS 186-5 §A.1.1 bounds; OpenSSL outside FIPS mode would take e = 3.
    const int e_bits = BN_num_bits(bn_e.get());
    if (!BN_is_odd(bn_e.get()) || e_bits <= kMinRsaExponentBits || e_bits > kMaxRsaExponentBits) {
        return Unexpected(
            detail::bad_public_key("RSA JWK exponent must be odd and between 2^16 and 2^256"));
    }
    crypto::ParamBldPtr builder(OSSL_PARAM_BLD_new());
    if (!builder || OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()) != 1 ||
        OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get()) != 1) {
        return Unexpected(crypto::openssl_error("cannot build RSA key parameters"));
    }
    return import_public_key("RSA", builder.get(), "RSA");
}

Result<PublicKey> ec_from_jwk(const json& jwk) {
    CERTDOCK_TRY(std::string crv, detail::string_member(jwk, "crv", kWhat));
    Curve curve = Curve::kNone;
    if (crv == "P-256") curve = Curve::kP256;
    if (crv == "P-384") curve = Curve::kP384;
    if (curve == Curve::kNone) {
        return Unexpected(detail::bad_public_key("unsupported EC curve " + shown(crv) +
                                                 " (supported: P-256, P-384)"));
    }
    const std::size_t size = ecdsa_coordinate_size(curve);
    CERTDOCK_TRY(Bytes x, sized_member(jwk, "x", size, crv));
    CERTDOCK_TRY(Bytes y, sized_member(jwk, "y", size, crv));
    // SEC 1 §2.3.3 uncompressed point: 0x04 || x || y.
    Bytes point;
    point.reserve(1 + 2 * size);
    point.push_back(0x04);
    point.insert(point.end(), x.begin(), x.end());
    point.insert(point.end(), y.begin(), y.end());
    crypto::ParamBldPtr builder(OSSL_PARAM_BLD_new());
    if (!builder ||
        OSSL_PARAM_BLD_push_utf8_string(builder.get(), OSSL_PKEY_PARAM_GROUP_NAME, crv.c_str(),
                                        0) != 1 ||
        OSSL_PARAM_BLD_push_octet_string(builder.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                         point.size()) != 1) {
        return Unexpected(crypto::openssl_error("cannot build EC key parameters"));
    }
    return import_public_key("EC", builder.get(), "EC " + crv);
}

Result<PublicKey> okp_from_jwk(const json& jwk) {
    CERTDOCK_TRY(std::string crv, detail::string_member(jwk, "crv", kWhat));
    if (crv != "Ed25519") {
        return Unexpected(detail::bad_public_key("unsupported OKP curve " + shown(crv) +
                                                 " (supported: Ed25519)"));
    }
    if (jwk.contains("y")) return Unexpected(detail::malformed("OKP JWK must not have \"y\""));
    CERTDOCK_TRY(Bytes x, sized_member(jwk, "x", kEd25519KeySize, crv));
    crypto::ParamBldPtr builder(OSSL_PARAM_BLD_new());
    if (!builder || OSSL_PARAM_BLD_push_octet_string(builder.get(), OSSL_PKEY_PARAM_PUB_KEY,
                                                     x.data(), x.size()) != 1) {
        return Unexpected(crypto::openssl_error("cannot build Ed25519 key parameters"));
    }
    return import_public_key("ED25519", builder.get(), "Ed25519");
}

}  // namespace

json public_jwk(const PublicKey& key) {
    switch (key.spec().type) {
        case KeyType::kRsa: {
            auto n = bignum_param(key, OSSL_PKEY_PARAM_RSA_N);
            auto e = bignum_param(key, OSSL_PKEY_PARAM_RSA_E);
            return json{{"e", base64url_encode(bignum_bytes(e.get()))},
                        {"kty", "RSA"},
                        {"n", base64url_encode(bignum_bytes(n.get()))}};
        }
        case KeyType::kEcdsa: {
            const std::size_t size = ecdsa_coordinate_size(key.spec().curve);
            auto x = bignum_param(key, OSSL_PKEY_PARAM_EC_PUB_X);
            auto y = bignum_param(key, OSSL_PKEY_PARAM_EC_PUB_Y);
            return json{{"crv", std::string(crypto::curve_name(key.spec().curve))},
                        {"kty", "EC"},
                        {"x", base64url_encode(padded(x.get(), size))},
                        {"y", base64url_encode(padded(y.get(), size))}};
        }
        case KeyType::kEd25519: {
            Bytes x(kEd25519KeySize);
            std::size_t length = x.size();
            if (EVP_PKEY_get_raw_public_key(key.get(), x.data(), &length) != 1 ||
                length != x.size()) {
                broken_invariant("cannot read an Ed25519 public key");
            }
            return json{{"crv", "Ed25519"}, {"kty", "OKP"}, {"x", base64url_encode(x)}};
        }
        case KeyType::kUnsupported:
            break;
    }
    broken_invariant("public_jwk: unknown key type");
}

Result<PublicKey> public_key_from_jwk(const json& jwk) {
    if (!jwk.is_object()) return Unexpected(detail::malformed("JWK is not a JSON object"));
    for (std::string_view name : kPrivateMembers) {
        if (jwk.contains(name)) {
            return Unexpected(detail::malformed("JWK has the private key member \"" +
                                                std::string(name) +
                                                "\"; send the public key only"));
        }
    }
    CERTDOCK_TRY(std::string kty, detail::string_member(jwk, "kty", kWhat));
    if (kty == "RSA") return rsa_from_jwk(jwk);
    if (kty == "EC") return ec_from_jwk(jwk);
    if (kty == "OKP") return okp_from_jwk(jwk);
    return Unexpected(detail::bad_public_key("unsupported JWK key type " + shown(kty) +
                                             " (supported: RSA, EC, OKP)"));
}

std::string jwk_thumbprint(const PublicKey& key) {
    return base64url_encode(crypto::sha256(public_jwk(key).dump()));
}

std::string key_authorization(std::string_view token, std::string_view thumbprint) {
    std::string out;
    out.reserve(token.size() + 1 + thumbprint.size());
    out.append(token).append(".").append(thumbprint);
    return out;
}

std::string dns01_txt_value(std::string_view key_authorization) {
    return base64url_encode(crypto::sha256(key_authorization));
}

}  // namespace certdock::acme::jose
