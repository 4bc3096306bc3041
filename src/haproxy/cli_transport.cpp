#include "haproxy/cli_transport.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <optional>
#include <utility>

#include "base/socket.hpp"

namespace certdock::haproxy {
namespace {

using namespace std::chrono_literals;

constexpr auto kFirstRetryDelay = 20ms;
constexpr auto kMaxRetryDelay = 1000ms;
constexpr size_t kMaxReplyBytes = size_t{64} * 1024 * 1024;  // a sane bound, far above any real map

struct Address {
    std::optional<std::string> unix_path;
    std::string host;
    std::string port;
};

Address parse_address(const std::string& text) {
    Address address;
    size_t colon = text.rfind(':');
    bool path_like = text.empty() || text.front() == '/' || text.front() == '.';
    if (path_like || colon == std::string::npos || colon + 1 == text.size() ||
        text.find_first_not_of("0123456789", colon + 1) != std::string::npos) {
        address.unix_path = text;
        return address;
    }
    address.host = text.substr(0, colon);
    if (address.host.size() >= 2 && address.host.front() == '[' && address.host.back() == ']') {
        address.host = address.host.substr(1, address.host.size() - 2);
    }
    address.port = text.substr(colon + 1);
    return address;
}

// One connection attempt; the errno tells the caller whether waiting could help.
Result<std::pair<UniqueFd, int>> connect_once(const Address& address, SteadyTime deadline) {
    if (address.unix_path) {
        sockaddr_un sun{};
        sun.sun_family = AF_UNIX;
        if (address.unix_path->size() >= sizeof sun.sun_path) {
            return fail(
                ErrorCategory::kUsage,
                "Runtime API socket path too long for a unix socket: " + *address.unix_path);
        }
        std::memcpy(sun.sun_path, address.unix_path->c_str(), address.unix_path->size() + 1);
        return connect_with_deadline(AF_UNIX, reinterpret_cast<const sockaddr*>(&sun), sizeof sun,
                                     deadline);
    }
    return connect_tcp(address.host, address.port, deadline);
}

bool means_not_started(int error) {
    // EAGAIN: a unix socket whose backlog is full, as while HAProxy is still loading.
    return error == ENOENT || error == ECONNREFUSED || error == EAGAIN;
}

// Connects, treating a missing or refusing socket as HAProxy still starting.
Result<UniqueFd> connect_when_up(const CliTransportOptions& options, const Address& address) {
    Clock& clock = options.clock != nullptr ? *options.clock : system_clock();
    const Clock::TimePoint give_up = clock.now() + options.startup_timeout;
    std::chrono::milliseconds delay = kFirstRetryDelay;
    while (true) {
        SteadyTime deadline = std::chrono::steady_clock::now() + options.io_timeout;
        CERTDOCK_TRY(auto attempt, connect_once(address, deadline));
        auto& [fd, error] = attempt;
        if (error == 0) return std::move(fd);
        Clock::TimePoint now = clock.now();
        if (!means_not_started(error) || now >= give_up) {
            std::string reason = std::strerror(error);
            if (means_not_started(error)) {
                return fail(ErrorCategory::kNetwork,
                            "HAProxy did not come up: its Runtime API socket " + options.address +
                                " still refused connections after " +
                                std::to_string(options.startup_timeout.count()) + " ms (" + reason +
                                "); check that HAProxy runs and declares `stats socket " +
                                options.address + " level admin`");
            }
            return fail(ErrorCategory::kNetwork, "cannot connect to HAProxy's Runtime API socket " +
                                                     options.address + ": " + reason);
        }
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(give_up - now);
        clock.sleep_for(std::min(delay, left));
        delay = std::min(delay * 2, std::chrono::milliseconds(kMaxRetryDelay));
    }
}

}  // namespace

Result<std::string> cli_exchange(const CliTransportOptions& options, std::string_view request,
                                 std::string_view what) {
    Address address = parse_address(options.address);
    CERTDOCK_TRY(UniqueFd fd, connect_when_up(options, address));
    const SteadyTime deadline = std::chrono::steady_clock::now() + options.io_timeout;
    auto timed_out = [&](std::string_view doing) {
        return fail(ErrorCategory::kNetwork,
                    "HAProxy's Runtime API socket " + options.address + " did not " +
                        std::string(doing) + " `" + std::string(what) + "` within " +
                        std::to_string(options.io_timeout.count()) + " ms");
    };

    size_t sent = 0;
    while (sent < request.size()) {
        if (!wait_for_fd(fd.get(), POLLOUT, deadline)) {
            if (errno == ETIMEDOUT) return timed_out("accept");
            return fail(ErrorCategory::kIo,
                        "poll on " + options.address + ": " + std::strerror(errno));
        }
        ssize_t n = ::send(fd.get(), request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
        if (n > 0) {
            sent += static_cast<size_t>(n);
            continue;
        }
        if (errno == EINTR || errno == EAGAIN) continue;
        // HAProxy drops the connection when a request exceeds its buffer: read what is left
        // and let the caller explain the empty reply.
        if (errno == EPIPE || errno == ECONNRESET) break;
        return fail(ErrorCategory::kIo, "cannot send `" + std::string(what) + "` to " +
                                            options.address + ": " + std::strerror(errno));
    }

    // The master CLI (2.6) answers only once the client half-closes, as socat does; the
    // worker's socket does not mind either way.
    if (sent == request.size()) ::shutdown(fd.get(), SHUT_WR);

    std::string reply;
    char buffer[16384];
    while (true) {
        if (!wait_for_fd(fd.get(), POLLIN, deadline)) {
            if (errno == ETIMEDOUT) return timed_out("answer");
            return fail(ErrorCategory::kIo,
                        "poll on " + options.address + ": " + std::strerror(errno));
        }
        ssize_t n = ::recv(fd.get(), buffer, sizeof buffer, 0);
        if (n == 0) break;
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN) continue;
            if (errno == ECONNRESET) break;
            return fail(ErrorCategory::kIo, "cannot read the answer to `" + std::string(what) +
                                                "` from " + options.address + ": " +
                                                std::strerror(errno));
        }
        reply.append(buffer, static_cast<size_t>(n));
        if (reply.size() > kMaxReplyBytes) {
            return fail(ErrorCategory::kProtocol, "HAProxy's answer to `" + std::string(what) +
                                                      "` exceeds " +
                                                      std::to_string(kMaxReplyBytes) + " bytes");
        }
    }
    return reply;
}

}  // namespace certdock::haproxy
