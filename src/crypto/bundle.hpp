#pragma once

#include <optional>
#include <string>
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

// Reads such a bundle back: certificates in order, the key if present, DH params if present.
Result<BundleParts> parse_haproxy_bundle(std::string_view pem,
                                         const std::optional<std::string>& passphrase = {});

}  // namespace certdock::crypto
