#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "base/result.hpp"

namespace certdock::crypto {

// kUnsupported describes keys certdock can show but not use (a P-521 or DSA key in someone
// else's chain); certdock never generates, loads as a private key, or signs with one.
enum class KeyType { kRsa, kEcdsa, kEd25519, kUnsupported };
enum class Curve { kNone, kP256, kP384 };

// What kind of key: type plus RSA size or ECDSA curve. Printed the way a HAProxy operator
// reads it: "RSA 4096", "ECDSA P-256", "Ed25519".
struct KeySpec {
    KeyType type = KeyType::kEcdsa;
    int rsa_bits = 0;            // RSA only
    Curve curve = Curve::kNone;  // ECDSA only

    static KeySpec rsa(int bits) { return {KeyType::kRsa, bits, Curve::kNone}; }
    static KeySpec ecdsa(Curve c) { return {KeyType::kEcdsa, 0, c}; }
    static KeySpec ed25519() { return {KeyType::kEd25519, 0, Curve::kNone}; }

    std::string describe() const;
    // Short token used on command lines and in config: "rsa4096", "ecdsa-p256", "ed25519".
    std::string token() const;
    bool operator==(const KeySpec&) const = default;
};

std::string_view curve_name(Curve curve);  // "P-256"
int curve_bits(Curve curve);               // 256

// Accepts what operators type: "ecdsa-p256", "p256", "ec256", "prime256v1", "secp384r1",
// "rsa", "rsa2048", "rsa-4096", "ed25519", "ECDSA" (P-256), and HAProxy's spelling via
// key_spec_from_haproxy. An unsupported size or curve gets an error listing what is supported.
Result<KeySpec> parse_key_spec(std::string_view text);

// HAProxy `acme` section keywords: `keytype RSA|ECDSA`, `bits N` (RSA size, or the curve size
// for ECDSA as operators write it), `curves P-256|P-384`.
Result<KeySpec> key_spec_from_haproxy(std::string_view keytype, std::optional<int> bits,
                                      std::optional<std::string_view> curves);

}  // namespace certdock::crypto
