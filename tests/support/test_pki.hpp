#pragma once

// A small certificate authority for tests: roots, intermediates and leaf certificates built
// with OpenSSL directly, with every field a test may want to control (names, validity,
// serial, AKI). Nothing here touches the network or the filesystem.

#include <optional>
#include <string>
#include <vector>

#include "base/encoding.hpp"
#include "base/result.hpp"
#include "crypto/certificate.hpp"
#include "crypto/key.hpp"

namespace certdock::test {

// What to put in one certificate. Defaults give a plain ECDSA P-256 end-entity certificate
// valid from an hour ago for 90 days.
struct CertSpec {
    std::string common_name{};  // empty: no subject CN
    std::vector<std::string> dns_names{};
    std::vector<std::string> ip_addresses{};
    bool is_ca = false;
    std::optional<crypto::TimePoint> not_before{};  // default: one hour ago
    std::optional<crypto::TimePoint> not_after{};   // default: not_before + 90 days
    // Big-endian magnitude of the serial number; default: 16 random bytes.
    std::optional<Bytes> serial{};
    // keyIdentifier of the AKI extension; default: the issuer's SKI; empty: no AKI at all.
    std::optional<Bytes> authority_key_id{};
    crypto::KeySpec key_spec = crypto::KeySpec::ecdsa(crypto::Curve::kP256);
};

// A certificate together with the private key of its subject.
struct Issued {
    crypto::Certificate certificate;
    crypto::PrivateKey key;
};

// Signs a certificate for `subject_key`. With `issuer` unset the certificate is self-signed
// and `signer` must be the private half of `subject_key`; otherwise `signer` is the issuer's
// key. The SKI is the SHA-1 of the public key (RFC 5280 §4.2.1.2 method 1).
Result<crypto::Certificate> build_certificate(const crypto::PublicKey& subject_key,
                                              const CertSpec& spec,
                                              const crypto::Certificate* issuer,
                                              const crypto::PrivateKey& signer);

class TestCa {
public:
    // A self-signed CA certificate with a fresh key.
    static Result<TestCa> create_root(
        const std::string& common_name,
        const crypto::KeySpec& key_spec = crypto::KeySpec::ecdsa(crypto::Curve::kP256));

    // A CA certificate issued by this one, with a fresh key.
    Result<TestCa> create_intermediate(
        const std::string& common_name,
        const crypto::KeySpec& key_spec = crypto::KeySpec::ecdsa(crypto::Curve::kP256)) const;

    // A certificate with a fresh key of `spec.key_spec`.
    Result<Issued> issue(const CertSpec& spec) const;
    // A certificate for an existing key, e.g. one taken from a CSR.
    Result<crypto::Certificate> sign(const crypto::PublicKey& subject_key,
                                     const CertSpec& spec) const;

    const crypto::Certificate& certificate() const { return issued_.certificate; }
    const crypto::PrivateKey& key() const { return issued_.key; }

private:
    explicit TestCa(Issued issued) : issued_(std::move(issued)) {}

    Issued issued_;
};

// The usual three-level hierarchy: root → intermediate → leaf for `names` (DNS names).
struct TestPki {
    TestCa root;
    TestCa intermediate;
    Issued leaf;
};
Result<TestPki> make_test_pki(const std::vector<std::string>& names = {"example.com",
                                                                       "www.example.com"});

}  // namespace certdock::test
