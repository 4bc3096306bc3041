// certdock doctor: configurations and certificate files in a temporary directory, and a real
// HAProxy 2.6 for the socket and served-certificate checks (integration).

#include "agent/doctor.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <iostream>
#include <stdexcept>

#include "base/file.hpp"
#include "haproxy/hot_update.hpp"
#include "haproxy/runtime_api.hpp"
#include "support/haproxy_server.hpp"
#include "support/must.hpp"
#include "support/temp_dir.hpp"
#include "support/test_pki.hpp"

namespace certdock::agent {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using test::must;
using ::testing::AllOf;
using ::testing::Contains;
using ::testing::Field;
using ::testing::HasSubstr;
using ::testing::Not;

auto finding(Severity severity, const std::string& check, const std::string& message_part,
             const std::string& fix_part = "") {
    return AllOf(Field(&Finding::severity, severity), Field(&Finding::check, check),
                 Field(&Finding::message, HasSubstr(message_part)),
                 Field(&Finding::fix, HasSubstr(fix_part)));
}

std::string dump(const DoctorReport& report) {
    std::string out;
    for (const auto& f : report.findings) {
        out += std::string(to_string(f.severity)) + " [" + f.check + "] " + f.subject + " " +
               f.message + (f.fix.empty() ? "" : " | fix: " + f.fix) + "\n";
    }
    return out;
}

// A directory with certificate files and a haproxy.cfg written by each test; checked without
// a running HAProxy unless a test says otherwise.
class DoctorFiles : public ::testing::Test {
protected:
    DoctorFiles() : pki_(must(test::make_test_pki({"doctor.test", "www.doctor.test"}))) {}

    fs::path path(const std::string& name) const { return dir_.path() / name; }

    void write(const std::string& name, const std::string& text) {
        Status written = write_file_atomic(path(name), text);
        if (!written) throw std::runtime_error(written.error().describe());
    }

    void write_bundle(const std::string& name, const test::Issued& leaf) {
        write(name, must(test::haproxy_bundle(leaf, {pki_.intermediate})));
    }

    test::Issued issue(const test::CertSpec& spec) const {
        return must(pki_.intermediate.issue(spec));
    }

    // The configuration, with an admin socket declared so that no test trips over its absence.
    DoctorReport run(const std::string& body, DoctorOptions options = {}) {
        write("haproxy.cfg",
              "global\n    stats socket " + path("admin.sock").string() + " level admin\n" + body);
        options.config = path("haproxy.cfg");
        options.check_sockets = false;
        options.probe = false;
        DoctorReport report = must(run_doctor(options));
        std::cerr << dump(report);
        return report;
    }

