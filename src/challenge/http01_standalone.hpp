#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "challenge/solver.hpp"

namespace certdock::challenge {

struct Http01StandaloneOptions {
    // Empty: every address of the host (dual-stack where IPv6 is enabled). A CA connects to
    // port 80 (RFC 8555 §8.3); another port only makes sense behind a forwarding proxy.
    std::string address;
    std::uint16_t port = 80;  // 0: any free port, see Http01Standalone::port()
    // Request line plus headers; longer requests get 431. Validation requests are tiny.
    std::size_t max_request_bytes = 8192;
    std::size_t max_connections = 64;
    // A connection that has not sent its request by then is closed.
    std::chrono::milliseconds request_timeout{10'000};
};

// http-01 (RFC 8555 §8.3) answered by a small HTTP server of our own, for hosts where nothing
// else listens on port 80 or where the proxy forwards /.well-known/acme-challenge/ to us.
//
// The server runs on a thread of its own from start() — or from the first present(), which
// calls start() — until the destructor. It answers GET and HEAD of
// /.well-known/acme-challenge/<token> with the key authorization as text/plain while the token
// is presented, and 404 otherwise; other methods get 405. It speaks HTTP/1.0 and 1.1, closes
// every connection after one response, ignores request bodies, and writes nothing to stdout
// or stderr. Several tasks may be presented at once.
class Http01Standalone final : public Solver {
public:
    explicit Http01Standalone(Http01StandaloneOptions options = {});
    ~Http01Standalone() override;
    Http01Standalone(const Http01Standalone&) = delete;
    Http01Standalone& operator=(const Http01Standalone&) = delete;

    // Binds and starts serving. Fails with kIo naming address:port and how to fix it (port in
    // use, privileged port, foreign address); kUsage for an address that is not an IP. Does
    // nothing when already running.
    Status start();
    // The bound port once started (the chosen one for port 0), else 0.
    std::uint16_t port() const;

    ChallengeType type() const override { return ChallengeType::kHttp01; }
    Status present(const ChallengeTask& task) override;
    Status cleanup(const ChallengeTask& task) override;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace certdock::challenge
