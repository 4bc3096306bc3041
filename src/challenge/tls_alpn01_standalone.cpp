#include "challenge/tls_alpn01_standalone.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <cctype>
#include <map>
#include <mutex>
#include <optional>
#include <string_view>

#include "challenge/listener.hpp"
#include "challenge/task_check.hpp"
#include "crypto/openssl_error.hpp"
#include "crypto/ossl_ptr.hpp"

namespace certdock::challenge {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;

// One presented task: the certificate to serve for its server name.
struct Entry {
    std::string token;
    TlsAlpn01Certificate served;
};

// server name -> entry; written by the solver's thread, read by the server thread during
// handshakes. Entries are shared so a handshake keeps its certificate even if cleanup() runs
// in between.
class CertTable {
public:
    void put(const std::string& name, std::shared_ptr<const Entry> entry) {
        std::lock_guard lock(mutex_);
        entries_[name] = std::move(entry);
    }
    // Only the task's own entry: a newer task for the same name stays.
    void erase(const std::string& name, const std::string& token) {
        std::lock_guard lock(mutex_);
        auto it = entries_.find(name);
        if (it != entries_.end() && it->second->token == token) entries_.erase(it);
    }
    std::shared_ptr<const Entry> find(const std::string& name) const {
        std::lock_guard lock(mutex_);
        auto it = entries_.find(name);
        return it == entries_.end() ? nullptr : it->second;
    }

private:
    mutable std::mutex mutex_;
    std::map<std::string, std::shared_ptr<const Entry>> entries_;
};

// Reads the length-prefixed fields of TLS extensions without trusting a single length.
class WireReader {
public:
    WireReader(const unsigned char* data, std::size_t size) : data_(data), size_(size) {}
    bool empty() const { return offset_ == size_; }
    std::optional<std::size_t> number(std::size_t bytes) {
        if (size_ - offset_ < bytes) return std::nullopt;
        std::size_t value = 0;
        for (std::size_t i = 0; i < bytes; ++i) value = (value << 8) | data_[offset_++];
        return value;
    }
    // The next `length`-prefixed vector as a reader of its own.
    std::optional<WireReader> vector(std::size_t length_bytes) {
        auto length = number(length_bytes);
        if (!length || size_ - offset_ < *length) return std::nullopt;
        WireReader inner(data_ + offset_, *length);
        offset_ += *length;
        return inner;
    }
    std::string_view rest() const {
        return {reinterpret_cast<const char*>(data_ + offset_), size_ - offset_};
    }
    const unsigned char* position() const { return data_ + offset_; }

private:
    const unsigned char* data_;
    std::size_t size_;
    std::size_t offset_ = 0;
};

// In an ALPN protocol_name_list (RFC 7301 §3.1), where "acme-tls/1" starts, with its length
// byte; nullptr when it is not offered.
const unsigned char* find_acme_tls(const unsigned char* data, std::size_t size) {
    WireReader list(data, size);
    while (!list.empty()) {
        const unsigned char* entry = list.position();
        auto name = list.vector(1);
        if (!name) return nullptr;
        if (name->rest() == kAcmeTlsAlpn) return entry;
    }
    return nullptr;
}

bool offers_acme_tls(SSL* ssl) {
    const unsigned char* data = nullptr;
    std::size_t size = 0;
    if (SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_application_layer_protocol_negotiation, &data,
                                  &size) != 1) {
        return false;
    }
    auto list = WireReader(data, size).vector(2);
    return list && find_acme_tls(list->position(), list->rest().size()) != nullptr;
}

// The host_name of the server_name extension (RFC 6066 §3), in lower case.
std::optional<std::string> requested_server_name(SSL* ssl) {
    const unsigned char* data = nullptr;
    std::size_t size = 0;
    if (SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_server_name, &data, &size) != 1) {
        return std::nullopt;
    }
    auto list = WireReader(data, size).vector(2);
    while (list && !list->empty()) {
        auto type = list->number(1);
        auto name = list->vector(2);
        if (!type || !name) return std::nullopt;
        if (*type != TLSEXT_NAMETYPE_host_name) continue;
        std::string text(name->rest());
        for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        return text;
    }
    return std::nullopt;
}

// Decides before anything is sent: no acme-tls/1, no certificate. ALPN selection comes later
// and is not called at all for a ClientHello without ALPN, so it cannot be the gate.
int on_client_hello(SSL* ssl, int* alert, void* arg) {
    if (!offers_acme_tls(ssl)) {
        *alert = SSL_AD_NO_APPLICATION_PROTOCOL;
        return SSL_CLIENT_HELLO_ERROR;
    }
    std::optional<std::string> name = requested_server_name(ssl);
    auto entry = name ? static_cast<const CertTable*>(arg)->find(*name) : nullptr;
    if (!entry) {
        *alert = SSL_AD_UNRECOGNIZED_NAME;
        return SSL_CLIENT_HELLO_ERROR;
    }
    if (SSL_use_certificate(ssl, entry->served.certificate.get()) != 1 ||
        SSL_use_PrivateKey(ssl, entry->served.key.get()) != 1) {
        *alert = SSL_AD_INTERNAL_ERROR;
        return SSL_CLIENT_HELLO_ERROR;
    }
    return SSL_CLIENT_HELLO_SUCCESS;
}

int on_alpn_select(SSL* /*ssl*/, const unsigned char** out, unsigned char* out_length,
                   const unsigned char* in, unsigned int in_length, void* /*arg*/) {
    const unsigned char* entry = find_acme_tls(in, in_length);
    if (entry == nullptr) return SSL_TLSEXT_ERR_ALERT_FATAL;
    *out_length = entry[0];
    *out = entry + 1;
    return SSL_TLSEXT_ERR_OK;
}