    test::TempDir dir_;
    test::TestPki pki_;
};

TEST_F(DoctorFiles, HealthyFilesGiveNoFailure) {
    write_bundle("site.pem", pki_.leaf);
    write("http01.map", "");
    DoctorReport report =
        run("frontend fe\n"
            "    bind :443 ssl crt site.pem\n"
            "    bind :80\n"
            "    http-request return status 200 lf-string \"%[path,field(4,/),map(" +
            path("http01.map").string() + ")]\" if { path_beg /.well-known/acme-challenge/ }\n");
    EXPECT_FALSE(report.failed());
    EXPECT_EQ(report.count(Severity::kWarning), 0u);
    EXPECT_THAT(report.findings, Contains(finding(Severity::kOk, "certificate",
                                                  "ECDSA P-256 key matches, chain of 2 in order")));
    EXPECT_THAT(report.findings, Contains(finding(Severity::kOk, "http-01", "which exists")));
}

TEST_F(DoctorFiles, MissingCertificateFile) {
    DoctorReport report = run("frontend fe\n    bind :443 ssl crt missing.pem\n");
    EXPECT_TRUE(report.failed());
    EXPECT_THAT(
        report.findings,
        Contains(AllOf(finding(Severity::kFailure, "certificate",
                               path("missing.pem").string() + " does not exist", "certdock issue"),
                       Field(&Finding::subject, path("haproxy.cfg").string() + ":4"))));
}

TEST_F(DoctorFiles, KeyMismatchNamesBothKeys) {
    // The certificate alone in the PEM and someone else's key beside it, as HAProxy reads it.
    write("site.pem", pki_.leaf.certificate.to_pem() + pki_.intermediate.certificate().to_pem());
    crypto::PrivateKey other = must(crypto::PrivateKey::generate(crypto::KeySpec::rsa(2048)));
    write("site.pem.key", must(other.to_pem()));
    DoctorReport report = run("frontend fe\n    bind :443 ssl crt site.pem\n");
    EXPECT_THAT(report.findings, Contains(finding(Severity::kFailure, "certificate",
                                                  "does not match", "site.pem.key")));
    for (const auto& f : report.findings) {
        if (f.message.find("does not match") == std::string::npos) continue;
        EXPECT_THAT(f.message, HasSubstr(other.public_key().identify()));
        EXPECT_THAT(f.message, HasSubstr(pki_.leaf.certificate.public_key().identify()));
    }
}

TEST_F(DoctorFiles, KeyMissingPointsAtWhereHaproxyLooks) {
    write("site.crt", pki_.leaf.certificate.to_pem() + pki_.intermediate.certificate().to_pem());
    write("site.key", must(pki_.leaf.key.to_pem()));
    DoctorReport report = run("frontend fe\n    bind :443 ssl crt site.crt\n");
    EXPECT_THAT(report.findings,
                Contains(finding(Severity::kFailure, "certificate", "holds no private key",
                                 "ssl-load-extra-del-ext")));
    // With the option, HAProxy finds site.key and so does the check.
    report = run("    ssl-load-extra-del-ext\nfrontend fe\n    bind :443 ssl crt site.crt\n");
    EXPECT_FALSE(report.failed());
}

TEST_F(DoctorFiles, ExpiredReversedAndExpiringSoon) {
    auto now = std::chrono::system_clock::now();
    test::CertSpec expired{
        .dns_names = {"old.doctor.test"}, .not_before = now - 100 * 24h, .not_after = now - 1h};
    write_bundle("expired.pem", issue(expired));
    test::CertSpec soon{.dns_names = {"soon.doctor.test"}, .not_after = now + 2 * 24h};
    write_bundle("soon.pem", issue(soon));
    write("reversed.pem", pki_.intermediate.certificate().to_pem() +
                              pki_.leaf.certificate.to_pem() + must(pki_.leaf.key.to_pem()));
    DoctorReport report =
        run("frontend fe\n    bind :443 ssl crt expired.pem crt soon.pem crt reversed.pem\n");
    EXPECT_THAT(report.findings, Contains(finding(Severity::kFailure, "expiry", "expired")));
    EXPECT_THAT(report.findings, Contains(finding(Severity::kWarning, "expiry", "expires in")));
    EXPECT_THAT(report.findings, Contains(finding(Severity::kFailure, "chain", "reversed")));
}

TEST_F(DoctorFiles, KeytypeEcAndOtherAcmePitfalls) {
    write_bundle("site.pem", pki_.leaf);
    DoctorReport report =
        run("crt-store web\n"
            "    load crt site.pem alias site acme LE domains \"doctor.test,www.doctor.test\"\n"
            "    load alias nothing\n"
            "acme LE\n"
            "    directory https://acme.example/directory\n"
            "    keytype EC\n"
            "    curves P-256\n"
            "    reuse-key\n"
            "    map virt@acme\n"
            "frontend fe\n"
            "    bind :443 ssl\n"
            "    ssl-f-use crt @web/site\n"
            "    ssl-f-use crt @web/missing\n"
            "    ssl-f-use crt @web/nothing\n"
            "    ssl-f-use acme ZZ\n");
    EXPECT_THAT(report.findings,
                Contains(AllOf(finding(Severity::kFailure, "acme", "`keytype EC`", "keytype ECDSA"),
                               Field(&Finding::subject, path("haproxy.cfg").string() + ":8"))));
    EXPECT_THAT(report.findings,
                Contains(finding(Severity::kFailure, "acme", "without `on`", "reuse-key on")));
    EXPECT_THAT(report.findings,
                Contains(finding(Severity::kFailure, "acme", "expose-experimental-directives")));
    EXPECT_THAT(report.findings, Contains(finding(Severity::kFailure, "crt-store",
                                                  "@web/missing, which no crt-store defines")));
    EXPECT_THAT(report.findings,
                Contains(finding(Severity::kFailure, "crt-store", "has no `crt`")));
    EXPECT_THAT(report.findings,
                Contains(finding(Severity::kFailure, "ssl-f-use", "presents no certificate")));
    EXPECT_THAT(report.findings,
                Contains(finding(Severity::kFailure, "acme", "'ZZ'", "add `acme ZZ`")));
    EXPECT_THAT(report.findings, Contains(finding(Severity::kFailure, "http-01",
                                                  "no `http-request return`", "map(virt@acme)")));
    // The certificate itself is fine: P-256 as `curves P-256` asks.
    EXPECT_THAT(report.findings, Not(Contains(finding(Severity::kFailure, "key-policy", ""))));
}

TEST_F(DoctorFiles, PolicyMismatchDiskP256AgainstBits384) {
    write_bundle("site.pem", pki_.leaf);
    DoctorReport report =
        run("    expose-experimental-directives\n"
            "crt-store\n"
            "    load crt site.pem acme LE domains \"doctor.test\"\n"
            "acme LE\n"
            "    directory https://acme.example/directory\n"
            "    challenge dns-01\n"
            "    keytype ECDSA\n"
            "    bits 384\n"
            "frontend fe\n"
            "    bind :443 ssl crt site.pem\n");
    EXPECT_THAT(report.findings,
                Contains(AllOf(finding(Severity::kFailure, "key-policy",
                                       "has an ECDSA P-256 key but acme section 'LE' asks for "
                                       "ECDSA P-384",
                                       "ecdsa-p384"),
                               Field(&Finding::subject, path("haproxy.cfg").string() + ":10"))));

    // The same policy from the command line, without an acme section.
    DoctorOptions options;
    options.key_policy = crypto::KeySpec::rsa(2048);
    report = run("frontend fe\n    bind :443 ssl crt site.pem\n", options);
    EXPECT_THAT(report.findings, Contains(finding(Severity::kFailure, "key-policy",
                                                  "--key-type asks for RSA 2048")));
}

TEST_F(DoctorFiles, MapRuleWithoutMapFile) {
    write_bundle("site.pem", pki_.leaf);
    DoctorReport report =
        run("frontend fe\n"
            "    bind :80\n"
            "    acl acme path_beg /.well-known/acme-challenge/\n"
            "    http-request return status 200 lf-string \"%[path,field(4,/),map(absent.map)]\" "
            "if acme\n");
    EXPECT_THAT(report.findings,
                Contains(finding(Severity::kFailure, "http-01",
                                 path("absent.map").string() + ", which does not exist",
                                 "touch " + path("absent.map").string())));
}

TEST_F(DoctorFiles, CrtListDirectoriesAndUnsetVariables) {
    fs::create_directory(path("certs"));
    write_bundle("certs/a.pem", pki_.leaf);
    write("certs/a.pem.ocsp", "not a certificate, and HAProxy does not take it for one");
    write("list.crtlist", "certs/a.pem [alpn h2] doctor.test\nmissing.pem\n");
    ::unsetenv("CERTDOCK_DOCTOR_UNSET");
    DoctorReport report =
        run("frontend fe\n"
            "    bind :443 ssl crt certs/ crt-list list.crtlist\n"
            "    bind :8443 ssl crt \"${CERTDOCK_DOCTOR_UNSET}/x.pem\"\n");
    EXPECT_THAT(report.findings, Contains(finding(Severity::kOk, "certificate", "a.pem")));
    EXPECT_THAT(
        report.findings,
        Contains(AllOf(finding(Severity::kFailure, "certificate", "missing.pem does not exist"),
                       Field(&Finding::subject, path("list.crtlist").string() + ":2"))));
    EXPECT_THAT(report.findings,
                Contains(finding(Severity::kWarning, "config", "CERTDOCK_DOCTOR_UNSET")));
    EXPECT_THAT(report.findings, Not(Contains(finding(Severity::kFailure, "certificate", "ocsp"))));
}

TEST_F(DoctorFiles, AddressNobodyListensOnIsReportedOnce) {
    write_bundle("site.pem", pki_.leaf);
    write("haproxy.cfg", "frontend fe\n    bind 127.0.0.1:1 ssl crt site.pem\n");
    DoctorOptions options{.config = path("haproxy.cfg"), .check_sockets = false};
    DoctorReport report = must(run_doctor(options));
    std::cerr << dump(report);
    // Two names on the certificate, one finding for the address.
    EXPECT_THAT(report.findings,
                Contains(finding(Severity::kFailure, "served",
                                 "cannot connect to 127.0.0.1:1 (SNI doctor.test)", "--offline")));
    EXPECT_THAT(report.findings,
                Contains(finding(Severity::kFailure, "served", "1 more names on this address")));
    EXPECT_THAT(report.findings,
                Not(Contains(finding(Severity::kFailure, "served", "www.doctor.test"))));
}

TEST(DoctorConfig, UnreadableConfigurationIsAnError) {
    auto report = run_doctor({.config = "/nonexistent/certdock/haproxy.cfg"});
    ASSERT_FALSE(report);
    EXPECT_THAT(report.error().describe(), HasSubstr("/nonexistent/certdock/haproxy.cfg"));
}

// Against a running HAProxy: sockets and served certificates.

DoctorOptions live(const test::HaproxyServer& server) {
    DoctorOptions options;
    options.config = server.config_file();
    options.timeout = 5s;
    return options;
}

TEST(DoctorLive, RunningHaproxyIsHealthy) {
    auto server = must(test::HaproxyServer::start({.user_socket = true, .crt_list = true}));
    DoctorReport report = must(run_doctor(live(*server)));
    std::cerr << dump(report);
    EXPECT_FALSE(report.failed()) << dump(report);
    EXPECT_THAT(report.findings,
                Contains(finding(Severity::kOk, "socket", "answers at level admin (HAProxy 2.")));
    // The user socket is fine for monitoring since an admin one exists, but it is said.
    EXPECT_THAT(report.findings, Contains(finding(Severity::kWarning, "socket", "below level admin",
                                                  "level admin")));
    const std::string port = std::to_string(server->https_port());
    EXPECT_THAT(report.findings, Contains(finding(Severity::kOk, "served",
                                                  "127.0.0.1:" + port + " (SNI site.test) serves " +
                                                      server->site_pem().string())));
    EXPECT_THAT(report.findings, Contains(finding(Severity::kOk, "served",
                                                  ":" + std::to_string(server->crt_list_port()) +
                                                      " (SNI site.test) serves")));
}

TEST(DoctorLive, LevelUserSocketGetsTheFix) {
    auto server = must(test::HaproxyServer::start({.user_socket = true}));
    DoctorOptions options = live(*server);
    options.sockets = {server->user_socket().string()};
    options.probe = false;
    DoctorReport report = must(run_doctor(options));
    std::cerr << dump(report);
    EXPECT_TRUE(report.failed());
    EXPECT_THAT(
        report.findings,
        Contains(finding(Severity::kFailure, "socket", "answers below level admin",
                         "stats socket " + server->user_socket().string() + " level admin")));
}

TEST(DoctorLive, MissingSocketSaysHaproxyIsNotRunning) {
    auto server = must(test::HaproxyServer::prepare());
    DoctorOptions options = live(*server);
    options.probe = false;
    DoctorReport report = must(run_doctor(options));
    EXPECT_THAT(report.findings,
                Contains(finding(Severity::kFailure, "socket", "does not exist", "--offline")));
}

TEST(DoctorLive, ServedCertificateDiffersFromDisk) {
    auto server = must(test::HaproxyServer::start());
    // HAProxy gets another certificate for site.test; site.pem on disk stays as it was.
    test::CertSpec spec{.common_name = "site.test", .dns_names = {"site.test"}};
    test::Issued other = must(server->pki().intermediate.issue(spec));
    haproxy::RuntimeApiOptions api_options;
    api_options.transport.address = server->admin_socket().string();
    haproxy::RuntimeApi api(api_options);
    must(haproxy::hot_update(api, server->site_pem().string(),
                             must(test::haproxy_bundle(other, {server->pki().intermediate}))));

    DoctorReport report = must(run_doctor(live(*server)));
    std::cerr << dump(report);
    EXPECT_TRUE(report.failed());
    EXPECT_THAT(report.findings,
                Contains(finding(Severity::kFailure, "served",
                                 "serves CN=site.test serial " + other.certificate.serial_hex(),
                                 "commit ssl cert " + server->site_pem().string())));
    EXPECT_THAT(report.findings,
                Contains(finding(
                    Severity::kFailure, "served",
                    "holds CN=site.test serial " + server->pki().leaf.certificate.serial_hex())));
}

}  // namespace
}  // namespace certdock::agent
