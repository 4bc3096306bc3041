#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "acme/jose/eab.hpp"
#include "acme/jose/jwk.hpp"
#include "acme/jose_test_support.hpp"
#include "support/must.hpp"

namespace certdock::acme::jose {
namespace {

using crypto::Curve;
using crypto::KeySpec;
using nlohmann::json;
using test::fails_with;
using test::must;

constexpr std::string_view kNewAccountUrl = "https://ca.example/acme/new-account";
constexpr std::string_view kKeyId = "kid-1";
const Bytes kMacKey(32, 0x5a);

const crypto::PrivateKey& account_key() {
    return test::shared_key(KeySpec::ecdsa(Curve::kP256));
}

// What a client puts in newAccount's "externalAccountBinding".
json binding_for(const crypto::PublicKey& key, Algorithm algorithm = Algorithm::kHs256) {
    return must(sign_external_account_binding(key, kKeyId, kNewAccountUrl, kMacKey, algorithm))
        .to_json();
}

class EabRoundTrip : public ::testing::TestWithParam<Algorithm> {};

TEST_P(EabRoundTrip, ClientBindingVerifiesOnTheServer) {
    const auto key = account_key().public_key();
    const json value = binding_for(key, GetParam());

    auto binding = must(parse_external_account_binding(value, kNewAccountUrl));
    EXPECT_EQ(binding.key_id, kKeyId);
    EXPECT_EQ(binding.jws.algorithm, GetParam());
    EXPECT_EQ(binding.jws.header["url"], kNewAccountUrl);
    EXPECT_FALSE(binding.jws.header.contains("nonce"));
    EXPECT_EQ(json::parse(binding.jws.payload), public_jwk(key));
    EXPECT_TRUE(verify_external_account_binding(binding, kMacKey, key).has_value());
}

INSTANTIATE_TEST_SUITE_P(AllMacs, EabRoundTrip,
                         ::testing::Values(Algorithm::kHs256, Algorithm::kHs384, Algorithm::kHs512),
                         [](const auto& param) {
                             return std::string(algorithm_name(param.param));
                         });

TEST(Eab, WrongMacKeyIsUnauthorized) {
    const auto key = account_key().public_key();
    auto binding = must(parse_external_account_binding(binding_for(key), kNewAccountUrl));
    Bytes wrong = kMacKey;
    wrong.back() ^= 1;
    EXPECT_TRUE(fails_with(verify_external_account_binding(binding, wrong, key), "unauthorized"));
}

TEST(Eab, BindingForAnotherKeyIsUnauthorized) {
    const auto bound = account_key().public_key();
    const auto signer = test::shared_key(KeySpec::ed25519()).public_key();
    auto binding = must(parse_external_account_binding(binding_for(bound), kNewAccountUrl));
    EXPECT_TRUE(fails_with(verify_external_account_binding(binding, kMacKey, signer),
                           "unauthorized", "different key"));
}

TEST(Eab, UrlMustMatchTheOuterRequest) {
    const auto key = account_key().public_key();
    EXPECT_TRUE(fails_with(
        parse_external_account_binding(binding_for(key), "https://ca.example/acme/new-acct"),
        "malformed", "\"url\" differs"));
}

TEST(Eab, HeaderRules) {
    const auto key = account_key().public_key();
    const std::string payload = public_jwk(key).dump();
    auto with_header = [&](const json& header) {
        return must(sign_jws_mac(Algorithm::kHs256, kMacKey, header, payload)).to_json();
    };
    EXPECT_TRUE(
        fails_with(parse_external_account_binding(
                       with_header({{"kid", kKeyId}, {"url", kNewAccountUrl}, {"nonce", "abc"}}),
                       kNewAccountUrl),
                   "malformed", "\"nonce\""));
    EXPECT_TRUE(fails_with(
        parse_external_account_binding(with_header({{"url", kNewAccountUrl}}), kNewAccountUrl),
        "malformed", "\"kid\""));
    EXPECT_TRUE(fails_with(parse_external_account_binding(
                               with_header({{"kid", ""}, {"url", kNewAccountUrl}}), kNewAccountUrl),
                           "malformed", "empty \"kid\""));
    EXPECT_TRUE(fails_with(parse_external_account_binding(
                               with_header({{"kid", 7}, {"url", kNewAccountUrl}}), kNewAccountUrl),
                           "malformed", "not a string"));
    EXPECT_TRUE(
        fails_with(parse_external_account_binding(with_header({{"kid", kKeyId}}), kNewAccountUrl),
                   "malformed", "\"url\""));
}

TEST(Eab, MustBeMacedNotSigned) {
    // A binding signed with the account key instead of the CA's MAC key proves nothing.
    const auto& key = account_key();
    json header = {{"kid", kKeyId}, {"url", kNewAccountUrl}};
    json value = must(sign_jws(key, header, public_jwk(key.public_key()).dump())).to_json();
    EXPECT_TRUE(fails_with(parse_external_account_binding(value, kNewAccountUrl),
                           "badSignatureAlgorithm", "HS256"));
}

TEST(Eab, PayloadMustBeAJwk) {
    const auto key = account_key().public_key();
    json header = {{"kid", kKeyId}, {"url", kNewAccountUrl}};
    for (const char* payload : {"", "not json", "[]", R"({"kty":"EC"})"}) {
        json value = must(sign_jws_mac(Algorithm::kHs256, kMacKey, header, payload)).to_json();
        auto binding = must(parse_external_account_binding(value, kNewAccountUrl));
        EXPECT_TRUE(fails_with(verify_external_account_binding(binding, kMacKey, key), "malformed"))
            << payload;
    }
}

TEST(Eab, TamperedBindingFails) {
    const auto key = account_key().public_key();
    const json original = binding_for(key);
    for (const char* part : {"protected", "payload", "signature"}) {
        const std::string text = original[part].get<std::string>();
        for (std::size_t i = 0; i < test::b64u(text).size(); ++i) {
            json value = original;
            value[part] = test::flip_byte(text, i);
            auto binding = parse_external_account_binding(value, kNewAccountUrl);
            EXPECT_FALSE(binding.has_value() &&
                         verify_external_account_binding(*binding, kMacKey, key).has_value())
                << part << " byte " << i;
        }
    }
}

TEST(Eab, ClientSideArgumentsAreChecked) {
    const auto key = account_key().public_key();
    EXPECT_EQ(sign_external_account_binding(key, "", kNewAccountUrl, kMacKey).error().category(),
              ErrorCategory::kUsage);
    EXPECT_EQ(sign_external_account_binding(key, kKeyId, "", kMacKey).error().category(),
              ErrorCategory::kUsage);
    EXPECT_EQ(sign_external_account_binding(key, kKeyId, kNewAccountUrl, {}).error().category(),
              ErrorCategory::kUsage);
    EXPECT_EQ(sign_external_account_binding(key, kKeyId, kNewAccountUrl, kMacKey, Algorithm::kEs256)
                  .error()
                  .category(),
              ErrorCategory::kUsage);
}

}  // namespace
}  // namespace certdock::acme::jose
