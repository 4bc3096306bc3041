#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/encoding.hpp"
#include "base/result.hpp"
#include "crypto/key.hpp"
#include "crypto/ossl_ptr.hpp"

namespace certdock::crypto {

using TimePoint = std::chrono::system_clock::time_point;

// An X.509 certificate with the accessors ACME, HAProxy deployment and ARI need.
class Certificate {
public:
    explicit Certificate(X509Ptr cert);
    Certificate(const Certificate& other);
    Certificate& operator=(const Certificate& other);
    Certificate(Certificate&&) noexcept = default;
    Certificate& operator=(Certificate&&) noexcept = default;
    ~Certificate() = default;

    // The first certificate in `pem`; fails if there is none.
    static Result<Certificate> from_pem(std::string_view pem);
    static Result<Certificate> from_der(const Bytes& der);

    std::string subject() const;  // RFC 2253 one-line form, e.g. "CN=example.com"
    std::string issuer() const;
    std::optional<std::string> common_name() const;
    std::vector<std::string> dns_names() const;
    std::vector<std::string> ip_addresses() const;  // textual, e.g. "192.0.2.1", "2001:db8::1"

    // Serial content octets as DER encodes them (a leading 0x00 kept when the high bit is set),
    // which is what ARI's certID needs (RFC 9773 §4.1).
    Bytes serial_der_content() const;
    std::string serial_hex() const;  // lower-case hex, no leading zeros beyond one byte

    TimePoint not_before() const;
    TimePoint not_after() const;
    std::optional<Bytes> authority_key_id() const;
    std::optional<Bytes> subject_key_id() const;
    bool is_ca() const;
    bool is_self_signed() const;

    PublicKey public_key() const;
    Bytes der() const;
    std::string to_pem() const;
    Bytes sha256_fingerprint() const;
    // What HAProxy's `show ssl cert` prints as "SHA1 FingerPrint"; for comparison only.
    Bytes sha1_fingerprint() const;

    X509* get() const { return cert_.get(); }

private:
    X509Ptr cert_;
};

// Every certificate in `pem`, in order. Non-certificate blocks are skipped; a truncated block
// is an error; text without any certificate gives an empty list.
Result<std::vector<Certificate>> parse_certificates(std::string_view pem);

// RFC 9773 §4.1 certificate identifier: base64url(AKI keyIdentifier) "." base64url(serial).
Result<std::string> ari_cert_id(const Certificate& cert);

// Fails unless `key` is the private half of the certificate's public key. The message names
// both sides: "private key ECDSA P-384 sha256/... does not match the certificate's key
// ECDSA P-256 sha256/...".
Status check_key_matches(const PrivateKey& key, const Certificate& cert);

// Fails unless each certificate is issued (name and signature) by the one after it.
Status check_chain_order(const std::vector<Certificate>& chain);

struct VerifyOptions {
    std::optional<TimePoint> at;          // default: now
    std::optional<std::string> hostname;  // also check that the leaf covers this name
};

// Verifies leaf → intermediates → one of `roots` with OpenSSL's verifier, reporting
// OpenSSL's reason and the depth that failed.
Status verify_chain(const Certificate& leaf, const std::vector<Certificate>& intermediates,
                    const std::vector<Certificate>& roots, const VerifyOptions& options = {});

}  // namespace certdock::crypto
