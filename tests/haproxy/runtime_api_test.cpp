// The Runtime API client against a real HAProxy 2.6 (integration).

#include "haproxy/runtime_api.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <future>
#include <thread>

#include "acme/curl_transport.hpp"
#include "support/haproxy_server.hpp"
#include "support/must.hpp"
#include "tls_probe.hpp"

namespace certdock::haproxy {
namespace {

using namespace std::chrono_literals;
using test::must;
using ::testing::Contains;
using ::testing::HasSubstr;

RuntimeApi api_on(const std::filesystem::path& socket) {
    RuntimeApiOptions options;
    options.transport.address = socket.string();
    options.transport.io_timeout = 5s;
    options.transport.startup_timeout = 10s;
    return RuntimeApi(options);
}

TEST(RuntimeApiLive, ShowsTheServedCertificate) {
    auto server = must(test::HaproxyServer::start());
    RuntimeApi api = api_on(server->admin_socket());
    const std::string site = server->site_pem().string();

    auto names = must(api.show_ssl_cert_list());
    EXPECT_THAT(names, Contains(site));
    EXPECT_FALSE(must(api.open_transaction()));

    auto info = must(api.show_ssl_cert(site));
    EXPECT_EQ(info.filename, site);
    EXPECT_EQ(info.status, "Used");
    EXPECT_TRUE(same_serial(info.serial, server->pki().leaf.certificate.serial_hex()));
    EXPECT_THAT(info.dns_names, Contains("site.test"));
    EXPECT_EQ(info.algorithm, "EC256");
    ASSERT_TRUE(info.not_after_time);
}

TEST(RuntimeApiLive, OpenTransactionIsReadFromShowSslCert) {
    auto server = must(test::HaproxyServer::start());
    RuntimeApi api = api_on(server->admin_socket());
    const std::string site = server->site_pem().string();

    ASSERT_TRUE(api.set_ssl_cert(site, server->site_bundle()));
    EXPECT_EQ(must(api.open_transaction()), site);
    auto pending = must(api.show_ssl_cert("*" + site));
    EXPECT_EQ(pending.filename, "*" + site);
    EXPECT_THAT(must(api.show_ssl_cert_list()), Contains(site));
    ASSERT_TRUE(api.abort_ssl_cert(site));
    EXPECT_FALSE(must(api.open_transaction()));
    Status again = api.abort_ssl_cert(site);
    ASSERT_FALSE(again);
    EXPECT_THAT(again.error().message(), HasSubstr("No ongoing transaction!"));
}

// HAProxy 2.6.12 (Debian 12) files a `set` for B under A's open transaction; the client must
// notice from the reply instead of reporting success.
TEST(RuntimeApiLive, SetWhileAnotherTransactionIsOpenIsAnError) {
    auto server = must(test::HaproxyServer::start());
    RuntimeApi api = api_on(server->admin_socket());
    const std::string site = server->site_pem().string();
    const std::string other = (server->dir() / "other.pem").string();

    ASSERT_TRUE(api.new_ssl_cert(other));
    ASSERT_TRUE(api.set_ssl_cert(other, server->site_bundle()));
    Status wrong = api.set_ssl_cert(site, server->site_bundle());
    ASSERT_FALSE(wrong);
    EXPECT_THAT(wrong.error().message(), HasSubstr(other));
    EXPECT_EQ(must(api.open_transaction()), other);
    ASSERT_TRUE(api.abort_ssl_cert(other));
}

TEST(RuntimeApiLive, NewCertificateServedThroughCrtList) {
    auto server = must(test::HaproxyServer::start({.crt_list = true}));
    RuntimeApi api = api_on(server->admin_socket());
    const std::string extra = (server->dir() / "extra.pem").string();
    test::CertSpec spec;
    spec.dns_names = {"extra.test"};
    auto leaf = must(server->pki().intermediate.issue(spec));
    auto bundle = must(test::haproxy_bundle(leaf, {server->pki().intermediate}));

    ASSERT_TRUE(api.new_ssl_cert(extra));
    Status set = api.set_ssl_cert(extra, bundle);
    ASSERT_TRUE(set) << set.error().describe();
    Status committed = api.commit_ssl_cert(extra);
    ASSERT_TRUE(committed) << committed.error().describe();
    Status added = api.add_ssl_crt_list(server->crt_list().string(), extra + " extra.test");
    ASSERT_TRUE(added) << added.error().describe();

    auto served = must(test::fetch_served_certificate(server->crt_list_port(), "extra.test"));
    EXPECT_EQ(served.serial_hex(), leaf.certificate.serial_hex());
    Status twice = api.new_ssl_cert(extra);
    ASSERT_FALSE(twice);
    EXPECT_THAT(twice.error().message(), HasSubstr("already exists"));
}

TEST(RuntimeApiLive, UserLevelSocketAsksForLevelAdmin) {
    auto server = must(test::HaproxyServer::start({.user_socket = true}));
    RuntimeApi api = api_on(server->user_socket());
    const std::string site = server->site_pem().string();

    Status set = api.set_ssl_cert(site, server->site_bundle());
    ASSERT_FALSE(set);
    EXPECT_EQ(set.error().category(), ErrorCategory::kUsage);
    EXPECT_THAT(set.error().message(), HasSubstr("Permission denied"));
    EXPECT_THAT(set.error().message(), HasSubstr("level admin"));
    auto shown = api.show_ssl_cert(site);
    ASSERT_FALSE(shown);
    EXPECT_THAT(shown.error().message(), HasSubstr("level admin"));
}

// The agent may start before HAProxy has created its socket (both started by systemd).
TEST(RuntimeApiLive, ClientStartedBeforeHaproxyWaitsForIt) {
    auto server = must(test::HaproxyServer::prepare());
    RuntimeApi api = api_on(server->admin_socket());
    auto names = std::async(std::launch::async, [&api] { return api.show_ssl_cert_list(); });
    std::this_thread::sleep_for(300ms);
    Status launched = server->launch();
    ASSERT_TRUE(launched) << launched.error().describe();
    auto result = names.get();
    ASSERT_TRUE(result) << result.error().describe();
    EXPECT_THAT(*result, Contains(server->site_pem().string()));
}

TEST(RuntimeApiLive, MapEntriesServeHttp01) {
    auto server = must(test::HaproxyServer::start());
    RuntimeApi api = api_on(server->admin_socket());
    const std::string map = server->map_file().string();
    auto http = acme::make_curl_transport({});
    acme::HttpRequest get;
    get.url = "http://127.0.0.1:" + std::to_string(server->http_port()) +
              "/.well-known/acme-challenge/tok-123";
    get.timeout = 5s;

    EXPECT_EQ(must(http->send(get)).status, 404);
    ASSERT_TRUE(api.add_map(map, "tok-123", "tok-123.thumbprint"));
    ASSERT_TRUE(api.add_map(map, "spaced", "a value with spaces"));
    auto entries = must(api.show_map(map));
    ASSERT_EQ(entries.size(), 2u);
    EXPECT_EQ(entries[0].key, "tok-123");
    EXPECT_EQ(entries[0].value, "tok-123.thumbprint");
    EXPECT_EQ(entries[1].value, "a value with spaces");

    auto response = must(http->send(get));
    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(response.body, "tok-123.thumbprint");

    ASSERT_TRUE(api.del_map(map, "tok-123"));
    EXPECT_EQ(must(http->send(get)).status, 404);
    Status missing = api.del_map(map, "tok-123");
    ASSERT_FALSE(missing);
    EXPECT_THAT(missing.error().message(), HasSubstr("Key not found."));
    Status unknown = api.add_map((server->dir() / "nope.map").string(), "k", "v");
    ASSERT_FALSE(unknown);
    EXPECT_THAT(unknown.error().message(), HasSubstr("Unknown map identifier"));
}

TEST(RuntimeApiLive, ShowProcOnTheMasterCliListsMasterAndWorker) {
    auto server = must(test::HaproxyServer::start({.master_cli = true}));
    RuntimeApi master = api_on(server->master_socket());
    ProcessList processes = must(master.show_proc());
    ASSERT_TRUE(processes.master);
    EXPECT_EQ(processes.master->type, "master");
    EXPECT_THAT(processes.master->version, HasSubstr("2."));
    ASSERT_EQ(processes.workers.size(), 1u);
    EXPECT_NE(processes.workers.front().pid, processes.master->pid);
    EXPECT_TRUE(processes.old_workers.empty());

    // A worker's own stats socket is not the master CLI, and the error says so.
    auto not_master = api_on(server->admin_socket()).show_proc();
    ASSERT_FALSE(not_master);
    EXPECT_THAT(not_master.error().describe(), HasSubstr("master CLI"));
}

TEST(RuntimeApiLive, TcpStatsSocketAnswersLikeTheUnixOne) {
    auto server = must(test::HaproxyServer::start({.tcp_socket = true}));
    RuntimeApiOptions options;
    options.transport.address = "127.0.0.1:" + std::to_string(server->tcp_socket_port());
    options.transport.io_timeout = 5s;
    RuntimeApi tcp(options);
    const std::string site = server->site_pem().string();
    EXPECT_THAT(must(tcp.show_ssl_cert_list()), Contains(site));
    auto info = must(tcp.show_ssl_cert(site));
    EXPECT_TRUE(same_serial(info.serial, server->pki().leaf.certificate.serial_hex()));
}

}  // namespace
}  // namespace certdock::haproxy
