#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <string>

#include "acme/jose/jwa.hpp"
#include "acme/jose/jwk.hpp"
#include "acme/jose/jws.hpp"
#include "acme/jose_test_support.hpp"
#include "crypto/digest.hpp"
#include "support/must.hpp"

namespace certdock::acme::jose {
namespace {

using crypto::Curve;
using crypto::KeySpec;
using nlohmann::json;
using test::b64u;
using test::fails_with;
using test::must;

const Bytes kMacKey = test::b64u(
    "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Y"
    "j0iPS4hcgUuTwjAzZr1Z9CAow");

json acme_header() {
    return json{{"nonce", "6S8IqOGY7eL2lsGoTZYifg"},
                {"url", "https://example.com/acme/new-order"},
                {"kid", "https://example.com/acme/acct/evOfKhNU60wg"}};
}

// Parses and verifies in one step, as the gateway will.
Status parse_and_verify(const FlattenedJws& jws, const crypto::PublicKey& key) {
    auto parsed = parse_jws(jws.serialize());
    if (!parsed) return std::move(parsed).error();
    return verify_jws(*parsed, key);
}

Status parse_and_verify_mac(const FlattenedJws& jws, const Bytes& key) {
    auto parsed = parse_jws(jws.serialize());
    if (!parsed) return std::move(parsed).error();
    return verify_jws_mac(*parsed, key);
}

// Every single-byte change to any part of `jws` must make `check` fail.
template <typename Check>
void expect_every_byte_matters(const FlattenedJws& jws, Check check) {
    ASSERT_TRUE(check(jws).has_value());
    std::string FlattenedJws::*parts[] = {&FlattenedJws::protected_header, &FlattenedJws::payload,
                                          &FlattenedJws::signature};
    for (auto part : parts) {
        const std::size_t size = b64u(jws.*part).size();
        for (std::size_t i = 0; i < size; ++i) {
            FlattenedJws tampered = jws;
            tampered.*part = test::flip_byte(jws.*part, i);
            EXPECT_FALSE(check(tampered).has_value()) << "byte " << i << " of " << jws.*part;
        }
    }
}

class JwsRoundTrip : public ::testing::TestWithParam<KeySpec> {};

TEST_P(JwsRoundTrip, SignsParsesAndVerifies) {
    const auto& key = test::shared_key(GetParam());
    auto jws = must(sign_jws(key, acme_header(), R"({"identifiers":[]})"));
    auto parsed = must(parse_jws(jws.serialize()));
    EXPECT_EQ(parsed.encoded, jws);
    EXPECT_EQ(parsed.algorithm, signature_algorithm_for(key.spec()));
    EXPECT_EQ(parsed.header["alg"], std::string(algorithm_name(parsed.algorithm)));
    EXPECT_EQ(parsed.header["nonce"], "6S8IqOGY7eL2lsGoTZYifg");
    EXPECT_EQ(parsed.payload, R"({"identifiers":[]})");
    EXPECT_TRUE(verify_jws(parsed, key.public_key()).has_value());
}

TEST_P(JwsRoundTrip, PostAsGetHasAnEmptyPayload) {
    const auto& key = test::shared_key(GetParam());
    auto jws = must(sign_jws(key, acme_header(), ""));
    EXPECT_EQ(jws.payload, "");
    EXPECT_EQ(jws.to_json()["payload"], "");
    auto parsed = must(parse_jws(jws.serialize()));
    EXPECT_EQ(parsed.payload, "");
    EXPECT_TRUE(verify_jws(parsed, key.public_key()).has_value());
}

TEST_P(JwsRoundTrip, EmbeddedJwkVerifiesItself) {
    // newAccount: the header carries the key that verifies the request.
    const auto& key = test::shared_key(GetParam());
    json header = {{"nonce", "n"}, {"url", "u"}, {"jwk", public_jwk(key.public_key())}};
    auto parsed = must(parse_jws(must(sign_jws(key, header, "{}")).serialize()));
    auto embedded = must(public_key_from_jwk(parsed.header["jwk"]));
    EXPECT_TRUE(verify_jws(parsed, embedded).has_value());
}

TEST_P(JwsRoundTrip, EveryByteIsCovered) {
    const auto& key = test::shared_key(GetParam());
    auto jws = must(sign_jws(key, acme_header(), R"({"status":"deactivated"})"));
    auto public_key = key.public_key();
    expect_every_byte_matters(jws, [&](const FlattenedJws& candidate) {
        return parse_and_verify(candidate, public_key);
    });
}

TEST_P(JwsRoundTrip, AnotherKeyOfTheSameKindDoesNotVerify) {
    auto other = must(crypto::PrivateKey::generate(GetParam()));
    auto jws = must(sign_jws(test::shared_key(GetParam()), acme_header(), "{}"));
    EXPECT_TRUE(fails_with(parse_and_verify(jws, other.public_key()), "malformed", "invalid"));
}

INSTANTIATE_TEST_SUITE_P(AllAccountKeys, JwsRoundTrip,
                         ::testing::ValuesIn(test::account_key_specs()), test::key_spec_name);

class JwsMac : public ::testing::TestWithParam<Algorithm> {};

TEST_P(JwsMac, SignsAndVerifiesAndEveryByteIsCovered) {
    auto jws = must(sign_jws_mac(GetParam(), kMacKey, json{{"kid", "k"}}, "{}"));
    auto parsed = must(parse_jws(jws.serialize()));
    EXPECT_EQ(parsed.algorithm, GetParam());
    EXPECT_TRUE(verify_jws_mac(parsed, kMacKey).has_value());
    expect_every_byte_matters(jws, [](const FlattenedJws& candidate) {
        return parse_and_verify_mac(candidate, kMacKey);
    });
}

TEST_P(JwsMac, WrongKeyIsUnauthorized) {
    auto jws = must(sign_jws_mac(GetParam(), kMacKey, json::object(), "{}"));
    Bytes other = kMacKey;
    other[0] ^= 0x80;
    EXPECT_TRUE(fails_with(parse_and_verify_mac(jws, other), "unauthorized"));
}

TEST_P(JwsMac, IsNotAcceptedForAnAccountKey) {
    auto jws = must(sign_jws_mac(GetParam(), kMacKey, acme_header(), "{}"));
    const auto key = test::shared_key(KeySpec::ecdsa(Curve::kP256)).public_key();
    EXPECT_TRUE(fails_with(parse_and_verify(jws, key), "badSignatureAlgorithm", "EAB only"));
}

INSTANTIATE_TEST_SUITE_P(AllMacs, JwsMac,
                         ::testing::Values(Algorithm::kHs256, Algorithm::kHs384, Algorithm::kHs512),
                         [](const auto& param) {
                             return std::string(algorithm_name(param.param));
                         });

TEST(JwsMacKey, MustBeLongEnough) {
    EXPECT_EQ(sign_jws_mac(Algorithm::kHs256, {}, json::object(), "").error().category(),
              ErrorCategory::kUsage);
    EXPECT_FALSE(sign_jws_mac(Algorithm::kHs256, Bytes(15, 1), json::object(), "").has_value());
    EXPECT_TRUE(sign_jws_mac(Algorithm::kHs256, Bytes(16, 1), json::object(), "").has_value());
    EXPECT_EQ(sign_jws_mac(Algorithm::kEs256, kMacKey, json::object(), "").error().category(),
              ErrorCategory::kUsage);

    auto parsed = must(
        parse_jws(must(sign_jws_mac(Algorithm::kHs256, kMacKey, json::object(), "")).serialize()));
    auto short_key = verify_jws_mac(parsed, {});
    ASSERT_FALSE(short_key.has_value());
    EXPECT_FALSE(short_key.error().problem().has_value());  // server misconfiguration
}

TEST(JwsSign, SetsAlgFromTheKeyAndRejectsNonObjectHeaders) {
    const auto& key = test::shared_key(KeySpec::ecdsa(Curve::kP384));
    auto jws = must(sign_jws(key, json{{"alg", "none"}}, "{}"));
    EXPECT_EQ(must(parse_jws(jws.serialize())).header["alg"], "ES384");
    auto bad = sign_jws(key, json::array(), "{}");
    ASSERT_FALSE(bad.has_value());
    EXPECT_EQ(bad.error().category(), ErrorCategory::kInternal);
}

TEST(JwsSign, SerializesAsFlattenedJson) {
    FlattenedJws jws{"aGVhZGVy", "cGF5bG9hZA", "c2ln"};
    EXPECT_EQ(jws.signing_input(), "aGVhZGVy.cGF5bG9hZA");
    EXPECT_EQ(jws.serialize(),
              R"({"payload":"cGF5bG9hZA","protected":"aGVhZGVy","signature":"c2ln"})");
}

// ---- Hostile and malformed input --------------------------------------------------------

// A body with the given protected header (as JSON text), payload and signature bytes.
std::string body_with_header(std::string_view header_text, std::string_view payload = "{}",
                             const Bytes& signature = Bytes(64, 1)) {
    return json{{"protected", base64url_encode(header_text)},
                {"payload", base64url_encode(payload)},
                {"signature", base64url_encode(signature)}}
        .dump();
}

TEST(JwsParse, RejectsCompactSerialization) {
    auto jws = must(sign_jws(test::shared_key(KeySpec::ed25519()), acme_header(), "{}"));
    const std::string compact = jws.protected_header + "." + jws.payload + "." + jws.signature;
    EXPECT_TRUE(fails_with(parse_jws(compact), "malformed", "compact serialization"));
}

TEST(JwsParse, RejectsOtherSerializationsAndMembers) {
    auto jws = must(sign_jws(test::shared_key(KeySpec::ed25519()), acme_header(), "{}"));
    json general = {
        {"payload", jws.payload},
        {"signatures",
         json::array({{{"protected", jws.protected_header}, {"signature", jws.signature}}})}};
    EXPECT_TRUE(fails_with(parse_jws(general.dump()), "malformed", "general serialization"));

    json unprotected = jws.to_json();
    unprotected["header"] = {{"kid", "x"}};
    EXPECT_TRUE(fails_with(parse_jws(unprotected.dump()), "malformed", "unprotected"));

    json extra = jws.to_json();
    extra["extra"] = 1;
    EXPECT_TRUE(fails_with(parse_jws(extra.dump()), "malformed", "unexpected member \"extra\""));

    for (const char* member : {"protected", "payload", "signature"}) {
        json missing = jws.to_json();
        missing.erase(member);
        EXPECT_TRUE(fails_with(parse_jws(missing.dump()), "malformed", member)) << member;
        json number = jws.to_json();
        number[member] = 5;
        EXPECT_TRUE(fails_with(parse_jws(number.dump()), "malformed", "not a string")) << member;
    }
}

TEST(JwsParse, RejectsWhatIsNotAJsonObject) {
    EXPECT_TRUE(fails_with(parse_jws(""), "malformed", "not valid JSON"));
    EXPECT_TRUE(fails_with(parse_jws("{\"protected\":"), "malformed", "not valid JSON"));
    EXPECT_TRUE(fails_with(parse_jws("[1,2]"), "malformed", "not a JSON object"));
    EXPECT_TRUE(fails_with(parse_jws("\"x\""), "malformed", "not a JSON object"));
}

TEST(JwsParse, RejectsDuplicateMembers) {
    auto jws = must(sign_jws(test::shared_key(KeySpec::ed25519()), acme_header(), "{}"));
    const std::string body = R"({"protected":")" + jws.protected_header + R"(","payload":")" +
                             jws.payload + R"(","payload":"","signature":")" + jws.signature +
                             R"("})";
    EXPECT_TRUE(fails_with(parse_jws(body), "malformed", "duplicate member \"payload\""));
    EXPECT_TRUE(fails_with(parse_jws(body_with_header(R"({"alg":"ES256","alg":"none"})")),
                           "malformed", "duplicate member \"alg\""));
    // Nested objects keep their own names: "alg" inside "jwk" duplicates nothing.
    EXPECT_TRUE(parse_jws(body_with_header(R"({"alg":"ES256","jwk":{"alg":"x"}})")).has_value());
}

