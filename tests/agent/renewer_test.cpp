// The Renewer against an in-memory CA (FakeAcmeServer) on a fake clock, delivering to disk
// only (no HAProxy, no probes): ARI windows decide renewal times and move them, renewals name
// the certificate they replace, a CA that cannot answer ARI never fails a certificate, and a
// configuration that lists more than is served makes the certificate due.

#include "agent/renewer.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>

#include "acme/fake_acme_server.hpp"
#include "agent/fake_ca_seams.hpp"
#include "base/file.hpp"
#include "crypto/bundle.hpp"
#include "crypto/csr.hpp"
#include "crypto/self_signed.hpp"
#include "support/fake_clock.hpp"
#include "support/must.hpp"
#include "support/temp_dir.hpp"

namespace certdock::agent {
namespace {

using std::chrono::hours;
using std::chrono::seconds;
using test::must;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr Clock::Duration kDay = hours(24);
constexpr Clock::Duration kLifetime = 6 * kDay;

// The window a CA gives a certificate it issued: from `from` to `to` after its not-before.
std::function<acme::RenewalInfo(const crypto::Certificate&)> window_after(Clock::Duration from,
                                                                          Clock::Duration to) {
    return [from, to](const crypto::Certificate& cert) {
        return acme::RenewalInfo{cert.not_before() + from, cert.not_before() + to,
                                 "https://ca.test/why"};
    };
}

class RenewerTest : public ::testing::Test {
protected:
    RenewerTest() : client_(server_, {.directory_url = server_.directory_url()}, clock_) {
        server_.knobs.clock = &clock_;
        server_.knobs.lifetime = kLifetime;
        client_.set_account_key(
            must(crypto::PrivateKey::generate(crypto::KeySpec::ecdsa(crypto::Curve::kP256))));
        auto config = std::make_shared<Config>();
        config->accounts.push_back({.name = "fake", .directory = server_.directory_url()});
        config_ = config;
        certificate_ = {
            .name = "site",
            .domains = {"site.test"},
            .acme = "fake",
            .key = {.spec = crypto::KeySpec::ecdsa(crypto::Curve::kP256),
                    .reuse = ReuseKey::kOn,
                    .key_file = dir_.path() / "keys" / "site.key"},
            .placement = {.file = dir_.path() / "site.pem"},
        };
        renewer_ = std::make_unique<Renewer>(config_, deps());
    }

    RenewerDeps deps() {
        return {.clients = test::fake_ca_clients(client_),
                .solvers = [this](const CertificateConfig&) -> Result<challenge::SolverPtr> {
                    return challenge::SolverPtr(
                        std::make_unique<test::AnsweringSolver>(&solver_calls_, &on_present_));
                },
                .states = &states_,
                .clock = &clock_,
                .random = [this] { return random_(); },
                .log = [this](std::string_view line) { log_.emplace_back(line); },
                .deploy_retry_for = std::chrono::milliseconds(0)};
    }

    RenewOutcome run(const CertificateConfig& certificate) {
        auto outcome = renewer_->run(certificate);
        if (!outcome) throw std::runtime_error(outcome.error().describe());
        return *outcome;
    }
    RenewOutcome run() { return run(certificate_); }
    DueCheck check(const CertificateConfig& certificate) {
        return must(renewer_->check_due(certificate));
    }
    CertState state() { return must(states_.load("site")); }
    crypto::Certificate served() {
        auto parts =
            must(crypto::parse_haproxy_bundle(must(read_file(certificate_.placement.file))));
        return parts.leaf;
    }
    // Moves the clock to `when` (never back).
    void advance_to(SystemTime when) {
        if (when > clock_.now()) clock_.advance(when - clock_.now());
    }
    bool logged(const std::string& text) const {
        return std::any_of(log_.begin(), log_.end(),
                           [&](const std::string& line) { return line.find(text) != line.npos; });
    }
    std::string all_logs() const {
        std::string text;
        for (const auto& line : log_) text += line + "\n";
        return text;
    }

