#include "crypto/csr.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/must.hpp"

namespace certdock::crypto {
namespace {

using test::must;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

const PrivateKey& p256_key() {
    static const PrivateKey key = must(PrivateKey::generate(KeySpec::ecdsa(Curve::kP256)));
    return key;
}

int signature_nid(const Csr& csr) {
    return X509_REQ_get_signature_nid(csr.get());
}

CsrOptions names(std::vector<std::string> dns, std::vector<std::string> ips = {}) {
    CsrOptions options;
    options.dns_names = std::move(dns);
    options.ip_addresses = std::move(ips);
    return options;
}

TEST(Csr, EcdsaP256WithDnsAndIpNamesRoundTrips) {
    auto created = must(Csr::create(
        p256_key(), names({"example.com", "www.example.com"}, {"192.0.2.1", "2001:db8::1"})));
    auto csr = must(Csr::from_pem(created.to_pem()));
    EXPECT_EQ(csr.common_name(), "example.com");  // the first DNS name by default
    EXPECT_THAT(csr.dns_names(), ElementsAre("example.com", "www.example.com"));
    EXPECT_THAT(csr.ip_addresses(), ElementsAre("192.0.2.1", "2001:db8::1"));
    EXPECT_TRUE(csr.signature_valid());
    EXPECT_TRUE(csr.public_key().same_key(p256_key().public_key()));
    EXPECT_EQ(signature_nid(csr), NID_ecdsa_with_SHA256);
    EXPECT_EQ(must(Csr::from_der(csr.der())).der(), csr.der());
}

TEST(Csr, RsaUsesSha256UnlessAskedOtherwise) {
    auto key = must(PrivateKey::generate(KeySpec::rsa(2048)));
    auto csr = must(Csr::create(key, names({"rsa.example"})));
    EXPECT_TRUE(csr.signature_valid());
    EXPECT_EQ(signature_nid(csr), NID_sha256WithRSAEncryption);
    EXPECT_EQ(csr.public_key().describe(), "RSA 2048");

    CsrOptions options = names({"rsa.example"});
    options.digest = DigestAlgorithm::kSha384;
    csr = must(Csr::create(key, options));
    EXPECT_TRUE(csr.signature_valid());
    EXPECT_EQ(signature_nid(csr), NID_sha384WithRSAEncryption);
}

TEST(Csr, EcdsaP384SignsWithSha384) {
    auto key = must(PrivateKey::generate(KeySpec::ecdsa(Curve::kP384)));
    auto csr = must(Csr::create(key, names({"p384.example"})));
    EXPECT_TRUE(csr.signature_valid());
    EXPECT_EQ(signature_nid(csr), NID_ecdsa_with_SHA384);
}

TEST(Csr, Ed25519SignsWithoutSeparateDigest) {
    auto key = must(PrivateKey::generate(KeySpec::ed25519()));
    CsrOptions options = names({"ed.example"});
    options.digest = DigestAlgorithm::kSha256;  // meaningless for Ed25519, must not break it
    auto csr = must(Csr::create(key, options));
    auto parsed = must(Csr::from_pem(csr.to_pem()));
    EXPECT_TRUE(parsed.signature_valid());
    EXPECT_EQ(signature_nid(parsed), NID_ED25519);
    EXPECT_EQ(parsed.public_key().describe(), "Ed25519");
}

TEST(Csr, CommonNameRules) {
    std::string long_name = std::string(60, 'a') + ".example";  // 68 characters
    auto csr = must(Csr::create(p256_key(), names({long_name, "short.example"})));
    EXPECT_EQ(csr.common_name(), std::nullopt);  // too long for CN; SAN still carries it
    EXPECT_THAT(csr.dns_names(), ElementsAre(long_name, "short.example"));

    CsrOptions options = names({"a.example", "b.example"});
    options.common_name = "b.example";
    EXPECT_EQ(must(Csr::create(p256_key(), options)).common_name(), "b.example");

    options.common_name = "";
    EXPECT_EQ(must(Csr::create(p256_key(), options)).common_name(), std::nullopt);

    options.common_name = long_name;
    auto too_long = Csr::create(p256_key(), options);
    ASSERT_FALSE(too_long);
    EXPECT_THAT(too_long.error().describe(), HasSubstr("longer than 64"));
}

TEST(Csr, IpOnlyRequestHasNoCommonName) {
    auto csr = must(Csr::create(p256_key(), names({}, {"2001:db8::7"})));
    EXPECT_EQ(csr.common_name(), std::nullopt);
    EXPECT_TRUE(csr.dns_names().empty());
    EXPECT_THAT(csr.ip_addresses(), ElementsAre("2001:db8::7"));
}

TEST(Csr, RequestWithoutNamesIsRefused) {
    CsrOptions options;
    options.common_name = "example.com";  // a CN alone is not enough for ACME
    auto csr = Csr::create(p256_key(), options);
    ASSERT_FALSE(csr);
    EXPECT_EQ(csr.error().category(), ErrorCategory::kUsage);
    EXPECT_THAT(csr.error().describe(), HasSubstr("at least one DNS name or IP address"));
}

TEST(Csr, MalformedNamesAreRefusedWithTheOffendingText) {
    auto bad_ip = Csr::create(p256_key(), names({}, {"192.0.2.300"}));
    ASSERT_FALSE(bad_ip);
    EXPECT_THAT(bad_ip.error().describe(), HasSubstr("'192.0.2.300' is not an IPv4 or IPv6"));

    auto ip_as_dns = Csr::create(p256_key(), names({"192.0.2.1"}));
    ASSERT_FALSE(ip_as_dns);
    EXPECT_THAT(ip_as_dns.error().describe(), HasSubstr("'192.0.2.1' is an IP address"));

    EXPECT_FALSE(Csr::create(p256_key(), names({""})));
}

TEST(Csr, TamperedSignatureIsDetected) {
    auto csr = must(Csr::create(p256_key(), names({"example.com"})));
    Bytes der = csr.der();
    der.back() ^= 0x01;  // last octet of the ECDSA signature's s value
    auto tampered = must(Csr::from_der(der));
    EXPECT_FALSE(tampered.signature_valid());
}

TEST(Csr, CopiesAreIndependentAndEqual) {
    auto csr = must(Csr::create(p256_key(), names({"example.com"})));
    Csr copy = csr;
    EXPECT_NE(copy.get(), csr.get());
    EXPECT_EQ(copy.der(), csr.der());
}

TEST(CsrFromPem, CertificateWhereCsrExpected) {
    const char* kCertificate = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
    auto csr = Csr::from_pem(kCertificate);
    ASSERT_FALSE(csr);
    EXPECT_EQ(csr.error().category(), ErrorCategory::kInput);
    EXPECT_THAT(csr.error().describe(),
                HasSubstr("expected a certificate signing request (CSR), found a certificate"));
}

TEST(CsrFromPem, TruncatedAndTrailingDataAreErrors) {
    std::string pem = must(Csr::create(p256_key(), names({"example.com"}))).to_pem();
    pem.resize(pem.size() - 10);
    auto truncated = Csr::from_pem(pem);
    ASSERT_FALSE(truncated);
    EXPECT_THAT(truncated.error().describe(), HasSubstr("truncated"));

    Bytes der = must(Csr::create(p256_key(), names({"example.com"}))).der();
    der.push_back(0);
    EXPECT_FALSE(Csr::from_der(der));
}

}  // namespace
}  // namespace certdock::crypto
