#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "base/result.hpp"

namespace certdock::dns {

// The TSIG algorithms (RFC 8945 §6) ldns 1.8 signs and verifies with.
enum class TsigAlgorithm { kHmacSha256, kHmacSha512, kHmacSha1 };

std::string_view tsig_algorithm_name(TsigAlgorithm algorithm);  // "hmac-sha256"
// Case-insensitive, with or without the trailing dot of the wire name ("HMAC-SHA512.").
Result<TsigAlgorithm> parse_tsig_algorithm(std::string_view name);

// A shared secret that signs RFC 2136 updates.
struct TsigKey {
    std::string name;  // absolute: "certdock-acme."
    TsigAlgorithm algorithm = TsigAlgorithm::kHmacSha256;
    std::string secret;  // base64, as written in the key file; never logged
};

// Reads a key file. Secrets come from files only, never from argv or the environment.
// Three forms are accepted, each holding exactly one key:
//
//   key "certdock-acme" {              BIND and Knot (tsig-keygen, `knotc conf-export`);
//       algorithm hmac-sha256;         '#', '//' and '/* */' comments are allowed
//       secret "base64...";
//   };
//
//   key:                               Knot YAML, as `keymgr -t certdock-acme` prints it
//     - id: certdock-acme
//       algorithm: hmac-sha256
//       secret: base64...
//
//   hmac-sha256:certdock-acme:base64   one line, the "[algorithm:]name:secret" form of
//                                      `nsupdate -y` and `kdig -y`; algorithm defaults to
//                                      hmac-sha256
Result<TsigKey> parse_tsig_key(std::string_view text);
Result<TsigKey> load_tsig_key(const std::filesystem::path& path);

}  // namespace certdock::dns
