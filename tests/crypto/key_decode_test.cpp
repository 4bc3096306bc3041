// PrivateKey::from_pem for each PEM label it reads directly, and the blocks it must leave to
// OpenSSL's generic reader: every result is checked against that reader's.
#include <gtest/gtest.h>
#include <openssl/pem.h>

#include <string>
#include <thread>
#include <vector>

#include "crypto/key.hpp"

namespace certdock::crypto {
namespace {

// The key OpenSSL's generic PEM reader makes of the same text.
PKeyPtr read_with_openssl(const std::string& pem) {
    BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    return PKeyPtr(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
}

std::string pem_of(const PrivateKey& key, PemFormat format, const char* label) {
    auto pem = key.to_pem(format);
    EXPECT_TRUE(pem) << pem.error().describe();
    EXPECT_NE(pem->find(std::string("-----BEGIN ") + label + "-----"), std::string::npos);
    return *pem;
}

struct LabelCase {
    const char* name = "";
    KeySpec spec{};
    PemFormat format = PemFormat::kPkcs8;
    const char* label = "";
};

class PlainKeyLabels : public ::testing::TestWithParam<LabelCase> {};

TEST_P(PlainKeyLabels, ReadTheSameKeyAsOpenSsl) {
    const LabelCase& c = GetParam();
    auto key = PrivateKey::generate(c.spec);
    ASSERT_TRUE(key) << key.error().describe();
    std::string pem = pem_of(*key, c.format, c.label);

    auto loaded = PrivateKey::from_pem(pem);
    ASSERT_TRUE(loaded) << loaded.error().describe();
    EXPECT_EQ(loaded->spec(), c.spec);
    EXPECT_EQ(EVP_PKEY_eq(loaded->get(), key->get()), 1);
    PKeyPtr reference = read_with_openssl(pem);
    ASSERT_TRUE(reference);
    EXPECT_EQ(EVP_PKEY_eq(loaded->get(), reference.get()), 1);
    // The private half came through too: the re-encoded key is byte for byte the same.
    EXPECT_EQ(*loaded->to_pem(c.format), pem);
}

INSTANTIATE_TEST_SUITE_P(
    EachLabel, PlainKeyLabels,
    ::testing::Values(
        LabelCase{"Sec1EcP256", KeySpec::ecdsa(Curve::kP256), PemFormat::kTraditional,
                  "EC PRIVATE KEY"},
        LabelCase{"Sec1EcP384", KeySpec::ecdsa(Curve::kP384), PemFormat::kTraditional,
                  "EC PRIVATE KEY"},
        LabelCase{"Pkcs8EcP256", KeySpec::ecdsa(Curve::kP256), PemFormat::kPkcs8, "PRIVATE KEY"},
        LabelCase{"Pkcs1Rsa2048", KeySpec::rsa(2048), PemFormat::kTraditional, "RSA PRIVATE KEY"},
        LabelCase{"Pkcs8Rsa2048", KeySpec::rsa(2048), PemFormat::kPkcs8, "PRIVATE KEY"},
        LabelCase{"Pkcs8Ed25519", KeySpec::ed25519(), PemFormat::kPkcs8, "PRIVATE KEY"}),
    [](const ::testing::TestParamInfo<LabelCase>& param) { return std::string(param.param.name); });

TEST(PrivateKeyDecoding, EncryptedPkcs8StillAsksForThePassphrase) {
    auto key = PrivateKey::generate(KeySpec::rsa(2048));
    auto pem = key->to_pem(PemFormat::kPkcs8, std::string("correct horse"));
    ASSERT_TRUE(pem);
    auto loaded = PrivateKey::from_pem(*pem);
    ASSERT_FALSE(loaded);
    EXPECT_EQ(loaded.error().category(), ErrorCategory::kInput);
    EXPECT_EQ(loaded.error().message(),
              "the private key is encrypted: give its passphrase in a file (--passphrase-file)");
}

TEST(PrivateKeyDecoding, EncryptedTraditionalKeyIsNotTakenForAPlainOne) {
    // "EC PRIVATE KEY" with Proc-Type and DEK-Info headers: the label alone would send it
    // the fast way; it must fail as before, not decode garbage.
    auto key = PrivateKey::generate(KeySpec::ecdsa(Curve::kP256));
    BioPtr bio(BIO_new(BIO_s_mem()));
    std::string passphrase = "correct horse";
    ASSERT_EQ(
        PEM_write_bio_PrivateKey_traditional(bio.get(), key->get(), EVP_aes_128_cbc(),
                                             reinterpret_cast<unsigned char*>(passphrase.data()),
                                             static_cast<int>(passphrase.size()), nullptr, nullptr),
        1);
    char* data = nullptr;
    long size = BIO_get_mem_data(bio.get(), &data);
    std::string pem(data, static_cast<size_t>(size));
    ASSERT_NE(pem.find("Proc-Type: 4,ENCRYPTED"), std::string::npos);

    auto loaded = PrivateKey::from_pem(pem);
    ASSERT_FALSE(loaded);
    EXPECT_EQ(loaded.error().category(), ErrorCategory::kInput);
    EXPECT_NE(loaded.error().message().find("cannot parse the EC PRIVATE KEY block"),
              std::string::npos);
}

TEST(PrivateKeyDecoding, TruncatedTraditionalPemSaysSo) {
    auto key = PrivateKey::generate(KeySpec::rsa(2048));
    std::string pem = pem_of(*key, PemFormat::kTraditional, "RSA PRIVATE KEY");
    auto loaded = PrivateKey::from_pem(pem.substr(0, pem.size() / 2));
    ASSERT_FALSE(loaded);
    EXPECT_EQ(loaded.error().category(), ErrorCategory::kInput);
    EXPECT_NE(loaded.error().message().find("truncated"), std::string::npos);
}

TEST(PrivateKeyDecoding, ABodyCutShortIsAnInputError) {
    auto key = PrivateKey::generate(KeySpec::ecdsa(Curve::kP256));
    std::string pem = pem_of(*key, PemFormat::kTraditional, "EC PRIVATE KEY");
    // Keep the BEGIN line and the first body line, then END: valid base64, DER cut short.
    size_t second_line = pem.find('\n', pem.find('\n') + 1);
    std::string cut = pem.substr(0, second_line + 1) + "-----END EC PRIVATE KEY-----\n";
    auto loaded = PrivateKey::from_pem(cut);
    ASSERT_FALSE(loaded);
    EXPECT_EQ(loaded.error().category(), ErrorCategory::kInput);
    EXPECT_NE(loaded.error().message().find("cannot parse the EC PRIVATE KEY block"),
              std::string::npos);
}

// "EC PRIVATE KEY" around an RSA key's PKCS#1 body.
std::string mislabelled_rsa(const PrivateKey& rsa) {
    std::string pem = pem_of(rsa, PemFormat::kTraditional, "RSA PRIVATE KEY");
    for (size_t at = pem.find("RSA PRIVATE KEY"); at != std::string::npos;
         at = pem.find("RSA PRIVATE KEY")) {
        pem.replace(at, 3, "EC");
    }
    return pem;
}

TEST(PrivateKeyDecoding, ALabelThatLiesIsAnErrorNotACrash) {
    auto rsa = PrivateKey::generate(KeySpec::rsa(2048));
    auto loaded = PrivateKey::from_pem(mislabelled_rsa(*rsa));
    ASSERT_FALSE(loaded);
    EXPECT_EQ(loaded.error().category(), ErrorCategory::kInput);
    EXPECT_NE(loaded.error().message().find("cannot parse the EC PRIVATE KEY block"),
              std::string::npos);
}

TEST(PrivateKeyDecoding, DecodesInTurnNeverHandBackAnEarlierKey) {
    // The decoders are reused: a failure between two reads of the same kind must neither
    // succeed with the previous key nor disturb the next read.
    auto first = PrivateKey::generate(KeySpec::ecdsa(Curve::kP256));
    auto second = PrivateKey::generate(KeySpec::ecdsa(Curve::kP256));
    auto rsa = PrivateKey::generate(KeySpec::rsa(2048));
    std::string bad = mislabelled_rsa(*rsa);
    for (PemFormat format : {PemFormat::kTraditional, PemFormat::kPkcs8}) {
        for (int round = 0; round < 3; ++round) {
            auto a = PrivateKey::from_pem(*first->to_pem(format));
            ASSERT_TRUE(a) << a.error().describe();
            EXPECT_EQ(EVP_PKEY_eq(a->get(), first->get()), 1);
            EXPECT_FALSE(PrivateKey::from_pem(bad));
            auto b = PrivateKey::from_pem(*second->to_pem(format));
            ASSERT_TRUE(b) << b.error().describe();
            EXPECT_EQ(EVP_PKEY_eq(b->get(), second->get()), 1);
            EXPECT_NE(EVP_PKEY_eq(a->get(), b->get()), 1);
        }
    }
}

TEST(PrivateKeyDecoding, ThreadsDecodeIndependently) {
    std::vector<PrivateKey> keys;
    std::vector<std::string> pems;
    for (int i = 0; i < 4; ++i) {
        keys.push_back(*PrivateKey::generate(KeySpec::ecdsa(Curve::kP256)));
        pems.push_back(*keys.back().to_pem(i % 2 ? PemFormat::kPkcs8 : PemFormat::kTraditional));
    }
    std::vector<int> matches(keys.size(), 0);
    std::vector<std::thread> threads;
    for (size_t t = 0; t < keys.size(); ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < 50; ++i) {
                auto loaded = PrivateKey::from_pem(pems[t]);
                if (loaded && EVP_PKEY_eq(loaded->get(), keys[t].get()) == 1) ++matches[t];
            }
        });
    }
    for (auto& thread : threads) thread.join();
    for (int count : matches) EXPECT_EQ(count, 50);
}

}  // namespace
}  // namespace certdock::crypto
