#include "agent/tls_probe.hpp"

#include <openssl/ssl.h>
#include <poll.h>

#include <cerrno>
#include <cstring>

#include "base/socket.hpp"
#include "crypto/openssl_error.hpp"
#include "crypto/ossl_ptr.hpp"

namespace certdock::agent {
namespace {

std::string openssl_errors() {
    std::string out = crypto::drain_openssl_errors();
    return out.empty() ? "the connection was closed" : out;
}

}  // namespace

Result<ProbeTarget> parse_probe_address(const std::string& text, const std::string& flag) {
    size_t colon = text.rfind(':');
    auto bad = [&](const std::string& why) {
        return fail(ErrorCategory::kUsage, flag + " '" + text + "': " + why);
    };
    if (colon == std::string::npos || colon == 0) return bad("expected HOST:PORT");
    ProbeTarget target;
    target.host = text.substr(0, colon);
    if (target.host.front() == '[') {
        if (target.host.size() < 3 || target.host.back() != ']') return bad("unbalanced brackets");
        target.host = target.host.substr(1, target.host.size() - 2);
    } else if (target.host.find(':') != std::string::npos) {
        return bad("write an IPv6 address in brackets, as [::1]:443");
    }
    std::string port = text.substr(colon + 1);
    if (port.empty() || port.size() > 5 ||
        port.find_first_not_of("0123456789") != std::string::npos || std::stoi(port) == 0 ||
        std::stoi(port) > 65535) {
        return bad("the port must be 1 to 65535");
    }
    target.port = static_cast<std::uint16_t>(std::stoi(port));
    return target;
}

std::string describe(const ProbeTarget& target) {
    bool v6 = target.host.find(':') != std::string::npos;
    std::string address =
        (v6 ? "[" + target.host + "]" : target.host) + ":" + std::to_string(target.port);
    return target.sni.empty() ? address + " (no SNI)" : address + " (SNI " + target.sni + ")";
}

Result<std::vector<crypto::Certificate>> probe_served_chain(const ProbeTarget& target,
                                                            const ProbeOptions& options) {
    const SteadyTime deadline = std::chrono::steady_clock::now() + options.timeout;
    CERTDOCK_TRY(auto connected, connect_tcp(target.host, std::to_string(target.port), deadline));
    auto& [socket, error] = connected;
    if (error != 0) {
        return fail(ErrorCategory::kNetwork,
                    "cannot connect to " + describe(target) + ": " + std::strerror(error));
    }
    crypto::SslCtxPtr ctx(SSL_CTX_new(TLS_client_method()));
    if (!ctx) return fail(ErrorCategory::kCrypto, "SSL_CTX_new: " + openssl_errors());
    crypto::SslPtr ssl(SSL_new(ctx.get()));
    if (!ssl || SSL_set_fd(ssl.get(), socket.get()) != 1) {
        return fail(ErrorCategory::kCrypto, "cannot set up the TLS client: " + openssl_errors());
    }
    // The macro SSL_set_tlsext_host_name hides a C cast.
    if (!target.sni.empty() &&
        SSL_ctrl(ssl.get(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                 const_cast<char*>(target.sni.c_str())) != 1) {
        return fail(ErrorCategory::kUsage,
                    "'" + target.sni + "' cannot be sent as SNI: " + openssl_errors());
    }
    // The socket is non-blocking: drive the handshake until done or the deadline passes.
    while (true) {
        int rc = SSL_connect(ssl.get());
        if (rc == 1) break;
        int reason = SSL_get_error(ssl.get(), rc);
        int wanted = reason == SSL_ERROR_WANT_READ    ? POLLIN
                     : reason == SSL_ERROR_WANT_WRITE ? POLLOUT
                                                      : 0;
        auto events = static_cast<short>(wanted);
        if (events == 0) {
            return fail(ErrorCategory::kNetwork,
                        "TLS handshake with " + describe(target) + " failed: " + openssl_errors());
        }
        if (!wait_for_fd(socket.get(), events, deadline)) {
            return fail(ErrorCategory::kNetwork,
                        "TLS handshake with " + describe(target) + " did not finish within " +
                            std::to_string(options.timeout.count()) + " ms");
        }
    }
    STACK_OF(X509)* sent = SSL_get_peer_cert_chain(ssl.get());  // not owned; leaf first
    if (sent == nullptr || sk_X509_num(sent) == 0) {
        return fail(ErrorCategory::kProtocol, describe(target) + " sent no certificate");
    }
    std::vector<crypto::Certificate> chain;
    for (int i = 0; i < sk_X509_num(sent); ++i) {
        X509* cert = sk_X509_value(sent, i);
        X509_up_ref(cert);
        chain.emplace_back(crypto::X509Ptr(cert));
    }
    SSL_shutdown(ssl.get());
    return chain;
}

}  // namespace certdock::agent