TEST(JwsParse, RejectsPaddedOrNonCanonicalBase64url) {
    auto jws = must(sign_jws(test::shared_key(KeySpec::ecdsa(Curve::kP256)), acme_header(), "{}"));
    json padded = jws.to_json();
    padded["signature"] = jws.signature + "=";  // 64 bytes: would need no padding anyway
    EXPECT_TRUE(fails_with(parse_jws(padded.dump()), "malformed", "unpadded base64url"));
    padded = jws.to_json();
    padded["payload"] = "e30=";
    EXPECT_TRUE(fails_with(parse_jws(padded.dump()), "malformed", "\"payload\""));
    json standard = jws.to_json();
    standard["protected"] = "eyJh+GciOiJFUzI1NiJ9";
    EXPECT_TRUE(fails_with(parse_jws(standard.dump()), "malformed", "\"protected\""));
    json spaced = jws.to_json();
    spaced["signature"] = " " + jws.signature;
    EXPECT_TRUE(fails_with(parse_jws(spaced.dump()), "malformed", "\"signature\""));
}

TEST(JwsParse, ProtectedHeaderMustBeANonEmptyJsonObject) {
    EXPECT_TRUE(fails_with(parse_jws(body_with_header("")), "malformed", "header is empty"));
    EXPECT_TRUE(fails_with(parse_jws(body_with_header("[\"alg\"]")), "malformed",
                           "header is not a JSON object"));
    EXPECT_TRUE(
        fails_with(parse_jws(body_with_header("{\"alg\":")), "malformed", "not valid JSON"));
    EXPECT_TRUE(fails_with(parse_jws(body_with_header("{\"alg\":\"ES256\"}\xff")), "malformed",
                           "not valid JSON"));
    EXPECT_TRUE(fails_with(parse_jws(body_with_header(R"({"alg":"ES256"})", "{}", {})), "malformed",
                           "signature is empty"));
}

