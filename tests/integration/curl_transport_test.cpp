// The libcurl transport against a small HTTP(S) server run on a thread of the test: every
// byte the server sends is under the test's control, and it listens on 127.0.0.1 port 0.

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "acme/curl_transport.hpp"
#include "base/file.hpp"
#include "base/unique_fd.hpp"
#include "support/must.hpp"
#include "support/temp_dir.hpp"
#include "support/test_pki.hpp"

namespace certdock::acme {
namespace {

using test::must;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using namespace std::chrono_literals;

using crypto::SslCtxPtr;
using crypto::SslPtr;

struct ReceivedRequest {
    std::string method;
    std::string target;
    HttpHeaders headers;
    std::string body;

    std::optional<std::string> header(std::string_view name) const {
        HttpResponse lookup{0, headers, ""};
        return lookup.header(name);
    }
};

// Returns the raw bytes to answer with, or nothing to leave the client waiting.
using Handler = std::function<std::optional<std::string>(const ReceivedRequest&)>;

std::string http_response(int status, const HttpHeaders& headers, const std::string& body,
                          bool head = false) {
    std::string raw = "HTTP/1.1 " + std::to_string(status) + " Whatever\r\n";
    for (const auto& [name, value] : headers) raw += name + ": " + value + "\r\n";
    raw += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
    if (!head) raw += body;
    return raw;
}

// One connection, plain or TLS.
class Connection {
public:
    Connection(UniqueFd fd, SslPtr ssl) : fd_(std::move(fd)), ssl_(std::move(ssl)) {}
    int fd() const { return fd_.get(); }
    bool buffered() const { return ssl_ && SSL_pending(ssl_.get()) > 0; }

    long read_some(char* buffer, size_t size) {
        if (ssl_) return SSL_read(ssl_.get(), buffer, static_cast<int>(size));
        return ::recv(fd_.get(), buffer, size, 0);
    }
    bool write_all(std::string_view data) {
        while (!data.empty()) {
            long written = ssl_ ? SSL_write(ssl_.get(), data.data(), static_cast<int>(data.size()))
                                : ::send(fd_.get(), data.data(), data.size(), MSG_NOSIGNAL);
            if (written <= 0) return false;
            data.remove_prefix(static_cast<size_t>(written));
        }
        return true;
    }

private:
    UniqueFd fd_;
    SslPtr ssl_;
};

class LocalServer {
public:
    explicit LocalServer(Handler handler, const test::Issued* tls_identity = nullptr)
        : handler_(std::move(handler)) {
        // OpenSSL writes with plain send(): a client hanging up must not kill the test.
        std::signal(SIGPIPE, SIG_IGN);
        if (tls_identity != nullptr) {
            tls_.reset(SSL_CTX_new(TLS_server_method()));
            if (!tls_ ||
                SSL_CTX_use_certificate(tls_.get(), tls_identity->certificate.get()) != 1 ||
                SSL_CTX_use_PrivateKey(tls_.get(), tls_identity->key.get()) != 1) {
                throw std::runtime_error("cannot set up the test TLS server");
            }
        }
        listen_ = UniqueFd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t length = sizeof address;
        int pipe_fds[2];
        if (listen_.get() < 0 || ::pipe2(pipe_fds, O_CLOEXEC) != 0 ||
            ::bind(listen_.get(), reinterpret_cast<sockaddr*>(&address), length) != 0 ||
            ::listen(listen_.get(), 16) != 0 ||
            ::getsockname(listen_.get(), reinterpret_cast<sockaddr*>(&address), &length) != 0) {
            throw std::runtime_error("cannot start the test HTTP server");
        }
        wake_read_ = UniqueFd(pipe_fds[0]);
        wake_write_ = UniqueFd(pipe_fds[1]);
        port_ = ntohs(address.sin_port);
        thread_ = std::thread([this] { run(); });
    }
    LocalServer(const LocalServer&) = delete;
    LocalServer& operator=(const LocalServer&) = delete;
    ~LocalServer() {
        [[maybe_unused]] auto ignored = ::write(wake_write_.get(), "x", 1);
        thread_.join();
    }

