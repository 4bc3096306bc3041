#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"

namespace certdock {

using Bytes = std::vector<std::uint8_t>;

inline Bytes to_bytes(std::string_view text) {
    return Bytes(text.begin(), text.end());
}
inline std::string to_string(const Bytes& bytes) {
    return std::string(bytes.begin(), bytes.end());
}

// Standard base64 (RFC 4648 §4) with padding, as HPKP pins and PEM use it.
std::string base64_encode(const Bytes& data);
Result<Bytes> base64_decode(std::string_view text);

// base64url without padding (RFC 4648 §5, RFC 7515 §2). Decoding rejects '=' and any
// character outside the URL-safe alphabet, as RFC 8555 §6.1 requires.
std::string base64url_encode(const Bytes& data);
std::string base64url_encode(std::string_view data);
Result<Bytes> base64url_decode(std::string_view text);

// Lower-case hex, as DANE TLSA records and fingerprints are written.
std::string hex_encode(const Bytes& data);
// Upper-case hex with ':' between bytes, the form `openssl x509 -fingerprint` prints.
std::string hex_colon_encode(const Bytes& data);
Result<Bytes> hex_decode(std::string_view text);

}  // namespace certdock
