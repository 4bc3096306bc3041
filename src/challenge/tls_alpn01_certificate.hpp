#pragma once

#include <string>
#include <string_view>

#include "base/result.hpp"
#include "challenge/solver.hpp"
#include "crypto/certificate.hpp"
#include "crypto/key.hpp"

namespace certdock::challenge {

// The TLS server name a CA validating `task` sends (RFC 8737 §3, RFC 8738 §6): the DNS
// identifier in lower case, or for an IP identifier its reverse-DNS name
// ("1.2.0.192.in-addr.arpa", nibble form under "ip6.arpa"). kUsage for an IP identifier that
// does not parse.
Result<std::string> tls_alpn01_server_name(const ChallengeTask& task);

// The self-signed validation certificate of RFC 8737 §3 with its key: a fresh ECDSA P-256
// key, exactly one subjectAltName entry (dNSName, or iPAddress for an IP identifier), and the
// critical acmeIdentifier extension (1.3.6.1.5.5.7.1.31) holding the DER OCTET STRING of
// SHA-256(key authorization). Valid from an hour ago for seven days.
struct TlsAlpn01Certificate {
    crypto::Certificate certificate;
    crypto::PrivateKey key;
};
Result<TlsAlpn01Certificate> make_tls_alpn01_certificate(const ChallengeTask& task);

// The ALPN protocol name and the acmeIdentifier extension's OID (RFC 8737 §6.1, §6.2).
inline constexpr std::string_view kAcmeTlsAlpn = "acme-tls/1";
inline constexpr std::string_view kAcmeIdentifierOid = "1.3.6.1.5.5.7.1.31";

}  // namespace certdock::challenge
