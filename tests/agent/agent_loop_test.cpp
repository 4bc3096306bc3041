// `certdock agent run` against Pebble and a real HAProxy 2.6, for what an operator fears most:
// several certificates with their own keys and challenges on one HAProxy, the agent killed
// (kill -9) in the middle of a renewal, a configuration reload with a typo, a state that was
// deleted. Each test asserts what an operator would check: the bundle on disk, what HAProxy
// serves for each SNI name, and the state the next run starts from.
//
// There is no command to force a renewal; the tests make a certificate due by moving its next
// renewal time into the past in its state file, as time itself would.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>
#include <optional>
#include <set>

#include "agent_fixture.hpp"

namespace certdock {
namespace {

namespace fs = std::filesystem;
using test::CommandResult;
using test::must;
using ::testing::HasSubstr;

class AgentLoop : public test::AgentFixture {
protected:
    fs::path site_pem() const { return haproxy_->site_pem(); }

    // The leaf of the bundle on disk, when the file holds a whole bundle.
    std::optional<crypto::Certificate> leaf_on_disk(const fs::path& file) const {
        auto text = read_file(file);
        if (!text) return std::nullopt;
        auto parts = crypto::parse_haproxy_bundle(*text);
        if (!parts) return std::nullopt;
        return parts->leaf;
    }

    // Files a writer left behind in `dir` that are not `expected`: temporaries of an atomic
    // write ("<dot><name>.tmp-<random>") would show here.
    static std::vector<std::string> names_in(const fs::path& dir) {
        std::vector<std::string> names;
        for (const auto& entry : fs::directory_iterator(dir)) {
            names.push_back(entry.path().filename().string());
        }
        std::sort(names.begin(), names.end());
        return names;
    }
    static std::vector<std::string> temporaries_in(const fs::path& dir) {
        std::vector<std::string> found;
        for (const std::string& name : names_in(dir)) {
            if (name.find(".tmp") != std::string::npos) found.push_back(name);
        }
        return found;
    }

