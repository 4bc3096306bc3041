#include "tls_probe.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "base/unique_fd.hpp"
#include "crypto/openssl_error.hpp"
#include "crypto/ossl_ptr.hpp"

namespace certdock::test {
namespace {

std::string openssl_errors() {
    std::string out = crypto::drain_openssl_errors();
    return out.empty() ? "no OpenSSL error queued" : out;
}

}  // namespace

Result<crypto::Certificate> fetch_served_certificate(std::uint16_t port, const std::string& sni) {
    UniqueFd socket(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(port);
    timeval timeout{5, 0};
    if (socket.get() < 0 ||
        ::setsockopt(socket.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout) != 0 ||
        ::connect(socket.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
        return fail(ErrorCategory::kNetwork, "cannot connect to 127.0.0.1:" + std::to_string(port) +
                                                 ": " + std::strerror(errno));
    }
    crypto::SslCtxPtr ctx(SSL_CTX_new(TLS_client_method()));
    if (!ctx) return fail(ErrorCategory::kCrypto, "SSL_CTX_new: " + openssl_errors());
    crypto::SslPtr ssl(SSL_new(ctx.get()));
    if (!ssl || SSL_set_fd(ssl.get(), socket.get()) != 1 ||
        // The macro SSL_set_tlsext_host_name hides a C cast.
        SSL_ctrl(ssl.get(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                 const_cast<char*>(sni.c_str())) != 1) {
        return fail(ErrorCategory::kCrypto, "cannot set up the TLS client: " + openssl_errors());
    }
    if (SSL_connect(ssl.get()) != 1) {
        return fail(ErrorCategory::kNetwork,
                    "TLS handshake with 127.0.0.1:" + std::to_string(port) +
                        " failed: " + openssl_errors());
    }
    X509* peer = SSL_get1_peer_certificate(ssl.get());  // owned: handed to Certificate
    if (peer == nullptr) return fail(ErrorCategory::kProtocol, "the server sent no certificate");
    crypto::Certificate certificate{crypto::X509Ptr(peer)};
    SSL_shutdown(ssl.get());
    return certificate;
}

}  // namespace certdock::test
