#include "crypto/digest.hpp"

#include <gtest/gtest.h>

namespace certdock::crypto {
namespace {

TEST(Digest, KnownSha256) {
    EXPECT_EQ(hex_encode(sha256(std::string_view("abc"))),
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

// RFC 4231 test case 2.
TEST(Hmac, Rfc4231Case2) {
    Bytes key = to_bytes("Jefe");
    std::string_view data = "what do ya want for nothing?";
    EXPECT_EQ(hex_encode(*hmac(DigestAlgorithm::kSha256, key, data)),
              "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    EXPECT_EQ(hex_encode(*hmac(DigestAlgorithm::kSha384, key, data)),
              "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e"
              "8e2240ca5e69e2c78b3239ecfab21649");
    EXPECT_EQ(hex_encode(*hmac(DigestAlgorithm::kSha512, key, data)),
              "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"
              "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737");
}

TEST(Hmac, RefusesAnEmptyKey) {
    EXPECT_FALSE(hmac(DigestAlgorithm::kSha256, {}, "data"));
}

class SignVerify : public ::testing::TestWithParam<const char*> {};

TEST_P(SignVerify, SignaturesVerifyAndTamperingIsDetected) {
    auto key = PrivateKey::generate(*parse_key_spec(GetParam()));
    ASSERT_TRUE(key);
    auto digest = natural_digest(key->spec());
    auto signature = sign(*key, digest, "payload");
    ASSERT_TRUE(signature) << signature.error().describe();
    EXPECT_TRUE(*verify(key->public_key(), digest, "payload", *signature));
    EXPECT_FALSE(*verify(key->public_key(), digest, "payload!", *signature));
    Bytes flipped = *signature;
    flipped[flipped.size() / 2] ^= 0x01;
    EXPECT_FALSE(*verify(key->public_key(), digest, "payload", flipped));
}

INSTANTIATE_TEST_SUITE_P(AllTypes, SignVerify,
                         ::testing::Values("rsa2048", "ecdsa-p256", "ecdsa-p384", "ed25519"));

TEST(NaturalDigest, FollowsTheKey) {
    EXPECT_EQ(natural_digest(KeySpec::ecdsa(Curve::kP384)), DigestAlgorithm::kSha384);
    EXPECT_EQ(natural_digest(KeySpec::ecdsa(Curve::kP256)), DigestAlgorithm::kSha256);
    EXPECT_EQ(natural_digest(KeySpec::rsa(4096)), DigestAlgorithm::kSha256);
    EXPECT_EQ(natural_digest(KeySpec::ed25519()), std::nullopt);
}

TEST(EqualConstantTime, ComparesContentAndLength) {
    EXPECT_TRUE(equal_constant_time({1, 2, 3}, {1, 2, 3}));
    EXPECT_FALSE(equal_constant_time({1, 2, 3}, {1, 2, 4}));
    EXPECT_FALSE(equal_constant_time({1, 2, 3}, {1, 2}));
}

}  // namespace
}  // namespace certdock::crypto
