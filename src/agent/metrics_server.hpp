#pragma once

// The agent's Prometheus endpoint: a minimal HTTP/1.1 server on a thread of its own.
//
//   GET /metrics   200, the exposition text (text/plain; version=0.0.4)
//   GET /healthz   200 "ok"
//   other paths    404;  other methods 405 (HEAD is answered like GET, without a body)
//
// One poll loop serves every connection, each with a deadline from its accept and a bound on
// the request size, so a client that connects and sends nothing (or reads nothing) holds one
// slot until its deadline and never delays the others. Every response closes its connection.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

#include "base/result.hpp"
#include "base/unique_fd.hpp"

namespace certdock::agent {

struct ListenAddress {
    std::string host{};      // an IP address or a name; empty: every address of the host
    std::uint16_t port = 0;  // 0: a free port chosen by the system
};

// "127.0.0.1:9732", "[::1]:9732", "localhost:9732", "*:9732" or ":9732" (every address).
// Port 0 is accepted (a free port, for tests). kUsage errors say what form was expected.
Result<ListenAddress> parse_listen_address(std::string_view text);

struct MetricsServerOptions {
    std::string listen{};  // HOST:PORT, as in metrics-listen
    std::function<std::string()>
        metrics{};  // the body of GET /metrics; called on the server thread
    std::chrono::milliseconds deadline{2'000};  // per connection, from accept to the last byte
    std::size_t max_request_bytes = 8'192;      // request line and headers
    std::size_t max_connections = 16;           // beyond: left in the listen backlog
};

class MetricsServer {
public:
    // Binds, listens and starts the thread. Fails (kUsage or kIo) with what to do when the
    // address is malformed, the port is taken, or the address is not this host's.
    static Result<std::unique_ptr<MetricsServer>> start(MetricsServerOptions options);

    MetricsServer(const MetricsServer&) = delete;
    MetricsServer& operator=(const MetricsServer&) = delete;
    // Stops the thread and closes the socket and every open connection.
    ~MetricsServer();

    std::uint16_t port() const { return port_; }
    // "127.0.0.1:9732", "[::1]:9732": where it listens, with the port actually bound.
    const std::string& address() const { return address_; }

private:
    MetricsServer(MetricsServerOptions options, UniqueFd listener, UniqueFd wake,
                  std::uint16_t port, std::string address);
    void serve();

    MetricsServerOptions options_;
    UniqueFd listener_;
    UniqueFd wake_;  // an eventfd: written once to stop the loop
    std::uint16_t port_ = 0;
    std::string address_;
    std::thread thread_;
};

// The response to one request (status line, headers, body), for the server and its tests.
// `request` is everything up to and including the blank line.
std::string metrics_http_response(std::string_view request,
                                  const std::function<std::string()>& metrics);

}  // namespace certdock::agent
