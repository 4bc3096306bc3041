#include "challenge/loopback.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>

#include "crypto/openssl_error.hpp"
#include "crypto/ossl_ptr.hpp"

namespace certdock::challenge::test {
namespace {

constexpr int kReceiveTimeoutSeconds = 5;

sockaddr_in loopback_address(std::uint16_t port) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return address;
}

std::string lower(std::string_view text) {
    std::string out(text);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

}  // namespace

Socket& Socket::operator=(Socket&& other) noexcept {
    if (this != &other) {
        if (fd_ >= 0) ::close(fd_);
        fd_ = other.release();
    }
    return *this;
}

Socket::~Socket() {
    if (fd_ >= 0) ::close(fd_);
}

Socket connect_loopback(std::uint16_t port) {
    Socket socket(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!socket.valid()) return socket;
    timeval timeout{kReceiveTimeoutSeconds, 0};
    ::setsockopt(socket.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    sockaddr_in address = loopback_address(port);
    if (::connect(socket.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
        return Socket();
    }
    return socket;
}

Socket listen_loopback(std::uint16_t& port) {
    Socket socket(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in address = loopback_address(0);
    socklen_t length = sizeof address;
    if (!socket.valid() ||
        ::bind(socket.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0 ||
        ::listen(socket.get(), 1) != 0 ||
        ::getsockname(socket.get(), reinterpret_cast<sockaddr*>(&address), &length) != 0) {
        return Socket();
    }
    port = ntohs(address.sin_port);
    return socket;
}

bool send_all(const Socket& socket, std::string_view data) {
    while (!data.empty()) {
        ssize_t n = ::send(socket.get(), data.data(), data.size(), MSG_NOSIGNAL);
        if (n <= 0) return false;
        data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

std::string read_until_close(const Socket& socket) {
    std::string out;
    std::array<char, 4096> buffer{};
    while (true) {
        ssize_t n = ::recv(socket.get(), buffer.data(), buffer.size(), 0);
        if (n <= 0) return out;
        out.append(buffer.data(), static_cast<std::size_t>(n));
    }
}

std::optional<std::string> HttpReply::header(std::string_view name) const {
    std::string wanted = lower(name) + ":";
    std::size_t start = head.find('\n');
    while (start != std::string::npos && start + 1 < head.size()) {
        std::size_t end = head.find('\n', start + 1);
        std::string line = head.substr(start + 1, end - start - 1);
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (lower(line).starts_with(wanted)) {
            std::string value = line.substr(wanted.size());
            value.erase(0, value.find_first_not_of(' '));
            return value;
        }
        start = end;
    }
    return std::nullopt;
}

HttpReply parse_http_reply(const std::string& raw) {
    HttpReply reply;
    std::size_t end = raw.find("\r\n\r\n");
    reply.head = raw.substr(0, end);
    if (end != std::string::npos) reply.body = raw.substr(end + 4);
    reply.status_line = reply.head.substr(0, reply.head.find("\r\n"));
    if (reply.status_line.size() >= 12) reply.status = std::stoi(reply.status_line.substr(9, 3));
    return reply;
}

HttpReply http_exchange(std::uint16_t port, std::string_view request) {
    Socket socket = connect_loopback(port);
    if (!socket.valid() || !send_all(socket, request)) return {};
    return parse_http_reply(read_until_close(socket));
}

HttpReply http_get(std::uint16_t port, std::string_view path) {
    return http_exchange(port, "GET " + std::string(path) +
                                   " HTTP/1.1\r\nHost: example.com\r\nUser-Agent: test\r\n"
                                   "Accept: */*\r\n\r\n");
}

TlsProbe tls_probe(std::uint16_t port, const std::string& server_name, std::string_view alpn) {
    TlsProbe probe;
    Socket socket = connect_loopback(port);
    crypto::SslCtxPtr ctx(SSL_CTX_new(TLS_client_method()));
    crypto::SslPtr ssl(ctx ? SSL_new(ctx.get()) : nullptr);
    if (!socket.valid() || !ssl) {
        probe.error = "cannot connect";
        return probe;
    }
    SSL_set_fd(ssl.get(), socket.get());
    // SSL_set_tlsext_host_name() is a macro with a C-style cast.
    SSL_ctrl(ssl.get(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
             const_cast<char*>(server_name.c_str()));
    if (!alpn.empty()) {
        SSL_set_alpn_protos(ssl.get(), reinterpret_cast<const unsigned char*>(alpn.data()),
                            static_cast<unsigned>(alpn.size()));
    }
    // The validation certificate is self-signed: a validator checks its content, not a chain.
    SSL_set_verify(ssl.get(), SSL_VERIFY_NONE, nullptr);
    ERR_clear_error();
    probe.handshake_ok = SSL_connect(ssl.get()) == 1;
    if (!probe.handshake_ok) {
        probe.error = crypto::drain_openssl_errors();
        return probe;
    }
    const unsigned char* selected = nullptr;
    unsigned length = 0;
    SSL_get0_alpn_selected(ssl.get(), &selected, &length);
    if (selected != nullptr) probe.alpn.assign(reinterpret_cast<const char*>(selected), length);
    crypto::X509Ptr peer(SSL_get1_peer_certificate(ssl.get()));
    if (peer) probe.peer.emplace(std::move(peer));
    SSL_shutdown(ssl.get());
    return probe;
}

}  // namespace certdock::challenge::test
