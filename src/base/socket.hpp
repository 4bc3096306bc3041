#pragma once

// Stream-socket connects bounded by a deadline, shared by every client certdock has that is
// not HTTP (the HAProxy Runtime API, TLS probes).

#include <sys/socket.h>

#include <chrono>
#include <string>
#include <utility>

#include "base/result.hpp"
#include "base/unique_fd.hpp"

namespace certdock {

using SteadyTime = std::chrono::steady_clock::time_point;

// Waits for `events` on `fd`; false on timeout (errno = ETIMEDOUT) or poll failure.
bool wait_for_fd(int fd, short events, SteadyTime deadline);

// One non-blocking connect; the socket stays non-blocking. On failure returns the errno,
// so callers can tell "nothing listens yet" from the rest.
std::pair<UniqueFd, int> connect_with_deadline(int family, const sockaddr* address,
                                               socklen_t length, SteadyTime deadline);

// Tries every address `host` resolves to. Resolution failures are errors; connect failures
// come back as the last errno.
Result<std::pair<UniqueFd, int>> connect_tcp(const std::string& host, const std::string& port,
                                             SteadyTime deadline);

}  // namespace certdock
