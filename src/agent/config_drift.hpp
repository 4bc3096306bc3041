#pragma once

// Whether the certificate being served still fits its configuration: every name (or IP
// address) the configuration lists, and an explicit key type. One that does not is renewed at
// once instead of at its renewal time (docs/renewal.md, "When the configuration changed").

#include <optional>
#include <string>

#include "agent/config.hpp"
#include "crypto/certificate.hpp"

namespace certdock::agent {

// Why `served` no longer fits `certificate`, or nullopt when it does:
//   "the configuration lists www.example.com, which serial 0a1b lacks"
//   "keytype: the configuration asks for an RSA 2048 key, serial 0a1b has an ECDSA P-256 key;
//    renewing with a new RSA 2048 key"
// In CSR mode the CSR's names count (its key is the CSR's, never compared); a CSR that cannot
// be read is left to the renewal, which says what is wrong with it. Names the certificate has
// beyond the configuration's do not make it due: the next renewal drops them.
std::optional<std::string> config_drift(const CertificateConfig& certificate,
                                        const crypto::Certificate& served);

}  // namespace certdock::agent