    std::string url(const std::string& path) const {
        return std::string(tls_ ? "https" : "http") + "://127.0.0.1:" + std::to_string(port_) +
               path;
    }
    int connections() const { return connections_; }
    std::vector<ReceivedRequest> requests() const {
        std::lock_guard lock(mutex_);
        return requests_;
    }

private:
    // Waits until `fd` is readable; false when the server is being stopped.
    bool wait_readable(int fd) const {
        pollfd fds[2] = {{fd, POLLIN, 0}, {wake_read_.get(), POLLIN, 0}};
        while (::poll(fds, 2, -1) < 0) {
            if (errno != EINTR) return false;
        }
        return (fds[1].revents & POLLIN) == 0;
    }

    void run() {
        while (wait_readable(listen_.get())) {
            UniqueFd fd(::accept4(listen_.get(), nullptr, nullptr, SOCK_CLOEXEC));
            if (fd.get() < 0) continue;
            ++connections_;
            // A safety net: no single read may block the server for long.
            timeval limit{5, 0};
            ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
            SslPtr ssl;
            if (tls_) {
                ssl.reset(SSL_new(tls_.get()));
                if (!ssl || SSL_set_fd(ssl.get(), fd.get()) != 1 || SSL_accept(ssl.get()) != 1) {
                    continue;  // e.g. the client rejected our certificate
                }
            }
            Connection connection(std::move(fd), std::move(ssl));
            serve(connection);
        }
    }

    // Answers requests on one connection until the client closes it.
    void serve(Connection& connection) {
        std::string pending;
        char buffer[4096];
        while (true) {
            size_t end = pending.find("\r\n\r\n");
            while (end == std::string::npos) {
                if (!connection.buffered() && !wait_readable(connection.fd())) return;
                long got = connection.read_some(buffer, sizeof buffer);
                if (got <= 0) return;
                pending.append(buffer, static_cast<size_t>(got));
                end = pending.find("\r\n\r\n");
            }
            ReceivedRequest request = parse_head(pending.substr(0, end));
            pending.erase(0, end + 4);
            size_t body_size = std::stoul(request.header("Content-Length").value_or("0"));
            while (pending.size() < body_size) {
                if (!connection.buffered() && !wait_readable(connection.fd())) return;
                long got = connection.read_some(buffer, sizeof buffer);
                if (got <= 0) return;
                pending.append(buffer, static_cast<size_t>(got));
            }
            request.body = pending.substr(0, body_size);
            pending.erase(0, body_size);
            {
                std::lock_guard lock(mutex_);
                requests_.push_back(request);
            }
            std::optional<std::string> answer = handler_(request);
            if (!answer) {
                // Stay silent until the client gives up or the server stops.
                while (wait_readable(connection.fd()) && connection.read_some(buffer, 1) > 0) {
                }
                return;
            }
            if (!connection.write_all(*answer)) return;
        }
    }

    static ReceivedRequest parse_head(const std::string& head) {
        ReceivedRequest request;
        size_t line_end = head.find("\r\n");
        std::string first = head.substr(0, line_end);
        size_t space = first.find(' ');
        request.method = first.substr(0, space);
        request.target = first.substr(space + 1, first.rfind(' ') - space - 1);
        while (line_end != std::string::npos) {
            size_t start = line_end + 2;
            line_end = head.find("\r\n", start);
            std::string line = head.substr(start, line_end - start);
            size_t colon = line.find(':');
            if (colon == std::string::npos) continue;
            size_t value = line.find_first_not_of(' ', colon + 1);
            request.headers.emplace_back(line.substr(0, colon),
                                         value == std::string::npos ? "" : line.substr(value));
        }
        return request;
    }

    Handler handler_;
    SslCtxPtr tls_;
    UniqueFd listen_;
    UniqueFd wake_read_;
    UniqueFd wake_write_;
    std::uint16_t port_ = 0;
    std::atomic<int> connections_{0};
    mutable std::mutex mutex_;
    std::vector<ReceivedRequest> requests_;
    std::thread thread_;
};

// A port nothing listens on: bound once by us and released.
std::uint16_t closed_port() {
    UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&address), length) != 0 ||
        ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&address), &length) != 0) {
        throw std::runtime_error("cannot find a free port");
    }
    return ntohs(address.sin_port);
}

