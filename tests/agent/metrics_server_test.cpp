#include "agent/metrics_server.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "agent/metrics.hpp"
#include "base/socket.hpp"

namespace certdock::agent {
namespace {

using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr auto kPatience = std::chrono::seconds(20);

UniqueFd connect_to(const std::string& host, std::uint16_t port) {
    auto connected =
        connect_tcp(host, std::to_string(port), std::chrono::steady_clock::now() + kPatience);
    EXPECT_TRUE(connected) << connected.error().describe();
    if (!connected) return UniqueFd();
    EXPECT_EQ(connected->second, 0) << std::strerror(connected->second);
    return std::move(connected->first);
}

void send_all(int fd, std::string_view data) {
    const auto deadline = std::chrono::steady_clock::now() + kPatience;
    while (!data.empty()) {
        ASSERT_TRUE(wait_for_fd(fd, POLLOUT, deadline));
        const ssize_t put = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
        if (put < 0 && errno == EAGAIN) continue;
        ASSERT_GT(put, 0) << std::strerror(errno);
        data.remove_prefix(static_cast<size_t>(put));
    }
}

// Everything until the server closes the connection.
std::string read_to_end(int fd) {
    const auto deadline = std::chrono::steady_clock::now() + kPatience;
    std::string all;
    char buffer[4096];
    while (wait_for_fd(fd, POLLIN, deadline)) {
        const ssize_t got = ::recv(fd, buffer, sizeof buffer, 0);
        if (got < 0 && errno == EAGAIN) continue;
        if (got <= 0) return all;
        all.append(buffer, static_cast<size_t>(got));
    }
    ADD_FAILURE() << "the server did not close the connection";
    return all;
}

std::string exchange(const std::string& host, std::uint16_t port, std::string_view request) {
    UniqueFd fd = connect_to(host, port);
    if (!fd.valid()) return {};
    send_all(fd.get(), request);
    return read_to_end(fd.get());
}

std::string get(const MetricsServer& server, std::string_view path) {
    return exchange("127.0.0.1", server.port(),
                    "GET " + std::string(path) + " HTTP/1.1\r\nHost: localhost\r\n\r\n");
}

class MetricsServerTest : public ::testing::Test {
protected:
    void SetUp() override {
        metrics_.configure(config_);
        auto started = MetricsServer::start({.listen = "127.0.0.1:0",
                                             .metrics = [this] { return metrics_.render(); },
                                             .deadline = std::chrono::milliseconds(300)});
        ASSERT_TRUE(started) << started.error().describe();
        server_ = std::move(*started);
    }