TEST(JwsParse, DeepNestingIsRefused) {
    const std::string deep =
        R"({"alg":"ES256","x":)" + std::string(40, '[') + std::string(40, ']') + "}";
    EXPECT_TRUE(fails_with(parse_jws(body_with_header(deep)), "malformed", "nests deeper"));
}

TEST(JwsParse, AlgMustBePresentSupportedAndNotNone) {
    EXPECT_TRUE(
        fails_with(parse_jws(body_with_header(R"({"nonce":"x"})")), "malformed", "no \"alg\""));
    EXPECT_TRUE(
        fails_with(parse_jws(body_with_header(R"({"alg":256})")), "malformed", "not a string"));
    EXPECT_TRUE(fails_with(parse_jws(body_with_header(R"({"alg":"none"})")),
                           "badSignatureAlgorithm", "\"none\""));
    for (const char* alg : {"RS512", "PS256", "ES512", "es256", "ES256 ", "Ed25519", ""}) {
        EXPECT_TRUE(fails_with(parse_jws(body_with_header(json{{"alg", alg}}.dump())),
                               "badSignatureAlgorithm", "unsupported"))
            << alg;
    }
}

TEST(JwsParse, CritAndB64AreRejected) {
    EXPECT_TRUE(fails_with(parse_jws(body_with_header(R"({"alg":"ES256","crit":["exp"]})")),
                           "malformed", "\"crit\""));
    EXPECT_TRUE(
        fails_with(parse_jws(body_with_header(R"({"alg":"ES256","b64":false,"crit":["b64"]})")),
                   "malformed", "\"crit\""));
    EXPECT_TRUE(fails_with(parse_jws(body_with_header(R"({"alg":"ES256","b64":true})")),
                           "malformed", "\"b64\""));
}

