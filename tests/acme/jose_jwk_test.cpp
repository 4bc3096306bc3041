#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <set>
#include <string>

#include "acme/jose/jwk.hpp"
#include "acme/jose_test_support.hpp"
#include "support/must.hpp"

namespace certdock::acme::jose {
namespace {

using crypto::Curve;
using crypto::KeySpec;
using nlohmann::json;
using test::b64u;
using test::fails_with;
using test::must;

std::set<std::string> member_names(const json& object) {
    std::set<std::string> names;
    for (const auto& [name, value] : object.items()) names.insert(name);
    return names;
}

class JwkRoundTrip : public ::testing::TestWithParam<KeySpec> {};

TEST_P(JwkRoundTrip, CarriesOnlyTheRequiredMembersAndReadsBack) {
    const auto key = test::shared_key(GetParam()).public_key();
    const json jwk = public_jwk(key);
    switch (GetParam().type) {
        case crypto::KeyType::kRsa:
            EXPECT_EQ(member_names(jwk), (std::set<std::string>{"e", "kty", "n"}));
            EXPECT_EQ(jwk["kty"], "RSA");
            EXPECT_EQ(b64u(jwk["n"].get<std::string>()).size(), 256u);
            break;
        case crypto::KeyType::kEcdsa:
            EXPECT_EQ(member_names(jwk), (std::set<std::string>{"crv", "kty", "x", "y"}));
            EXPECT_EQ(jwk["kty"], "EC");
            EXPECT_EQ(jwk["crv"], std::string(crypto::curve_name(GetParam().curve)));
            break;
        case crypto::KeyType::kEd25519:
            EXPECT_EQ(member_names(jwk), (std::set<std::string>{"crv", "kty", "x"}));
            EXPECT_EQ(jwk["crv"], "Ed25519");
            break;
        case crypto::KeyType::kUnsupported:
            FAIL() << "parameters only name supported keys";
    }
    auto back = must(public_key_from_jwk(jwk));
    EXPECT_TRUE(back.same_key(key));
    EXPECT_EQ(back.spec(), key.spec());
    EXPECT_EQ(jwk_thumbprint(back), jwk_thumbprint(key));
    EXPECT_EQ(jwk_thumbprint(key).size(), 43u);  // 32 bytes of SHA-256, unpadded
}

INSTANTIATE_TEST_SUITE_P(AllAccountKeys, JwkRoundTrip,
                         ::testing::ValuesIn(test::account_key_specs()), test::key_spec_name);

TEST(Jwk, EcCoordinatesAreLeftPaddedToTheFieldSize) {
    // About one P-256 key in 128 has a coordinate with a leading zero byte; look for one, so
    // the padding is exercised rather than assumed.
    for (int attempt = 0; attempt < 5000; ++attempt) {
        auto key = must(crypto::PrivateKey::generate(KeySpec::ecdsa(Curve::kP256))).public_key();
        const json jwk = public_jwk(key);
        const Bytes x = b64u(jwk["x"].get<std::string>());
        const Bytes y = b64u(jwk["y"].get<std::string>());
        ASSERT_EQ(x.size(), 32u);
        ASSERT_EQ(y.size(), 32u);
        if (x.front() == 0 || y.front() == 0) {
            EXPECT_TRUE(must(public_key_from_jwk(jwk)).same_key(key));
            return;
        }
    }
    FAIL() << "no P-256 key with a leading zero coordinate in 5000 tries";
}

TEST(Jwk, ThumbprintIgnoresOptionalMembers) {
    const auto key = test::shared_key(KeySpec::ecdsa(Curve::kP256)).public_key();
    json jwk = public_jwk(key);
    jwk["kid"] = "2011-04-29";
    jwk["use"] = "sig";
    jwk["alg"] = "ES256";
    EXPECT_EQ(jwk_thumbprint(must(public_key_from_jwk(jwk))), jwk_thumbprint(key));
}

// Public JWKs of each kind to break one member at a time.
json ec_jwk() {
    json jwk = test::rfc7515_a3_ec_jwk();
    jwk.erase("d");
    return jwk;
}

json rsa_jwk() {
    json jwk = test::rfc7515_a2_rsa_jwk();
    for (const char* member : {"d", "p", "q", "dp", "dq", "qi"}) jwk.erase(member);
    return jwk;
}

json okp_jwk() {
    json jwk = test::rfc8037_a1_ed25519_jwk();
    jwk.erase("d");
    return jwk;
}

TEST(JwkParse, RejectsWhatIsNotAJwkObject) {
    EXPECT_TRUE(fails_with(public_key_from_jwk(json::array()), "malformed", "not a JSON object"));
    EXPECT_TRUE(fails_with(public_key_from_jwk("RSA"), "malformed", "not a JSON object"));
    EXPECT_TRUE(fails_with(public_key_from_jwk(json::object()), "malformed", "\"kty\""));
    EXPECT_TRUE(fails_with(public_key_from_jwk(json{{"kty", 1}}), "malformed", "not a string"));
}

TEST(JwkParse, UnsupportedKeyTypesAndCurvesAreBadPublicKey) {
    EXPECT_TRUE(fails_with(public_key_from_jwk(json{{"kty", "DSA"}}), "badPublicKey",
                           "unsupported JWK key type \"DSA\""));
    json jwk = ec_jwk();
    jwk["crv"] = "P-521";
    EXPECT_TRUE(fails_with(public_key_from_jwk(jwk), "badPublicKey", "P-521"));
    jwk["crv"] = "secp256k1";
    EXPECT_TRUE(fails_with(public_key_from_jwk(jwk), "badPublicKey", "secp256k1"));
    jwk = okp_jwk();
    jwk["crv"] = "X25519";
    EXPECT_TRUE(fails_with(public_key_from_jwk(jwk), "badPublicKey", "X25519"));
    jwk["crv"] = "Ed448";
    EXPECT_TRUE(fails_with(public_key_from_jwk(jwk), "badPublicKey", "Ed448"));
}

TEST(JwkParse, PrivateMembersAreRefused) {
    EXPECT_TRUE(fails_with(public_key_from_jwk(test::rfc7515_a3_ec_jwk()), "malformed",
                           "private key member \"d\""));
    EXPECT_TRUE(fails_with(public_key_from_jwk(test::rfc7515_a2_rsa_jwk()), "malformed",
                           "private key member"));
    EXPECT_TRUE(fails_with(public_key_from_jwk(test::rfc8037_a1_ed25519_jwk()), "malformed",
                           "private key member \"d\""));
    EXPECT_TRUE(fails_with(public_key_from_jwk(test::rfc7515_a1_hmac_jwk()), "malformed",
                           "private key member \"k\""));
}

TEST(JwkParse, EcMembersMustBePresentAndExact) {
    for (const char* member : {"crv", "x", "y"}) {
        json jwk = ec_jwk();
        jwk.erase(member);
        EXPECT_TRUE(fails_with(public_key_from_jwk(jwk), "malformed", member)) << member;
    }
    json jwk = ec_jwk();
    Bytes x = b64u(jwk["x"].get<std::string>());
    x.erase(x.begin());  // a 31-byte coordinate: the sender forgot to pad
    jwk["x"] = base64url_encode(x);
    EXPECT_TRUE(fails_with(public_key_from_jwk(jwk), "malformed", "must be 32 bytes"));

    jwk = ec_jwk();
    Bytes y = b64u(jwk["y"].get<std::string>());
    y.push_back(0);  // 33 bytes
    jwk["y"] = base64url_encode(y);
    EXPECT_TRUE(fails_with(public_key_from_jwk(jwk), "malformed", "must be 32 bytes"));

    jwk = ec_jwk();
    jwk["x"] = 12;
    EXPECT_TRUE(fails_with(public_key_from_jwk(jwk), "malformed", "not a string"));
}

TEST(JwkParse, EcPointMustBeOnTheCurve) {
    json jwk = ec_jwk();
    Bytes y = b64u(jwk["y"].get<std::string>());
    y.back() ^= 0x01;
    jwk["y"] = base64url_encode(y);
    EXPECT_TRUE(fails_with(public_key_from_jwk(jwk), "badPublicKey", "not a valid EC P-256 key"));

    // P-384 coordinates are 48 bytes; 48 zero bytes are no point on it.
    json zero = {{"kty", "EC"},
                 {"crv", "P-384"},
                 {"x", base64url_encode(Bytes(48))},
                 {"y", base64url_encode(Bytes(48))}};
    EXPECT_TRUE(fails_with(public_key_from_jwk(zero), "badPublicKey", "P-384"));
}

TEST(JwkParse, Base64urlMustBeCanonicalAndUnpadded) {
    json jwk = okp_jwk();
    jwk["x"] = jwk["x"].get<std::string>() + "=";
    EXPECT_TRUE(fails_with(public_key_from_jwk(jwk), "malformed", "not base64url"));
    jwk = okp_jwk();
    std::string x = jwk["x"].get<std::string>();
    x[5] = '+';  // standard base64, not base64url
    jwk["x"] = x;
    EXPECT_TRUE(fails_with(public_key_from_jwk(jwk), "malformed", "not base64url"));
}

TEST(JwkParse, OkpRules) {
    json jwk = okp_jwk();
    jwk["y"] = jwk["x"];
    EXPECT_TRUE(fails_with(public_key_from_jwk(jwk), "malformed", "\"y\""));
    jwk = okp_jwk();
    jwk["x"] = base64url_encode(Bytes(31, 7));
    EXPECT_TRUE(fails_with(public_key_from_jwk(jwk), "malformed", "must be 32 bytes"));
}

TEST(JwkParse, RsaIntegersAreMinimalAndSane) {
    json jwk = rsa_jwk();
    Bytes n = b64u(jwk["n"].get<std::string>());
    n.insert(n.begin(), 0);
    jwk["n"] = base64url_encode(n);
    EXPECT_TRUE(fails_with(public_key_from_jwk(jwk), "malformed", "leading zero"));

    jwk = rsa_jwk();
    jwk["e"] = "AAEAAQ";  // 65537 with a leading zero octet
    EXPECT_TRUE(fails_with(public_key_from_jwk(jwk), "malformed", "leading zero"));

    jwk = rsa_jwk();
    jwk["e"] = "";
    EXPECT_TRUE(fails_with(public_key_from_jwk(jwk), "malformed", "\"e\""));

    jwk = rsa_jwk();
    jwk["e"] = "Aw";  // 3
    EXPECT_TRUE(fails_with(public_key_from_jwk(jwk), "badPublicKey", "exponent"));

    jwk = rsa_jwk();
    jwk["e"] = "AQAA";  // 65536: even
    EXPECT_TRUE(fails_with(public_key_from_jwk(jwk), "badPublicKey", "exponent"));

    jwk = rsa_jwk();
    jwk["e"] = base64url_encode(Bytes(33, 0x01));  // > 2^256
    EXPECT_TRUE(fails_with(public_key_from_jwk(jwk), "badPublicKey", "exponent"));

    jwk = rsa_jwk();
    Bytes even = b64u(jwk["n"].get<std::string>());
    even.back() &= 0xfe;
    jwk["n"] = base64url_encode(even);
    EXPECT_TRUE(fails_with(public_key_from_jwk(jwk), "badPublicKey", "not a valid RSA key"));
}

TEST(JwkParse, RsaSizeIsBounded) {
    json small = rsa_jwk();
    Bytes n = b64u(small["n"].get<std::string>());
    n.resize(128);  // 1024 bits
    small["n"] = base64url_encode(n);
    EXPECT_TRUE(fails_with(public_key_from_jwk(small), "badPublicKey", "1024 bits"));

    json large = rsa_jwk();
    large["n"] = base64url_encode(Bytes(1025, 0xff));
    EXPECT_TRUE(fails_with(public_key_from_jwk(large), "badPublicKey", "8200 bits"));
}

}  // namespace
}  // namespace certdock::acme::jose