    std::string log_of(const std::string& log_name) const { return text_of(path(log_name)); }
};

// site: ECDSA P-256 over http-01, answered by HAProxy from its map; api: RSA 2048 over dns-01,
// a hook publishing in challtestsrv (the resolver Pebble's VA uses); admin: ECDSA P-384 over
// tls-alpn-01, answered by the agent on the port Pebble's VA connects to. (dns-01 over RFC
// 2136 is not used here: Pebble resolves through challtestsrv only, so a record in Knot would
// never be seen; the RFC 2136 solver has its own tests against Knot.)
TEST_F(AgentLoop, ThreeCertificatesWithTheirOwnKeysAndChallengesAreServedBySni) {
    write_config(site(ecdsa("P-256"), http01()) + added("api", "api.test", rsa(2048), dns01()) +
                 added("admin", "admin.test", ecdsa("P-384"), tls_alpn01()));
    CommandResult run = run_once();
    ASSERT_EQ(run.exit_code, 0) << run.err << "\nHAProxy:\n" << haproxy_->log();

    struct Expected {
        std::string name;
        std::string sni;
        std::string key;
        fs::path file;
    };
    const std::vector<Expected> certificates = {
        {"site", "site.test", "ECDSA P-256", site_pem()},
        {"api", "api.test", "RSA 2048", pem_of("api")},
        {"admin", "admin.test", "ECDSA P-384", pem_of("admin")}};
    const auto roots = pebble_roots();
    const auto pebble_intermediate =
        must(crypto::parse_certificates(must(pebble_->intermediate_pem()))).front();
    std::set<std::string> serials;
    std::set<std::string> keys;
    for (const Expected& expected : certificates) {
        SCOPED_TRACE("cert=" + expected.name);
        auto on_disk = bundle(expected.file);
        ASSERT_TRUE(on_disk.key.has_value());
        EXPECT_TRUE(crypto::check_key_matches(*on_disk.key, on_disk.leaf));
        EXPECT_EQ(on_disk.leaf.dns_names(), std::vector<std::string>{expected.sni});
        EXPECT_TRUE(crypto::verify_chain(on_disk.leaf, on_disk.chain, roots));

        auto chain = served_chain(haproxy_->crt_list_port(), expected.sni);
        EXPECT_EQ(chain.front().der(), on_disk.leaf.der());
        EXPECT_EQ(chain.front().public_key().describe(), expected.key);
        EXPECT_EQ(chain.front().issuer(), pebble_intermediate.subject());
        EXPECT_EQ(state(expected.name).serial, on_disk.leaf.serial_hex());
        EXPECT_EQ(state(expected.name).last_result, agent::AttemptResult::kSuccess);
        EXPECT_THAT(run.err, HasSubstr("cert=" + expected.name + " delivered serial " +
                                       on_disk.leaf.serial_hex()));
        serials.insert(on_disk.leaf.serial_hex());
        keys.insert(on_disk.leaf.public_key().pin_sha256());
    }
    EXPECT_EQ(serials.size(), 3U);
    EXPECT_EQ(keys.size(), 3U);
    EXPECT_EQ(served_site().der(), bundle(site_pem()).leaf.der());

    // A restart of HAProxy serves the same: the crt-list on disk names the added certificates.
    haproxy_->stop();
    ASSERT_TRUE(haproxy_->launch());
    for (const Expected& expected : certificates) {
        SCOPED_TRACE("after a HAProxy restart: cert=" + expected.name);
        EXPECT_EQ(served_chain(haproxy_->crt_list_port(), expected.sni).front().der(),
                  bundle(expected.file).leaf.der());
    }
}

// The agent dies while its dns-01 hook publishes the record of a renewal. The operator must find
// the old certificate whole on disk and served, a readable state, nothing half-written, and a
// restart must renew.
TEST_F(AgentLoop, AKillDuringIssuanceKeepsTheOldCertificateAndARestartRenews) {
    write_config(site(ecdsa("P-256"), dns01()));
    CommandResult first = run_once();
    ASSERT_EQ(first.exit_code, 0) << first.err;
    const std::string old_pem = text_of(site_pem());
    const crypto::BundleParts old_bundle = bundle(site_pem());
    make_due("site");
    const agent::CertState due_state = state("site");
    const auto files_before = names_in(haproxy_->dir());

    hold_at("dns");
    auto agent = start_agent("agent.log");
    ASSERT_TRUE(eventually([&] { return fs::exists(held_marker("dns")); }, agent.get()))
        << log_of("agent.log");
    EXPECT_THAT(log_of("agent.log"), HasSubstr("cert=site ordering from"));
    ASSERT_TRUE(agent->send_signal(SIGKILL));
    EXPECT_EQ(wait_for_exit(*agent), 128 + SIGKILL);

    // The old bundle, byte for byte: it parses and its key matches its certificate.
    EXPECT_EQ(text_of(site_pem()), old_pem);
    auto kept = bundle(site_pem());
    ASSERT_TRUE(kept.key.has_value());
    EXPECT_TRUE(crypto::check_key_matches(*kept.key, kept.leaf));
    EXPECT_EQ(served_site().der(), old_bundle.leaf.der());
    // Nothing was being written when the agent died, so nothing may be left beside the bundle
    // or the states (write_file_atomic's temporaries are ".<name>.tmp-<random>").
    EXPECT_EQ(names_in(haproxy_->dir()), files_before);
    EXPECT_THAT(temporaries_in(path("state") / "state"), ::testing::IsEmpty());
    // The state is the one before, plus the TXT record the hook was putting in place, so that
    // the restart takes it away.
    agent::CertState killed = state("site");
    ASSERT_EQ(killed.presented.size(), 1U);
    EXPECT_EQ(killed.presented[0].type, "dns-01");
    EXPECT_EQ(killed.presented[0].identifier, "site.test");
    EXPECT_EQ(killed.serial, due_state.serial);
    EXPECT_EQ(killed.next_renewal, due_state.next_renewal);

    release("dns");
    CommandResult restart = run_once();
    ASSERT_EQ(restart.exit_code, 0) << restart.err;
    auto renewed = bundle(site_pem());
    EXPECT_NE(renewed.leaf.serial_hex(), old_bundle.leaf.serial_hex());
    EXPECT_TRUE(renewed.leaf.public_key().same_key(old_bundle.leaf.public_key()))
        << "reuse-key is on: the renewal keeps the key";
    EXPECT_EQ(served_site().der(), renewed.leaf.der());
    agent::CertState after = state("site");
    EXPECT_EQ(after.serial, renewed.leaf.serial_hex());
    EXPECT_EQ(after.last_result, agent::AttemptResult::kSuccess);
    ASSERT_TRUE(after.next_renewal.has_value());
    EXPECT_GT(*after.next_renewal, std::chrono::system_clock::now());
    EXPECT_THAT(temporaries_in(haproxy_->dir()), ::testing::IsEmpty());
    EXPECT_THAT(restart.err, HasSubstr("cert=site took away the dns-01 for site.test left over"));
    EXPECT_TRUE(after.presented.empty());
}

// The agent dies while a deploy hook runs: the new certificate is on disk and served. The
// restart must take it as it is, not order another one.
TEST_F(AgentLoop, AKillDuringTheDeployHookDoesNotIssueAgain) {
    write_config(site(ecdsa("P-256"), dns01(), "deploy-hooks = [\"record\"]\n"));
    CommandResult first = run_once();
    ASSERT_EQ(first.exit_code, 0) << first.err;
    const std::string old_serial = bundle(site_pem()).leaf.serial_hex();
    make_due("site");

    hold_at("deploy");
    auto agent = start_agent("agent.log");
    ASSERT_TRUE(eventually([&] { return fs::exists(held_marker("deploy")); }, agent.get()))
        << log_of("agent.log");
    ASSERT_TRUE(agent->send_signal(SIGKILL));
    EXPECT_EQ(wait_for_exit(*agent), 128 + SIGKILL);
    release("deploy");

    auto delivered = bundle(site_pem());
    const std::string new_serial = delivered.leaf.serial_hex();
    ASSERT_NE(new_serial, old_serial);
    EXPECT_EQ(served_site().der(), delivered.leaf.der());

    CommandResult restart = run_once();
    ASSERT_EQ(restart.exit_code, 0) << restart.err;
    EXPECT_THAT(restart.err, ::testing::Not(HasSubstr("ordering"))) << "a second order";
    EXPECT_EQ(bundle(site_pem()).leaf.serial_hex(), new_serial);
    EXPECT_EQ(served_site().der(), delivered.leaf.der());
    agent::CertState after = state("site");
    EXPECT_EQ(after.serial, new_serial);
    ASSERT_TRUE(after.next_renewal.has_value());
    EXPECT_GT(*after.next_renewal, std::chrono::system_clock::now());
}

// The agent dies after writing the new bundle but before HAProxy loaded it (HAProxy's socket is
// unreachable, so the delivery is retrying). HAProxy still serves the old certificate; the
// restart must deliver the one on disk: a bundle the state does not know as served is proven
// served before it is trusted.
TEST_F(AgentLoop, AKillBetweenTheDiskAndHaproxyIsRepairedByTheRestart) {
    // The configuration names a link to HAProxy's socket, so the test can cut the way there.
    runtime_socket_ = path("runtime.sock");
    fs::create_symlink(haproxy_->admin_socket(), runtime_socket_);
    write_config(site(ecdsa("P-256"), dns01()));
    CommandResult first = run_once();
    ASSERT_EQ(first.exit_code, 0) << first.err;
    const crypto::Certificate old_leaf = bundle(site_pem()).leaf;
    make_due("site");

    fs::remove(runtime_socket_);
    deploy_wait_seconds_ = 600;
    auto agent = start_agent("agent.log");
    ASSERT_TRUE(eventually(
        [&] {
            auto leaf = leaf_on_disk(site_pem());
            return leaf && leaf->serial_hex() != old_leaf.serial_hex();
        },
        agent.get()))
        << log_of("agent.log");
    ASSERT_TRUE(agent->send_signal(SIGKILL));
    EXPECT_EQ(wait_for_exit(*agent), 128 + SIGKILL);
    const crypto::Certificate written = bundle(site_pem()).leaf;
    EXPECT_EQ(served_site().der(), old_leaf.der()) << "HAProxy was never reached";

    fs::create_symlink(haproxy_->admin_socket(), runtime_socket_);
    deploy_wait_seconds_ = 5;
    CommandResult restart = run_once();
    ASSERT_EQ(restart.exit_code, 0) << restart.err;
    EXPECT_EQ(bundle(site_pem()).leaf.serial_hex(), written.serial_hex());
    EXPECT_EQ(served_site().der(), written.der())
        << "the restart left HAProxy serving the old certificate:\n"
        << restart.err;
    EXPECT_EQ(state("site").serial, written.serial_hex());
}

// A reload with a typo is refused and changes nothing; a valid one adds a certificate without a
// restart; SIGTERM ends the loop with status 0.
TEST_F(AgentLoop, AnInvalidReloadKeepsServingAndAValidOneAddsACertificate) {
    write_config(site(ecdsa("P-256"), http01()));
    auto agent = start_agent("agent.log");
    ASSERT_TRUE(wait_for_log("agent.log", "cert=site delivered serial", agent.get()))
        << log_of("agent.log");
    const pid_t pid = agent->pid();
    const crypto::Certificate delivered = bundle(site_pem()).leaf;
    EXPECT_EQ(served_site().der(), delivered.der());

    const std::string typo = config_text(site(ecdsa("P-256"), http01(), "reuse_key = \"on\"\n") +
                                         added("api", "api.test", rsa(2048), dns01()));
    const int typo_line =
        1 + static_cast<int>(std::count(typo.begin(), typo.begin() + typo.find("reuse_key"), '\n'));
    ASSERT_TRUE(write_file_atomic(config_file(), typo));
    ASSERT_TRUE(agent->send_signal(SIGHUP));
    ASSERT_TRUE(wait_for_log("agent.log", "refused", agent.get())) << log_of("agent.log");
    const std::string refused = log_of("agent.log");
    EXPECT_THAT(refused, HasSubstr(config_file().string() + ":" + std::to_string(typo_line) + ":"));
    EXPECT_THAT(refused, HasSubstr("reuse_key"));
    EXPECT_THAT(refused, ::testing::Not(HasSubstr("cert=api")));
    EXPECT_FALSE(agent->exit_status().has_value()) << refused;
    EXPECT_EQ(served_site().der(), delivered.der());

    write_config(site(ecdsa("P-256"), http01()) + added("api", "api.test", rsa(2048), dns01()));
    ASSERT_TRUE(agent->send_signal(SIGHUP));
    ASSERT_TRUE(wait_for_log("agent.log", "cert=api delivered serial", agent.get()))
        << log_of("agent.log");
    EXPECT_FALSE(agent->exit_status().has_value());
    EXPECT_EQ(agent->pid(), pid);
    auto api = bundle(pem_of("api"));
    auto served_api = served_chain(haproxy_->crt_list_port(), "api.test").front();
    EXPECT_EQ(served_api.der(), api.leaf.der());
    EXPECT_EQ(served_api.public_key().describe(), "RSA 2048");
    EXPECT_EQ(state("api").serial, api.leaf.serial_hex());
    // The reload did not renew what was served.
    EXPECT_EQ(served_site().der(), delivered.der());
    EXPECT_EQ(test::AgentFixture::occurrences(log_of("agent.log"), "cert=site delivered"), 1);

    ASSERT_TRUE(agent->send_signal(SIGTERM));
    EXPECT_EQ(wait_for_exit(*agent), 0) << log_of("agent.log");
}

// Without a command to force a renewal, an operator who deletes the state directory gets a
// state rebuilt from the certificate on disk, and no new order.
TEST_F(AgentLoop, ADeletedStateIsRebuiltFromTheCertificateOnDisk) {
    write_config(site(ecdsa("P-256"), http01()));
    CommandResult first = run_once();
    ASSERT_EQ(first.exit_code, 0) << first.err;
    const crypto::Certificate issued = bundle(site_pem()).leaf;

    fs::remove_all(path("state") / "state");
    CommandResult again = run_once();
    ASSERT_EQ(again.exit_code, 0) << again.err;
    EXPECT_THAT(again.err, ::testing::Not(HasSubstr("ordering"))) << "a needless order";
    EXPECT_EQ(bundle(site_pem()).leaf.der(), issued.der());
    EXPECT_EQ(served_site().der(), issued.der());
    agent::CertState rebuilt = state("site");
    EXPECT_EQ(rebuilt.serial, issued.serial_hex());
    ASSERT_TRUE(rebuilt.next_renewal.has_value());
    EXPECT_GT(*rebuilt.next_renewal, std::chrono::system_clock::now());
    EXPECT_LT(*rebuilt.next_renewal, issued.not_after());
}

}  // namespace
}  // namespace certdock