HttpTransportPtr plain_transport() {
    CurlTransportOptions options;
    options.user_agent = "certdock-test/1";
    return make_curl_transport(options);
}

HttpRequest request(std::string method, std::string url) {
    HttpRequest result;
    result.method = std::move(method);
    result.url = std::move(url);
    result.timeout = 10s;
    return result;
}

TEST(CurlTransport, GetReturnsStatusHeadersAndBody) {
    LocalServer server([](const ReceivedRequest&) {
        return http_response(200,
                             {{"Content-Type", "application/json"},
                              {"Link", "<https://ca.test/cert/1/alt/1>;rel=\"alternate\""},
                              {"Link",
                               "<https://ca.test/dir>;rel=\"index\", "
                               "<https://ca.test/cert/1/alt/2>; rel=alternate"},
                              {"Replay-Nonce", "abc"}},
                             "{\"ok\":true}");
    });
    auto transport = plain_transport();
    HttpRequest get = request("GET", server.url("/dir"));
    get.headers = {{"X-Test", "one"}, {"Accept", "application/json"}};

    HttpResponse response = must(transport->send(get));

    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(response.body, "{\"ok\":true}");
    EXPECT_EQ(response.header("content-type"), "application/json");
    EXPECT_EQ(response.header("REPLAY-NONCE"), "abc");
    EXPECT_EQ(response.header("X-Missing"), std::nullopt);
    EXPECT_EQ(response.headers_named("link").size(), 2u);
    EXPECT_THAT(response.links("alternate"),
                ElementsAre("https://ca.test/cert/1/alt/1", "https://ca.test/cert/1/alt/2"));
    EXPECT_THAT(response.links("index"), ElementsAre("https://ca.test/dir"));
    for (const auto& [name, value] : response.headers) {
        EXPECT_THAT(name + value, Not(HasSubstr("\r")));
        EXPECT_THAT(name + value, Not(HasSubstr("\n")));
    }

    std::vector<ReceivedRequest> seen = server.requests();
    ASSERT_EQ(seen.size(), 1u);
    EXPECT_EQ(seen[0].method, "GET");
    EXPECT_EQ(seen[0].target, "/dir");
    EXPECT_EQ(seen[0].header("X-Test"), "one");
    EXPECT_EQ(seen[0].header("Accept"), "application/json");
    EXPECT_EQ(seen[0].header("User-Agent"), "certdock-test/1");
}

TEST(CurlTransport, PostSendsBodyWithoutExpectContinue) {
    LocalServer server([](const ReceivedRequest&) {
        return http_response(201, {{"Location", "https://ca.test/acct/1"}}, "created");
    });
    auto transport = plain_transport();
    // Large enough that curl would otherwise ask for 100-continue first.
    std::string body(5000, 'x');
    HttpRequest post = request("POST", server.url("/new-acct"));
    post.headers = {{"Content-Type", "application/jose+json"}};
    post.body = body;

    HttpResponse response = must(transport->send(post));

    EXPECT_EQ(response.status, 201);
    EXPECT_EQ(response.header("Location"), "https://ca.test/acct/1");
    EXPECT_EQ(response.body, "created");
    std::vector<ReceivedRequest> seen = server.requests();
    ASSERT_EQ(seen.size(), 1u);
    EXPECT_EQ(seen[0].method, "POST");
    EXPECT_EQ(seen[0].body, body);
    EXPECT_EQ(seen[0].header("Content-Type"), "application/jose+json");
    EXPECT_EQ(seen[0].header("Expect"), std::nullopt);
}

TEST(CurlTransport, PostWithoutContentTypeSendsNone) {
    LocalServer server([](const ReceivedRequest&) {
        return http_response(204, {{"Replay-Nonce", "n1"}}, "");
    });
    auto transport = plain_transport();
    HttpRequest post = request("POST", server.url("/x"));
    post.body = "{}";

    HttpResponse response = must(transport->send(post));

    EXPECT_EQ(response.status, 204);
    EXPECT_EQ(response.body, "");
    std::vector<ReceivedRequest> seen = server.requests();
    ASSERT_EQ(seen.size(), 1u);
    EXPECT_EQ(seen[0].header("Content-Type"), std::nullopt);
}

