// `certdock issue --challenge http-01 --haproxy-map` as a user runs it: Pebble's validator
// fetches the token from a real HAProxy 2.6, which answers from the map certdock fills
// through the Runtime API. No responder of certdock's own listens on the http-01 port.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "agent/tls_probe.hpp"
#include "base/file.hpp"
#include "crypto/bundle.hpp"
#include "crypto/certificate.hpp"
#include "haproxy/runtime_api.hpp"
#include "support/command.hpp"
#include "support/haproxy_server.hpp"
#include "support/must.hpp"
#include "support/pebble.hpp"
#include "support/pebble_behind_haproxy.hpp"
#include "support/temp_dir.hpp"

namespace certdock {
namespace {

using namespace std::chrono_literals;
using test::CommandResult;
using test::must;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

class IssueWithHaproxyMap : public ::testing::Test {
protected:
    void SetUp() override {
        auto both = must(test::start_pebble_behind_haproxy());
        pebble_ = std::move(both.pebble);
        haproxy_ = std::move(both.haproxy);
    }

    std::filesystem::path path(const std::string& name) const { return dir_.path() / name; }

    CommandResult issue(std::vector<std::string> args) {
        std::vector<std::string> argv = {test::certdock_binary().string(),
                                         "issue",
                                         "--directory",
                                         pebble_->directory_url(),
                                         "--ca-file",
                                         pebble_->ca_file().string(),
                                         "--account-key",
                                         path("account.key").string(),
                                         "--agree-tos"};
        argv.insert(argv.end(), args.begin(), args.end());
        return test::run_command(argv);
    }

    std::vector<std::string> haproxy_flags() const {
        return {"--challenge",      "http-01",
                "--haproxy-socket", haproxy_->admin_socket().string(),
                "--haproxy-map",    haproxy_->map_file().string()};
    }

    std::vector<haproxy::MapEntry> map_entries() {
        haproxy::RuntimeApiOptions options;
        options.transport.address = haproxy_->admin_socket().string();
        haproxy::RuntimeApi api(options);
        return must(api.show_map(haproxy_->map_file().string()));
    }

    test::TempDir dir_;
    test::PebbleServerPtr pebble_;
    test::HaproxyServerPtr haproxy_;
};

TEST_F(IssueWithHaproxyMap, HaproxyAnswersTheChallengesAndTheMapIsEmptiedAfterwards) {
    std::vector<std::string> args = haproxy_flags();
    // Two names: two tokens in the map at once. The bundle goes where this HAProxy loads its
    // certificate from, as on a real host.
    // With --out and the socket, the bundle is hot-loaded and proven by a handshake.
    const std::string frontend = "127.0.0.1:" + std::to_string(haproxy_->https_port());
    args.insert(args.end(), {"-d", "map.test", "-d", "www.map.test", "--out",
                             haproxy_->site_pem().string(), "--probe", frontend});
    CommandResult run = issue(args);
    ASSERT_EQ(run.exit_code, 0) << run.err << "\nHAProxy:\n" << haproxy_->log();
    EXPECT_THAT(run.out, HasSubstr(haproxy_->admin_socket().string() + ": updated"));
    EXPECT_THAT(run.out, HasSubstr(frontend + " (SNI www.map.test): serves the new certificate"));

    auto bundle = must(crypto::parse_haproxy_bundle(must(read_file(haproxy_->site_pem()))));
    ASSERT_TRUE(bundle.key.has_value());
    EXPECT_TRUE(crypto::check_key_matches(*bundle.key, bundle.leaf));
    auto names = bundle.leaf.dns_names();
    std::sort(names.begin(), names.end());
    EXPECT_EQ(names, (std::vector<std::string>{"map.test", "www.map.test"}));
    auto roots = must(crypto::parse_certificates(must(pebble_->root_pem())));
    EXPECT_TRUE(crypto::verify_chain(bundle.leaf, bundle.chain, roots));
    auto served = must(agent::probe_served_chain(
        {.host = "127.0.0.1", .port = haproxy_->https_port(), .sni = "map.test"}));
    EXPECT_EQ(served.front().der(), bundle.leaf.der());

    EXPECT_THAT(map_entries(), IsEmpty());
}

TEST_F(IssueWithHaproxyMap, AFailedOrderStillEmptiesTheMap) {
    // The validator is sent to an address where nothing listens, so the authorization fails
    // after certdock put the token into HAProxy's map.
    ASSERT_TRUE(pebble_->add_a("unreachable.test", {"127.0.0.2"}));
    std::vector<std::string> args = haproxy_flags();
    args.insert(args.end(), {"-d", "unreachable.test", "--out", haproxy_->site_pem().string()});
    CommandResult run = issue(args);
    EXPECT_EQ(run.exit_code, 1) << run.err;
    EXPECT_THAT(run.err, AllOf(HasSubstr("not issued"), HasSubstr("unreachable.test")));
    EXPECT_EQ(std::count(run.err.begin(), run.err.end(), '\n'), 1) << run.err;
    EXPECT_EQ(must(read_file(haproxy_->site_pem())), haproxy_->site_bundle())
        << "a failed run must not touch the bundle";
    EXPECT_THAT(map_entries(), IsEmpty());
}

TEST_F(IssueWithHaproxyMap, AMapHaproxyDidNotLoadStopsBeforeTheCaIsAsked) {
    const std::string missing = (haproxy_->dir() / "acme.map").string();
    CommandResult run =
        issue({"--haproxy-socket", haproxy_->admin_socket().string(), "--haproxy-map", missing,
               "--challenge", "http-01", "-d", "map.test", "--out", path("site.pem").string()});
    EXPECT_EQ(run.exit_code, 2) << run.err;
    EXPECT_THAT(run.err, AllOf(HasSubstr("Unknown map identifier"), HasSubstr(missing),
                               HasSubstr("create the empty file before HAProxy starts")));
    EXPECT_EQ(pebble_->pebble_log().find("POST"), std::string::npos)
        << "certdock contacted the CA although HAProxy cannot answer";
}

TEST_F(IssueWithHaproxyMap, AMapWithoutASocketIsAUsageError) {
    CommandResult run =
        issue({"--challenge", "http-01", "--haproxy-map", haproxy_->map_file().string(), "-d",
               "map.test", "--out", path("site.pem").string()});
    EXPECT_EQ(run.exit_code, 2);
    EXPECT_THAT(run.err, HasSubstr("--haproxy-map needs --haproxy-socket"));
    CommandResult dns =
        issue({"--challenge", "dns-01", "--haproxy-map", haproxy_->map_file().string(),
               "--haproxy-socket", haproxy_->admin_socket().string(), "-d", "map.test", "--out",
               path("site.pem").string()});
    EXPECT_EQ(dns.exit_code, 2);
    EXPECT_THAT(dns.err, HasSubstr("answers http-01 only"));
    CommandResult bad_socket = issue({"--haproxy-map", haproxy_->map_file().string(),
                                      "--haproxy-socket", haproxy_->admin_socket().string() + "@!x",
                                      "-d", "map.test", "--out", path("site.pem").string()});
    EXPECT_EQ(bad_socket.exit_code, 2);
    EXPECT_EQ(pebble_->pebble_log().find("POST"), std::string::npos);
}

}  // namespace
}  // namespace certdock
