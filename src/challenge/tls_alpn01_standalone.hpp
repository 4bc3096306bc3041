#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "challenge/solver.hpp"
#include "challenge/tls_alpn01_certificate.hpp"

namespace certdock::challenge {

struct TlsAlpn01StandaloneOptions {
    // Empty: every address of the host (dual-stack where IPv6 is enabled). A CA connects to
    // port 443 (RFC 8737 §3).
    std::string address;
    std::uint16_t port = 443;  // 0: any free port, see TlsAlpn01Standalone::port()
    std::size_t max_connections = 64;
    // A connection that has not completed its handshake by then is closed.
    std::chrono::milliseconds handshake_timeout{10'000};
};

// tls-alpn-01 (RFC 8737) answered by a TLS server of our own. It negotiates TLS 1.2 or later
// with ALPN "acme-tls/1" only — a ClientHello without it is refused with a
// no_application_protocol alert — and, for a server name of a presented task, serves that
// task's validation certificate; any other name is refused with unrecognized_name. After the
// handshake the connection is closed: no application data is exchanged.
//
// The server runs on a thread of its own from start() — or from the first present(), which
// calls start() — until the destructor, and writes nothing to stdout or stderr. Several tasks
// may be presented at once (one per server name; a later one for the same name replaces the
// earlier). Wildcard identifiers cannot use tls-alpn-01 (RFC 8737 §3) and are refused.
class TlsAlpn01Standalone final : public Solver {
public:
    explicit TlsAlpn01Standalone(TlsAlpn01StandaloneOptions options = {});
    ~TlsAlpn01Standalone() override;
    TlsAlpn01Standalone(const TlsAlpn01Standalone&) = delete;
    TlsAlpn01Standalone& operator=(const TlsAlpn01Standalone&) = delete;

    // Binds and starts serving. Fails with kIo naming address:port and how to fix it; kUsage
    // for an address that is not an IP. Does nothing when already running.
    Status start();
    // The bound port once started (the chosen one for port 0), else 0.
    std::uint16_t port() const;

    ChallengeType type() const override { return ChallengeType::kTlsAlpn01; }
    Status present(const ChallengeTask& task) override;
    Status cleanup(const ChallengeTask& task) override;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace certdock::challenge
