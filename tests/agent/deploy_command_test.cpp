// `certdock deploy` as an operator runs it, against a real HAProxy 2.6.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "agent/tls_probe.hpp"
#include "base/file.hpp"
#include "crypto/bundle.hpp"
#include "support/command.hpp"
#include "support/haproxy_server.hpp"
#include "support/must.hpp"

namespace certdock {
namespace {

using test::must;
using ::testing::HasSubstr;

struct NewCertificate {
    std::filesystem::path chain;  // leaf and intermediate
    std::filesystem::path key;
    std::string serial;
};

NewCertificate write_new_certificate(const test::HaproxyServer& server,
                                     const crypto::PrivateKey* key = nullptr) {
    test::CertSpec spec;
    spec.dns_names = {"site.test"};
    test::Issued leaf = must(server.pki().intermediate.issue(spec));
    NewCertificate written{server.dir() / "new-chain.pem", server.dir() / "new.key",
                           leaf.certificate.serial_hex()};
    must(write_file_atomic(written.chain, leaf.certificate.to_pem() +
                                              server.pki().intermediate.certificate().to_pem()));
    must(write_file_atomic(written.key, must((key ? *key : leaf.key).to_pem()), {.mode = 0600}));
    return written;
}

std::string served_serial(const test::HaproxyServer& server) {
    auto chain = must(agent::probe_served_chain(
        {.host = "127.0.0.1", .port = server.https_port(), .sni = "site.test"}));
    return chain.front().serial_hex();
}

std::vector<std::string> deploy_argv(const test::HaproxyServer& server,
                                     const NewCertificate& cert) {
    return {test::certdock_binary().string(),
            "deploy",
            "--cert",
            cert.chain.string(),
            "--key",
            cert.key.string(),
            "--to",
            server.site_pem().string(),
            "--haproxy-socket",
            server.admin_socket().string(),
            "--probe",
            "127.0.0.1:" + std::to_string(server.https_port())};
}

TEST(DeployCommand, DeliversAndSaysWhatItDid) {
    auto server = must(test::HaproxyServer::start());
    NewCertificate cert = write_new_certificate(*server);

    auto result = test::run_command(deploy_argv(*server, cert));
    ASSERT_EQ(result.exit_code, 0) << result.err;
    EXPECT_THAT(result.out, HasSubstr("written (previous kept as "));
    EXPECT_THAT(result.out, HasSubstr(server->admin_socket().string() + ": updated (1 attempt"));
    EXPECT_THAT(result.out, HasSubstr("(SNI site.test): serves the new certificate"));
    EXPECT_EQ(served_serial(*server), cert.serial);

    auto argv = deploy_argv(*server, cert);
    argv.push_back("--json");
    auto again = test::run_command(argv);
    ASSERT_EQ(again.exit_code, 0) << again.err;
    auto report = nlohmann::json::parse(again.out);
    EXPECT_EQ(report["file_changed"], false);
    EXPECT_EQ(report["haproxies"][0]["action"], "already served");
    EXPECT_EQ(report["probes"][0]["serves_new"], true);
}

TEST(DeployCommand, WrongKeyExitsTwoAndChangesNothing) {
    auto server = must(test::HaproxyServer::start());
    auto other_key =
        must(crypto::PrivateKey::generate(crypto::KeySpec::ecdsa(crypto::Curve::kP256)));
    NewCertificate cert = write_new_certificate(*server, &other_key);

    auto result = test::run_command(deploy_argv(*server, cert));
    EXPECT_EQ(result.exit_code, 2);
    EXPECT_THAT(result.err, HasSubstr("does not match"));
    EXPECT_EQ(must(read_file(server->site_pem())), server->site_bundle());
    EXPECT_EQ(served_serial(*server), server->pki().leaf.certificate.serial_hex());
}

TEST(DeployCommand, UnreachableHaproxyExitsOneButTheFileIsWritten) {
    auto server = must(test::HaproxyServer::start());
    NewCertificate cert = write_new_certificate(*server);
    auto argv = deploy_argv(*server, cert);
    argv.insert(argv.end(),
                {"--haproxy-socket", (server->dir() / "gone.sock").string(), "--retry-for", "0.3"});

    auto result = test::run_command(argv);
    EXPECT_EQ(result.exit_code, 1);
    EXPECT_THAT(result.out, HasSubstr("gone.sock: failed"));
    EXPECT_THAT(result.err, HasSubstr("delivery incomplete: 1 step(s) failed"));
    EXPECT_EQ(served_serial(*server), cert.serial);  // the reachable one was updated
    auto on_disk = must(crypto::parse_haproxy_bundle(must(read_file(server->site_pem()))));
    EXPECT_EQ(on_disk.leaf.serial_hex(), cert.serial);
}

TEST(DeployCommand, BadProbeAddressIsAUsageError) {
    auto server = must(test::HaproxyServer::start());
    NewCertificate cert = write_new_certificate(*server);
    auto argv = deploy_argv(*server, cert);
    argv.back() = "localhost";  // no port

    auto result = test::run_command(argv);
    EXPECT_EQ(result.exit_code, 2);
    EXPECT_THAT(result.err, HasSubstr("--probe 'localhost': expected HOST:PORT"));
    EXPECT_EQ(must(read_file(server->site_pem())), server->site_bundle());
}

}  // namespace
}  // namespace certdock
