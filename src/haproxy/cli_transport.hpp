#pragma once

// One Runtime API exchange over its own connection: HAProxy closes a non-interactive CLI
// connection after answering, so the reply is everything read until EOF.

#include <chrono>
#include <string>
#include <string_view>

#include "base/clock.hpp"
#include "base/result.hpp"

namespace certdock::haproxy {

struct CliTransportOptions {
    // A unix socket path ("/run/haproxy/admin.sock") or "host:port" ("127.0.0.1:9999",
    // "[::1]:9999"). Anything starting with '/' or '.', or without a numeric port, is a path.
    std::string address;
    // Per exchange: connecting (once something listens), sending and reading the reply.
    std::chrono::milliseconds io_timeout{10'000};
    // How long a missing or refusing socket counts as "HAProxy is still starting".
    std::chrono::milliseconds startup_timeout{10'000};
    Clock* clock = nullptr;  // for the start-up backoff; default: system_clock()
};

// Sends `request` verbatim and returns the whole reply. A connection HAProxy resets or closes
// while the request is still being written (a payload over tune.bufsize) gives whatever was
// read, usually nothing; callers decide what an empty reply means. `what` names the command
// in errors; the request itself may hold a private key and is never quoted.
Result<std::string> cli_exchange(const CliTransportOptions& options, std::string_view request,
                                 std::string_view what);

}  // namespace certdock::haproxy
