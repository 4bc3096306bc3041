#pragma once

#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/result.hpp"
#include "crypto/certificate.hpp"
#include "crypto/key.hpp"

namespace certdock::crypto {

struct BundleParts {
    Certificate leaf;
    std::vector<Certificate> chain;  // intermediates, leaf's issuer first
    std::optional<PrivateKey> key;
    std::optional<std::string> dhparam_pem;
};

// The single PEM file HAProxy's `crt` expects: leaf, chain, key, optional DH parameters.
// No blank line anywhere inside (a blank line ends a Runtime API payload). Checks that the
// key matches the leaf and that the chain is in order before producing anything.
Result<std::string> build_haproxy_bundle(const BundleParts& parts);

// Certificates parsed before, by their PEM text: the bundles of one CA carry the same
// intermediates, and parsing a certificate is most of the cost of reading a bundle. Parsed
// copies share one X509. Bounded (it starts over when full); not thread-safe.
class CertificateMemo {
public:
    Result<Certificate> from_pem(const std::string& pem);
    size_t size() const { return parsed_.size(); }

private:
    static constexpr size_t kMaxEntries = 1'000;
    std::unordered_map<std::string, Certificate> parsed_;
};

// Reads such a bundle back: certificates in order, the key if present, DH params if present.
// With `chain_memo`, the intermediates are parsed through it.
Result<BundleParts> parse_haproxy_bundle(std::string_view pem,
                                         const std::optional<std::string>& passphrase = {},
                                         CertificateMemo* chain_memo = nullptr);

}  // namespace certdock::crypto
