#include "challenge/tls_alpn01_standalone.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "challenge/loopback.hpp"
#include "crypto/digest.hpp"
#include "crypto/ossl_ptr.hpp"

namespace certdock::challenge {
namespace {

using test::tls_probe;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// ALPN wire format: each name preceded by its length.
constexpr std::string_view kAcmeTlsOnly =
    "\x0a"
    "acme-tls/1";
constexpr std::string_view kHttpThenAcmeTls =
    "\x02h2\x08http/1.1\x0a"
    "acme-tls/1";
constexpr std::string_view kHttpOnly = "\x02h2\x08http/1.1";

ChallengeTask task_for(const std::string& identifier, const std::string& token) {
    ChallengeTask task;
    task.type = ChallengeType::kTlsAlpn01;
    task.identifier = identifier;
    task.token = token;
    task.key_authorization = token + ".nP1qzpXGymHBrUEepNY9HCsQk7K8KhOypzEt62jcerQ";
    return task;
}

struct AcmeIdentifier {
    bool critical = false;
    Bytes value;  // the OCTET STRING inside extnValue
};

std::optional<AcmeIdentifier> acme_identifier_of(const crypto::Certificate& cert) {
    crypto::Asn1ObjectPtr oid(OBJ_txt2obj(std::string(kAcmeIdentifierOid).c_str(), 1));
    int index = X509_get_ext_by_OBJ(cert.get(), oid.get(), -1);
    if (index < 0) return std::nullopt;
    X509_EXTENSION* extension = X509_get_ext(cert.get(), index);
    const ASN1_OCTET_STRING* der = X509_EXTENSION_get_data(extension);
    const unsigned char* cursor = ASN1_STRING_get0_data(der);
    crypto::Asn1OctetStringPtr inner(
        d2i_ASN1_OCTET_STRING(nullptr, &cursor, ASN1_STRING_length(der)));
    if (!inner || cursor != ASN1_STRING_get0_data(der) + ASN1_STRING_length(der)) {
        return std::nullopt;
    }
    const unsigned char* bytes = ASN1_STRING_get0_data(inner.get());
    return AcmeIdentifier{X509_EXTENSION_get_critical(extension) == 1,
                          Bytes(bytes, bytes + ASN1_STRING_length(inner.get()))};
}

int alt_name_count(const crypto::Certificate& cert) {
    crypto::GeneralNamesPtr names(static_cast<GENERAL_NAMES*>(
        X509_get_ext_d2i(cert.get(), NID_subject_alt_name, nullptr, nullptr)));
    return names ? sk_GENERAL_NAME_num(names.get()) : 0;
}

TlsAlpn01StandaloneOptions loopback_options() {
    TlsAlpn01StandaloneOptions options;
    options.address = "127.0.0.1";
    options.port = 0;
    return options;
}

class TlsAlpn01StandaloneTest : public ::testing::Test {
protected:
    void SetUp() override {
        Status started = solver_.start();
        ASSERT_TRUE(started) << started.error().describe();
        ASSERT_NE(solver_.port(), 0);
    }

