#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "base/encoding.hpp"
#include "base/result.hpp"
#include "crypto/key_spec.hpp"
#include "crypto/ossl_ptr.hpp"

namespace certdock::crypto {

// A public key, usually taken from a private key, a certificate or a CSR.
class PublicKey {
public:
    explicit PublicKey(PKeyPtr key);
    PublicKey(const PublicKey& other);
    PublicKey& operator=(const PublicKey& other);
    PublicKey(PublicKey&&) noexcept = default;
    PublicKey& operator=(PublicKey&&) noexcept = default;
    ~PublicKey() = default;

    static Result<PublicKey> from_pem(std::string_view pem);
    static Result<PublicKey> from_spki_der(const Bytes& der);

    // kUnsupported for keys certdock can describe but not use.
    const KeySpec& spec() const { return spec_; }
    std::string describe() const { return description_; }

    Bytes spki_der() const;
    Bytes spki_sha256() const;
    // HPKP pin-sha256: base64 (with padding) of SHA-256 over the DER SubjectPublicKeyInfo.
    std::string pin_sha256() const;
    // DANE TLSA "3 1 1" association data: lower-case hex of the same digest.
    std::string tlsa_311() const;
    // "ECDSA P-256 sha256/<pin>": type, size and fingerprint in one phrase for error messages.
    std::string identify() const;
    std::string to_pem() const;

    bool same_key(const PublicKey& other) const;
    EVP_PKEY* get() const { return key_.get(); }

private:
    PKeyPtr key_;
    KeySpec spec_;
    std::string description_;
};

enum class PemFormat {
    kPkcs8,        // "BEGIN PRIVATE KEY" (or "ENCRYPTED PRIVATE KEY" with a passphrase)
    kTraditional,  // "BEGIN RSA PRIVATE KEY" / "BEGIN EC PRIVATE KEY"
};

class PrivateKey {
public:
    explicit PrivateKey(PKeyPtr key);
    PrivateKey(const PrivateKey& other);
    PrivateKey& operator=(const PrivateKey& other);
    PrivateKey(PrivateKey&&) noexcept = default;
    PrivateKey& operator=(PrivateKey&&) noexcept = default;
    ~PrivateKey() = default;

    static Result<PrivateKey> generate(const KeySpec& spec);
    // Reads PKCS#8 (plain or encrypted) and traditional PEM. An encrypted key without a
    // passphrase, a wrong passphrase, a truncated block or a certificate where a key was
    // expected each get their own message.
    static Result<PrivateKey> from_pem(std::string_view pem,
                                       const std::optional<std::string>& passphrase = {});

    const KeySpec& spec() const { return spec_; }
    std::string describe() const { return spec_.describe(); }
    PublicKey public_key() const;

    // Ed25519 has no traditional form; it is always written as PKCS#8.
    Result<std::string> to_pem(PemFormat format = PemFormat::kPkcs8,
                               const std::optional<std::string>& passphrase = {}) const;

    EVP_PKEY* get() const { return key_.get(); }

private:
    PKeyPtr key_;
    KeySpec spec_;
};

// Reads the type/size/curve of any EVP_PKEY; fails for types certdock does not support.
Result<KeySpec> spec_of(const EVP_PKEY* key);

}  // namespace certdock::crypto
