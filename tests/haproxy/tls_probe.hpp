#pragma once

#include <cstdint>
#include <string>

#include "base/result.hpp"
#include "crypto/certificate.hpp"

namespace certdock::test {

// Completes a TLS handshake with 127.0.0.1:`port` sending `sni`, and returns the leaf the
// server presented. Does not verify it: tests compare it with what they installed.
Result<crypto::Certificate> fetch_served_certificate(std::uint16_t port, const std::string& sni);

}  // namespace certdock::test
