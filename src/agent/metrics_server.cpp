#include "agent/metrics_server.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <list>
#include <utility>
#include <vector>

#include "agent/metrics_registry.hpp"

namespace certdock::agent {
namespace {

using SteadyTime = std::chrono::steady_clock::time_point;

std::string response(std::string_view status, std::string_view content_type, std::string_view body,
                     bool head, std::string_view extra_headers = {}) {
    std::string out = "HTTP/1.1 ";
    out += status;
    out += "\r\nContent-Type: ";
    out += content_type;
    out += "\r\nContent-Length: " + std::to_string(body.size());
    out += "\r\nCache-Control: no-store\r\nConnection: close\r\n";
    out += extra_headers;
    out += "\r\n";
    if (!head) out += body;
    return out;
}

std::string plain(std::string_view status, std::string_view body, bool head = false,
                  std::string_view extra_headers = {}) {
    return response(status, "text/plain; charset=utf-8", body, head, extra_headers);
}

std::string host_port_text(const sockaddr_storage& address) {
    char host[INET6_ADDRSTRLEN] = {};
    if (address.ss_family == AF_INET6) {
        const auto& v6 = reinterpret_cast<const sockaddr_in6&>(address);
        ::inet_ntop(AF_INET6, &v6.sin6_addr, host, sizeof host);
        return "[" + std::string(host) + "]:" + std::to_string(ntohs(v6.sin6_port));
    }
    const auto& v4 = reinterpret_cast<const sockaddr_in&>(address);
    ::inet_ntop(AF_INET, &v4.sin_addr, host, sizeof host);
    return std::string(host) + ":" + std::to_string(ntohs(v4.sin_port));
}

std::string bind_failure_advice(int error, const std::string& listen, std::uint16_t port) {
    switch (error) {
        case EADDRINUSE:
            return "the port is in use by another program; stop it (ss -ltnp 'sport = :" +
                   std::to_string(port) + "' shows which) or choose another port in metrics-listen";
        case EACCES:
            return "ports below 1024 need CAP_NET_BIND_SERVICE; choose a port above 1023 in "
                   "metrics-listen";
        case EADDRNOTAVAIL:
            return "the address is not one of this host's; write one of its addresses, or " +
                   std::string("*:") + std::to_string(port) + " for all of them";
        default:
            return std::string(std::strerror(error)) + "; check metrics-listen = \"" + listen +
                   "\"";
    }
}

// A listening socket for `where`. Every address of the host: IPv6 and IPv4 on one dual-stack
// socket, or IPv4 alone where the host has no IPv6.
Result<UniqueFd> listen_on(const ListenAddress& where, const std::string& text) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    const std::string port = std::to_string(where.port);
    const bool any = where.host.empty();
    std::vector<std::string> hosts =
        any ? std::vector<std::string>{"::", "0.0.0.0"} : std::vector<std::string>{where.host};
    int last_error = EADDRNOTAVAIL;
    for (const auto& host : hosts) {
        addrinfo* found = nullptr;
        const int rc = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &found);
        if (rc != 0) {
            return fail(ErrorCategory::kUsage, "metrics-listen " + text + ": cannot resolve " +
                                                   host + ": " + ::gai_strerror(rc) +
                                                   "; write an IP address");
        }
        std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> owner(found, &::freeaddrinfo);
        for (addrinfo* entry = found; entry != nullptr; entry = entry->ai_next) {
            UniqueFd fd(::socket(entry->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
            if (!fd.valid()) {
                last_error = errno;
                continue;
            }
            const int on = 1;
            // A restarted agent binds again while old connections sit in TIME_WAIT.
            ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
            if (any && entry->ai_family == AF_INET6) {
                const int off = 0;
                ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
            }
            if (::bind(fd.get(), entry->ai_addr, entry->ai_addrlen) != 0 ||
                ::listen(fd.get(), 64) != 0) {
                last_error = errno;
                // A taken port will not be free on the next address either.
                if (last_error == EADDRINUSE || last_error == EACCES) break;
                continue;
            }
            return fd;
        }
        if (last_error == EADDRINUSE || last_error == EACCES) break;
    }
    return fail(ErrorCategory::kIo, "metrics endpoint cannot listen on " + text + ": " +
                                        bind_failure_advice(last_error, text, where.port));
}

enum class Phase {
    kReading,
    kWriting,
    // The response is sent and our side shut: what the client still sends is read and
    // dropped until it closes, so unread bytes never make the kernel reset the connection
    // (which can lose the response on the client's side).
    kDraining,
};

struct Connection {
    UniqueFd fd;
    SteadyTime deadline{};
    std::string in{};
    std::string out{};
    size_t sent = 0;
    Phase phase = Phase::kReading;
};

size_t end_of_headers(const std::string& in) {
    for (std::string_view blank : {"\r\n\r\n", "\n\n"}) {
        const size_t at = in.find(blank);
        if (at != std::string::npos) return at + blank.size();
    }
    return std::string::npos;
}

// Reads what is there; true when the connection is to be closed now.
bool read_request(Connection& connection, const MetricsServerOptions& options) {
    char buffer[4096];
    while (true) {
        const ssize_t got = ::recv(connection.fd.get(), buffer, sizeof buffer, 0);
        if (got == 0) return true;  // closed before a whole request
        if (got < 0) return !(errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR);
        connection.in.append(buffer, static_cast<size_t>(got));
        const size_t end = end_of_headers(connection.in);
        if (end != std::string::npos && end <= options.max_request_bytes) {
            connection.out = metrics_http_response(std::string_view(connection.in).substr(0, end),
                                                   options.metrics);
            connection.phase = Phase::kWriting;
            return false;
        }
        if (connection.in.size() > options.max_request_bytes) {
            connection.out = plain("431 Request Header Fields Too Large",
                                   "request headers larger than " +
                                       std::to_string(options.max_request_bytes) + " bytes\n");
            connection.phase = Phase::kWriting;
            return false;
        }
    }
}

// Writes what the socket takes, then shuts our side; true when the connection is to close.
bool write_response(Connection& connection) {
    while (connection.sent < connection.out.size()) {
        const ssize_t put = ::send(connection.fd.get(), connection.out.data() + connection.sent,
                                   connection.out.size() - connection.sent, MSG_NOSIGNAL);
        if (put < 0) return !(errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR);
        connection.sent += static_cast<size_t>(put);
    }
    ::shutdown(connection.fd.get(), SHUT_WR);
    connection.phase = Phase::kDraining;
    return false;
}

// True when the client has closed (or failed) and the connection is to close.
bool drain(Connection& connection) {
    char buffer[4096];
    while (true) {
        const ssize_t got = ::recv(connection.fd.get(), buffer, sizeof buffer, 0);
        if (got == 0) return true;
        if (got < 0) return !(errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR);
    }
}

}  // namespace

Result<ListenAddress> parse_listen_address(std::string_view text) {
    auto bad = [&](const std::string& why) {
        return fail(ErrorCategory::kUsage, "metrics-listen '" + std::string(text) + "': " + why +
                                               "; write HOST:PORT, as 127.0.0.1:9732 or "
                                               "[::1]:9732");
    };
    const size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return bad("no port");
    ListenAddress address;
    std::string_view host = text.substr(0, colon);
    if (!host.empty() && host.front() == '[') {
        if (host.size() < 3 || host.back() != ']') return bad("unbalanced brackets");
        host = host.substr(1, host.size() - 2);
    } else if (host.find(':') != std::string_view::npos) {
        return bad("an IPv6 address goes in brackets");
    }
    if (host != "*") address.host = std::string(host);
    const std::string_view port = text.substr(colon + 1);
    if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != port.npos) {
        return bad("the port must be a number from 0 to 65535");
    }
    const int number = std::stoi(std::string(port));
    if (number > 65535) return bad("the port must be a number from 0 to 65535");
    address.port = static_cast<std::uint16_t>(number);
    return address;
}

