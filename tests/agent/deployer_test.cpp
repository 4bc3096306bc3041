// deploy() against real HAProxy 2.6 processes (integration): disk, Runtime API, TLS proof.

#include "agent/deployer.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <future>
#include <thread>

#include "base/file.hpp"
#include "support/haproxy_server.hpp"
#include "support/must.hpp"

namespace certdock::agent {
namespace {

using namespace std::chrono_literals;
using test::must;
using ::testing::HasSubstr;

haproxy::RuntimeApiOptions api_at(const std::filesystem::path& socket) {
    haproxy::RuntimeApiOptions options;
    options.transport.address = socket.string();
    // The deployer's own retry is under test; the transport's start-up wait is kept short.
    options.transport.startup_timeout = 100ms;
    return options;
}

crypto::BundleParts new_bundle(const test::HaproxyServer& server,
                               std::vector<std::string> names = {"site.test"}) {
    test::CertSpec spec;
    spec.dns_names = std::move(names);
    test::Issued leaf = must(server.pki().intermediate.issue(spec));
    return {leaf.certificate, {server.pki().intermediate.certificate()}, leaf.key, std::nullopt};
}

// Replacing site.pem, which HAProxy serves on its https port.
DeployRequest site_request(const test::HaproxyServer& server) {
    DeployRequest request{.bundle = new_bundle(server), .file = server.site_pem()};
    request.targets.haproxies = {api_at(server.admin_socket())};
    request.targets.probes = {{.host = "127.0.0.1", .port = server.https_port()}};
    request.targets.retry_for = 2s;
    return request;
}

std::string served_serial(std::uint16_t port, const std::string& sni) {
    auto chain = must(probe_served_chain({.host = "127.0.0.1", .port = port, .sni = sni}));
    return chain.front().serial_hex();
}

TEST(Deploy, WritesTheFileHotUpdatesAndProvesIt) {
    auto server = must(test::HaproxyServer::start());
    DeployRequest request = site_request(*server);
    const std::string serial = request.bundle.leaf.serial_hex();

    auto report = must(deploy(request));
    EXPECT_TRUE(report.ok());
    EXPECT_TRUE(report.file_changed);
    EXPECT_TRUE(report.previous_kept);
    ASSERT_EQ(report.haproxies.size(), 1u);
    EXPECT_EQ(report.haproxies[0].action, HaproxyAction::kUpdated);
    ASSERT_EQ(report.probes.size(), 1u);  // one frontend × the certificate's one name
    EXPECT_EQ(report.probes[0].target.sni, "site.test");
    EXPECT_TRUE(report.probes[0].serves_new);

    EXPECT_EQ(served_serial(server->https_port(), "site.test"), serial);
    std::string on_disk = must(read_file(server->site_pem()));
    EXPECT_EQ(must(crypto::parse_haproxy_bundle(on_disk)).leaf.serial_hex(), serial);
    EXPECT_EQ(must(read_file(previous_file_of(server->site_pem()))), server->site_bundle());
    struct stat info {};
    ASSERT_EQ(::stat(server->site_pem().c_str(), &info), 0);
    EXPECT_EQ(info.st_mode & 0777, 0600u);
}

TEST(Deploy, FileGivenByARelativePathIsFoundUnderHaproxysName) {
    auto server = must(test::HaproxyServer::start());
    DeployRequest request = site_request(*server);
    request.file = std::filesystem::relative(server->site_pem());
    ASSERT_TRUE(request.file.is_relative());

    auto report = must(deploy(request));
    EXPECT_TRUE(report.ok());
    EXPECT_EQ(report.haproxies[0].action, HaproxyAction::kUpdated);
}

TEST(Deploy, SameCertificateAgainChangesNothing) {
    auto server = must(test::HaproxyServer::start());
    DeployRequest request = site_request(*server);
    ASSERT_TRUE(must(deploy(request)).ok());

    auto again = must(deploy(request));
    EXPECT_TRUE(again.ok());
    EXPECT_FALSE(again.file_changed);
    EXPECT_EQ(again.haproxies[0].action, HaproxyAction::kAlreadyServed);
    EXPECT_TRUE(again.probes[0].serves_new);
}

TEST(Deploy, WrongKeyIsRefusedAndNothingChanges) {
    auto server = must(test::HaproxyServer::start());
    DeployRequest request = site_request(*server);
    request.bundle.key = new_bundle(*server).key;  // another certificate's key

    auto refused = deploy(request);
    ASSERT_FALSE(refused);
    EXPECT_THAT(refused.error().describe(), HasSubstr("does not match"));
    EXPECT_EQ(must(read_file(server->site_pem())), server->site_bundle());
    EXPECT_FALSE(std::filesystem::exists(previous_file_of(server->site_pem())));
    EXPECT_EQ(served_serial(server->https_port(), "site.test"),
              server->pki().leaf.certificate.serial_hex());
}

TEST(Deploy, ChainOutOfOrderIsRefused) {
    auto server = must(test::HaproxyServer::start());
    DeployRequest request = site_request(*server);
    request.bundle.chain = {server->pki().root.certificate()};  // skips the intermediate

    auto refused = deploy(request);
    ASSERT_FALSE(refused);
    EXPECT_EQ(must(read_file(server->site_pem())), server->site_bundle());
}

TEST(Deploy, RestartedHaproxyServesTheDeployedFile) {
    auto server = must(test::HaproxyServer::start());
    DeployRequest request = site_request(*server);
    ASSERT_TRUE(must(deploy(request)).ok());

    server->stop();
    Status relaunched = server->launch();
    ASSERT_TRUE(relaunched) << relaunched.error().describe();
    EXPECT_EQ(served_serial(server->https_port(), "site.test"), request.bundle.leaf.serial_hex());
}

TEST(Deploy, UnknownCertificateIsAddedThroughTheCrtListAndSurvivesARestart) {
    auto server = must(test::HaproxyServer::start({.crt_list = true}));
    DeployRequest request{.bundle = new_bundle(*server, {"extra.test"}),
                          .file = server->dir() / "extra.pem"};
    request.targets.haproxies = {api_at(server->admin_socket())};
    request.targets.crt_list = server->crt_list().string();
    request.targets.sni = {"extra.test"};
    request.targets.probes = {{.host = "127.0.0.1", .port = server->crt_list_port()}};

    auto report = must(deploy(request));
    EXPECT_TRUE(report.ok()) << (report.haproxies[0].error ? report.haproxies[0].error->describe()
                                                           : "probe failed");
    EXPECT_EQ(report.haproxies[0].action, HaproxyAction::kAdded);
    EXPECT_FALSE(report.previous_kept);  // there was no file before
    EXPECT_THAT(must(read_file(server->crt_list())),
                HasSubstr(request.file.string() + " extra.test\n"));

    server->stop();
    ASSERT_TRUE(server->launch());
    EXPECT_EQ(served_serial(server->crt_list_port(), "extra.test"),
              request.bundle.leaf.serial_hex());
    // Deploying again neither adds a second crt-list line nor touches HAProxy.
    auto again = must(deploy(request));
    EXPECT_EQ(again.haproxies[0].action, HaproxyAction::kAlreadyServed);
    std::string list = must(read_file(server->crt_list()));
    EXPECT_EQ(list.find(request.file.string()), list.rfind(request.file.string()));
}

TEST(Deploy, UnknownCertificateWithoutCrtListIsAnError) {
    auto server = must(test::HaproxyServer::start());
    DeployRequest request = site_request(*server);
    request.file = server->dir() / "unknown.pem";

    auto report = must(deploy(request));
    EXPECT_FALSE(report.ok());
    EXPECT_EQ(report.haproxies[0].action, HaproxyAction::kFailed);
    EXPECT_EQ(report.haproxies[0].attempts, 1);  // not worth retrying
    EXPECT_THAT(report.haproxies[0].error->describe(), HasSubstr("does not serve a certificate"));
    EXPECT_THAT(report.haproxies[0].error->describe(), HasSubstr(server->site_pem().string()));
}

TEST(Deploy, OneHaproxyDownDoesNotStopTheOthers) {
    auto up = must(test::HaproxyServer::start());
    DeployRequest request = site_request(*up);
    request.targets.haproxies.push_back(api_at(up->dir() / "nothing-listens.sock"));
    request.targets.retry_for = 600ms;

    auto report = must(deploy(request));
    EXPECT_FALSE(report.ok());
    EXPECT_EQ(report.haproxies[0].action, HaproxyAction::kUpdated);
    EXPECT_EQ(report.haproxies[1].action, HaproxyAction::kFailed);
    EXPECT_GE(report.haproxies[1].attempts, 2);
    EXPECT_THAT(report.haproxies[1].error->describe(), HasSubstr("nothing-listens.sock"));
    EXPECT_TRUE(report.probes[0].serves_new);
    EXPECT_EQ(served_serial(up->https_port(), "site.test"), request.bundle.leaf.serial_hex());
}

TEST(Deploy, HaproxyThatComesUpLaterIsRetried) {
    auto late = must(test::HaproxyServer::prepare());
    DeployRequest request = site_request(*late);
    request.targets.retry_for = 15s;
    // HAProxy is started from this thread: a child dies with the thread that spawned it.
    auto deployed = std::async(std::launch::async, [&request] { return deploy(request); });
    std::this_thread::sleep_for(500ms);
    Status launched = late->launch();
    ASSERT_TRUE(launched) << launched.error().describe();

    auto report = must(deployed.get());
    EXPECT_TRUE(report.ok()) << report.haproxies[0].error->describe();
    EXPECT_GE(report.haproxies[0].attempts, 2);
    // The file was written before HAProxy started, so it came up with the new certificate.
    EXPECT_EQ(report.haproxies[0].action, HaproxyAction::kAlreadyServed);
}

TEST(Deploy, ProbeOfAFrontendStillServingTheOldCertificateFails) {
    auto updated = must(test::HaproxyServer::start());
    auto other = must(test::HaproxyServer::start());
    DeployRequest request = site_request(*updated);
    request.targets.probes.push_back({.host = "127.0.0.1", .port = other->https_port()});

    auto report = must(deploy(request));
    EXPECT_FALSE(report.ok());
    ASSERT_EQ(report.probes.size(), 2u);
    EXPECT_TRUE(report.probes[0].serves_new);
    EXPECT_FALSE(report.probes[1].serves_new);
    EXPECT_THAT(report.probes[1].error->describe(), HasSubstr("still presents serial"));
}

}  // namespace
}  // namespace certdock::agent