TEST(JwsParse, AcceptsAJsonValueDirectly) {
    auto jws = must(sign_jws(test::shared_key(KeySpec::ed25519()), acme_header(), "{}"));
    auto parsed = must(parse_jws_object(jws.to_json()));
    EXPECT_TRUE(verify_jws(parsed, test::shared_key(KeySpec::ed25519()).public_key()).has_value());
    EXPECT_TRUE(fails_with(parse_jws_object(json("eyJ...")), "malformed", "not a JSON object"));
}

// ---- Algorithm and key must agree -------------------------------------------------------

// A JWS whose header claims `alg` but which is signed by `key` (with its own algorithm).
FlattenedJws signed_with_claimed_alg(const crypto::PrivateKey& key, std::string_view alg) {
    FlattenedJws jws{base64url_encode(json{{"alg", alg}}.dump()), base64url_encode("{}"), {}};
    jws.signature = base64url_encode(must(create_signature(key, jws.signing_input())));
    return jws;
}

TEST(JwsVerify, AlgMustMatchTheKey) {
    struct Case {
        KeySpec key;
        const char* claimed;
    };
    const Case cases[] = {
        {KeySpec::ecdsa(Curve::kP256), "ES384"}, {KeySpec::ecdsa(Curve::kP384), "ES256"},
        {KeySpec::ecdsa(Curve::kP256), "RS256"}, {KeySpec::rsa(2048), "ES256"},
        {KeySpec::ed25519(), "ES256"},           {KeySpec::ecdsa(Curve::kP256), "EdDSA"},
        {KeySpec::rsa(2048), "EdDSA"},
    };
    for (const auto& c : cases) {
        const auto& key = test::shared_key(c.key);
        auto jws = signed_with_claimed_alg(key, c.claimed);
        EXPECT_TRUE(fails_with(parse_and_verify(jws, key.public_key()), "badSignatureAlgorithm",
                               "cannot be used with"))
            << c.key.describe() << " claiming " << c.claimed;
    }
}