std::string metrics_http_response(std::string_view request,
                                  const std::function<std::string()>& metrics) {
    const std::string_view line = request.substr(0, request.find_first_of("\r\n"));
    const size_t first_space = line.find(' ');
    const size_t second_space =
        first_space == line.npos ? line.npos : line.find(' ', first_space + 1);
    if (second_space == line.npos || !line.substr(second_space + 1).starts_with("HTTP/1.")) {
        return plain("400 Bad Request", "expected an HTTP/1.x request line\n");
    }
    const std::string_view method = line.substr(0, first_space);
    std::string_view target = line.substr(first_space + 1, second_space - first_space - 1);
    target = target.substr(0, target.find('?'));
    const bool head = method == "HEAD";
    if (method != "GET" && !head) {
        return plain("405 Method Not Allowed", "only GET and HEAD\n", false,
                     "Allow: GET, HEAD\r\n");
    }
    if (target == "/metrics") {
        return response("200 OK", kMetricsContentType, metrics ? metrics() : std::string(), head);
    }
    if (target == "/healthz") return plain("200 OK", "ok\n", head);
    return plain("404 Not Found", "not found; metrics are at /metrics\n", head);
}

Result<std::unique_ptr<MetricsServer>> MetricsServer::start(MetricsServerOptions options) {
    CERTDOCK_TRY(ListenAddress where, parse_listen_address(options.listen));
    CERTDOCK_TRY(UniqueFd listener, listen_on(where, options.listen));
    sockaddr_storage bound{};
    socklen_t length = sizeof bound;
    if (::getsockname(listener.get(), reinterpret_cast<sockaddr*>(&bound), &length) != 0) {
        return fail(ErrorCategory::kIo,
                    "metrics endpoint: getsockname: " + std::string(std::strerror(errno)));
    }
    UniqueFd wake(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
    if (!wake.valid()) {
        return fail(ErrorCategory::kIo,
                    "metrics endpoint: eventfd: " + std::string(std::strerror(errno)));
    }
    const std::uint16_t port = bound.ss_family == AF_INET6
                                   ? ntohs(reinterpret_cast<const sockaddr_in6&>(bound).sin6_port)
                                   : ntohs(reinterpret_cast<const sockaddr_in&>(bound).sin_port);
    std::unique_ptr<MetricsServer> server(new MetricsServer(
        std::move(options), std::move(listener), std::move(wake), port, host_port_text(bound)));
    server->thread_ = std::thread([self = server.get()] { self->serve(); });
    return server;
}

MetricsServer::MetricsServer(MetricsServerOptions options, UniqueFd listener, UniqueFd wake,
                             std::uint16_t port, std::string address)
    : options_(std::move(options)),
      listener_(std::move(listener)),
      wake_(std::move(wake)),
      port_(port),
      address_(std::move(address)) {}

MetricsServer::~MetricsServer() {
    const std::uint64_t one = 1;
    if (::write(wake_.get(), &one, sizeof one) < 0) {
        // An eventfd write fails only when the counter would overflow: already woken.
    }
    if (thread_.joinable()) thread_.join();
}

void MetricsServer::serve() {
    std::list<Connection> connections;
    std::vector<pollfd> polled;
    while (true) {
        const SteadyTime now = std::chrono::steady_clock::now();
        // Past their deadline: closed without an answer.
        connections.remove_if([&](const Connection& c) { return c.deadline <= now; });

        polled.clear();
        polled.push_back({wake_.get(), POLLIN, 0});
        const bool accepting = connections.size() < options_.max_connections;
        polled.push_back({accepting ? listener_.get() : -1, POLLIN, 0});
        SteadyTime earliest = SteadyTime::max();
        for (const auto& connection : connections) {
            const short events = connection.phase == Phase::kWriting ? POLLOUT : POLLIN;
            polled.push_back({connection.fd.get(), events, 0});
            earliest = std::min(earliest, connection.deadline);
        }
        int timeout_ms = -1;
        if (earliest != SteadyTime::max()) {
            const auto left =
                std::chrono::duration_cast<std::chrono::milliseconds>(earliest - now).count();
            timeout_ms = static_cast<int>(std::clamp<long long>(left + 1, 0, 60'000));
        }
        const int ready = ::poll(polled.data(), polled.size(), timeout_ms);
        if (ready < 0 && errno != EINTR) return;
        if (ready <= 0) continue;
        if (polled[0].revents != 0) return;  // stopping

        size_t index = 2;
        for (auto it = connections.begin(); it != connections.end(); ++index) {
            const short revents = polled[index].revents;
            bool close = false;
            if (revents & (POLLERR | POLLNVAL)) {
                close = true;
            } else if (revents != 0 && it->phase == Phase::kReading) {
                close = read_request(*it, options_);
                if (!close && it->phase == Phase::kWriting) close = write_response(*it);
                if (!close && it->phase == Phase::kDraining) close = drain(*it);
            } else if (revents != 0 && it->phase == Phase::kWriting) {
                close = write_response(*it);
                if (!close && it->phase == Phase::kDraining) close = drain(*it);
            } else if (revents != 0) {
                close = drain(*it);
            }
            it = close ? connections.erase(it) : std::next(it);
        }

        if (accepting && (polled[1].revents & POLLIN)) {
            while (connections.size() < options_.max_connections) {
                UniqueFd client(
                    ::accept4(listener_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
                if (!client.valid()) break;  // EAGAIN, or a connection reset before accept
                connections.push_back(
                    Connection{.fd = std::move(client),
                               .deadline = std::chrono::steady_clock::now() + options_.deadline});
            }
        }
    }
}

}  // namespace certdock::agent
