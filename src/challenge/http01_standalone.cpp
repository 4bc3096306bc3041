#include "challenge/http01_standalone.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/asio/write.hpp>

#include <array>
#include <map>
#include <mutex>
#include <optional>
#include <string_view>

#include "challenge/listener.hpp"
#include "challenge/task_check.hpp"

namespace certdock::challenge {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;

constexpr std::string_view kChallengePrefix = "/.well-known/acme-challenge/";
// After answering, how long to keep reading (and discarding) what the client still sends, so
// closing with unread data does not reset the connection before the client read the answer.
constexpr std::chrono::milliseconds kLingerTime{2'000};
constexpr std::size_t kReadChunk = 2048;

// token -> key authorization; written by the solver's thread, read by the server thread.
class TokenTable {
public:
    void put(const std::string& token, const std::string& key_authorization) {
        std::lock_guard lock(mutex_);
        entries_[token] = key_authorization;
    }
    void erase(const std::string& token) {
        std::lock_guard lock(mutex_);
        entries_.erase(token);
    }
    std::optional<std::string> find(std::string_view token) const {
        std::lock_guard lock(mutex_);
        auto it = entries_.find(token);
        if (it == entries_.end()) return std::nullopt;
        return it->second;
    }

private:
    mutable std::mutex mutex_;
    std::map<std::string, std::string, std::less<>> entries_;
};

struct Reply {
    int status;
    std::string_view reason;
    std::string body;
    std::string_view extra_headers = {};
};

std::string render(const Reply& reply, bool head) {
    std::string out = "HTTP/1.1 " + std::to_string(reply.status) + " " + std::string(reply.reason) +
                      "\r\n" +
                      "Content-Type: text/plain\r\n"
                      "Content-Length: " +
                      std::to_string(reply.body.size()) +
                      "\r\n"
                      "Cache-Control: no-store\r\n"
                      "Connection: close\r\n" +
                      std::string(reply.extra_headers) + "\r\n";
    if (!head) out += reply.body;
    return out;
}

// Offset just past the blank line ending the headers; bare LF line ends are accepted too
// (RFC 9112 §2.2).
std::optional<std::size_t> header_end(std::string_view request) {
    std::size_t crlf = request.find("\r\n\r\n");
    std::size_t lf = request.find("\n\n");
    std::optional<std::size_t> end;
    if (crlf != std::string_view::npos) end = crlf + 4;
    if (lf != std::string_view::npos && (!end || lf + 2 < *end)) end = lf + 2;
    return end;
}

// The path of an origin-form ("/a?b") or absolute-form ("http://host/a") request target,
// without query or fragment.
std::string_view target_path(std::string_view target) {
    if (std::size_t scheme = target.find("://");
        scheme != std::string_view::npos && target.front() != '/') {
        std::size_t slash = target.find('/', scheme + 3);
        target = slash == std::string_view::npos ? "/" : target.substr(slash);
    }
    return target.substr(0, target.find_first_of("?#"));
}

// Answers the request whose head (request line and headers) is `head`.
std::string answer(std::string_view head, const TokenTable& tokens) {
    std::string_view line = head.substr(0, head.find('\n'));
    if (line.ends_with('\r')) line.remove_suffix(1);
    std::size_t first_space = line.find(' ');
    std::size_t last_space = line.rfind(' ');
    if (first_space == std::string_view::npos || first_space == last_space) {
        return render({400, "Bad Request", "malformed request line\n"}, false);
    }
    std::string_view method = line.substr(0, first_space);
    std::string_view target = line.substr(first_space + 1, last_space - first_space - 1);
    std::string_view version = line.substr(last_space + 1);
    bool head_only = method == "HEAD";

    if (!version.starts_with("HTTP/") || target.empty()) {
        return render({400, "Bad Request", "malformed request line\n"}, head_only);
    }
    if (!version.starts_with("HTTP/1.")) {
        return render({505, "HTTP Version Not Supported", "only HTTP/1.x is served\n"}, head_only);
    }
    if (method != "GET" && !head_only) {
        return render(
            {405, "Method Not Allowed", "only GET and HEAD are served\n", "Allow: GET, HEAD\r\n"},
            false);
    }
    std::string_view path = target_path(target);
    if (path.starts_with(kChallengePrefix)) {
        std::string_view token = path.substr(kChallengePrefix.size());
        if (auto key_authorization = tokens.find(token)) {
            return render({200, "OK", std::move(*key_authorization)}, head_only);
        }
    }
    return render({404, "Not Found", "no challenge is presented at this path\n"}, head_only);
}

// One connection: read the request head, answer, close. Lives as long as an Asio handler
// holds it; every handler runs on the server thread.
class HttpSession : public std::enable_shared_from_this<HttpSession> {
public:
    HttpSession(tcp::socket socket, detail::ConnectionSlot slot, const TokenTable& tokens,
                const Http01StandaloneOptions& options)
        : socket_(std::move(socket)),
          slot_(std::move(slot)),
          timer_(socket_.get_executor()),
          tokens_(tokens),
          max_request_bytes_(options.max_request_bytes) {
        timer_.expires_after(options.request_timeout);
    }

    void start() {
        arm_timer();
        read_request();
    }

private:
    void arm_timer() {
        timer_.async_wait([self = shared_from_this()](const error_code& ec) {
            if (!ec) self->close();
        });
    }

    void read_request() {
        socket_.async_read_some(asio::buffer(chunk_),
                                [self = shared_from_this()](const error_code& ec, std::size_t n) {
                                    self->on_read(ec, n);
                                });
    }

    void on_read(const error_code& ec, std::size_t n) {
        if (ec) return close();
        request_.append(chunk_.data(), n);
        std::optional<std::size_t> end = header_end(request_);
        if ((end && *end > max_request_bytes_) || (!end && request_.size() > max_request_bytes_)) {
            return send(
                render({431, "Request Header Fields Too Large",
                        "request larger than " + std::to_string(max_request_bytes_) + " bytes\n"},
                       false));
        }
        if (!end) return read_request();
        // Anything after the head is a body or a pipelined request: neither is answered.
        send(answer(std::string_view(request_).substr(0, *end), tokens_));
    }

    void send(std::string response) {
        response_ = std::move(response);
        asio::async_write(socket_, asio::buffer(response_),
                          [self = shared_from_this()](const error_code& ec, std::size_t) {
                              if (ec) return self->close();
                              self->linger();
                          });
    }

    void linger() {
        error_code ignored;
        socket_.shutdown(tcp::socket::shutdown_send, ignored);
        timer_.expires_after(kLingerTime);  // cancels the request timeout's wait
        arm_timer();
        drain();
    }

    void drain() {
        socket_.async_read_some(asio::buffer(chunk_),
                                [self = shared_from_this()](const error_code& ec, std::size_t) {
                                    if (ec) return self->close();
                                    self->drain();
                                });
    }

    void close() {
        timer_.cancel();
        error_code ignored;
        socket_.close(ignored);
    }

    tcp::socket socket_;
    detail::ConnectionSlot slot_;
    asio::steady_timer timer_;
    const TokenTable& tokens_;
    std::size_t max_request_bytes_;
    std::array<char, kReadChunk> chunk_{};
    std::string request_;
    std::string response_;
};

}  // namespace

struct Http01Standalone::Impl {
    explicit Impl(Http01StandaloneOptions opts)
        : options(std::move(opts)),
          listener("http-01 responder",
                   "if HAProxy holds the port, forward /.well-known/acme-challenge/ to a free "
                   "port and listen there, or use the webroot solver",
                   {options.address, options.port}, options.max_connections) {}

    Http01StandaloneOptions options;
    // Outlives the listener, whose destructor stops the sessions that read it.
    TokenTable tokens;
    detail::Listener listener;
};

Http01Standalone::Http01Standalone(Http01StandaloneOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}

Http01Standalone::~Http01Standalone() = default;

Status Http01Standalone::start() {
    return impl_->listener.start(
        [impl = impl_.get()](tcp::socket socket, detail::ConnectionSlot slot) {
            std::make_shared<HttpSession>(std::move(socket), std::move(slot), impl->tokens,
                                          impl->options)
                ->start();
        });
}

std::uint16_t Http01Standalone::port() const {
    return impl_->listener.port();
}

Status Http01Standalone::present(const ChallengeTask& task) {
    CERTDOCK_TRY_STATUS(check_task(task, ChallengeType::kHttp01));
    CERTDOCK_TRY_STATUS(start());
    impl_->tokens.put(task.token, task.key_authorization);
    return {};
}

Status Http01Standalone::cleanup(const ChallengeTask& task) {
    impl_->tokens.erase(task.token);
    return {};
}

}  // namespace certdock::challenge