TEST(JwsVerify, AlgNoneWithAnEmptySignatureIsRefused) {
    // The classic downgrade: strip the signature and say "none".
    auto jws = must(sign_jws(test::shared_key(KeySpec::ecdsa(Curve::kP256)), acme_header(), "{}"));
    jws.protected_header = base64url_encode(R"({"alg":"none"})");
    jws.signature = "";
    EXPECT_FALSE(parse_jws(jws.serialize()).has_value());
}

TEST(JwsVerify, EcdsaSignaturesMustBeRawRAndS) {
    const auto& key = test::shared_key(KeySpec::ecdsa(Curve::kP256));
    FlattenedJws jws{base64url_encode(R"({"alg":"ES256"})"), base64url_encode("{}"), {}};
    // DER, as OpenSSL produces it and as some clients wrongly send it.
    Bytes der = must(crypto::sign(key, crypto::DigestAlgorithm::kSha256, jws.signing_input()));
    jws.signature = base64url_encode(der);
    EXPECT_TRUE(fails_with(parse_and_verify(jws, key.public_key()), "malformed",
                           "DER encoding is not accepted"));
    // The same signature converted to R||S verifies.
    jws.signature = base64url_encode(must(ecdsa_der_to_jose(der, 32)));
    EXPECT_TRUE(parse_and_verify(jws, key.public_key()).has_value());
    // One byte short or long: wrong length, not a failed check.
    Bytes raw = b64u(jws.signature);
    raw.pop_back();
    jws.signature = base64url_encode(raw);
    EXPECT_TRUE(fails_with(parse_and_verify(jws, key.public_key()), "malformed", "got 63"));
    raw.resize(65);
    jws.signature = base64url_encode(raw);
    EXPECT_TRUE(fails_with(parse_and_verify(jws, key.public_key()), "malformed", "got 65"));
}