    Config config_ = [] {
        Config config;
        config.certificates.push_back({.name = "site"});
        return config;
    }();
    AgentMetrics metrics_{"0.1.0"};
    std::unique_ptr<MetricsServer> server_;
};

TEST_F(MetricsServerTest, ServesTheMetricsText) {
    EXPECT_NE(server_->port(), 0);
    EXPECT_EQ(server_->address(), "127.0.0.1:" + std::to_string(server_->port()));
    const std::string answer = get(*server_, "/metrics");
    EXPECT_THAT(answer, StartsWith("HTTP/1.1 200 OK\r\n"));
    EXPECT_THAT(answer,
                HasSubstr("\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"));
    const std::string body = metrics_.render();
    EXPECT_THAT(answer, HasSubstr("\r\nContent-Length: " + std::to_string(body.size()) + "\r\n"));
    EXPECT_THAT(answer, EndsWith("\r\n\r\n" + body));
    EXPECT_THAT(body, HasSubstr("certdock_certificates 1\n"));

    // Values change between scrapes.
    metrics_.observe_outcome(config_.certificates[0], {.result = RenewResult::kDelivered});
    EXPECT_THAT(get(*server_, "/metrics"),
                HasSubstr("certdock_renewals_total{cert=\"site\",result=\"delivered\"} 1\n"));
}

TEST_F(MetricsServerTest, AnswersHealthNotFoundAndWrongMethods) {
    EXPECT_THAT(get(*server_, "/healthz"), StartsWith("HTTP/1.1 200 OK\r\n"));
    EXPECT_THAT(get(*server_, "/healthz"), EndsWith("\r\n\r\nok\n"));
    EXPECT_THAT(get(*server_, "/"), StartsWith("HTTP/1.1 404 Not Found\r\n"));
    EXPECT_THAT(get(*server_, "/metrics/extra"), StartsWith("HTTP/1.1 404 Not Found\r\n"));
    // Prometheus may add a query string.
    EXPECT_THAT(get(*server_, "/metrics?scrape=1"), StartsWith("HTTP/1.1 200 OK\r\n"));

    const std::string post =
        exchange("127.0.0.1", server_->port(), "POST /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_THAT(post, StartsWith("HTTP/1.1 405 Method Not Allowed\r\n"));
    EXPECT_THAT(post, HasSubstr("\r\nAllow: GET, HEAD\r\n"));

    const std::string head =
        exchange("127.0.0.1", server_->port(), "HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_THAT(head, StartsWith("HTTP/1.1 200 OK\r\n"));
    EXPECT_THAT(head, EndsWith("\r\n\r\n"));

    EXPECT_THAT(exchange("127.0.0.1", server_->port(), "hello\r\n\r\n"),
                StartsWith("HTTP/1.1 400 Bad Request\r\n"));
}

TEST_F(MetricsServerTest, RefusesOversizedRequests) {
    const std::string huge =
        "GET /metrics HTTP/1.1\r\nX-Filler: " + std::string(20'000, 'a') + "\r\n\r\n";
    EXPECT_THAT(exchange("127.0.0.1", server_->port(), huge),
                StartsWith("HTTP/1.1 431 Request Header Fields Too Large\r\n"));
}

TEST_F(MetricsServerTest, AClientSendingNothingIsDroppedAndOthersAreServed) {
    UniqueFd silent = connect_to("127.0.0.1", server_->port());
    ASSERT_TRUE(silent.valid());
    UniqueFd partial = connect_to("127.0.0.1", server_->port());
    ASSERT_TRUE(partial.valid());
    send_all(partial.get(), "GET /metr");

    // Served while the two others hold their connections open.
    EXPECT_THAT(get(*server_, "/healthz"), EndsWith("\r\n\r\nok\n"));

    // Their deadline passes: closed without an answer.
    EXPECT_EQ(read_to_end(silent.get()), "");
    EXPECT_EQ(read_to_end(partial.get()), "");
    EXPECT_THAT(get(*server_, "/metrics"), StartsWith("HTTP/1.1 200 OK\r\n"));
}

TEST_F(MetricsServerTest, ConnectionsBeyondTheLimitWaitTheirTurn) {
    auto started = MetricsServer::start({.listen = "127.0.0.1:0",
                                         .metrics = [] { return std::string("x 1\n"); },
                                         .deadline = std::chrono::milliseconds(300),
                                         .max_connections = 1});
    ASSERT_TRUE(started) << started.error().describe();
    UniqueFd silent = connect_to("127.0.0.1", (*started)->port());
    EXPECT_THAT(exchange("127.0.0.1", (*started)->port(), "GET /metrics HTTP/1.0\r\n\r\n"),
                EndsWith("\r\n\r\nx 1\n"));
}

TEST(MetricsServer, ListensOnIpv6Loopback) {
    auto started = MetricsServer::start({.listen = "[::1]:0"});
    if (!started && started.error().message().find("not one of this host's") != std::string::npos) {
        GTEST_SKIP() << "no IPv6 loopback here: " << started.error().describe();
    }
    ASSERT_TRUE(started) << started.error().describe();
    EXPECT_EQ((*started)->address(), "[::1]:" + std::to_string((*started)->port()));
    EXPECT_THAT(exchange("::1", (*started)->port(), "GET /healthz HTTP/1.1\r\n\r\n"),
                EndsWith("ok\n"));
}

TEST(MetricsServer, APortInUseSaysWhatToDo) {
    auto first = MetricsServer::start({.listen = "127.0.0.1:0"});
    ASSERT_TRUE(first) << first.error().describe();
    const std::string taken = "127.0.0.1:" + std::to_string((*first)->port());
    auto second = MetricsServer::start({.listen = taken});
    ASSERT_FALSE(second);
    EXPECT_THAT(second.error().describe(), HasSubstr("cannot listen on " + taken));
    EXPECT_THAT(second.error().describe(), HasSubstr("in use by another program"));
    EXPECT_THAT(second.error().describe(), HasSubstr("choose another port in metrics-listen"));
}

TEST(MetricsServer, StopsCleanlyWithConnectionsOpen) {
    auto started = MetricsServer::start({.listen = "127.0.0.1:0"});
    ASSERT_TRUE(started) << started.error().describe();
    UniqueFd open = connect_to("127.0.0.1", (*started)->port());
    started->reset();  // must not wait for the open connection's deadline to pass
    EXPECT_EQ(read_to_end(open.get()), "");
}

TEST(ParseListenAddress, AcceptsTheFormsOfMetricsListen) {
    auto v4 = parse_listen_address("127.0.0.1:9732");
    ASSERT_TRUE(v4);
    EXPECT_EQ(v4->host, "127.0.0.1");
    EXPECT_EQ(v4->port, 9732);
    auto v6 = parse_listen_address("[::1]:9100");
    ASSERT_TRUE(v6);
    EXPECT_EQ(v6->host, "::1");
    EXPECT_EQ(v6->port, 9100);
    EXPECT_EQ(parse_listen_address("*:9100")->host, "");
    EXPECT_EQ(parse_listen_address(":9100")->host, "");
    EXPECT_EQ(parse_listen_address("localhost:0")->port, 0);
}

TEST(ParseListenAddress, RefusesWhatIsNotHostPort) {
    for (const char* bad : {"9732", "::1:9732", "[::1:9732", "host:", "host:65536", "host:http"}) {
        auto parsed = parse_listen_address(bad);
        ASSERT_FALSE(parsed) << bad;
        EXPECT_THAT(parsed.error().message(), HasSubstr("write HOST:PORT")) << bad;
    }
}

}  // namespace
}  // namespace certdock::agent
