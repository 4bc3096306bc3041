#include "crypto/key.hpp"

#include <gtest/gtest.h>

#include "crypto/digest.hpp"

namespace certdock::crypto {
namespace {

class KeyGeneration : public ::testing::TestWithParam<const char*> {};

TEST_P(KeyGeneration, GeneratesTheRequestedKindAndRoundTripsThroughPem) {
    auto spec = parse_key_spec(GetParam());
    ASSERT_TRUE(spec) << spec.error().describe();
    auto key = PrivateKey::generate(*spec);
    ASSERT_TRUE(key) << key.error().describe();
    EXPECT_EQ(key->spec(), *spec);

    for (PemFormat format : {PemFormat::kPkcs8, PemFormat::kTraditional}) {
        auto pem = key->to_pem(format);
        ASSERT_TRUE(pem) << pem.error().describe();
        auto loaded = PrivateKey::from_pem(*pem);
        ASSERT_TRUE(loaded) << loaded.error().describe();
        EXPECT_TRUE(loaded->public_key().same_key(key->public_key()));
        EXPECT_EQ(loaded->describe(), key->describe());
    }
}

INSTANTIATE_TEST_SUITE_P(AllSupported, KeyGeneration,
                         ::testing::Values("rsa2048", "rsa3072", "rsa4096", "ecdsa-p256",
                                           "ecdsa-p384", "ed25519"));

TEST(KeySpec, DescribesKeysTheWayOperatorsReadThem) {
    EXPECT_EQ(parse_key_spec("ecdsa-p256")->describe(), "ECDSA P-256");
    EXPECT_EQ(parse_key_spec("rsa4096")->describe(), "RSA 4096");
    EXPECT_EQ(parse_key_spec("ed25519")->describe(), "Ed25519");
    EXPECT_EQ(parse_key_spec("P-384")->token(), "ecdsa-p384");
}

TEST(KeySpec, AcceptsCommonSpellings) {
    EXPECT_EQ(*parse_key_spec("ECDSA"), KeySpec::ecdsa(Curve::kP256));
    EXPECT_EQ(*parse_key_spec("ec384"), KeySpec::ecdsa(Curve::kP384));
    EXPECT_EQ(*parse_key_spec("prime256v1"), KeySpec::ecdsa(Curve::kP256));
    EXPECT_EQ(*parse_key_spec("secp384r1"), KeySpec::ecdsa(Curve::kP384));
    EXPECT_EQ(*parse_key_spec("RSA-3072"), KeySpec::rsa(3072));
    EXPECT_EQ(*parse_key_spec("rsa"), KeySpec::rsa(2048));
}

TEST(KeySpec, AcceptsHaproxyKeywords) {
    // The seed's working HAProxy section: keytype ECDSA, bits 256.
    EXPECT_EQ(*key_spec_from_haproxy("ECDSA", 256, std::nullopt), KeySpec::ecdsa(Curve::kP256));
    EXPECT_EQ(*key_spec_from_haproxy("ECDSA", 384, std::nullopt), KeySpec::ecdsa(Curve::kP384));
    EXPECT_EQ(*key_spec_from_haproxy("ECDSA", std::nullopt, "P-384"), KeySpec::ecdsa(Curve::kP384));
    EXPECT_EQ(*key_spec_from_haproxy("RSA", 4096, std::nullopt), KeySpec::rsa(4096));
    EXPECT_EQ(*key_spec_from_haproxy("RSA", std::nullopt, std::nullopt), KeySpec::rsa(2048));
}

TEST(KeySpec, RejectsUnsupportedChoicesWithTheAlternatives) {
    auto curve = parse_key_spec("ecdsa-p521");
    ASSERT_FALSE(curve);
    EXPECT_NE(curve.error().message().find("P-256 or P-384"), std::string::npos);
    auto rsa = parse_key_spec("rsa1024");
    ASSERT_FALSE(rsa);
    EXPECT_NE(rsa.error().message().find("2048, 3072 or 4096"), std::string::npos);
    auto unknown = parse_key_spec("dsa");
    ASSERT_FALSE(unknown);
    EXPECT_NE(unknown.error().message().find("supported:"), std::string::npos);
    EXPECT_FALSE(key_spec_from_haproxy("DSA", std::nullopt, std::nullopt));
    EXPECT_FALSE(key_spec_from_haproxy("ECDSA", 521, std::nullopt));
}

TEST(PrivateKey, EncryptedPkcs8NeedsTheRightPassphrase) {
    auto key = PrivateKey::generate(KeySpec::ecdsa(Curve::kP256));
    ASSERT_TRUE(key);
    auto pem = key->to_pem(PemFormat::kPkcs8, std::string("correct horse"));
    ASSERT_TRUE(pem);
    EXPECT_NE(pem->find("BEGIN ENCRYPTED PRIVATE KEY"), std::string::npos);

    auto without = PrivateKey::from_pem(*pem);
    ASSERT_FALSE(without);
    EXPECT_NE(without.error().message().find("encrypted"), std::string::npos);
    EXPECT_NE(without.error().message().find("--passphrase-file"), std::string::npos);

    auto wrong = PrivateKey::from_pem(*pem, std::string("battery staple"));
    ASSERT_FALSE(wrong);
    EXPECT_NE(wrong.error().message().find("wrong passphrase"), std::string::npos);

    auto right = PrivateKey::from_pem(*pem, std::string("correct horse"));
    ASSERT_TRUE(right) << right.error().describe();
    EXPECT_TRUE(right->public_key().same_key(key->public_key()));
}

TEST(PrivateKey, TraditionalFormatUsesTheOldLabels) {
    auto rsa = PrivateKey::generate(KeySpec::rsa(2048));
    auto ec = PrivateKey::generate(KeySpec::ecdsa(Curve::kP256));
    EXPECT_NE(rsa->to_pem(PemFormat::kTraditional)->find("BEGIN RSA PRIVATE KEY"),
              std::string::npos);
    EXPECT_NE(ec->to_pem(PemFormat::kTraditional)->find("BEGIN EC PRIVATE KEY"), std::string::npos);
    EXPECT_NE(ec->to_pem(PemFormat::kPkcs8)->find("BEGIN PRIVATE KEY"), std::string::npos);
}

TEST(PrivateKey, TruncatedPemSaysSo) {
    auto key = PrivateKey::generate(KeySpec::ecdsa(Curve::kP256));
    std::string pem = *key->to_pem();
    std::string truncated = pem.substr(0, pem.size() / 2);
    auto loaded = PrivateKey::from_pem(truncated);
    ASSERT_FALSE(loaded);
    EXPECT_EQ(loaded.error().category(), ErrorCategory::kInput);
    EXPECT_NE(loaded.error().message().find("truncated"), std::string::npos);
}

TEST(PrivateKey, CorruptBodyIsAnInputError) {
    std::string pem = "-----BEGIN PRIVATE KEY-----\nAAAAAAAAAAAA\n-----END PRIVATE KEY-----\n";
    auto loaded = PrivateKey::from_pem(pem);
    ASSERT_FALSE(loaded);
    EXPECT_EQ(loaded.error().category(), ErrorCategory::kInput);
    EXPECT_NE(loaded.error().describe().find("OpenSSL"), std::string::npos);
}

TEST(PrivateKey, ACertificateWhereAKeyWasExpectedIsNamed) {
    std::string pem = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
    auto loaded = PrivateKey::from_pem(pem);
    ASSERT_FALSE(loaded);
    EXPECT_EQ(loaded.error().message(), "expected a private key, found a certificate");
}

TEST(PrivateKey, EmptyInputSaysNoPem) {
    auto loaded = PrivateKey::from_pem("not a key at all");
    ASSERT_FALSE(loaded);
    EXPECT_NE(loaded.error().message().find("no PEM data"), std::string::npos);
}

TEST(PublicKey, PinsAreSha256OfTheSpki) {
    auto key = PrivateKey::generate(KeySpec::ecdsa(Curve::kP256));
    PublicKey pub = key->public_key();
    Bytes digest = sha256(pub.spki_der());
    EXPECT_EQ(pub.pin_sha256(), base64_encode(digest));
    EXPECT_EQ(pub.tlsa_311(), hex_encode(digest));
    EXPECT_EQ(pub.pin_sha256().size(), 44U);
    EXPECT_EQ(pub.tlsa_311().size(), 64U);
    EXPECT_EQ(pub.identify(), "ECDSA P-256 sha256/" + pub.pin_sha256());
}

TEST(PublicKey, RoundTripsThroughPemAndDer) {
    auto key = PrivateKey::generate(KeySpec::ed25519());
    PublicKey pub = key->public_key();
    auto from_pem = PublicKey::from_pem(pub.to_pem());
    ASSERT_TRUE(from_pem);
    EXPECT_TRUE(from_pem->same_key(pub));
    auto from_der = PublicKey::from_spki_der(pub.spki_der());
    ASSERT_TRUE(from_der);
    EXPECT_TRUE(from_der->same_key(pub));
    EXPECT_FALSE(PublicKey::from_spki_der(Bytes{0x30, 0x00}));
}

TEST(PublicKey, DifferentKeysAreNotTheSame) {
    auto a = PrivateKey::generate(KeySpec::ecdsa(Curve::kP256));
    auto b = PrivateKey::generate(KeySpec::ecdsa(Curve::kP256));
    EXPECT_FALSE(a->public_key().same_key(b->public_key()));
    EXPECT_NE(a->public_key().pin_sha256(), b->public_key().pin_sha256());
}

}  // namespace
}  // namespace certdock::crypto

namespace certdock::crypto {
namespace {

// A P-521 key can sit in someone else's chain: it must be describable, never usable.
TEST(PublicKey, UnsupportedKeysAreDescribedNotUsed) {
    PKeyPtr raw(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-521"));
    ASSERT_TRUE(raw);
    PublicKey pub(std::move(raw));
    EXPECT_EQ(pub.spec().type, KeyType::kUnsupported);
    EXPECT_EQ(pub.describe(), "EC secp521r1 (unsupported)");
    EXPECT_EQ(pub.pin_sha256().size(), 44U);
    auto from_der = PublicKey::from_spki_der(pub.spki_der());
    ASSERT_FALSE(from_der);
    EXPECT_NE(from_der.error().message().find("P-256 and P-384"), std::string::npos);
}

}  // namespace
}  // namespace certdock::crypto
