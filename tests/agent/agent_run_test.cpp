// `certdock agent run --once` as an operator runs it, against Pebble and a real HAProxy 2.6:
// certificates issued, on disk, hot-loaded and served, the state written; a second run leaves
// them alone; a placeholder forces a renewal with the same key; a HAProxy that is down during
// the delivery is a recorded failure that the next run repairs.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "agent/cert_state.hpp"
#include "agent/tls_probe.hpp"
#include "base/file.hpp"
#include "crypto/bundle.hpp"
#include "crypto/certificate.hpp"
#include "crypto/key.hpp"
#include "crypto/self_signed.hpp"
#include "support/command.hpp"
#include "support/haproxy_server.hpp"
#include "support/must.hpp"
#include "support/pebble.hpp"
#include "support/pebble_behind_haproxy.hpp"
#include "support/temp_dir.hpp"

namespace certdock {
namespace {

using test::CommandResult;
using test::must;
using ::testing::HasSubstr;
using ::testing::Not;

class AgentRun : public ::testing::Test {
protected:
    void SetUp() override {
        auto both = must(test::start_pebble_behind_haproxy());
        pebble_ = std::move(both.pebble);
        haproxy_ = std::move(both.haproxy);
        // As after `certdock bootstrap`: HAProxy's file holds a self-signed placeholder.
        write_placeholder();
    }

    std::filesystem::path path(const std::string& name) const { return dir_.path() / name; }
    std::filesystem::path site_pem() const { return haproxy_->site_pem(); }

    void write_placeholder() {
        auto key = must(crypto::PrivateKey::generate(crypto::KeySpec::ecdsa(crypto::Curve::kP256)));
        write_placeholder(key);
    }
    void write_placeholder(const crypto::PrivateKey& key) {
        auto cert = must(crypto::make_self_signed(
            key, {.common_name = "site.test", .dns_names = {"site.test"}}));
        std::string bundle = must(crypto::build_haproxy_bundle({cert, {}, key, std::nullopt}));
        ASSERT_TRUE(write_file_atomic(site_pem(), bundle, {.mode = 0600}));
    }

    // `challenge`: the certificate's challenge lines.
    void write_config(const std::string& challenge) {
        std::string text =
            "[agent]\n"
            "state-dir = \"" +
            path("state").string() +
            "\"\n"
            "[acme.pebble]\n"
            "directory = \"" +
            pebble_->directory_url() +
            "\"\n"
            "ca-roots = \"" +
            pebble_->ca_file().string() +
            "\"\n"
            "[haproxy.edge]\n"
            "sockets = [\"" +
            haproxy_->admin_socket().string() +
            "\"]\n"
            "map = \"" +
            haproxy_->map_file().string() +
            "\"\n"
            "[deploy-hook.record]\n"
            "program = \"" +
            path("record.sh").string() +
            "\"\n"
            "[[certificate]]\n"
            "name = \"site\"\n"
            "domains = [\"site.test\"]\n"
            "keytype = \"ECDSA\"\n"
            "curves = \"P-256\"\n" +
            challenge + "file = \"" + site_pem().string() +
            "\"\n"
            "probe = [\"127.0.0.1:" +
            std::to_string(haproxy_->https_port()) + "\"]\n" + "deploy-hooks = [\"record\"]\n";
        // The deploy hook appends its environment to hook.env.
        ASSERT_TRUE(write_file_atomic(path("record.sh"),
                                      "#!/bin/sh\nenv >> \"" + path("hook.env").string() + "\"\n",
                                      {.mode = 0755}));
        ASSERT_TRUE(write_file_atomic(path("certdock.toml"), text));
    }

    void write_dns_hook() {
        // Publishes the TXT record in challtestsrv, whose DNS server Pebble asks.
        std::string hook =
            "#!/bin/sh\n"
            "[ \"$1\" = begin ] || exit 0\n"
            "exec curl -sf -X POST -d "
            "\"{\\\"host\\\":\\\"$CERTDOCK_CHALLENGE_RECORD_NAME.\\\","
            "\\\"value\\\":\\\"$5\\\"}\" " +
            pebble_->challtestsrv_url() + "/set-txt\n";
        ASSERT_TRUE(write_file_atomic(path("hook.sh"), hook, {.mode = 0755}));
    }

    CommandResult run_once() {
        return test::run_command({test::certdock_binary().string(), "agent", "run", "--config",
                                  path("certdock.toml").string(), "--once", "--deploy-wait", "1"});
    }

    agent::CertState state() {
        agent::DirectoryStateStore store(path("state") / "state");
        return must(store.load("site"));
    }

    crypto::BundleParts bundle() {
        return must(crypto::parse_haproxy_bundle(must(read_file(site_pem()))));
    }

    crypto::Certificate served() {
        auto chain = must(agent::probe_served_chain(
            {.host = "127.0.0.1", .port = haproxy_->https_port(), .sni = "site.test"}));
        return chain.front();
    }

