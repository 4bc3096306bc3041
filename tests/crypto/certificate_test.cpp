#include "crypto/certificate.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <array>

#include "crypto/digest.hpp"
#include "support/must.hpp"
#include "support/test_pki.hpp"

namespace certdock::crypto {
namespace {

using test::must;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using namespace std::chrono_literals;

// One hierarchy for the whole file: key generation dominates the run time.
const test::TestPki& pki() {
    static const test::TestPki instance = must(test::make_test_pki());
    return instance;
}

std::string error_text(const Status& status) {
    return status ? std::string("(no error)") : status.error().describe();
}

template <typename T>
std::string error_text(const Result<T>& result) {
    return result ? std::string("(no error)") : result.error().describe();
}

TEST(Certificate, ReadsNamesAndAddressesFromPem) {
    test::CertSpec spec;
    spec.common_name = "example.com";
    spec.dns_names = {"example.com", "*.example.com"};
    spec.ip_addresses = {"192.0.2.1", "2001:db8:0:0::1"};
    auto issued = must(pki().intermediate.issue(spec));

    auto cert = must(Certificate::from_pem(issued.certificate.to_pem()));
    EXPECT_EQ(cert.subject(), "CN=example.com");
    EXPECT_EQ(cert.issuer(), "CN=certdock Test Intermediate");
    EXPECT_EQ(cert.common_name(), "example.com");
    EXPECT_THAT(cert.dns_names(), ElementsAre("example.com", "*.example.com"));
    EXPECT_THAT(cert.ip_addresses(), ElementsAre("192.0.2.1", "2001:db8::1"));
}

TEST(Certificate, WithoutSubjectOrSanHasNoNames) {
    test::CertSpec spec;  // no CN, no SAN
    auto issued = must(pki().intermediate.issue(spec));
    EXPECT_EQ(issued.certificate.subject(), "");
    EXPECT_EQ(issued.certificate.common_name(), std::nullopt);
    EXPECT_TRUE(issued.certificate.dns_names().empty());
    EXPECT_TRUE(issued.certificate.ip_addresses().empty());
}

TEST(Certificate, DerRoundTripAndFingerprint) {
    const Certificate& leaf = pki().leaf.certificate;
    Bytes der = leaf.der();
    auto parsed = must(Certificate::from_der(der));
    EXPECT_EQ(parsed.der(), der);

    std::array<unsigned char, EVP_MAX_MD_SIZE> expected{};
    unsigned int length = 0;
    ASSERT_EQ(X509_digest(leaf.get(), EVP_sha256(), expected.data(), &length), 1);
    EXPECT_EQ(leaf.sha256_fingerprint(), Bytes(expected.data(), expected.data() + length));
    EXPECT_EQ(leaf.sha256_fingerprint().size(), 32u);
}

TEST(Certificate, DerWithTrailingBytesIsRejected) {
    Bytes der = pki().leaf.certificate.der();
    der.push_back(0);
    auto parsed = Certificate::from_der(der);
    ASSERT_FALSE(parsed);
    EXPECT_EQ(parsed.error().category(), ErrorCategory::kInput);
    EXPECT_FALSE(Certificate::from_der(Bytes{0x30, 0x03, 0x02, 0x01, 0x01}));
}

TEST(Certificate, SerialWithHighBitKeepsLeadingZeroOctet) {
    test::CertSpec spec;
    spec.serial = Bytes{0x87, 0x65, 0x43, 0x21};
    auto cert = must(pki().intermediate.issue(spec)).certificate;
    EXPECT_EQ(cert.serial_der_content(), (Bytes{0x00, 0x87, 0x65, 0x43, 0x21}));
    EXPECT_EQ(cert.serial_hex(), "87654321");

    spec.serial = Bytes{0x01, 0xab};
    cert = must(pki().intermediate.issue(spec)).certificate;
    EXPECT_EQ(cert.serial_der_content(), (Bytes{0x01, 0xab}));
    EXPECT_EQ(cert.serial_hex(), "01ab");
}

TEST(Certificate, LongSerialUsesLongFormLengthCorrectly) {
    test::CertSpec spec;
    spec.serial = Bytes(20, 0xff);  // the RFC 5280 maximum, high bit set: 21 content octets
    auto cert = must(pki().intermediate.issue(spec)).certificate;
    Bytes expected(21, 0xff);
    expected[0] = 0x00;
    EXPECT_EQ(cert.serial_der_content(), expected);
    EXPECT_EQ(cert.serial_hex(), std::string(40, 'f'));
}

// RFC 9773 §4.1: AKI keyIdentifier 69:88:5B:...:D4 and serial 0x0087654321 give this certID.
TEST(AriCertId, MatchesRfc9773WorkedExample) {
    test::CertSpec spec;
    spec.authority_key_id = Bytes{0x69, 0x88, 0x5b, 0x6b, 0x87, 0x46, 0x40, 0x41, 0xe1, 0xb3,
                                  0x7b, 0x84, 0x7b, 0xa0, 0xae, 0x2c, 0xde, 0x01, 0xc8, 0xd4};
    spec.serial = Bytes{0x87, 0x65, 0x43, 0x21};
    auto cert = must(pki().intermediate.issue(spec)).certificate;
    EXPECT_EQ(must(ari_cert_id(cert)), "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE");
}

TEST(AriCertId, FailsClearlyWithoutAuthorityKeyIdentifier) {
    test::CertSpec spec;
    spec.common_name = "no-aki.example";
    spec.authority_key_id = Bytes{};
    auto cert = must(pki().intermediate.issue(spec)).certificate;
    EXPECT_EQ(cert.authority_key_id(), std::nullopt);
    auto id = ari_cert_id(cert);
    ASSERT_FALSE(id);
    EXPECT_THAT(id.error().describe(), HasSubstr("no Authority Key Identifier"));
    EXPECT_THAT(id.error().describe(), HasSubstr("CN=no-aki.example"));
}

TEST(Certificate, ValidityMatchesWhatWasSigned) {
    auto start = std::chrono::system_clock::from_time_t(1'700'000'000);
    test::CertSpec spec;
    spec.not_before = start;
    spec.not_after = start + 24h * 90;
    auto cert = must(pki().intermediate.issue(spec)).certificate;
    EXPECT_EQ(cert.not_before(), start);
    EXPECT_EQ(cert.not_after(), start + 24h * 90);
    // Past 2049 X.509 switches from UTCTime to GeneralizedTime.
    spec.not_after = std::chrono::system_clock::from_time_t(2'600'000'000);
    cert = must(pki().intermediate.issue(spec)).certificate;
    EXPECT_EQ(cert.not_after(), std::chrono::system_clock::from_time_t(2'600'000'000));
}

TEST(Certificate, KeyIdentifiersAndCaFlags) {
    const auto& root = pki().root.certificate();
    const auto& intermediate = pki().intermediate.certificate();
    const auto& leaf = pki().leaf.certificate;

    ASSERT_TRUE(intermediate.subject_key_id());
    EXPECT_EQ(leaf.authority_key_id(), intermediate.subject_key_id());
    EXPECT_EQ(intermediate.authority_key_id(), root.subject_key_id());
    EXPECT_EQ(leaf.subject_key_id()->size(), 20u);  // SHA-1

    EXPECT_TRUE(root.is_ca());
    EXPECT_TRUE(root.is_self_signed());
    EXPECT_TRUE(intermediate.is_ca());
    EXPECT_FALSE(intermediate.is_self_signed());
    EXPECT_FALSE(leaf.is_ca());
    EXPECT_FALSE(leaf.is_self_signed());
}

TEST(Certificate, PublicKeyIsTheSubjectsKey) {
    EXPECT_TRUE(pki().leaf.certificate.public_key().same_key(pki().leaf.key.public_key()));
    EXPECT_FALSE(
        pki().leaf.certificate.public_key().same_key(pki().intermediate.key().public_key()));
    EXPECT_EQ(pki().leaf.certificate.public_key().describe(), "ECDSA P-256");
}

TEST(ParseCertificates, ReadsAChainInOrderSkippingOtherBlocks) {
    std::string pem = pki().leaf.certificate.to_pem() + must(pki().leaf.key.to_pem()) +
                      "some comment between blocks\n" + pki().intermediate.certificate().to_pem();
    auto certs = must(parse_certificates(pem));
    ASSERT_EQ(certs.size(), 2u);
    EXPECT_EQ(certs[0].subject(), "CN=example.com");
    EXPECT_EQ(certs[1].subject(), "CN=certdock Test Intermediate");
}

TEST(ParseCertificates, TruncatedBlockIsAnError) {
    std::string pem = pki().leaf.certificate.to_pem() + pki().intermediate.certificate().to_pem();
    pem.resize(pem.size() - 40);  // the second block loses its END line
    auto certs = parse_certificates(pem);
    ASSERT_FALSE(certs);
    EXPECT_EQ(certs.error().category(), ErrorCategory::kInput);
    EXPECT_THAT(certs.error().describe(), HasSubstr("truncated"));
}

TEST(CertificateFromPem, TruncatedPemSaysSo) {
    std::string pem = pki().leaf.certificate.to_pem();
    pem.resize(pem.size() / 2);
    auto cert = Certificate::from_pem(pem);
    ASSERT_FALSE(cert);
    EXPECT_THAT(cert.error().describe(), HasSubstr("'CERTIFICATE'"));
    EXPECT_THAT(cert.error().describe(), HasSubstr("truncated"));
}

TEST(CertificateFromPem, PrivateKeyWhereCertificateExpected) {
    auto cert = Certificate::from_pem(must(pki().leaf.key.to_pem()));
    ASSERT_FALSE(cert);
    EXPECT_EQ(cert.error().category(), ErrorCategory::kInput);
    EXPECT_THAT(cert.error().describe(), HasSubstr("expected a certificate, found a private key"));
}

TEST(CertificateFromPem, EmptyAndCorruptInput) {
    auto empty = Certificate::from_pem("");
    ASSERT_FALSE(empty);
    EXPECT_THAT(empty.error().describe(), HasSubstr("no PEM data"));

    auto corrupt = Certificate::from_pem(
        "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n");
    ASSERT_FALSE(corrupt);
    EXPECT_EQ(corrupt.error().category(), ErrorCategory::kInput);
    EXPECT_THAT(corrupt.error().describe(), HasSubstr("cannot parse certificate"));
}

TEST(CheckKeyMatches, AcceptsTheRightKey) {
    EXPECT_TRUE(check_key_matches(pki().leaf.key, pki().leaf.certificate))
        << error_text(check_key_matches(pki().leaf.key, pki().leaf.certificate));
}

TEST(CheckKeyMatches, MismatchNamesBothKeys) {
    auto other = must(PrivateKey::generate(KeySpec::ecdsa(Curve::kP384)));
    auto status = check_key_matches(other, pki().leaf.certificate);
    ASSERT_FALSE(status);
    EXPECT_EQ(status.error().category(), ErrorCategory::kInput);
    std::string text = status.error().describe();
    EXPECT_THAT(text,
                HasSubstr("private key ECDSA P-384 sha256/" + other.public_key().pin_sha256()));
    EXPECT_THAT(text, HasSubstr("certificate's key ECDSA P-256 sha256/" +
                                pki().leaf.certificate.public_key().pin_sha256()));
}

TEST(CheckChainOrder, AcceptsLeafToRoot) {
    std::vector<Certificate> chain{pki().leaf.certificate, pki().intermediate.certificate(),
                                   pki().root.certificate()};
    EXPECT_TRUE(check_chain_order(chain)) << error_text(check_chain_order(chain));
    EXPECT_TRUE(check_chain_order({pki().leaf.certificate}));
}

TEST(CheckChainOrder, ReversedChainNamesThePositionAndSubjects) {
    std::vector<Certificate> chain{pki().root.certificate(), pki().intermediate.certificate(),
                                   pki().leaf.certificate};
    auto status = check_chain_order(chain);
    ASSERT_FALSE(status);
    std::string text = status.error().describe();
    EXPECT_THAT(text, HasSubstr("certificate 1 of 3"));
    EXPECT_THAT(text, HasSubstr("CN=certdock Test Root"));
    EXPECT_THAT(text, HasSubstr("CN=certdock Test Intermediate"));
    EXPECT_THAT(text, HasSubstr("reversed"));
}

TEST(CheckChainOrder, IssuerWithSameNameButOtherKeyIsRejected) {
    auto impostor = must(pki().root.create_intermediate("certdock Test Intermediate"));
    auto status = check_chain_order({pki().leaf.certificate, impostor.certificate()});
    ASSERT_FALSE(status);
    std::string text = status.error().describe();
    EXPECT_THAT(text, HasSubstr("certificate 1 of 2 (subject CN=example.com, issuer "
                                "CN=certdock Test Intermediate) is not issued by certificate 2 "
                                "of 2 (subject CN=certdock Test Intermediate"));
    EXPECT_THAT(text, HasSubstr("Authority Key Identifier names another key"));

    // Without an AKI only the signature can tell the two issuers apart.
    test::CertSpec spec;
    spec.common_name = "no-aki.example";
    spec.authority_key_id = Bytes{};
    auto leaf = must(pki().intermediate.issue(spec)).certificate;
    EXPECT_TRUE(check_chain_order({leaf, pki().intermediate.certificate()}));
    status = check_chain_order({leaf, impostor.certificate()});
    ASSERT_FALSE(status);
    EXPECT_THAT(status.error().describe(), HasSubstr("the signature does not verify"));
}

TEST(VerifyChain, AcceptsAValidChainAndItsNames) {
    const auto& p = pki();
    std::vector<Certificate> intermediates{p.intermediate.certificate()};
    std::vector<Certificate> roots{p.root.certificate()};
    EXPECT_TRUE(verify_chain(p.leaf.certificate, intermediates, roots));
    VerifyOptions options;
    options.hostname = "www.example.com";
    auto status = verify_chain(p.leaf.certificate, intermediates, roots, options);
    EXPECT_TRUE(status) << error_text(status);
}

TEST(VerifyChain, ExpiredLeafReportsDepthAndSubject) {
    const auto& p = pki();
    VerifyOptions options;
    options.at = p.leaf.certificate.not_after() + 24h;
    auto status = verify_chain(p.leaf.certificate, {p.intermediate.certificate()},
                               {p.root.certificate()}, options);
    ASSERT_FALSE(status);
    std::string text = status.error().describe();
    EXPECT_THAT(text, HasSubstr("certificate has expired"));
    EXPECT_THAT(text, HasSubstr("depth 0"));
    EXPECT_THAT(text, HasSubstr("CN=example.com"));
}

TEST(VerifyChain, NotYetValidAtAnEarlierTime) {
    const auto& p = pki();
    VerifyOptions options;
    options.at = p.leaf.certificate.not_before() - 24h;
    auto status = verify_chain(p.leaf.certificate, {p.intermediate.certificate()},
                               {p.root.certificate()}, options);
    ASSERT_FALSE(status);
    EXPECT_THAT(status.error().describe(), HasSubstr("not yet valid"));
}

TEST(VerifyChain, WrongRootFailsAtTheIntermediate) {
    const auto& p = pki();
    auto other_root = must(test::TestCa::create_root("certdock Other Root"));
    auto status = verify_chain(p.leaf.certificate, {p.intermediate.certificate()},
                               {other_root.certificate()});
    ASSERT_FALSE(status);
    std::string text = status.error().describe();
    EXPECT_THAT(text, HasSubstr("unable to get local issuer certificate"));
    EXPECT_THAT(text, HasSubstr("depth 1"));
    EXPECT_THAT(text, HasSubstr("CN=certdock Test Intermediate"));
}

TEST(VerifyChain, HostnameMismatch) {
    const auto& p = pki();
    VerifyOptions options;
    options.hostname = "other.example";
    auto status = verify_chain(p.leaf.certificate, {p.intermediate.certificate()},
                               {p.root.certificate()}, options);
    ASSERT_FALSE(status);
    std::string text = status.error().describe();
    EXPECT_THAT(text, HasSubstr("hostname mismatch"));
    EXPECT_THAT(text, HasSubstr("depth 0"));
    EXPECT_THAT(text, HasSubstr("'other.example'"));
}

TEST(VerifyChain, IpAddressIsCheckedAgainstIpSans) {
    test::CertSpec spec;
    spec.ip_addresses = {"192.0.2.7"};
    auto issued = must(pki().intermediate.issue(spec));
    std::vector<Certificate> intermediates{pki().intermediate.certificate()};
    std::vector<Certificate> roots{pki().root.certificate()};
    VerifyOptions options;
    options.hostname = "192.0.2.7";
    auto status = verify_chain(issued.certificate, intermediates, roots, options);
    EXPECT_TRUE(status) << error_text(status);
    options.hostname = "192.0.2.8";
    status = verify_chain(issued.certificate, intermediates, roots, options);
    ASSERT_FALSE(status);
    EXPECT_THAT(status.error().describe(), HasSubstr("IP address mismatch"));
}

TEST(VerifyChain, MissingIntermediateFailsAtTheLeaf) {
    auto status = verify_chain(pki().leaf.certificate, {}, {pki().root.certificate()});
    ASSERT_FALSE(status);
    EXPECT_THAT(status.error().describe(), HasSubstr("depth 0"));
    EXPECT_THAT(error_text(verify_chain(pki().leaf.certificate, {}, {})),
                HasSubstr("no trusted root"));
}

}  // namespace
}  // namespace certdock::crypto