TEST(CurlTransport, HeadReturnsHeadersOnly) {
    LocalServer server([](const ReceivedRequest& received) {
        return http_response(200, {{"Replay-Nonce", "nonce-1"}}, "not sent to HEAD",
                             received.method == "HEAD");
    });
    auto transport = plain_transport();

    HttpResponse response = must(transport->send(request("HEAD", server.url("/nonce"))));

    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(response.header("Replay-Nonce"), "nonce-1");
    EXPECT_EQ(response.body, "");
    ASSERT_EQ(server.requests().size(), 1u);
    EXPECT_EQ(server.requests()[0].method, "HEAD");
}

TEST(CurlTransport, NoContentStatus) {
    LocalServer server(
        [](const ReceivedRequest&) { return std::string("HTTP/1.1 204 No Content\r\n\r\n"); });
    auto transport = plain_transport();

    HttpResponse response = must(transport->send(request("GET", server.url("/nonce"))));

    EXPECT_EQ(response.status, 204);
    EXPECT_EQ(response.body, "");
}

TEST(CurlTransport, ErrorStatusIsAResponse) {
    LocalServer server([](const ReceivedRequest&) {
        return http_response(400, {{"Content-Type", "application/problem+json"}}, "{}");
    });
    auto transport = plain_transport();

    HttpResponse response = must(transport->send(request("GET", server.url("/x"))));

    EXPECT_EQ(response.status, 400);
    EXPECT_EQ(response.header("Content-Type"), "application/problem+json");
}

TEST(CurlTransport, DoesNotFollowRedirects) {
    LocalServer server([](const ReceivedRequest&) {
        return http_response(302, {{"Location", "/elsewhere"}}, "");
    });
    auto transport = plain_transport();

    HttpResponse response = must(transport->send(request("GET", server.url("/start"))));

    EXPECT_EQ(response.status, 302);
    EXPECT_EQ(response.header("Location"), "/elsewhere");
    EXPECT_EQ(server.requests().size(), 1u);
}

TEST(CurlTransport, KeepsOnlyTheFinalResponsesHeaders) {
    LocalServer server([](const ReceivedRequest&) {
        return std::string("HTTP/1.1 100 Continue\r\nX-Interim: yes\r\n\r\n") +
               http_response(200, {{"X-Final", "yes"}}, "done");
    });
    auto transport = plain_transport();
    HttpRequest post = request("POST", server.url("/x"));
    post.body = "{}";

    HttpResponse response = must(transport->send(post));

    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(response.header("X-Interim"), std::nullopt);
    EXPECT_EQ(response.header("X-Final"), "yes");
    EXPECT_EQ(response.body, "done");
}

TEST(CurlTransport, ReusesTheConnection) {
    LocalServer server([](const ReceivedRequest&) { return http_response(200, {}, "ok"); });
    auto transport = plain_transport();

    must(transport->send(request("GET", server.url("/a"))));
    must(transport->send(request("HEAD", server.url("/b"))));
    HttpRequest post = request("POST", server.url("/c"));
    post.body = "{}";
    must(transport->send(post));

    EXPECT_EQ(server.requests().size(), 3u);
    EXPECT_EQ(server.connections(), 1);
}

TEST(CurlTransport, ConnectionRefusedNamesMethodAndUrl) {
    std::string url = "http://127.0.0.1:" + std::to_string(closed_port()) + "/new-order";
    auto transport = plain_transport();

    auto result = transport->send(request("POST", url));

    ASSERT_FALSE(result);
    EXPECT_EQ(result.error().category(), ErrorCategory::kNetwork);
    EXPECT_THAT(result.error().describe(), HasSubstr("POST " + url + " failed: "));
    EXPECT_THAT(result.error().describe(), HasSubstr("refused"));
}