    TlsAlpn01Standalone solver_{loopback_options()};
    ChallengeTask task_ = task_for("example.com", "LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0");
};

TEST_F(TlsAlpn01StandaloneTest, ServesValidationCertificateForTheName) {
    ASSERT_TRUE(solver_.present(task_));
    auto probe = tls_probe(solver_.port(), "example.com", kAcmeTlsOnly);
    ASSERT_TRUE(probe.handshake_ok) << probe.error;
    EXPECT_EQ(probe.alpn, "acme-tls/1");
    ASSERT_TRUE(probe.peer.has_value());
    const crypto::Certificate& cert = *probe.peer;

    EXPECT_THAT(cert.dns_names(), ElementsAre("example.com"));
    EXPECT_TRUE(cert.ip_addresses().empty());
    EXPECT_EQ(alt_name_count(cert), 1);
    auto identifier = acme_identifier_of(cert);
    ASSERT_TRUE(identifier.has_value());
    EXPECT_TRUE(identifier->critical);
    EXPECT_EQ(identifier->value, crypto::sha256(task_.key_authorization));
    EXPECT_TRUE(cert.is_self_signed());
    EXPECT_EQ(cert.public_key().spec(), crypto::KeySpec::ecdsa(crypto::Curve::kP256));
    EXPECT_LT(cert.not_before(), std::chrono::system_clock::now());
    EXPECT_GT(cert.not_after(), std::chrono::system_clock::now());
}

TEST_F(TlsAlpn01StandaloneTest, PicksAcmeTlsAmongOtherProtocols) {
    ASSERT_TRUE(solver_.present(task_));
    auto probe = tls_probe(solver_.port(), "EXAMPLE.com", kHttpThenAcmeTls);
    ASSERT_TRUE(probe.handshake_ok) << probe.error;
    EXPECT_EQ(probe.alpn, "acme-tls/1");
}

TEST_F(TlsAlpn01StandaloneTest, RefusesClientsWithoutAcmeTls) {
    ASSERT_TRUE(solver_.present(task_));
    auto no_alpn = tls_probe(solver_.port(), "example.com", "");
    EXPECT_FALSE(no_alpn.handshake_ok);
    EXPECT_THAT(no_alpn.error, HasSubstr("no application protocol"));
    EXPECT_FALSE(no_alpn.peer.has_value());

    auto http_only = tls_probe(solver_.port(), "example.com", kHttpOnly);
    EXPECT_FALSE(http_only.handshake_ok);
    EXPECT_THAT(http_only.error, HasSubstr("no application protocol"));
}

TEST_F(TlsAlpn01StandaloneTest, RefusesUnknownAndCleanedUpNames) {
    ASSERT_TRUE(solver_.present(task_));
    auto unknown = tls_probe(solver_.port(), "other.example.com", kAcmeTlsOnly);
    EXPECT_FALSE(unknown.handshake_ok);
    EXPECT_THAT(unknown.error, HasSubstr("unrecognized name"));

    ASSERT_TRUE(solver_.cleanup(task_));
    auto cleaned = tls_probe(solver_.port(), "example.com", kAcmeTlsOnly);
    EXPECT_FALSE(cleaned.handshake_ok);
    EXPECT_THAT(cleaned.error, HasSubstr("unrecognized name"));
}

TEST_F(TlsAlpn01StandaloneTest, ServesSeveralTasksAtOnce) {
    ChallengeTask www = task_for("www.example.com", "9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI");
    ASSERT_TRUE(solver_.present(task_));
    ASSERT_TRUE(solver_.present(www));

    for (const ChallengeTask* task : {&task_, &www}) {
        auto probe = tls_probe(solver_.port(), task->identifier, kAcmeTlsOnly);
        ASSERT_TRUE(probe.handshake_ok) << task->identifier << ": " << probe.error;
        EXPECT_THAT(probe.peer->dns_names(), ElementsAre(task->identifier));
        EXPECT_EQ(acme_identifier_of(*probe.peer)->value, crypto::sha256(task->key_authorization));
    }
    ASSERT_TRUE(solver_.cleanup(task_));
    EXPECT_TRUE(tls_probe(solver_.port(), "www.example.com", kAcmeTlsOnly).handshake_ok);
}

TEST_F(TlsAlpn01StandaloneTest, IpIdentifierUsesReverseNameAndIpSan) {
    ChallengeTask ip = task_for("192.0.2.1", "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA");
    ip.identifier_type = "ip";
    ASSERT_TRUE(solver_.present(ip));
    auto probe = tls_probe(solver_.port(), "1.2.0.192.in-addr.arpa", kAcmeTlsOnly);
    ASSERT_TRUE(probe.handshake_ok) << probe.error;
    EXPECT_THAT(probe.peer->ip_addresses(), ElementsAre("192.0.2.1"));
    EXPECT_TRUE(probe.peer->dns_names().empty());
    EXPECT_EQ(alt_name_count(*probe.peer), 1);
    EXPECT_EQ(acme_identifier_of(*probe.peer)->value, crypto::sha256(ip.key_authorization));
}

TEST(TlsAlpn01ServerName, MapsIdentifiersToSni) {
    ChallengeTask task = task_for("Example.COM", "t");
    EXPECT_EQ(tls_alpn01_server_name(task).value(), "example.com");
    task.identifier_type = "ip";
    task.identifier = "192.0.2.1";
    EXPECT_EQ(tls_alpn01_server_name(task).value(), "1.2.0.192.in-addr.arpa");
    task.identifier = "2001:db8::1";
    EXPECT_EQ(tls_alpn01_server_name(task).value(),
              "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa");
    task.identifier = "not-an-ip";
    EXPECT_FALSE(tls_alpn01_server_name(task));
}

TEST(TlsAlpn01Standalone, Ipv6IdentifierGetsIpSan) {
    ChallengeTask task = task_for("2001:db8::1", "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA");
    task.identifier_type = "ip";
    auto served = make_tls_alpn01_certificate(task);
    ASSERT_TRUE(served) << served.error().describe();
    EXPECT_THAT(served->certificate.ip_addresses(), ElementsAre("2001:db8::1"));
    EXPECT_EQ(alt_name_count(served->certificate), 1);
    ASSERT_TRUE(crypto::check_key_matches(served->key, served->certificate));
}

TEST(TlsAlpn01Standalone, RefusesWildcards) {
    TlsAlpn01Standalone solver(loopback_options());
    ChallengeTask task = task_for("example.com", "LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0");
    task.wildcard = true;
    Status presented = solver.present(task);
    ASSERT_FALSE(presented);
    EXPECT_THAT(presented.error().describe(), HasSubstr("wildcard"));
}

TEST(TlsAlpn01Standalone, PresentStartsTheServerAndDestructorStopsIt) {
    std::uint16_t port = 0;
    {
        TlsAlpn01Standalone solver(loopback_options());
        ASSERT_TRUE(
            solver.present(task_for("example.com", "LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0")));
        port = solver.port();
        ASSERT_NE(port, 0);
        EXPECT_TRUE(tls_probe(port, "example.com", kAcmeTlsOnly).handshake_ok);
    }
    EXPECT_FALSE(test::connect_loopback(port).valid());
}

TEST(TlsAlpn01Standalone, PortInUseNamesAddressAndFix) {
    std::uint16_t port = 0;
    test::Socket busy = test::listen_loopback(port);
    ASSERT_TRUE(busy.valid());
    TlsAlpn01StandaloneOptions options = loopback_options();
    options.port = port;
    TlsAlpn01Standalone solver(options);
    Status started = solver.start();
    ASSERT_FALSE(started);
    EXPECT_EQ(started.error().category(), ErrorCategory::kIo);
    EXPECT_THAT(started.error().describe(), HasSubstr("127.0.0.1:" + std::to_string(port)));
    EXPECT_THAT(started.error().describe(), HasSubstr("tls-alpn-01 responder"));
    EXPECT_THAT(started.error().describe(), HasSubstr("in use"));
}

TEST(TlsAlpn01Standalone, HandshakeTimeoutClosesSilentClients) {
    TlsAlpn01StandaloneOptions options = loopback_options();
    options.handshake_timeout = std::chrono::milliseconds(200);
    TlsAlpn01Standalone solver(options);
    ASSERT_TRUE(solver.start());
    test::Socket silent = test::connect_loopback(solver.port());
    ASSERT_TRUE(silent.valid());
    auto started = std::chrono::steady_clock::now();
    EXPECT_EQ(test::read_until_close(silent), "");
    EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(3));
}

}  // namespace
}  // namespace certdock::challenge
