#include "crypto/self_signed.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "crypto/bundle.hpp"
#include "support/must.hpp"
#include "support/test_pki.hpp"

namespace certdock::crypto {
namespace {

using namespace std::chrono_literals;
using test::must;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

const PrivateKey& p256_key() {
    static const PrivateKey key = must(PrivateKey::generate(KeySpec::ecdsa(Curve::kP256)));
    return key;
}

SelfSignedSpec site_spec() {
    SelfSignedSpec spec;
    spec.common_name = "site.example";
    spec.organization = "certdock bootstrap";
    spec.dns_names = {"site.example", "www.site.example"};
    spec.ip_addresses = {"192.0.2.7"};
    return spec;
}

// The extension's DER value as OpenSSL reads it back, or nothing when it is absent.
std::optional<Bytes> extension_value(const Certificate& cert, const std::string& oid,
                                     bool* critical) {
    Asn1ObjectPtr object(OBJ_txt2obj(oid.c_str(), 1));
    int index = X509_get_ext_by_OBJ(cert.get(), object.get(), -1);
    if (index < 0) return std::nullopt;
    X509_EXTENSION* extension = X509_get_ext(cert.get(), index);
    *critical = X509_EXTENSION_get_critical(extension) == 1;
    const ASN1_OCTET_STRING* data = X509_EXTENSION_get_data(extension);
    const unsigned char* bytes = ASN1_STRING_get0_data(data);
    return Bytes(bytes, bytes + ASN1_STRING_length(data));
}

TEST(SelfSigned, CarriesTheKeyNamesAndMarkGiven) {
    Certificate cert = must(make_self_signed(p256_key(), site_spec()));
    EXPECT_TRUE(cert.public_key().same_key(p256_key().public_key()));
    EXPECT_TRUE(cert.is_self_signed());
    EXPECT_EQ(cert.subject(), "CN=site.example,O=certdock bootstrap");
    EXPECT_EQ(cert.issuer(), cert.subject());
    EXPECT_THAT(cert.dns_names(), ElementsAre("site.example", "www.site.example"));
    EXPECT_THAT(cert.ip_addresses(), ElementsAre("192.0.2.7"));
    EXPECT_FALSE(cert.is_ca());
    EXPECT_TRUE(cert.subject_key_id());
    EXPECT_EQ(subject_organization(cert), "certdock bootstrap");
    EXPECT_TRUE(is_self_signed_with_organization(cert, "certdock bootstrap"));
    EXPECT_FALSE(is_self_signed_with_organization(cert, "someone else"));
    // What HAProxy loads: certificate then key, which must match.
    EXPECT_TRUE(check_key_matches(p256_key(), cert));
}

TEST(SelfSigned, ValidityIsBackdatedAnHourAndLastsTheLifetime) {
    SelfSignedSpec spec = site_spec();
    spec.lifetime = 24h * 3;
    auto before = std::chrono::system_clock::now();
    Certificate cert = must(make_self_signed(p256_key(), spec));
    auto after = std::chrono::system_clock::now();
    EXPECT_GE(cert.not_before(), std::chrono::floor<std::chrono::seconds>(before - 1h));
    EXPECT_LE(cert.not_before(), after - 1h);
    EXPECT_EQ(cert.not_after() - cert.not_before(), 24h * 3);
}

TEST(SelfSigned, ExplicitStartGivesAnAlreadyExpiredCertificate) {
    SelfSignedSpec spec = site_spec();
    spec.not_before = std::chrono::sys_days(std::chrono::year(2020) / 1 / 1);
    spec.lifetime = 24h;
    Certificate cert = must(make_self_signed(p256_key(), spec));
    EXPECT_EQ(cert.not_before(), *spec.not_before);
    EXPECT_EQ(cert.not_after(), *spec.not_before + 24h);
}

TEST(SelfSigned, EveryKeyTypeSignsAndServesInABundle) {
    for (KeySpec key_spec :
         {KeySpec::rsa(2048), KeySpec::ecdsa(Curve::kP384), KeySpec::ed25519()}) {
        PrivateKey key = must(PrivateKey::generate(key_spec));
        Certificate cert = must(make_self_signed(key, site_spec()));
        EXPECT_TRUE(cert.is_self_signed()) << key_spec.describe();
        auto bundle = build_haproxy_bundle({cert, {}, key, std::nullopt});
        ASSERT_TRUE(bundle) << key_spec.describe() << ": " << bundle.error().describe();
        EXPECT_EQ(bundle->find("\n\n"), std::string::npos);
    }
}

TEST(SelfSigned, SerialsArePositiveSixteenBytesAndDiffer) {
    Certificate first = must(make_self_signed(p256_key(), site_spec()));
    Certificate second = must(make_self_signed(p256_key(), site_spec()));
    EXPECT_EQ(first.serial_der_content().size(), 16u);
    EXPECT_LT(first.serial_der_content()[0], 0x80);
    EXPECT_NE(first.serial_hex(), second.serial_hex());
}

TEST(SelfSigned, RawExtensionIsAddedAsGiven) {
    SelfSignedSpec spec = site_spec();
    spec.server_extensions = false;
    spec.extra_extensions.push_back(
        {.oid = "1.3.6.1.5.5.7.1.31", .critical = true, .der_value = {0x04, 0x02, 0xab, 0xcd}});
    Certificate cert = must(make_self_signed(p256_key(), spec));
    bool critical = false;
    auto value = extension_value(cert, "1.3.6.1.5.5.7.1.31", &critical);
    ASSERT_TRUE(value);
    EXPECT_TRUE(critical);
    EXPECT_EQ(*value, (Bytes{0x04, 0x02, 0xab, 0xcd}));
    EXPECT_FALSE(extension_value(cert, "2.5.29.19", &critical)) << "no basicConstraints";
    EXPECT_FALSE(cert.subject_key_id());
}

TEST(SelfSigned, RefusesWhatCannotMakeAUsableCertificate) {
    SelfSignedSpec no_names = site_spec();
    no_names.dns_names.clear();
    no_names.ip_addresses.clear();
    auto nameless = make_self_signed(p256_key(), no_names);
    ASSERT_FALSE(nameless);
    EXPECT_EQ(nameless.error().category(), ErrorCategory::kUsage);
    EXPECT_THAT(nameless.error().message(), HasSubstr("at least one DNS name or IP address"));

    SelfSignedSpec ip_as_dns = site_spec();
    ip_as_dns.dns_names = {"192.0.2.1"};
    auto misfiled = make_self_signed(p256_key(), ip_as_dns);
    ASSERT_FALSE(misfiled);
    EXPECT_THAT(misfiled.error().message(), HasSubstr("is an IP address"));

    SelfSignedSpec zero = site_spec();
    zero.lifetime = 0s;
    EXPECT_FALSE(make_self_signed(p256_key(), zero));

    SelfSignedSpec bad_oid = site_spec();
    bad_oid.extra_extensions.push_back(
        {.oid = "acmeIdentifier", .critical = false, .der_value = {}});
    auto refused = make_self_signed(p256_key(), bad_oid);
    ASSERT_FALSE(refused);
    EXPECT_THAT(refused.error().message(), HasSubstr("dotted"));
}

TEST(SelfSigned, CertificatesFromACaAreNotTakenForPlaceholders) {
    test::TestPki pki = must(test::make_test_pki({"site.example"}));
    EXPECT_FALSE(subject_organization(pki.leaf.certificate));
    EXPECT_FALSE(is_self_signed_with_organization(pki.leaf.certificate, "certdock bootstrap"));
    // A root is self-signed but carries no such organization either.
    EXPECT_FALSE(is_self_signed_with_organization(pki.root.certificate(), "certdock bootstrap"));

    // The mark alone is not enough: the certificate's own key must have signed it.
    Certificate marked = must(make_self_signed(p256_key(), site_spec()));
    X509Ptr forged(X509_dup(marked.get()));
    PrivateKey other = must(PrivateKey::generate(KeySpec::ecdsa(Curve::kP256)));
    ASSERT_GT(X509_sign(forged.get(), other.get(), EVP_sha256()), 0);
    EXPECT_FALSE(
        is_self_signed_with_organization(Certificate(std::move(forged)), "certdock bootstrap"));
}

}  // namespace
}  // namespace certdock::crypto