TEST(CurlTransport, TimeoutIsANetworkError) {
    LocalServer server([](const ReceivedRequest&) { return std::nullopt; });
    auto transport = plain_transport();
    HttpRequest get = request("GET", server.url("/slow"));
    get.timeout = 300ms;

    auto started = std::chrono::steady_clock::now();
    auto result = transport->send(get);
    auto elapsed = std::chrono::steady_clock::now() - started;

    ASSERT_FALSE(result);
    EXPECT_EQ(result.error().category(), ErrorCategory::kNetwork);
    EXPECT_THAT(result.error().describe(), HasSubstr("GET " + server.url("/slow")));
    EXPECT_THAT(result.error().describe(), HasSubstr("timed out"));
    EXPECT_GE(elapsed, 250ms);  // curl starts its clock a little before we do
    EXPECT_LT(elapsed, 5s);
}

TEST(CurlTransport, RejectsOtherSchemes) {
    auto transport = plain_transport();
    for (const char* url : {"file:///etc/passwd", "ftp://127.0.0.1/x", "gopher://127.0.0.1/"}) {
        auto result = transport->send(request("GET", url));
        ASSERT_FALSE(result) << url;
        EXPECT_EQ(result.error().category(), ErrorCategory::kUsage) << url;
        EXPECT_THAT(result.error().describe(), HasSubstr(url));
    }
}

TEST(CurlTransport, RejectsUnsupportedMethodAndHeaderInjection) {
    auto transport = plain_transport();
    auto put = transport->send(request("PUT", "http://127.0.0.1:1/x"));
    ASSERT_FALSE(put);
    EXPECT_EQ(put.error().category(), ErrorCategory::kUsage);

    HttpRequest get = request("GET", "http://127.0.0.1:1/x");
    get.headers = {{"X-Evil", "a\r\nHost: elsewhere"}};
    auto injected = transport->send(get);
    ASSERT_FALSE(injected);
    EXPECT_EQ(injected.error().category(), ErrorCategory::kUsage);
}

class CurlTransportTls : public ::testing::Test {
protected:
    void SetUp() override {
        trusted_root_ = must(test::TestCa::create_root("curl test root"));
        test::CertSpec spec;
        spec.common_name = "localhost";
        spec.dns_names = {"localhost"};
        spec.ip_addresses = {"127.0.0.1"};
        server_identity_ = must(trusted_root_->issue(spec));
        trusted_file_ = dir_.path() / "trusted.pem";
        ASSERT_TRUE(write_file_atomic(trusted_file_, trusted_root_->certificate().to_pem()));
        auto other = must(test::TestCa::create_root("unrelated root"));
        other_file_ = dir_.path() / "other.pem";
        ASSERT_TRUE(write_file_atomic(other_file_, other.certificate().to_pem()));
    }

    static HttpTransportPtr transport_trusting(std::optional<std::string> ca_file) {
        CurlTransportOptions options;
        options.ca_file = std::move(ca_file);
        return make_curl_transport(options);
    }

    test::TempDir dir_;
    std::optional<test::TestCa> trusted_root_;
    std::optional<test::Issued> server_identity_;
    std::filesystem::path trusted_file_;
    std::filesystem::path other_file_;
};

TEST_F(CurlTransportTls, TrustsTheConfiguredCaFile) {
    LocalServer server([](const ReceivedRequest&) { return http_response(200, {}, "secure"); },
                       &*server_identity_);
    auto transport = transport_trusting(trusted_file_.string());

    HttpResponse response = must(transport->send(request("GET", server.url("/dir"))));

    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(response.body, "secure");
}

TEST_F(CurlTransportTls, RejectsAServerTheCaFileDoesNotVouchFor) {
    LocalServer server([](const ReceivedRequest&) { return http_response(200, {}, "secure"); },
                       &*server_identity_);

    for (const auto& ca_file :
         {std::optional<std::string>(other_file_.string()), std::optional<std::string>()}) {
        auto result = transport_trusting(ca_file)->send(request("GET", server.url("/dir")));
        ASSERT_FALSE(result) << ca_file.value_or("system roots");
        EXPECT_EQ(result.error().category(), ErrorCategory::kNetwork);
        EXPECT_THAT(result.error().describe(), HasSubstr("GET " + server.url("/dir") + " failed"));
        EXPECT_THAT(result.error().describe(), HasSubstr("certificate"));
    }
    EXPECT_TRUE(server.requests().empty());
}

}  // namespace
}  // namespace certdock::acme
