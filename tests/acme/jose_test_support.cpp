#include "acme/jose_test_support.hpp"

#include <openssl/core_names.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <utility>
#include <vector>

#include "crypto/ossl_ptr.hpp"

namespace certdock::test {
namespace {

using nlohmann::json;

[[noreturn]] void die(const std::string& what) {
    std::fprintf(stderr, "jose_test_support: %s\n", what.c_str());
    std::abort();
}

crypto::BignumPtr bignum(const json& jwk, const char* member) {
    Bytes bytes = b64u(jwk.at(member).get<std::string>());
    crypto::BignumPtr bn(BN_bin2bn(bytes.data(), static_cast<int>(bytes.size()), nullptr));
    if (!bn) die(std::string("BN_bin2bn failed for ") + member);
    return bn;
}

crypto::PrivateKey keypair_from_params(const char* type, OSSL_PARAM_BLD* builder) {
    crypto::ParamPtr params(OSSL_PARAM_BLD_to_param(builder));
    crypto::PKeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
    EVP_PKEY* raw = nullptr;
    if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
        EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_KEYPAIR, params.get()) != 1) {
        die(std::string("cannot import a ") + type + " key pair");
    }
    return crypto::PrivateKey(crypto::PKeyPtr(raw));
}

}  // namespace

const crypto::PrivateKey& shared_key(const crypto::KeySpec& spec) {
    static std::map<std::string, crypto::PrivateKey> keys;
    auto it = keys.find(spec.token());
    if (it == keys.end()) {
        auto key = crypto::PrivateKey::generate(spec);
        if (!key) die("cannot generate " + spec.describe() + ": " + key.error().describe());
        it = keys.emplace(spec.token(), std::move(key).value()).first;
    }
    return it->second;
}

std::vector<crypto::KeySpec> account_key_specs() {
    return {crypto::KeySpec::rsa(2048), crypto::KeySpec::ecdsa(crypto::Curve::kP256),
            crypto::KeySpec::ecdsa(crypto::Curve::kP384), crypto::KeySpec::ed25519()};
}

::testing::AssertionResult error_is(const Error& error, std::string_view type,
                                    std::string_view fragment) {
    const std::string expected = "urn:ietf:params:acme:error:" + std::string(type);
    if (!error.problem()) {
        return ::testing::AssertionFailure() << "no ACME problem in: " << error.describe();
    }
    if (error.problem()->type != expected) {
        return ::testing::AssertionFailure()
               << "problem " << error.problem()->type << " instead of " << expected
               << " in: " << error.describe();
    }
    if (error.describe().find(fragment) == std::string::npos) {
        return ::testing::AssertionFailure()
               << "\"" << fragment << "\" not in: " << error.describe();
    }
    return ::testing::AssertionSuccess();
}

std::string flip_byte(std::string_view text, std::size_t index) {
    Bytes bytes = b64u(text);
    bytes.at(index) ^= 0x01;
    return base64url_encode(bytes);
}

std::string key_spec_name(const ::testing::TestParamInfo<crypto::KeySpec>& param) {
    std::string name = param.param.token();
    for (char& c : name) {
        if (c == '-') c = '_';
    }
    return name;
}

Bytes b64u(std::string_view text) {
    auto bytes = base64url_decode(text);
    if (!bytes) die("bad base64url in test data: " + std::string(text));
    return std::move(bytes).value();
}

crypto::PrivateKey rsa_private_key_from_jwk(const json& jwk) {
    struct Member {
        const char* jwk_name;
        const char* param;
    };
    const Member members[] = {
        {"n", OSSL_PKEY_PARAM_RSA_N},          {"e", OSSL_PKEY_PARAM_RSA_E},
        {"d", OSSL_PKEY_PARAM_RSA_D},          {"p", OSSL_PKEY_PARAM_RSA_FACTOR1},
        {"q", OSSL_PKEY_PARAM_RSA_FACTOR2},    {"dp", OSSL_PKEY_PARAM_RSA_EXPONENT1},
        {"dq", OSSL_PKEY_PARAM_RSA_EXPONENT2}, {"qi", OSSL_PKEY_PARAM_RSA_COEFFICIENT1},
    };
    crypto::ParamBldPtr builder(OSSL_PARAM_BLD_new());
    std::vector<crypto::BignumPtr> keep;  // the builder references the numbers until to_param
    for (const auto& member : members) {
        keep.push_back(bignum(jwk, member.jwk_name));
        if (OSSL_PARAM_BLD_push_BN(builder.get(), member.param, keep.back().get()) != 1) {
            die(std::string("cannot push RSA parameter ") + member.jwk_name);
        }
    }
    return keypair_from_params("RSA", builder.get());
}

