#pragma once

// Plain-socket and TLS clients for talking to the standalone responders over 127.0.0.1, the
// way a CA's validator would.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "crypto/certificate.hpp"

namespace certdock::challenge::test {

// A socket file descriptor, closed on scope exit. Invalid (-1) when connecting failed.
class Socket {
public:
    explicit Socket(int fd = -1) : fd_(fd) {}
    Socket(Socket&& other) noexcept : fd_(other.release()) {}
    Socket& operator=(Socket&& other) noexcept;
    Socket(const Socket&) = delete;
    Socket& operator=(const Socket&) = delete;
    ~Socket();

    int get() const { return fd_; }
    bool valid() const { return fd_ >= 0; }
    int release() {
        int fd = fd_;
        fd_ = -1;
        return fd;
    }

private:
    int fd_;
};

// Connected to 127.0.0.1:port with a 5 s receive timeout, or invalid.
Socket connect_loopback(std::uint16_t port);
// A socket listening on 127.0.0.1 at a free port, to make a port busy.
Socket listen_loopback(std::uint16_t& port);

bool send_all(const Socket& socket, std::string_view data);
// Everything until the peer closes (or the receive timeout passes).
std::string read_until_close(const Socket& socket);

struct HttpReply {
    std::string status_line;  // "HTTP/1.1 200 OK"
    int status = 0;
    std::string head;  // status line and headers
    std::string body;
    std::optional<std::string> header(std::string_view name) const;  // case-insensitive
};
HttpReply parse_http_reply(const std::string& raw);

// Sends `request` on a fresh connection and reads the reply until the server closes.
HttpReply http_exchange(std::uint16_t port, std::string_view request);
// "GET <path> HTTP/1.1" with a Host header.
HttpReply http_get(std::uint16_t port, std::string_view path);

struct TlsProbe {
    bool handshake_ok = false;
    std::string alpn;                         // the protocol the server selected
    std::optional<crypto::Certificate> peer;  // the certificate it presented
    std::string error;                        // what OpenSSL said when it failed
};

// A TLS handshake with 127.0.0.1:port sending `server_name` as SNI and offering the ALPN
// protocols in `alpn` (wire format: length-prefixed names; empty: no ALPN extension).
TlsProbe tls_probe(std::uint16_t port, const std::string& server_name, std::string_view alpn);

}  // namespace certdock::challenge::test