    test::TempDir dir_;
    test::FakeAcmeServer server_;
    test::FakeClock clock_;
    acme::Client client_;
    InMemoryStateStore states_;
    std::function<double()> random_ = [] { return 0.5; };
    std::vector<std::string> log_;
    std::vector<std::string> solver_calls_;
    std::function<void()> on_present_;
    ConfigPtr config_;
    CertificateConfig certificate_;
    std::unique_ptr<Renewer> renewer_;
};

TEST_F(RenewerTest, AriWindowDecidesTheRenewalTime) {
    server_.knobs.renewal_window = window_after(1 * kDay, 2 * kDay);
    RenewOutcome first = run();
    ASSERT_EQ(first.result, RenewResult::kDelivered) << first.error << all_logs();
    const crypto::Certificate leaf = served();

    CertState recorded = state();
    // Half-way (random 0.5) through day 1..2, far earlier than "one third remains" (day 4).
    EXPECT_EQ(recorded.next_renewal, leaf.not_before() + hours(36));
    EXPECT_THAT(recorded.next_renewal_reason, HasSubstr("ARI window"));
    EXPECT_EQ(recorded.ari_cert_id, must(crypto::ari_cert_id(leaf)));
    EXPECT_EQ(recorded.ari_explanation_url, "https://ca.test/why");
    ASSERT_TRUE(recorded.next_ari_poll);
    // The CA's Retry-After (6 h) sets the next poll, which comes before the renewal.
    EXPECT_EQ(*recorded.next_ari_poll - *recorded.last_success, hours(6));
    EXPECT_EQ(first.next, *recorded.next_ari_poll);
    EXPECT_EQ(server_.ari_requests(), std::vector<std::string>{recorded.ari_cert_id});

    // Before the poll is due the CA is not asked.
    clock_.advance(hours(1));
    EXPECT_EQ(check(certificate_).kind, DueKind::kNotDue);
    EXPECT_EQ(server_.ari_requests().size(), 1U);

    // The same window at the next poll keeps the time already picked, whatever the dice say.
    random_ = [] { return 0.9; };
    advance_to(*recorded.next_ari_poll);
    DueCheck later = check(certificate_);
    EXPECT_EQ(later.kind, DueKind::kNotDue);
    EXPECT_EQ(later.next, *recorded.next_renewal);
    EXPECT_EQ(server_.ari_requests().size(), 2U);
    EXPECT_EQ(state().next_renewal, recorded.next_renewal);

    advance_to(*recorded.next_renewal);
    RenewOutcome renewal = run();
    EXPECT_EQ(renewal.check.kind, DueKind::kRenewal);
    EXPECT_EQ(renewal.result, RenewResult::kDelivered) << renewal.error;
    EXPECT_NE(served().serial_hex(), leaf.serial_hex());
}

TEST_F(RenewerTest, WindowMovedEarlierMovesTheRenewalEarlier) {
    server_.knobs.renewal_window = window_after(3 * kDay, 4 * kDay);
    ASSERT_EQ(run().result, RenewResult::kDelivered) << all_logs();
    const crypto::Certificate leaf = served();
    const SystemTime planned = *state().next_renewal;
    EXPECT_EQ(planned, leaf.not_before() + hours(84));

    // The CA plans a revocation: the window moves to hours 12..14.
    server_.knobs.renewal_window = window_after(hours(12), hours(14));
    advance_to(*state().next_ari_poll);
    DueCheck moved = check(certificate_);
    EXPECT_EQ(moved.kind, DueKind::kNotDue);
    EXPECT_EQ(moved.next, leaf.not_before() + hours(13));
    EXPECT_LT(moved.next, planned);
    EXPECT_TRUE(logged("(moved)")) << all_logs();

    advance_to(moved.next);
    RenewOutcome renewal = run();
    EXPECT_EQ(renewal.check.kind, DueKind::kRenewal);
    EXPECT_EQ(renewal.result, RenewResult::kDelivered) << renewal.error;
}

TEST_F(RenewerTest, RenewalOrderNamesTheCertificateItReplaces) {
    server_.knobs.renewal_window = window_after(1 * kDay, 2 * kDay);
    ASSERT_EQ(run().result, RenewResult::kDelivered) << all_logs();
    const crypto::Certificate first = served();
    advance_to(*state().next_renewal);
    ASSERT_EQ(run().result, RenewResult::kDelivered) << all_logs();

    ASSERT_EQ(server_.new_orders().size(), 2U);
    EXPECT_FALSE(server_.new_orders()[0].contains("replaces"));  // nothing served yet
    EXPECT_EQ(server_.new_orders()[1].value("replaces", ""), must(crypto::ari_cert_id(first)));
    // The new certificate's window is asked for at once.
    EXPECT_EQ(state().ari_cert_id, must(crypto::ari_cert_id(served())));
}

TEST_F(RenewerTest, AlreadyReplacedIsOrderedAgainWithoutReplaces) {
    server_.knobs.renewal_window = window_after(1 * kDay, 2 * kDay);
    ASSERT_EQ(run().result, RenewResult::kDelivered) << all_logs();
    const std::string first_serial = served().serial_hex();
    server_.knobs.already_replaced = true;
    advance_to(*state().next_renewal);
    RenewOutcome renewal = run();

    EXPECT_EQ(renewal.result, RenewResult::kDelivered) << renewal.error << all_logs();
    EXPECT_NE(served().serial_hex(), first_serial);
    ASSERT_EQ(server_.new_orders().size(), 3U);
    EXPECT_TRUE(server_.new_orders()[1].contains("replaces"));
    EXPECT_FALSE(server_.new_orders()[2].contains("replaces"));
    EXPECT_TRUE(logged("already replaced; ordering without replaces")) << all_logs();
    EXPECT_EQ(state().consecutive_failures, 0);
}

// A response in place is in the state for as long as it is out there, so a kill -9 between
// present and cleanup leaves a record the next run acts on.
TEST_F(RenewerTest, APresentedResponseIsInTheStateUntilItIsTakenAway) {
    std::vector<PresentedChallenge> while_presented;
    on_present_ = [&] { while_presented = state().presented; };
    ASSERT_EQ(run().result, RenewResult::kDelivered) << all_logs();
    ASSERT_EQ(while_presented.size(), 1U);
    EXPECT_EQ(while_presented[0].type, "http-01");
    EXPECT_EQ(while_presented[0].identifier, "site.test");
    EXPECT_EQ(solver_calls_.front(), "present " + while_presented[0].token);
    EXPECT_TRUE(state().presented.empty());
}

TEST_F(RenewerTest, WhatAnInterruptedRenewalLeftIsTakenAway) {
    const PresentedChallenge left{
        .type = "http-01", .identifier = "site.test", .token = "tok1", .key_authorization = "k"};
    // Before a due renewal places its order...
    CertState interrupted;
    interrupted.presented = {left};
    ASSERT_TRUE(states_.save("site", interrupted));
    ASSERT_EQ(run().result, RenewResult::kDelivered) << all_logs();
    ASSERT_GE(solver_calls_.size(), 2U);
    EXPECT_EQ(solver_calls_[0], "cleanup tok1");
    EXPECT_THAT(solver_calls_[1], HasSubstr("present "));
    EXPECT_TRUE(logged("took away the http-01 for site.test left over"));
    EXPECT_TRUE(state().presented.empty());

    // ...and on a check when nothing is due.
    solver_calls_.clear();
    CertState served = state();
    served.presented = {left};
    ASSERT_TRUE(states_.save("site", served));
    ASSERT_EQ(run().result, RenewResult::kNotDue) << all_logs();
    EXPECT_EQ(solver_calls_, std::vector<std::string>{"cleanup tok1"});
    EXPECT_TRUE(state().presented.empty());

    // One of another type (the configuration changed) is named for removal by hand.
    served.presented = {{.type = "dns-01",
                         .identifier = "site.test",
                         .token = "t2",
                         .key_authorization = "t2.thumb"}};
    ASSERT_TRUE(states_.save("site", served));
    solver_calls_.clear();
    ASSERT_EQ(run().result, RenewResult::kNotDue);
    EXPECT_TRUE(solver_calls_.empty());
    EXPECT_TRUE(logged("remove it by hand (TXT _acme-challenge.site.test"));
    EXPECT_TRUE(state().presented.empty());
}

TEST(PresentedChallenges, SurviveTheStateFile) {
    CertState state;
    state.presented = {{.type = "dns-01",
                        .identifier_type = "dns",
                        .identifier = "example.com",
                        .wildcard = true,
                        .token = "t",
                        .key_authorization = "t.k"},
                       {.type = "http-01",
                        .identifier_type = "ip",
                        .identifier = "192.0.2.1",
                        .token = "u",
                        .key_authorization = "u.k"}};
    EXPECT_EQ(must(parse_cert_state(serialize_cert_state(state), "site.json")), state);
    auto broken =
        parse_cert_state(R"({"version": 1, "presented": [{"type": "dns-01"}]})", "site.json");
    ASSERT_FALSE(broken);
    EXPECT_THAT(broken.error().describe(), HasSubstr("lacks its type, identifier or token"));
}

TEST_F(RenewerTest, WithoutAriTheLifetimeRuleDecides) {
    server_.knobs.offer_renewal_info = false;
    ASSERT_EQ(run().result, RenewResult::kDelivered) << all_logs();
    const crypto::Certificate first = served();
    CertState recorded = state();
    EXPECT_THAT(recorded.next_renewal_reason, HasSubstr("one third of the 6-day lifetime"));
    // Four days in, minus half (random 0.5) of the 5.76 h jitter.
    EXPECT_EQ(*recorded.next_renewal, first.not_before() + 4 * kDay - seconds(10368));
    EXPECT_TRUE(recorded.ari_cert_id.empty());
    EXPECT_FALSE(recorded.ari_window_start);

    advance_to(*recorded.next_renewal);
    ASSERT_EQ(run().result, RenewResult::kDelivered) << all_logs();
    EXPECT_TRUE(server_.ari_requests().empty());
    ASSERT_EQ(server_.new_orders().size(), 2U);
    EXPECT_FALSE(server_.new_orders()[1].contains("replaces"));
}

TEST_F(RenewerTest, FailingAriKeepsTheDecisionAndNeverFailsTheCertificate) {
    server_.knobs.renewal_window = window_after(1 * kDay, 2 * kDay);
    ASSERT_EQ(run().result, RenewResult::kDelivered) << all_logs();
    const CertState before = state();

    server_.knobs.renewal_info_fails = true;
    advance_to(*before.next_ari_poll);
    RenewOutcome outcome = run();
    EXPECT_EQ(outcome.result, RenewResult::kNotDue);
    CertState after = state();
    EXPECT_EQ(after.consecutive_failures, 0);
    EXPECT_EQ(after.last_result, AttemptResult::kSuccess);
    EXPECT_EQ(after.next_renewal, before.next_renewal);
    EXPECT_EQ(after.ari_window_start, before.ari_window_start);
    // Asked again after the default 6 h.
    EXPECT_EQ(after.next_ari_poll, *before.next_ari_poll + hours(6));
    EXPECT_TRUE(logged("cert=site ARI: renewalInfo failed")) << all_logs();

    // A CA that cannot be reached at all changes nothing either.
    server_.knobs.unreachable = true;
    advance_to(*after.next_ari_poll);
    EXPECT_EQ(run().result, RenewResult::kNotDue);
    EXPECT_EQ(state().next_renewal, before.next_renewal);
    EXPECT_EQ(state().consecutive_failures, 0);
    EXPECT_TRUE(logged("connection refused (ca.test)")) << all_logs();
}

TEST_F(RenewerTest, FailingAriFromTheStartFallsBackToTheLifetimeRule) {
    server_.knobs.renewal_window = window_after(1 * kDay, 2 * kDay);
    server_.knobs.renewal_info_fails = true;
    RenewOutcome first = run();
    ASSERT_EQ(first.result, RenewResult::kDelivered) << first.error << all_logs();
    CertState recorded = state();
    EXPECT_THAT(recorded.next_renewal_reason, HasSubstr("one third of the 6-day lifetime"));
    EXPECT_EQ(recorded.consecutive_failures, 0);
    EXPECT_EQ(recorded.next_ari_poll, *recorded.last_success + hours(6));
}

TEST_F(RenewerTest, ConfiguredNameTheServedCertificateLacksMakesItDue) {
    ASSERT_EQ(run().result, RenewResult::kDelivered) << all_logs();
    const std::string serial = served().serial_hex();
    EXPECT_EQ(check(certificate_).kind, DueKind::kNotDue);

    CertificateConfig more = certificate_;
    more.domains = {"site.test", "www.site.test", "192.0.2.7"};
    DueCheck due = check(more);
    EXPECT_EQ(due.kind, DueKind::kConfigChanged);
    EXPECT_EQ(due.reason, "the configuration lists www.site.test and 192.0.2.7, which serial " +
                              serial + " lacks");
    EXPECT_EQ(due_kind_name(due.kind), "config-changed");

    RenewOutcome renewal = run(more);
    ASSERT_EQ(renewal.result, RenewResult::kDelivered) << renewal.error << all_logs();
    EXPECT_EQ(served().dns_names(), (std::vector<std::string>{"site.test", "www.site.test"}));
    EXPECT_EQ(served().ip_addresses(), std::vector<std::string>{"192.0.2.7"});
    EXPECT_EQ(check(more).kind, DueKind::kNotDue);
    // Fewer names than served is not a change worth a renewal.
    EXPECT_EQ(check(certificate_).kind, DueKind::kNotDue);
}

TEST_F(RenewerTest, KeytypeChangeMakesItDueWithANewKey) {
    certificate_.key.reuse = ReuseKey::kOff;
    ASSERT_EQ(run().result, RenewResult::kDelivered) << all_logs();
    const std::string serial = served().serial_hex();

    CertificateConfig rsa = certificate_;
    rsa.key.spec = crypto::KeySpec::rsa(2048);
    DueCheck due = check(rsa);
    EXPECT_EQ(due.kind, DueKind::kConfigChanged);
    EXPECT_EQ(due.reason, "keytype: the configuration asks for an RSA 2048 key, serial " + serial +
                              " has an ECDSA P-256 key; renewing with a new RSA 2048 key");
    ASSERT_EQ(run(rsa).result, RenewResult::kDelivered) << all_logs();
    EXPECT_EQ(served().public_key().spec(), crypto::KeySpec::rsa(2048));
    EXPECT_EQ(check(rsa).kind, DueKind::kNotDue);
}

TEST_F(RenewerTest, CsrModeRenewsFromTheCsrWithItsKey) {
    auto key = must(crypto::PrivateKey::generate(crypto::KeySpec::ecdsa(crypto::Curve::kP256)));
    const auto csr_file = dir_.path() / "site.csr";
    auto write_csr = [&](const std::vector<std::string>& names) {
        auto csr = must(crypto::Csr::create(key, {.dns_names = names}));
        ASSERT_TRUE(write_file_atomic(csr_file, csr.to_pem(), {.mode = 0600}));
    };
    write_csr({"csr.test", "www.csr.test"});
    // The CSR's key in the bundle, as `certdock bootstrap --key` leaves it.
    auto placeholder =
        must(crypto::make_self_signed(key, {.common_name = "csr.test", .dns_names = {"csr.test"}}));
    ASSERT_TRUE(write_file_atomic(certificate_.placement.file,
                                  must(crypto::build_haproxy_bundle({placeholder, {}, key, {}})),
                                  {.mode = 0600}));
    certificate_.csr = csr_file;
    certificate_.domains.clear();
    certificate_.key = {};

    ASSERT_EQ(run().result, RenewResult::kDelivered) << all_logs();
    EXPECT_EQ(served().dns_names(), (std::vector<std::string>{"csr.test", "www.csr.test"}));
    EXPECT_TRUE(served().public_key().same_key(key.public_key()));
    ASSERT_EQ(server_.new_orders().size(), 1U);
    EXPECT_EQ(server_.new_orders()[0]["identifiers"].size(), 2U);

    advance_to(*state().next_renewal);
    const std::string first_serial = served().serial_hex();
    ASSERT_EQ(run().result, RenewResult::kDelivered) << all_logs();
    EXPECT_NE(served().serial_hex(), first_serial);
    EXPECT_TRUE(served().public_key().same_key(key.public_key()));

    // A CSR with another name makes the served certificate due.
    write_csr({"csr.test", "www.csr.test", "api.csr.test"});
    DueCheck due = check(certificate_);
    EXPECT_EQ(due.kind, DueKind::kConfigChanged);
    EXPECT_EQ(due.reason, "the CSR " + csr_file.string() + " lists api.csr.test, which serial " +
                              served().serial_hex() + " lacks");
    ASSERT_EQ(run().result, RenewResult::kDelivered) << all_logs();
    EXPECT_EQ(served().dns_names().size(), 3U);
}

TEST_F(RenewerTest, FailureWaitsAsLongAsTheCaAsks) {
    server_.knobs.rate_limit_new_order = true;
    server_.knobs.rate_limit_retry_after = "7200";
    RenewOutcome outcome = run();
    EXPECT_EQ(outcome.result, RenewResult::kFailed);
    CertState recorded = state();
    EXPECT_EQ(recorded.consecutive_failures, 1);
    ASSERT_TRUE(recorded.next_retry);
    // Not the table's first minute: the two hours the CA asked for.
    EXPECT_EQ(*recorded.next_retry - *recorded.last_attempt, hours(2));
    EXPECT_THAT(recorded.next_retry_reason, HasSubstr("Retry-After"));
}

TEST_F(RenewerTest, AWaitingRetryIsNeitherPolledNorWokenForAri) {
    server_.knobs.renewal_window = window_after(1 * kDay, 2 * kDay);
    ASSERT_EQ(run().result, RenewResult::kDelivered) << all_logs();
    advance_to(*state().next_renewal);
    server_.knobs.rate_limit_new_order = true;
    server_.knobs.rate_limit_retry_after = "86400";
    ASSERT_EQ(run().result, RenewResult::kFailed);
    const size_t polls = server_.ari_requests().size();

    clock_.advance(hours(12));
    ASSERT_LT(*state().next_ari_poll, clock_.now());  // the ARI poll time has passed
    RenewOutcome waiting = run();
    EXPECT_EQ(waiting.check.kind, DueKind::kWaitingRetry);
    EXPECT_EQ(waiting.next, *state().next_retry);
    EXPECT_GT(waiting.next, clock_.now());
    EXPECT_EQ(server_.ari_requests().size(), polls);
}

// The agent's loop on a fake clock: wake at the earliest time the Renewer names, run again.
// Four months of 6-day certificates, the CA suggesting day 3..4 of each: every renewal lands
// in the window of the certificate it replaces, and ARI is asked about every 6 hours.
TEST_F(RenewerTest, MonthsOfSixDayCertificatesRenewInsideTheirWindows) {
    server_.knobs.renewal_window = window_after(3 * kDay, 4 * kDay);
    auto engine = std::make_shared<std::mt19937_64>(42);
    random_ = [engine] { return std::uniform_real_distribution<double>(0.0, 1.0)(*engine); };
    const SystemTime start = clock_.now();
    const SystemTime end = start + 120 * kDay;

    std::vector<SystemTime> renewed_at;
    int runs = 0;
    while (clock_.now() < end) {
        const SystemTime now = clock_.now();
        RenewOutcome outcome = run();
        ++runs;
        ASSERT_NE(outcome.result, RenewResult::kFailed) << outcome.error << all_logs();
        if (outcome.result == RenewResult::kDelivered) renewed_at.push_back(now);
        ASSERT_GT(outcome.next, clock_.now());
        advance_to(outcome.next);
    }

    const auto& issued = server_.issued();
    ASSERT_EQ(issued.size(), renewed_at.size());
    ASSERT_GE(renewed_at.size(), 30U);  // 120 days / 3.5 days on average
    for (size_t i = 1; i < renewed_at.size(); ++i) {
        const SystemTime window_start = issued[i - 1].not_before() + 3 * kDay;
        EXPECT_GE(renewed_at[i], window_start) << "renewal " << i;
        EXPECT_LE(renewed_at[i], window_start + kDay) << "renewal " << i;
        EXPECT_EQ(server_.new_orders()[i].value("replaces", ""),
                  must(crypto::ari_cert_id(issued[i - 1])));
    }
    // About four polls a day, never a poll per scan.
    const auto days = static_cast<size_t>((end - start) / kDay);
    EXPECT_LE(server_.ari_requests().size(), 4 * days + 2 * renewed_at.size());
    EXPECT_LE(static_cast<size_t>(runs), server_.ari_requests().size())
        << "every wake-up is a poll or a renewal, never an idle scan";
}

}  // namespace
}  // namespace certdock::agent
