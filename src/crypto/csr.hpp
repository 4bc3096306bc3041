#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/encoding.hpp"
#include "base/result.hpp"
#include "crypto/digest.hpp"
#include "crypto/key.hpp"
#include "crypto/ossl_ptr.hpp"

namespace certdock::crypto {

struct CsrOptions {
    std::vector<std::string> dns_names{};
    std::vector<std::string> ip_addresses{};
    // The subject CN; when unset the first DNS name is used if it fits in 64 characters,
    // because some CAs and old tools still read it. Set to "" for an empty subject.
    std::optional<std::string> common_name{};
    // Empty: the key's natural digest (SHA-256 for RSA and P-256, SHA-384 for P-384).
    std::optional<DigestAlgorithm> digest{};
};

class Csr {
public:
    explicit Csr(X509ReqPtr req);
    Csr(const Csr& other);
    Csr& operator=(const Csr& other);
    Csr(Csr&&) noexcept = default;
    Csr& operator=(Csr&&) noexcept = default;
    ~Csr() = default;

    static Result<Csr> create(const PrivateKey& key, const CsrOptions& options);
    static Result<Csr> from_pem(std::string_view pem);
    static Result<Csr> from_der(const Bytes& der);

    std::optional<std::string> common_name() const;
    std::vector<std::string> dns_names() const;
    std::vector<std::string> ip_addresses() const;
    PublicKey public_key() const;
    bool signature_valid() const;

    Bytes der() const;
    std::string to_pem() const;
    X509_REQ* get() const { return req_.get(); }

private:
    X509ReqPtr req_;
};

}  // namespace certdock::crypto
