#pragma once

#include <cstdint>
#include <string>
#include <utility>

#include "agent/tls_probe.hpp"
#include "base/result.hpp"
#include "crypto/certificate.hpp"

namespace certdock::test {

// The leaf 127.0.0.1:`port` presents for `sni`.
inline Result<crypto::Certificate> fetch_served_certificate(std::uint16_t port,
                                                            const std::string& sni) {
    CERTDOCK_TRY(auto chain, agent::probe_served_chain({"127.0.0.1", port, sni}));
    return std::move(chain.front());
}

}  // namespace certdock::test