    test::TempDir dir_;
    test::PebbleServerPtr pebble_;
    test::HaproxyServerPtr haproxy_;
};

TEST_F(AgentRun, IssuesDeliversAndThenLeavesTheCertificateAlone) {
    write_config("challenge = \"http-01\"\n");
    CommandResult first = run_once();
    ASSERT_EQ(first.exit_code, 0) << first.err << "\nHAProxy:\n" << haproxy_->log();
    EXPECT_THAT(first.err, HasSubstr("cert=site delivered serial"));

    auto parts = bundle();
    EXPECT_FALSE(parts.leaf.is_self_signed());
    EXPECT_EQ(parts.leaf.dns_names(), std::vector<std::string>{"site.test"});
    EXPECT_EQ(parts.leaf.public_key().describe(), "ECDSA P-256");
    auto roots = must(crypto::parse_certificates(must(pebble_->root_pem())));
    EXPECT_TRUE(crypto::verify_chain(parts.leaf, parts.chain, roots));
    EXPECT_EQ(served().der(), parts.leaf.der());

    const std::string hook_env = must(read_file(path("hook.env")));
    EXPECT_THAT(hook_env, HasSubstr("CERTDOCK_CERT_NAME=site\n"));
    EXPECT_THAT(hook_env, HasSubstr("CERTDOCK_SERIAL=" + parts.leaf.serial_hex() + "\n"));
    EXPECT_THAT(hook_env, HasSubstr("CERTDOCK_CERT_FILE=" + site_pem().string() + "\n"));
    EXPECT_THAT(hook_env, Not(HasSubstr("PRIVATE KEY")));

    agent::CertState recorded = state();
    EXPECT_EQ(recorded.serial, parts.leaf.serial_hex());
    EXPECT_EQ(recorded.last_result, agent::AttemptResult::kSuccess);
    ASSERT_TRUE(recorded.next_renewal.has_value());
    EXPECT_GT(*recorded.next_renewal, std::chrono::system_clock::now());
    EXPECT_LT(*recorded.next_renewal, parts.leaf.not_after());

    const std::string before = must(read_file(site_pem()));
    CommandResult second = run_once();
    ASSERT_EQ(second.exit_code, 0) << second.err;
    EXPECT_THAT(second.err, HasSubstr("cert=site not due; next renewal"));
    EXPECT_EQ(must(read_file(site_pem())), before);
    EXPECT_EQ(state().serial, recorded.serial);
}

TEST_F(AgentRun, APlaceholderForcesARenewalWithTheSameKey) {
    write_config("challenge = \"http-01\"\n");
    CommandResult first = run_once();
    ASSERT_EQ(first.exit_code, 0) << first.err;
    auto issued = bundle();
    auto key =
        must(crypto::PrivateKey::from_pem(must(read_file(path("state") / "keys" / "site.key"))));
    EXPECT_TRUE(key.public_key().same_key(issued.leaf.public_key()));

    write_placeholder(key);
    CommandResult second = run_once();
    ASSERT_EQ(second.exit_code, 0) << second.err;
    auto renewed = bundle();
    EXPECT_NE(renewed.leaf.serial_hex(), issued.leaf.serial_hex());
    EXPECT_FALSE(renewed.leaf.is_self_signed());
    EXPECT_TRUE(renewed.leaf.public_key().same_key(issued.leaf.public_key()));
    EXPECT_EQ(served().der(), renewed.leaf.der());
    EXPECT_EQ(state().serial, renewed.leaf.serial_hex());
}

TEST_F(AgentRun, AHaproxyDownDuringDeliveryIsRecordedAndTheNextRunDelivers) {
    // dns-01, so the order does not need HAProxy; only the delivery does.
    write_dns_hook();
    write_config("challenge = \"dns-01\"\ndns-hook = \"" + path("hook.sh").string() + "\"\n");
    haproxy_->stop();

    CommandResult down = run_once();
    EXPECT_EQ(down.exit_code, 1) << down.err;
    EXPECT_THAT(down.err, HasSubstr("cert=site failed: not delivered"));
    agent::CertState failed = state();
    EXPECT_EQ(failed.last_result, agent::AttemptResult::kFailure);
    EXPECT_EQ(failed.consecutive_failures, 1);
    EXPECT_THAT(failed.last_error, HasSubstr(haproxy_->admin_socket().string()));
    ASSERT_TRUE(failed.next_retry.has_value());
    EXPECT_GT(*failed.next_retry, *failed.last_attempt);
    EXPECT_TRUE(failed.serial.empty());
    // Disk first: the new certificate is there for HAProxy's next start.
    auto issued = bundle();
    EXPECT_FALSE(issued.leaf.is_self_signed());
    EXPECT_FALSE(std::filesystem::exists(path("hook.env"))) << "hooks run only after a delivery";

    ASSERT_TRUE(haproxy_->launch());
    CommandResult up = run_once();
    ASSERT_EQ(up.exit_code, 0) << up.err << "\nHAProxy:\n" << haproxy_->log();
    EXPECT_EQ(served().der(), issued.leaf.der());
    agent::CertState delivered = state();
    EXPECT_EQ(delivered.serial, issued.leaf.serial_hex());
    EXPECT_EQ(delivered.consecutive_failures, 0);
    EXPECT_FALSE(delivered.next_retry.has_value());
    EXPECT_THAT(must(read_file(path("hook.env"))),
                HasSubstr("CERTDOCK_SERIAL=" + issued.leaf.serial_hex() + "\n"));
}

}  // namespace
}  // namespace certdock
