#include "challenge/tls_alpn01_certificate.hpp"

#include <arpa/inet.h>
#include <openssl/rand.h>

#include <array>
#include <cctype>
#include <chrono>

#include "challenge/task_check.hpp"
#include "crypto/digest.hpp"
#include "crypto/openssl_error.hpp"
#include "crypto/x509_util.hpp"

namespace certdock::challenge {
namespace {

using crypto::openssl_error;
using namespace std::chrono_literals;

constexpr auto kBackdate = 1h;  // clock skew at the CA
constexpr auto kLifetime = 24h * 7;
constexpr std::size_t kSerialBytes = 16;
constexpr std::string_view kSubjectCommonName = "certdock tls-alpn-01 challenge";

std::string lower(std::string text) {
    for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return text;
}

Status set_serial(X509* cert) {
    std::array<unsigned char, kSerialBytes> bytes{};
    if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
        return Unexpected(openssl_error("cannot draw a random serial"));
    }
    bytes[0] &= 0x7f;  // positive
    bytes[0] |= 0x40;  // and of full length
    crypto::BignumPtr number(BN_bin2bn(bytes.data(), static_cast<int>(bytes.size()), nullptr));
    if (!number || BN_to_ASN1_INTEGER(number.get(), X509_get_serialNumber(cert)) == nullptr) {
        return Unexpected(openssl_error("cannot set the serial number"));
    }
    return {};
}

Status set_names_and_validity(X509* cert) {
    X509_NAME* subject = X509_get_subject_name(cert);
    const auto* cn = reinterpret_cast<const unsigned char*>(kSubjectCommonName.data());
    auto now = std::chrono::system_clock::now();
    using std::chrono::system_clock;
    if (X509_NAME_add_entry_by_NID(subject, NID_commonName, MBSTRING_UTF8, cn,
                                   static_cast<int>(kSubjectCommonName.size()), -1, 0) != 1 ||
        X509_set_issuer_name(cert, subject) != 1 ||
        ASN1_TIME_set(X509_getm_notBefore(cert), system_clock::to_time_t(now - kBackdate)) ==
            nullptr ||
        ASN1_TIME_set(X509_getm_notAfter(cert), system_clock::to_time_t(now + kLifetime)) ==
            nullptr) {
        return Unexpected(openssl_error("cannot set the certificate's name and validity"));
    }
    return {};
}

Status add_alt_name(X509* cert, const ChallengeTask& task) {
    bool ip = task.identifier_type == "ip";
    std::vector<std::string> dns_names;
    std::vector<std::string> ip_addresses;
    (ip ? ip_addresses : dns_names).push_back(task.identifier);
    CERTDOCK_TRY(auto names, crypto::x509::make_alt_names(dns_names, ip_addresses));
    if (X509_add1_ext_i2d(cert, NID_subject_alt_name, names.get(), /*crit=*/0,
                          X509V3_ADD_DEFAULT) != 1) {
        return Unexpected(openssl_error("cannot add subjectAltName"));
    }
    return {};
}

Status add_acme_identifier(X509* cert, const ChallengeTask& task) {
    crypto::Asn1ObjectPtr oid(OBJ_txt2obj(std::string(kAcmeIdentifierOid).c_str(), /*no_name=*/1));
    // extnValue carries the DER encoding of an OCTET STRING holding the digest: tag 0x04 and,
    // 32 being below 128, a one-byte length.
    Bytes digest = crypto::sha256(task.key_authorization);
    Bytes der = {0x04, static_cast<std::uint8_t>(digest.size())};
    der.insert(der.end(), digest.begin(), digest.end());
    crypto::Asn1OctetStringPtr value(ASN1_OCTET_STRING_new());
    if (!oid || !value ||
        ASN1_OCTET_STRING_set(value.get(), der.data(), static_cast<int>(der.size())) != 1) {
        return Unexpected(openssl_error("cannot encode the acmeIdentifier extension"));
    }
    crypto::X509ExtensionPtr extension(
        X509_EXTENSION_create_by_OBJ(nullptr, oid.get(), /*crit=*/1, value.get()));
    if (!extension || X509_add_ext(cert, extension.get(), -1) != 1) {
        return Unexpected(openssl_error("cannot add the acmeIdentifier extension"));
    }
    return {};
}

}  // namespace

Result<std::string> tls_alpn01_server_name(const ChallengeTask& task) {
    if (task.identifier_type != "ip") return lower(task.identifier);
    std::array<unsigned char, 16> address{};
    static constexpr std::string_view kHex = "0123456789abcdef";
    std::string name;
    if (inet_pton(AF_INET, task.identifier.c_str(), address.data()) == 1) {
        for (int i = 3; i >= 0; --i) name += std::to_string(address[i]) + ".";
        return name + "in-addr.arpa";
    }
    if (inet_pton(AF_INET6, task.identifier.c_str(), address.data()) == 1) {
        for (auto it = address.rbegin(); it != address.rend(); ++it) {
            name += kHex[*it & 0x0f];
            name += '.';
            name += kHex[*it >> 4];
            name += '.';
        }
        return name + "ip6.arpa";
    }
    return fail(ErrorCategory::kUsage,
                "identifier '" + task.identifier + "' is not an IPv4 or IPv6 address");
}

Result<TlsAlpn01Certificate> make_tls_alpn01_certificate(const ChallengeTask& task) {
    CERTDOCK_TRY_STATUS(check_task(task, ChallengeType::kTlsAlpn01));
    CERTDOCK_TRY(auto key,
                 crypto::PrivateKey::generate(crypto::KeySpec::ecdsa(crypto::Curve::kP256)));
    crypto::X509Ptr cert(X509_new());
    if (!cert || X509_set_version(cert.get(), X509_VERSION_3) != 1 ||
        X509_set_pubkey(cert.get(), key.get()) != 1) {
        return Unexpected(openssl_error("cannot allocate a certificate"));
    }
    CERTDOCK_TRY_STATUS(set_serial(cert.get()));
    CERTDOCK_TRY_STATUS(set_names_and_validity(cert.get()));
    CERTDOCK_TRY_STATUS(add_alt_name(cert.get(), task));
    CERTDOCK_TRY_STATUS(add_acme_identifier(cert.get(), task));
    if (X509_sign(cert.get(), key.get(), EVP_sha256()) <= 0) {
        return Unexpected(openssl_error("cannot sign the tls-alpn-01 certificate"));
    }
    return TlsAlpn01Certificate{crypto::Certificate(std::move(cert)), std::move(key)};
}

}  // namespace certdock::challenge
