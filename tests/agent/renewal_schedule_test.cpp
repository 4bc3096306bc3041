#include "agent/renewal_schedule.hpp"

#include <gtest/gtest.h>

#include <random>
#include <set>
#include <vector>

#include "agent/cert_state.hpp"
#include "agent/retry_schedule.hpp"
#include "support/fake_clock.hpp"
#include "support/must.hpp"
#include "support/temp_dir.hpp"

namespace certdock::agent {
namespace {

using std::chrono::days;
using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

const SystemTime kStart = std::chrono::system_clock::from_time_t(1'800'000'000);

UniformRandom fixed(double value) {
    return [value] { return value; };
}

Validity valid_for(Clock::Duration lifetime, SystemTime from = kStart) {
    return {.not_before = from, .not_after = from + lifetime};
}

acme::RenewalInfo window(SystemTime start, SystemTime end) {
    return {.window_start = start, .window_end = end, .explanation_url = std::nullopt};
}

TEST(RenewalSchedule, NinetyDayCertificateRenewsWhenOneThirdRemains) {
    Validity cert = valid_for(days(90));
    RenewalDecision decision = schedule_renewal(cert, std::nullopt, {}, kStart, fixed(0.0));
    EXPECT_EQ(decision.renew_at, cert.not_after - days(30));
    EXPECT_EQ(decision.basis, RenewalBasis::kLifetimeFraction);
    EXPECT_EQ(decision.reason, "one third of the 90-day lifetime remains");
}

TEST(RenewalSchedule, JitterOnlyMovesEarlierAndIsCappedAtADay) {
    Validity cert = valid_for(days(90));
    // 4 % of 90 days is 3.6 days; the cap keeps it to one day.
    RenewalDecision latest = schedule_renewal(cert, std::nullopt, {}, kStart, fixed(0.0));
    RenewalDecision earliest = schedule_renewal(cert, std::nullopt, {}, kStart, fixed(0.999999));
    EXPECT_EQ(latest.renew_at, cert.not_after - days(30));
    EXPECT_GE(earliest.renew_at, cert.not_after - days(31));
    EXPECT_LT(earliest.renew_at, cert.not_after - days(31) + seconds(2));
}

TEST(RenewalSchedule, SixDayCertificateRenewsWithTwoDaysLeftAndSpreadsOverHours) {
    Validity cert = valid_for(days(6));
    SystemTime target = cert.not_after - days(2);
    Clock::Duration jitter = std::chrono::duration_cast<Clock::Duration>(hours(144) * 0.04);
    std::mt19937_64 engine(7);
    std::uniform_real_distribution<double> uniform(0.0, 1.0);
    UniformRandom random = [&] { return uniform(engine); };

    SystemTime earliest = SystemTime::max();
    SystemTime latest = SystemTime::min();
    for (int i = 0; i < 1000; ++i) {
        RenewalDecision decision = schedule_renewal(cert, std::nullopt, {}, kStart, random);
        ASSERT_LE(decision.renew_at, target);
        ASSERT_GE(decision.renew_at, target - jitter);
        earliest = std::min(earliest, decision.renew_at);
        latest = std::max(latest, decision.renew_at);
        EXPECT_EQ(decision.reason, "one third of the 6-day lifetime remains");
    }
    // A fleet issued together spreads over most of the 5.76 h jitter range.
    EXPECT_GT(latest - earliest, hours(5));
}

TEST(RenewalSchedule, TimesAreWholeSecondsAndNeverBeforeNow) {
    Validity cert = valid_for(days(6));
    RenewalDecision decision = schedule_renewal(cert, std::nullopt, {}, kStart, fixed(0.123456));
    EXPECT_EQ(decision.renew_at, std::chrono::floor<seconds>(decision.renew_at));

    SystemTime late = cert.not_after - days(2) + hours(1) + std::chrono::milliseconds(300);
    decision = schedule_renewal(cert, std::nullopt, {}, late, fixed(0.0));
    EXPECT_EQ(decision.renew_at, std::chrono::floor<seconds>(late));
    EXPECT_EQ(decision.reason, "one third of the 6-day lifetime remains; already due");
}

TEST(RenewalSchedule, RenewBeforeOverridesTheFraction) {
    Validity cert = valid_for(days(90));
    RenewalDecision decision =
        schedule_renewal(cert, std::nullopt, {.renew_before = days(10)}, kStart, fixed(0.0));
    EXPECT_EQ(decision.renew_at, cert.not_after - days(10));
    EXPECT_EQ(decision.basis, RenewalBasis::kRenewBefore);
    EXPECT_EQ(decision.reason, "renew-before 10 days of the 90-day lifetime (configured)");
}

TEST(RenewalSchedule, RenewBeforeLongerThanTheLifetimeIsIgnoredAndSaidSo) {
    // A renew-before written for 90-day certificates must not make a 6-day one renew forever.
    Validity cert = valid_for(days(6));
    RenewalDecision decision =
        schedule_renewal(cert, std::nullopt, {.renew_before = days(30)}, kStart, fixed(0.0));
    EXPECT_EQ(decision.renew_at, cert.not_after - days(2));
    EXPECT_EQ(decision.basis, RenewalBasis::kLifetimeFraction);
    EXPECT_EQ(decision.reason,
              "renew-before 30 days ignored (not shorter than the 6-day lifetime); one third of "
              "the 6-day lifetime remains");
}

TEST(RenewalSchedule, SafetyFloorBeatsAShortRenewBefore) {
    Validity cert = valid_for(days(6));  // floor: 6 days / 10 = 14.4 h before expiry
    RenewalDecision decision =
        schedule_renewal(cert, std::nullopt, {.renew_before = hours(2)}, kStart, fixed(0.0));
    EXPECT_EQ(decision.basis, RenewalBasis::kSafetyFloor);
    EXPECT_EQ(decision.renew_at, cert.not_after - minutes(864));
    EXPECT_EQ(decision.reason,
              "safety floor: 14.4 hours before expiry, earlier than renew-before 2 hours of the "
              "6-day lifetime (configured)");
}

TEST(RenewalSchedule, SafetyFloorIsADayForLongCertificatesAndATenthForShortOnes) {
    EXPECT_EQ(safety_floor_margin(valid_for(days(90))), hours(24));
    EXPECT_EQ(safety_floor_margin(valid_for(days(10))), hours(24));
    EXPECT_EQ(safety_floor_margin(valid_for(days(6))), minutes(864));
    EXPECT_EQ(safety_floor_margin(valid_for(hours(24))), minutes(144));
}

TEST(RenewalSchedule, InsideTheSafetyFloorRenewsNow) {
    Validity cert = valid_for(days(90));
    SystemTime now = cert.not_after - hours(20);
    RenewalDecision decision =
        schedule_renewal(cert, window(now + days(3), now + days(4)), {}, now, fixed(0.5));
    EXPECT_EQ(decision.renew_at, now);
    EXPECT_EQ(decision.basis, RenewalBasis::kSafetyFloor);
    EXPECT_EQ(decision.reason, "safety floor: expires in 20 hours");

    decision = schedule_renewal(cert, std::nullopt, {}, cert.not_after + hours(3), fixed(0.5));
    EXPECT_EQ(decision.renew_at, cert.not_after + hours(3));
    EXPECT_EQ(decision.reason, "safety floor: expired 3 hours ago");
}

TEST(RenewalSchedule, AriPicksUniformlyInsideTheWindow) {
    Validity cert = valid_for(days(90));
    acme::RenewalInfo ari = window(kStart + days(60), kStart + days(62));
    ari.explanation_url = "https://ca.example/why";
    RenewalDecision decision = schedule_renewal(cert, ari, {}, kStart, fixed(0.25));
    EXPECT_EQ(decision.basis, RenewalBasis::kAriWindow);
    EXPECT_EQ(decision.renew_at, kStart + days(60) + hours(12));
    EXPECT_EQ(decision.reason, "ARI window " + format_rfc3339(ari.window_start) + ".." +
                                   format_rfc3339(ari.window_end) + " (picked " +
                                   format_rfc3339(kStart + days(60) + hours(12)) +
                                   "); the CA explains: https://ca.example/why");
}

TEST(RenewalSchedule, AriOverridesTheFractionAndRenewBefore) {
    // A CA that plans a revocation moves the window early; the agent follows.
    Validity cert = valid_for(days(90));
    acme::RenewalInfo ari = window(kStart + days(5), kStart + days(6));
    RenewalDecision decision =
        schedule_renewal(cert, ari, {.renew_before = days(10)}, kStart, fixed(0.0));
    EXPECT_EQ(decision.renew_at, kStart + days(5));
    EXPECT_EQ(decision.basis, RenewalBasis::kAriWindow);
}

TEST(RenewalSchedule, AriWindowInThePastMeansNow) {
    Validity cert = valid_for(days(90));
    SystemTime now = kStart + days(10);
    RenewalDecision decision =
        schedule_renewal(cert, window(kStart + days(1), kStart + days(2)), {}, now, fixed(0.9));
    EXPECT_EQ(decision.renew_at, now);
    EXPECT_EQ(decision.basis, RenewalBasis::kAriWindow);
    EXPECT_TRUE(decision.reason.ends_with("; already due")) << decision.reason;
}

TEST(RenewalSchedule, AriLaterThanTheSafetyFloorIsOverruled) {
    Validity cert = valid_for(days(90));
    acme::RenewalInfo ari = window(cert.not_after - hours(10), cert.not_after + days(1));
    RenewalDecision decision = schedule_renewal(cert, ari, {}, kStart, fixed(0.5));
    EXPECT_EQ(decision.renew_at, cert.not_after - hours(24));
    EXPECT_EQ(decision.basis, RenewalBasis::kSafetyFloor);
    EXPECT_TRUE(
        decision.reason.starts_with("safety floor: 1 day before expiry, earlier than "
                                    "ARI window "))
        << decision.reason;
}

TEST(RenewalSchedule, InvalidAriWindowFallsBackToTheLifetimeRule) {
    Validity cert = valid_for(days(90));
    acme::RenewalInfo ari = window(kStart + days(62), kStart + days(60));
    RenewalDecision decision = schedule_renewal(cert, ari, {}, kStart, fixed(0.0));
    EXPECT_EQ(decision.renew_at, cert.not_after - days(30));
    EXPECT_EQ(decision.basis, RenewalBasis::kLifetimeFraction);
    EXPECT_EQ(decision.reason,
              "ARI window ignored (its end is not after its start); one third of the 90-day "
              "lifetime remains");
}

TEST(RenewalSchedule, BrokenRandomSourceStaysInBounds) {
    Validity cert = valid_for(days(90));
    for (double bad : {-3.0, 1.0, 7.5, std::nan("")}) {
        RenewalDecision decision = schedule_renewal(cert, std::nullopt, {}, kStart, fixed(bad));
        EXPECT_LE(decision.renew_at, cert.not_after - days(30)) << bad;
        EXPECT_GE(decision.renew_at, cert.not_after - days(31)) << bad;
    }
}

TEST(RenewalSchedule, CertificateWithoutLifetimeRenewsNow) {
    Validity cert{.not_before = kStart, .not_after = kStart};
    RenewalDecision decision = schedule_renewal(cert, std::nullopt, {}, kStart, fixed(0.5));
    EXPECT_EQ(decision.renew_at, kStart);
    EXPECT_EQ(decision.basis, RenewalBasis::kSafetyFloor);
}

TEST(AriPoll, HonoursRetryAfterWithinAnHourAndADay) {
    EXPECT_EQ(next_ari_poll(kStart, std::nullopt), kStart + hours(6));
    EXPECT_EQ(next_ari_poll(kStart, hours(3)), kStart + hours(3));
    EXPECT_EQ(next_ari_poll(kStart, seconds(30)), kStart + hours(1));
    EXPECT_EQ(next_ari_poll(kStart, days(3)), kStart + hours(24));
}

TEST(DescribeDuration, ReadsLikeAPerson) {
    EXPECT_EQ(describe_duration(days(6)), "6 days");
    EXPECT_EQ(describe_duration(minutes(864)), "14.4 hours");
    EXPECT_EQ(describe_duration(hours(24)), "1 day");
    EXPECT_EQ(describe_duration(hours(36)), "36 hours");
    EXPECT_EQ(describe_duration(minutes(90)), "90 minutes");
    EXPECT_EQ(describe_duration(hours(3) + minutes(7)), "3.1 hours");
    EXPECT_EQ(describe_duration(minutes(15)), "15 minutes");
    EXPECT_EQ(describe_duration(seconds(60)), "1 minute");
    EXPECT_EQ(describe_duration(seconds(1)), "1 second");
    EXPECT_EQ(describe_duration(-hours(3)), "3 hours");
}

// --- Months of renewals on a fake clock ---
//
// A minimal agent loop over the pure schedules and a StateStore: sleep until the next renewal
// or retry, ask a fake CA, record the outcome, persist. The CA fails the attempts it is told
// to, and each success is a new certificate valid from that moment.

struct FakeCa {
    Clock::Duration lifetime{};
    std::set<int> failing_attempts{};  // 0-based over every attempt
    std::optional<Clock::Duration> retry_after{};
    int attempts = 0;

    std::optional<Validity> issue(SystemTime now) {
        if (failing_attempts.contains(attempts++)) return std::nullopt;
        return Validity{.not_before = now, .not_after = now + lifetime};
    }
};

struct Attempt {
    SystemTime at{};
    bool succeeded = false;
    std::optional<Validity> served_before{};  // the certificate being served when it ran
};

class SimulatedAgent {
public:
    SimulatedAgent(StateStore& store, test::FakeClock& clock, UniformRandom random)
        : store_(store),
          clock_(clock),
          random_(std::move(random)),
          state_(test::must(store.load("www"))) {}

    const CertState& state() const { return state_; }

    // When the next attempt is due: a pending retry, else the renewal, else (nothing
    // issued yet) now.
    SystemTime due() const {
        if (state_.consecutive_failures > 0) return *state_.next_retry;
        if (state_.next_renewal) return *state_.next_renewal;
        return clock_.now();
    }

    Attempt step(FakeCa& ca) {
        if (due() > clock_.now()) clock_.sleep_for(due() - clock_.now());

        const SystemTime now = clock_.now();
        Attempt attempt{.at = now, .served_before = served()};
        state_.last_attempt = now;
        std::optional<Validity> issued = ca.issue(now);
        if (issued) {
            attempt.succeeded = true;
            state_.serial = std::to_string(ca.attempts);
            state_.not_before = issued->not_before;
            state_.not_after = issued->not_after;
            state_.last_result = AttemptResult::kSuccess;
            state_.last_success = now;
            state_.consecutive_failures = 0;
            state_.next_retry.reset();
            state_.next_retry_reason.clear();
            RenewalDecision decision = schedule_renewal(*issued, std::nullopt, {}, now, random_);
            state_.next_renewal = decision.renew_at;
            state_.next_renewal_reason = decision.reason;
        } else {
            state_.last_result = AttemptResult::kFailure;
            state_.last_error = "injected failure";
            ++state_.consecutive_failures;
            RetryDecision decision =
                schedule_retry({.consecutive_failures = state_.consecutive_failures,
                                .last_failure = now,
                                .retry_after = ca.retry_after,
                                .current = served()});
            state_.next_retry = decision.retry_at;
            state_.next_retry_reason = decision.reason;
        }
        EXPECT_TRUE(store_.save("www", state_));
        return attempt;
    }

private:
    std::optional<Validity> served() const {
        if (!state_.not_after) return std::nullopt;
        return Validity{.not_before = *state_.not_before, .not_after = *state_.not_after};
    }

    StateStore& store_;
    test::FakeClock& clock_;
    UniformRandom random_;
    CertState state_;
};

UniformRandom seeded(std::uint64_t seed) {
    auto engine = std::make_shared<std::mt19937_64>(seed);
    return [engine] { return std::uniform_real_distribution<double>(0.0, 1.0)(*engine); };
}

// The declared retry table, written out again so a change to the code has to be a change here.
Clock::Duration table_wait(int failures) {
    const Clock::Duration table[] = {minutes(1), minutes(5), minutes(15),
                                     hours(1),   hours(3),   hours(6)};
    return table[std::min(failures, 6) - 1];
}

// Runs the loop until `end`, restarting the agent (a fresh object loading from the store)
// after `restart_after` attempts.
std::vector<Attempt> run(StateStore& store, FakeCa& ca, SystemTime end, size_t restart_after) {
    test::FakeClock clock(kStart);
    auto agent = std::make_unique<SimulatedAgent>(store, clock, seeded(42));
    std::vector<Attempt> attempts;
    bool restarted = false;
    while (agent->due() < end) {
        if (!restarted && attempts.size() == restart_after) {
            CertState before = agent->state();
            agent = std::make_unique<SimulatedAgent>(store, clock, seeded(43));
            EXPECT_EQ(agent->state(), before) << "the state did not survive the restart";
            restarted = true;
        }
        attempts.push_back(agent->step(ca));
    }
    EXPECT_TRUE(restarted);
    return attempts;
}

void check_attempts(const std::vector<Attempt>& attempts, Clock::Duration lifetime,
                    Clock::Duration retry_after = Clock::Duration::zero()) {
    const Clock::Duration fraction = lifetime - lifetime / 3;  // renew when a third remains
    const Clock::Duration jitter = std::min<Clock::Duration>(
        std::chrono::duration_cast<Clock::Duration>(lifetime * 0.04), hours(24));
    const Clock::Duration floor_margin = std::min<Clock::Duration>(
        std::chrono::duration_cast<Clock::Duration>(lifetime / 10), hours(24));
    int failures = 0;
    for (size_t i = 1; i < attempts.size(); ++i) {
        const Attempt& previous = attempts[i - 1];
        const Attempt& current = attempts[i];
        ASSERT_TRUE(current.served_before) << "attempt " << i;
        const Validity served = *current.served_before;
        if (current.succeeded) {
            EXPECT_LT(current.at, served.not_after) << "attempt " << i << " renewed after expiry";
        }
        if (previous.succeeded) {
            // A renewal never comes sooner than the lifetime rule allows, nor later.
            failures = 0;
            Clock::Duration gap = current.at - previous.at;
            EXPECT_LE(gap, fraction + std::chrono::seconds(1)) << "attempt " << i;
            EXPECT_GE(gap, fraction - jitter - std::chrono::seconds(1)) << "attempt " << i;
            continue;
        }
        // After a failure: the declared table, cut short at the safety floor, and at most
        // 15 minutes once inside it.
        ++failures;
        const SystemTime floor_at =
            std::chrono::floor<std::chrono::seconds>(served.not_after - floor_margin);
        Clock::Duration expected = std::max(table_wait(failures), retry_after);
        if (previous.at >= floor_at) {
            expected = std::min<Clock::Duration>(expected, minutes(15));
        } else if (previous.at + expected > floor_at) {
            expected = floor_at - previous.at;
        }
        EXPECT_EQ(current.at - previous.at, expected) << "attempt " << i << " failure " << failures;
    }
}

// Failed attempts made while the served certificate was inside its safety floor.
int failures_inside_floor(const std::vector<Attempt>& attempts) {
    return static_cast<int>(std::count_if(attempts.begin(), attempts.end(), [](const Attempt& a) {
        return !a.succeeded && a.served_before && a.at >= safety_floor_time(*a.served_before);
    }));
}

int successes(const std::vector<Attempt>& attempts) {
    return static_cast<int>(std::count_if(attempts.begin(), attempts.end(),
                                          [](const Attempt& a) { return a.succeeded; }));
}

TEST(RenewalSimulation, NinetyDayCertificateOverAYearWithFailures) {
    InMemoryStateStore store;
    // Attempt 0 issues; 2 fails once; 4..8 fail five times in a row (1m 5m 15m 1h 3h); the
    // agent restarts in the middle of that streak.
    FakeCa ca{.lifetime = days(90), .failing_attempts = {2, 4, 5, 6, 7, 8}};
    std::vector<Attempt> attempts = run(store, ca, kStart + days(365), 6);
    check_attempts(attempts, days(90));
    // Renewals every 59 to 60 days plus a few hours of retries: day 0 and six more.
    EXPECT_FALSE(attempts[5].succeeded) << "the restart should interrupt a failure streak";
    EXPECT_EQ(successes(attempts), 7);
    EXPECT_EQ(ca.attempts, 7 + 6);
    EXPECT_EQ(static_cast<int>(attempts.size()), ca.attempts);
}

TEST(RenewalSimulation, SixDayCertificateOverAMonthRidesOutALongOutage) {
    test::TempDir dir;
    DirectoryStateStore store(dir.path() / "state");
    // Attempts 3..16 fail: 14 failures in a row starting two days before expiry. The schedule
    // reaches 6 h, is cut short at the safety floor (14.4 h before expiry), then retries every
    // 15 minutes until the CA recovers, well before the certificate expires.
    std::set<int> outage;
    for (int i = 3; i <= 16; ++i) outage.insert(i);
    FakeCa ca{.lifetime = days(6), .failing_attempts = outage, .retry_after = minutes(30)};
    // The agent restarts in the middle of the outage.
    std::vector<Attempt> attempts = run(store, ca, kStart + days(30), 10);
    check_attempts(attempts, days(6), minutes(30));
    // Renewals every 3.76 to 4 days (plus the outage): day 0 and seven more within 30 days.
    EXPECT_FALSE(attempts[9].succeeded) << "the restart should interrupt the outage";
    EXPECT_GE(failures_inside_floor(attempts), 3);
    EXPECT_EQ(successes(attempts), 8);
    EXPECT_EQ(ca.attempts, 8 + 14);
}

}  // namespace
}  // namespace certdock::agent