TEST(JwsVerify, ZeroRAndSAreInvalid) {
    const auto& key = test::shared_key(KeySpec::ecdsa(Curve::kP384));
    FlattenedJws jws{base64url_encode(R"({"alg":"ES384"})"), "", base64url_encode(Bytes(96))};
    EXPECT_TRUE(fails_with(parse_and_verify(jws, key.public_key()), "malformed", "invalid"));
}

TEST(JwsVerify, RsaAndEdDsaSignatureLengthsAreExact) {
    const auto& rsa = test::shared_key(KeySpec::rsa(2048));
    auto jws = must(sign_jws(rsa, acme_header(), "{}"));
    Bytes signature = b64u(jws.signature);
    signature.insert(signature.begin(), 0);
    jws.signature = base64url_encode(signature);
    EXPECT_TRUE(
        fails_with(parse_and_verify(jws, rsa.public_key()), "malformed", "must be 256 bytes"));

    const auto& ed = test::shared_key(KeySpec::ed25519());
    jws = must(sign_jws(ed, acme_header(), "{}"));
    signature = b64u(jws.signature);
    signature.push_back(0);
    jws.signature = base64url_encode(signature);
    EXPECT_TRUE(
        fails_with(parse_and_verify(jws, ed.public_key()), "malformed", "must be 64 bytes"));
}

TEST(Jwa, EcdsaConversionRoundTripsAndPads) {
    // r = 1 and s = 2^255: the short one must be left-padded to 32 bytes.
    Bytes raw(64);
    raw[31] = 1;
    raw[32] = 0x80;
    Bytes der = must(ecdsa_jose_to_der(raw, 32));
    EXPECT_EQ(der.front(), 0x30);
    EXPECT_EQ(must(ecdsa_der_to_jose(der, 32)), raw);
    // Trailing garbage after the DER sequence is refused.
    der.push_back(0);
    EXPECT_FALSE(ecdsa_der_to_jose(der, 32).has_value());
    // A 48-byte value does not fit a 32-byte half.
    Bytes wide(96, 0x7f);
    EXPECT_FALSE(ecdsa_der_to_jose(must(ecdsa_jose_to_der(wide, 48)), 32).has_value());
}

TEST(Jwa, NamesAndKeyFit) {
    for (auto alg : {Algorithm::kRs256, Algorithm::kEs256, Algorithm::kEs384, Algorithm::kEdDsa,
                     Algorithm::kHs256, Algorithm::kHs384, Algorithm::kHs512}) {
        EXPECT_EQ(parse_algorithm(algorithm_name(alg)), alg);
    }
    EXPECT_EQ(parse_algorithm("none"), std::nullopt);
    EXPECT_EQ(parse_algorithm("eddsa"), std::nullopt);
    EXPECT_EQ(signature_algorithm_for(KeySpec::ecdsa(Curve::kP384)), Algorithm::kEs384);
    EXPECT_EQ(signature_algorithm_for(KeySpec::rsa(4096)), Algorithm::kRs256);
    EXPECT_TRUE(algorithm_matches_key(Algorithm::kEdDsa, KeySpec::ed25519()));
    EXPECT_FALSE(algorithm_matches_key(Algorithm::kHs256, KeySpec::rsa(2048)));
    EXPECT_TRUE(is_mac_algorithm(Algorithm::kHs512));
    EXPECT_FALSE(is_mac_algorithm(Algorithm::kEdDsa));
}

}  // namespace
}  // namespace certdock::acme::jose
