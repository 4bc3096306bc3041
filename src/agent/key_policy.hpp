#pragma once

// Which key a certificate is issued for when the configuration leaves the type open: the
// type of the key it already has, so an operator never has to restate (or guess) what
// `openssl` once made.

#include <filesystem>
#include <optional>
#include <string>

#include "agent/config.hpp"
#include "base/result.hpp"
#include "crypto/key_spec.hpp"

namespace certdock::agent {

enum class KeySpecSource {
    kConfigured,   // keytype (bits, curves) in the configuration
    kExistingKey,  // read from the key already in key-file
    kDefault,      // neither: HAProxy's default, ECDSA P-384
};

struct DetectedKeySpec {
    crypto::KeySpec spec{};
    KeySpecSource source = KeySpecSource::kDefault;
};

// The key type of the policy. Fails (kInput) when key-file exists but holds no usable private
// key (unreadable, encrypted, a certificate, an unsupported type), and when reuse-key keeps a
// key whose type differs from the configured one; the message says which key and what to do.
Result<DetectedKeySpec> detect_key_policy(const KeyPolicy& policy);

// HAProxy generates ECDSA P-384 keys when its `acme` section says nothing.
inline constexpr crypto::KeySpec kDefaultKeySpec{crypto::KeyType::kEcdsa, 0, crypto::Curve::kP384};

}  // namespace certdock::agent