crypto::PrivateKey ec_private_key_from_jwk(const json& jwk) {
    const std::string crv = jwk.at("crv").get<std::string>();
    Bytes point{0x04};
    for (const char* member : {"x", "y"}) {
        Bytes coordinate = b64u(jwk.at(member).get<std::string>());
        point.insert(point.end(), coordinate.begin(), coordinate.end());
    }
    crypto::BignumPtr d = bignum(jwk, "d");
    crypto::ParamBldPtr builder(OSSL_PARAM_BLD_new());
    if (OSSL_PARAM_BLD_push_utf8_string(builder.get(), OSSL_PKEY_PARAM_GROUP_NAME, crv.c_str(),
                                        0) != 1 ||
        OSSL_PARAM_BLD_push_octet_string(builder.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                         point.size()) != 1 ||
        OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_PRIV_KEY, d.get()) != 1) {
        die("cannot push EC parameters");
    }
    return keypair_from_params("EC", builder.get());
}

crypto::PrivateKey ed25519_private_key_from_jwk(const json& jwk) {
    Bytes seed = b64u(jwk.at("d").get<std::string>());
    crypto::ParamBldPtr builder(OSSL_PARAM_BLD_new());
    if (OSSL_PARAM_BLD_push_octet_string(builder.get(), OSSL_PKEY_PARAM_PRIV_KEY, seed.data(),
                                         seed.size()) != 1) {
        die("cannot push the Ed25519 seed");
    }
    return keypair_from_params("ED25519", builder.get());
}

json rfc7515_a1_hmac_jwk() {
    return json{{"kty", "oct"},
                {"k",
                 "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjA"
                 "zZr1Z9CAow"}};
}

json rfc7515_a2_rsa_jwk() {
    return json{
        {"kty", "RSA"},
        {"n",
         "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEz"
         "P1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63"
         "kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh"
         "9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuX"
         "poQ"},
        {"e", "AQAB"},
        {"d",
         "Eq5xpGnNCivDflJsRQBXHx1hdR1k6Ulwe2JZD50LpXyWPEAeP88vLNO97IjlA7_GQ5sLKMgvfTeXZx9SE-7Y"
         "wVol2NXOoAJe46sui395IW_GO-pWJ1O0BkTGoVEn2bKVRUCgu-GjBVaYLU6f3l9kJfFNS3E0QbVdxzubSu3Mk"
         "qzjkn439X0M_V51gfpRLI9JYanrC4D4qAdGcopV_0ZHHzQlBjudU2QvXt4ehNYTCBr6XCLQUShb1juUO1Zdi"
         "YoFaFQT5Tw8bGUl_x_jTj3ccPDVZFD9pIuhLhBOneufuBiB4cS98l2SR_RQyGWSeWjnczT0QU91p1DhOVRuO"
         "opznQ"},
        {"p",
         "4BzEEOtIpmVdVEZNCqS7baC4crd0pqnRH_5IB3jw3bcxGn6QLvnEtfdUdiYrqBdss1l58BQ3KhooKeQTa9AB"
         "0Hw_Py5PJdTJNPY8cQn7ouZ2KKDcmnPGBY5t7yLc1QlQ5xHdwW1VhvKn-nXqhJTBgIPgtldC-KDV5z-y2XDw"
         "GUc"},
        {"q",
         "uQPEfgmVtjL0Uyyx88GZFF1fOunH3-7cepKmtH4pxhtCoHqpWmT8YAmZxaewHgHAjLYsp1ZSe7zFYHj7C6ul"
         "7TjeLQeZD_YwD66t62wDmpe_HlB-TnBA-njbglfIsRLtXlnDzQkv5dTltRJ11BKBBypeeF6689rjcJIDEz9R"
         "Wdc"},
        {"dp",
         "BwKfV3Akq5_MFZDFZCnW-wzl-CCo83WoZvnLQwCTeDv8uzluRSnm71I3QCLdhrqE2e9YkxvuxdBfpT_PI7Yz"
         "-FOKnu1R6HsJeDCjn12Sk3vmAktV2zb34MCdy7cpdTh_YVr7tss2u6vneTwrA86rZtu5Mbr1C1XsmvkxHQAd"
         "Yo0"},
        {"dq",
         "h_96-mK1R_7glhsum81dZxjTnYynPbZpHziZjeeHcXYsXaaMwkOlODsWa7I9xXDoRwbKgB719rrmI2oKr6N3"
         "Do9U0ajaHF-NKJnwgjMd2w9cjz3_-kyNlxAr2v4IKhGNpmM5iIgOS1VZnOZ68m6_pbLBSp3nssTdlqvd0tIi"
         "THU"},
        {"qi",
         "IYd7DHOhrWvxkwPQsRM2tOgrjbcrfvtQJipd-DlcxyVuuM9sQLdgjVk2oy26F0EmpScGLq2MowX7fhd_QJQ3"
         "ydy5cY7YIBi87w93IKLEdfnbJtoOPLUW0ITrJReOgo1cq9SbsxYawBgfp_gh6A5603k2-ZQwVK0JKSHuLFku"
         "Q3U"},
    };
}

json rfc7515_a3_ec_jwk() {
    return json{{"kty", "EC"},
                {"crv", "P-256"},
                {"x", "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU"},
                {"y", "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"},
                {"d", "jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI"}};
}

json rfc8037_a1_ed25519_jwk() {
    return json{{"kty", "OKP"},
                {"crv", "Ed25519"},
                {"d", "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"},
                {"x", "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}};
}

}  // namespace certdock::test
