#pragma once

// Self-signed TLS server certificates: placeholders that let a server start before a CA has
// issued anything, and the tls-alpn-01 validation certificate.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/encoding.hpp"
#include "base/result.hpp"
#include "crypto/certificate.hpp"
#include "crypto/key.hpp"

namespace certdock::crypto {

// An extension given by OID and the DER of its value (the content of extnValue), for
// extensions OpenSSL has no structure for, such as RFC 8737's acmeIdentifier.
struct RawExtension {
    std::string oid{};  // dotted form, "1.3.6.1.5.5.7.1.31"
    bool critical = false;
    Bytes der_value{};
};

// What goes into one self-signed certificate. Subject and issuer are the same name:
// O=<organization>, CN=<common_name>, each left out when empty.
struct SelfSignedSpec {
    std::string common_name{};
    std::string organization{};
    std::vector<std::string> dns_names{};     // subjectAltName dNSName entries
    std::vector<std::string> ip_addresses{};  // subjectAltName iPAddress entries
    std::optional<TimePoint> not_before{};    // default: an hour ago, for clock skew
    std::chrono::seconds lifetime{std::chrono::hours(24 * 7)};  // notAfter - notBefore
    // basicConstraints CA:FALSE (critical), keyUsage for the key's type (critical),
    // extendedKeyUsage serverAuth, subjectKeyIdentifier: what a TLS server certificate carries.
    bool server_extensions = true;
    std::vector<RawExtension> extra_extensions{};
};

// Signs a certificate for `key` with `key`: a random positive 16-byte serial, SHA-256 (or the
// key's natural digest; none for Ed25519). At least one DNS name or IP address is required.
// kUsage for an empty or IP-shaped DNS name, an address that does not parse, a lifetime that
// is not positive, or an extension OID that is not dotted digits.
Result<Certificate> make_self_signed(const PrivateKey& key, const SelfSignedSpec& spec);

// The organization (O) of the certificate's subject, if it has one.
std::optional<std::string> subject_organization(const Certificate& cert);

// True when `cert` is self-signed (its own signature verifies) and its subject's O is
// `organization`: how certdock recognises the placeholders it wrote itself.
bool is_self_signed_with_organization(const Certificate& cert, std::string_view organization);

}  // namespace certdock::crypto
