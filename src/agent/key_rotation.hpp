#pragma once

// Planned key rotation (reuse-key = "rotate"). Beside the certificate's key (`key-file`, the
// current key) there is always a next key, `<key-file>.next` (0600, the policy's type). Its
// pins are known from the moment it is made, so an operator publishes them (TLSA records, pin
// sets) well before it serves anything. A renewal uses the next key once it is `rotate-ahead`
// old; after that certificate is delivered, the next key becomes the current one (the old
// current kept as `<key-file>.previous`) and a fresh next key is made at once.
//
// A key's age is its file's modification time, which certdock sets to the time it made the
// key and which a rename keeps. A copy that does not keep times makes a key look younger,
// never older: it can only delay a rotation.
//
// Every step leaves a pair of keys that still holds the served one (see complete_rotation),
// so a process killed at any point loses nothing. Nothing here knows about ACME or HAProxy.

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "agent/config.hpp"
#include "base/result.hpp"
#include "base/time.hpp"
#include "crypto/key.hpp"

namespace certdock::agent {

std::filesystem::path next_key_file(const KeyPolicy& policy);      // <key-file>.next
std::filesystem::path previous_key_file(const KeyPolicy& policy);  // <key-file>.previous

// The key a renewal uses.
struct RotationPlan {
    crypto::PrivateKey key;
    bool uses_next = false;             // the next key's time has come
    std::string reason{};               // why this key, for the log
    std::vector<std::string> events{};  // keys made or replaced, one log line each
};

// Which key the renewal at `now` uses: the next key when it is at least rotate-ahead old,
// else the current one. Makes the current key when key-file is missing, and a next key when
// none is there or the one there is not of the policy's type (or unreadable); a new next key
// counts its age from `now`. Fails when the current key is unusable (see detect_key_policy)
// or a key cannot be written.
Result<RotationPlan> plan_rotation(const KeyPolicy& policy, SystemTime now);

// After a certificate for `delivered` was delivered: when it is the next key, promote it to
// key-file and make a fresh next key (aged from `now`); when it is the current key, only make
// sure a next key waits. Returns what was done, one log line each. Fails (kInput) when
// `delivered` is neither key.
//
// Promotion order, chosen so that a kill at any point keeps the delivered key under one of
// the names and key-file never goes missing:
//   1. key-file is copied to .previous (atomic write): the old key stays reachable;
//   2. .next is renamed over key-file (one atomic rename): the delivered key moves from one
//      name to the other, never absent;
//   3. a fresh .next is written (atomic write, overwrite refused).
// Killed after 1: .next still holds the delivered key and is old enough, so the next renewal
// uses it again and promotes it. Killed after 2: the next plan_rotation makes the missing
// next key. Renaming key-file away first would instead leave a moment with no key-file, and a
// restart there would make a current key whose pins were never published.
Result<std::vector<std::string>> complete_rotation(const KeyPolicy& policy,
                                                   const crypto::PublicKey& delivered,
                                                   SystemTime now);

// One key's public facts, as `certdock key pin` prints them.
struct KeyPins {
    std::filesystem::path file{};
    std::string type{};        // "ECDSA P-384"
    std::string pin_sha256{};  // HPKP pin-sha256, base64
    std::string tlsa_311{};    // DANE TLSA 3 1 1 association data, lower-case hex
    SystemTime created{};      // the file's modification time
};

struct RotationPins {
    std::optional<KeyPins> current{};
    std::optional<KeyPins> next{};
    SystemTime next_usable_after{};  // next->created + rotate-ahead; unset without a next key
};

// The pins of the current and next keys, without making anything (for status output).
// A missing file is left unset; an unreadable one fails.
Result<RotationPins> rotation_pins(const KeyPolicy& policy);

// What a deploy hook learns about the keys (public values only): CERTDOCK_KEY_PIN_SHA256,
// CERTDOCK_KEY_TLSA, CERTDOCK_NEXT_KEY_PIN_SHA256, CERTDOCK_NEXT_KEY_TLSA ("3 1 1 <hex>") and
// CERTDOCK_NEXT_KEY_USABLE_AFTER (RFC 3339), each only when that key exists.
std::vector<std::string> rotation_hook_environment(const RotationPins& pins);

}  // namespace certdock::agent
