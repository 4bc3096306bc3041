// hot_update against a real HAProxy 2.6 (integration).

#include "haproxy/hot_update.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <limits>

#include "support/haproxy_server.hpp"
#include "support/must.hpp"
#include "tls_probe.hpp"

namespace certdock::haproxy {
namespace {

using namespace std::chrono_literals;
using test::must;
using ::testing::HasSubstr;

RuntimeApi admin_api(const test::HaproxyServer& server) {
    RuntimeApiOptions options;
    options.transport.address = server.admin_socket().string();
    options.transport.io_timeout = 10s;
    return RuntimeApi(options);
}

// A replacement for site.pem from the server's own PKI.
test::Issued new_leaf(const test::HaproxyServer& server) {
    test::CertSpec spec;
    spec.dns_names = {"site.test"};
    return must(server.pki().intermediate.issue(spec));
}

std::string served_serial(const test::HaproxyServer& server) {
    return must(test::fetch_served_certificate(server.https_port(), "site.test")).serial_hex();
}

TEST(HotUpdate, ServesTheNewCertificate) {
    auto server = must(test::HaproxyServer::start());
    RuntimeApi api = admin_api(*server);
    const std::string site = server->site_pem().string();
    ASSERT_EQ(served_serial(*server), server->pki().leaf.certificate.serial_hex());

    test::Issued leaf = new_leaf(*server);
    std::string bundle = must(test::haproxy_bundle(leaf, {server->pki().intermediate}));
    // Blank lines and CRLF, as concatenated files often have, must not cut the payload.
    std::string messy;
    for (size_t start = 0; start < bundle.size();) {
        size_t end = bundle.find('\n', start);
        std::string line = bundle.substr(start, end - start);
        messy += line + "\r\n";
        if (line.starts_with("-----END")) messy += "\r\n \n";
        start = end + 1;
    }
    auto result = hot_update(api, site, messy);
    ASSERT_TRUE(result) << result.error().describe();
    EXPECT_FALSE(result->split);
    EXPECT_FALSE(result->aborted_stale_transaction);
    EXPECT_EQ(result->bytes_sent, bundle.size());
    EXPECT_TRUE(same_serial(result->serial, leaf.certificate.serial_hex()));

    auto info = must(api.show_ssl_cert(site));
    EXPECT_TRUE(same_serial(info.serial, leaf.certificate.serial_hex()));
    EXPECT_EQ(served_serial(*server), leaf.certificate.serial_hex());
    EXPECT_FALSE(must(api.open_transaction()));
}

// Over tune.bufsize (16 KiB) HAProxy drops the connection without a word; the split path
// sends the chain and the key separately.
TEST(HotUpdate, BundleOverSixteenKibGoesThroughSplit) {
    auto server = must(test::HaproxyServer::start());
    RuntimeApi api = admin_api(*server);
    const std::string site = server->site_pem().string();

    auto big_ca = must(server->pki().root.create_intermediate("certdock test RSA-4096 intermediate",
                                                              crypto::KeySpec::rsa(4096)));
    test::CertSpec spec;
    spec.key_spec = crypto::KeySpec::rsa(4096);
    spec.dns_names = {"site.test"};
    for (int i = 0; i < 180; ++i) {
        spec.dns_names.push_back("host" + std::to_string(i) +
                                 ".a-rather-long-domain-name.example.com");
    }
    test::Issued leaf = must(big_ca.issue(spec));
    std::string bundle = must(test::haproxy_bundle(leaf, {big_ca}));
    ASSERT_GT(bundle.size(), 16384u);

    // Unsplit, HAProxy closes the connection: the error says why and nothing changes.
    auto whole = hot_update(api, site, bundle, std::numeric_limits<size_t>::max());
    ASSERT_FALSE(whole);
    EXPECT_THAT(whole.error().describe(),
                HasSubstr("HAProxy closed the connection without answering"));
    EXPECT_THAT(whole.error().describe(), HasSubstr(std::to_string(bundle.size()) + " bytes"));
    EXPECT_FALSE(must(api.open_transaction()));
    EXPECT_EQ(served_serial(*server), server->pki().leaf.certificate.serial_hex());

    auto result = hot_update(api, site, bundle);
    ASSERT_TRUE(result) << result.error().describe();
    EXPECT_TRUE(result->split);
    EXPECT_EQ(result->bytes_sent, bundle.size());
    EXPECT_EQ(served_serial(*server), leaf.certificate.serial_hex());
    EXPECT_EQ(must(api.show_ssl_cert(site)).algorithm, "RSA4096");
}

TEST(HotUpdate, AbortsAStaleTransactionForOurCertificate) {
    auto server = must(test::HaproxyServer::start());
    RuntimeApi api = admin_api(*server);
    const std::string site = server->site_pem().string();
    ASSERT_TRUE(api.set_ssl_cert(site, server->site_bundle()));  // left open by a crash

    test::Issued leaf = new_leaf(*server);
    auto result =
        hot_update(api, site, must(test::haproxy_bundle(leaf, {server->pki().intermediate})));
    ASSERT_TRUE(result) << result.error().describe();
    EXPECT_TRUE(result->aborted_stale_transaction);
    EXPECT_EQ(served_serial(*server), leaf.certificate.serial_hex());
    EXPECT_FALSE(must(api.open_transaction()));
}

TEST(HotUpdate, RefusesWhileAnotherCertificatesTransactionIsOpen) {
    auto server = must(test::HaproxyServer::start());
    RuntimeApi api = admin_api(*server);
    const std::string site = server->site_pem().string();
    const std::string other = (server->dir() / "other.pem").string();
    ASSERT_TRUE(api.new_ssl_cert(other));
    ASSERT_TRUE(api.set_ssl_cert(other, server->site_bundle()));

    test::Issued leaf = new_leaf(*server);
    auto result =
        hot_update(api, site, must(test::haproxy_bundle(leaf, {server->pki().intermediate})));
    ASSERT_FALSE(result);
    EXPECT_THAT(result.error().describe(), HasSubstr("open transaction for another certificate"));
    EXPECT_THAT(result.error().describe(), HasSubstr(other));
    // Nothing changed: the other transaction is still open, the old certificate served.
    EXPECT_EQ(must(api.open_transaction()), other);
    EXPECT_TRUE(same_serial(must(api.show_ssl_cert(site)).serial,
                            server->pki().leaf.certificate.serial_hex()));
    EXPECT_EQ(served_serial(*server), server->pki().leaf.certificate.serial_hex());
}

TEST(HotUpdate, FailedCommitIsAbortedAndTheOldCertificateStays) {
    auto server = must(test::HaproxyServer::start());
    RuntimeApi api = admin_api(*server);
    const std::string site = server->site_pem().string();

    // A key that does not match the leaf: HAProxy refuses the commit.
    test::Issued leaf = new_leaf(*server);
    test::Issued unrelated = new_leaf(*server);
    std::string bundle = leaf.certificate.to_pem() +
                         server->pki().intermediate.certificate().to_pem() +
                         must(unrelated.key.to_pem());
    auto result = hot_update(api, site, bundle);
    ASSERT_FALSE(result);
    EXPECT_THAT(result.error().describe(), HasSubstr("Can't commit"));
    EXPECT_FALSE(must(api.open_transaction()));
    EXPECT_EQ(served_serial(*server), server->pki().leaf.certificate.serial_hex());
}

// Through the master CLI: every command carries the worker's "@1" prefix.
TEST(HotUpdate, WorksThroughTheMasterCli) {
    auto server = must(test::HaproxyServer::start({.master_cli = true}));
    RuntimeApiOptions options;
    options.transport.address = server->master_socket().string();
    options.transport.io_timeout = 10s;
    options.target_prefix = "@1";
    RuntimeApi api(options);
    const std::string site = server->site_pem().string();

    test::Issued leaf = new_leaf(*server);
    auto result =
        hot_update(api, site, must(test::haproxy_bundle(leaf, {server->pki().intermediate})));
    ASSERT_TRUE(result) << result.error().describe();
    EXPECT_EQ(served_serial(*server), leaf.certificate.serial_hex());
}

// "@1" names a worker by its position, which after a reload may be another process; the pid
// from `show proc` pins the update to the worker that serves now.
TEST(HotUpdate, WorksThroughTheMasterCliAddressingTheWorkerByPid) {
    auto server = must(test::HaproxyServer::start({.master_cli = true}));
    RuntimeApiOptions master;
    master.transport.address = server->master_socket().string();
    master.transport.io_timeout = 10s;
    ProcessList processes = must(RuntimeApi(master).show_proc());
    ASSERT_EQ(processes.workers.size(), 1u);
    const int pid = processes.workers.front().pid;

    RuntimeApiOptions options = master;
    options.target_prefix = "@!" + std::to_string(pid);
    RuntimeApi api(options);
    // The prefix reaches that very worker.
    EXPECT_THAT(must(api.execute("show info")), HasSubstr("Pid: " + std::to_string(pid) + "\n"));

    const std::string site = server->site_pem().string();
    test::Issued leaf = new_leaf(*server);
    auto result =
        hot_update(api, site, must(test::haproxy_bundle(leaf, {server->pki().intermediate})));
    ASSERT_TRUE(result) << result.error().describe();
    EXPECT_TRUE(same_serial(result->serial, leaf.certificate.serial_hex()));
    EXPECT_EQ(served_serial(*server), leaf.certificate.serial_hex());

    // A pid that is no worker: HAProxy's master refuses to route, nothing is changed.
    options.target_prefix = "@!999999";
    RuntimeApi nobody(options);
    auto refused = hot_update(nobody, site, server->site_bundle());
    ASSERT_FALSE(refused);
    EXPECT_THAT(refused.error().describe(), HasSubstr("@!999999"));
    EXPECT_THAT(refused.error().describe(), HasSubstr("show proc"));
    EXPECT_EQ(served_serial(*server), leaf.certificate.serial_hex());
}

TEST(HotUpdate, WorksOverATcpStatsSocket) {
    auto server = must(test::HaproxyServer::start({.tcp_socket = true}));
    RuntimeApiOptions options;
    options.transport.address = "127.0.0.1:" + std::to_string(server->tcp_socket_port());
    options.transport.io_timeout = 10s;
    RuntimeApi api(options);
    const std::string site = server->site_pem().string();

    test::Issued leaf = new_leaf(*server);
    auto result =
        hot_update(api, site, must(test::haproxy_bundle(leaf, {server->pki().intermediate})));
    ASSERT_TRUE(result) << result.error().describe();
    EXPECT_FALSE(result->split);
    EXPECT_EQ(served_serial(*server), leaf.certificate.serial_hex());
    // The unix socket sees the same process state.
    EXPECT_TRUE(same_serial(must(admin_api(*server).show_ssl_cert(site)).serial,
                            leaf.certificate.serial_hex()));
}

// Over TCP too, a bundle above tune.bufsize is cut off by HAProxy; the split path gets through.
TEST(HotUpdate, SplitBundleOverATcpStatsSocket) {
    auto server = must(test::HaproxyServer::start({.tcp_socket = true}));
    RuntimeApiOptions options;
    options.transport.address = "127.0.0.1:" + std::to_string(server->tcp_socket_port());
    options.transport.io_timeout = 10s;
    RuntimeApi api(options);
    const std::string site = server->site_pem().string();

    test::Issued leaf = new_leaf(*server);
    std::string bundle = must(test::haproxy_bundle(leaf, {server->pki().intermediate}));
    auto result = hot_update(api, site, bundle, /*max_payload=*/100);
    ASSERT_TRUE(result) << result.error().describe();
    EXPECT_TRUE(result->split);
    EXPECT_EQ(served_serial(*server), leaf.certificate.serial_hex());
}

}  // namespace
}  // namespace certdock::haproxy