Result<crypto::SslCtxPtr> make_context(const CertTable& table) {
    crypto::SslCtxPtr ctx(SSL_CTX_new(TLS_server_method()));
    if (!ctx || SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION) != 1) {
        return Unexpected(crypto::openssl_error("cannot create the tls-alpn-01 TLS context"));
    }
    // One handshake per connection and nothing to resume: no tickets, no session cache.
    SSL_CTX_set_options(ctx.get(), SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION);
    SSL_CTX_set_num_tickets(ctx.get(), 0);
    SSL_CTX_set_session_cache_mode(ctx.get(), SSL_SESS_CACHE_OFF);
    SSL_CTX_set_client_hello_cb(ctx.get(), on_client_hello,
                                const_cast<void*>(static_cast<const void*>(&table)));
    SSL_CTX_set_alpn_select_cb(ctx.get(), on_alpn_select, nullptr);
    return ctx;
}

// One connection: a TLS handshake driven over a non-blocking socket, then close. Lives as
// long as an Asio handler holds it; every handler runs on the server thread.
class TlsSession : public std::enable_shared_from_this<TlsSession> {
public:
    TlsSession(tcp::socket socket, detail::ConnectionSlot slot, SSL_CTX* ctx,
               std::chrono::milliseconds timeout)
        : socket_(std::move(socket)),
          slot_(std::move(slot)),
          timer_(socket_.get_executor()),
          ssl_(SSL_new(ctx)) {
        timer_.expires_after(timeout);
    }

    void start() {
        error_code ec;
        socket_.non_blocking(true, ec);
        if (ec || !ssl_ || SSL_set_fd(ssl_.get(), socket_.native_handle()) != 1) {
            ERR_clear_error();
            return close();
        }
        SSL_set_accept_state(ssl_.get());
        timer_.async_wait([self = shared_from_this()](const error_code& wait_ec) {
            if (!wait_ec) self->close();
        });
        step();
    }

private:
    void step() {
        if (!socket_.is_open()) return;
        ERR_clear_error();
        int result = SSL_do_handshake(ssl_.get());
        if (result == 1) {
            SSL_shutdown(ssl_.get());  // close_notify, best effort: the validator has what it needs
            return close();
        }
        int error = SSL_get_error(ssl_.get(), result);
        if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) {
            auto wait =
                error == SSL_ERROR_WANT_READ ? tcp::socket::wait_read : tcp::socket::wait_write;
            socket_.async_wait(wait, [self = shared_from_this()](const error_code& ec) {
                if (ec) return self->close();
                self->step();
            });
            return;
        }
        // Refused or broken handshakes are the peer's business; keep the thread's queue empty.
        ERR_clear_error();
        close();
    }

    void close() {
        timer_.cancel();
        error_code ignored;
        socket_.close(ignored);
    }

    tcp::socket socket_;
    detail::ConnectionSlot slot_;
    asio::steady_timer timer_;
    crypto::SslPtr ssl_;  // uses socket_'s descriptor without owning it
};

}  // namespace

struct TlsAlpn01Standalone::Impl {
    explicit Impl(TlsAlpn01StandaloneOptions opts)
        : options(std::move(opts)),
          listener("tls-alpn-01 responder",
                   "if HAProxy holds the port, route ALPN acme-tls/1 to a free port and listen "
                   "there, or use another challenge type",
                   {options.address, options.port}, options.max_connections) {}

    TlsAlpn01StandaloneOptions options;
    // Both outlive the listener, whose destructor stops the sessions that use them.
    CertTable certs;
    crypto::SslCtxPtr ctx;
    detail::Listener listener;
};

TlsAlpn01Standalone::TlsAlpn01Standalone(TlsAlpn01StandaloneOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}

TlsAlpn01Standalone::~TlsAlpn01Standalone() = default;

Status TlsAlpn01Standalone::start() {
    if (impl_->listener.running()) return {};
    if (!impl_->ctx) {
        CERTDOCK_TRY(impl_->ctx, make_context(impl_->certs));
    }
    return impl_->listener.start(
        [impl = impl_.get()](tcp::socket socket, detail::ConnectionSlot slot) {
            std::make_shared<TlsSession>(std::move(socket), std::move(slot), impl->ctx.get(),
                                         impl->options.handshake_timeout)
                ->start();
        });
}

std::uint16_t TlsAlpn01Standalone::port() const {
    return impl_->listener.port();
}

Status TlsAlpn01Standalone::present(const ChallengeTask& task) {
    CERTDOCK_TRY_STATUS(check_task(task, ChallengeType::kTlsAlpn01));
    if (task.wildcard) {
        return fail(ErrorCategory::kUsage, "tls-alpn-01 cannot validate wildcard *." +
                                               task.identifier + " (RFC 8737 §3); use dns-01");
    }
    CERTDOCK_TRY(std::string name, tls_alpn01_server_name(task));
    CERTDOCK_TRY(TlsAlpn01Certificate served, make_tls_alpn01_certificate(task));
    CERTDOCK_TRY_STATUS(start());
    impl_->certs.put(name, std::make_shared<const Entry>(Entry{task.token, std::move(served)}));
    return {};
}

Status TlsAlpn01Standalone::cleanup(const ChallengeTask& task) {
    auto name = tls_alpn01_server_name(task);
    if (name) impl_->certs.erase(*name, task.token);
    return {};  // a name that does not parse was never presented
}

}  // namespace certdock::challenge
