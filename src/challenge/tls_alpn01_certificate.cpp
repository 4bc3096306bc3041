#include "challenge/tls_alpn01_certificate.hpp"

#include <arpa/inet.h>

#include <array>
#include <cctype>
#include <chrono>

#include "challenge/task_check.hpp"
#include "crypto/digest.hpp"
#include "crypto/self_signed.hpp"

namespace certdock::challenge {
namespace {

constexpr auto kLifetime = std::chrono::hours(24 * 7);
constexpr std::string_view kSubjectCommonName = "certdock tls-alpn-01 challenge";

std::string lower(std::string text) {
    for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return text;
}

// extnValue of acmeIdentifier: the DER OCTET STRING holding SHA-256(key authorization), so
// tag 0x04 and, 32 being below 128, a one-byte length.
crypto::RawExtension acme_identifier(const ChallengeTask& task) {
    Bytes digest = crypto::sha256(task.key_authorization);
    Bytes der = {0x04, static_cast<std::uint8_t>(digest.size())};
    der.insert(der.end(), digest.begin(), digest.end());
    return {.oid = std::string(kAcmeIdentifierOid), .critical = true, .der_value = std::move(der)};
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
    // RFC 8737 §3 asks for exactly one subjectAltName and the acmeIdentifier; nothing else.
    crypto::SelfSignedSpec spec;
    spec.common_name = std::string(kSubjectCommonName);
    (task.identifier_type == "ip" ? spec.ip_addresses : spec.dns_names).push_back(task.identifier);
    spec.lifetime = kLifetime;
    spec.server_extensions = false;
    spec.extra_extensions.push_back(acme_identifier(task));
    CERTDOCK_TRY(auto certificate, crypto::make_self_signed(key, spec));
    return TlsAlpn01Certificate{std::move(certificate), std::move(key)};
}

}  // namespace certdock::challenge
