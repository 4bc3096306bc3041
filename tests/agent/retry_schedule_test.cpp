#include "agent/retry_schedule.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace certdock::agent {
namespace {

using std::chrono::days;
using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

const SystemTime kStart = std::chrono::system_clock::from_time_t(1'800'000'000);

TEST(RetrySchedule, GrowsFromAMinuteToSixHoursAndStaysThere) {
    const std::vector<Clock::Duration> expected = {minutes(1), minutes(5), minutes(15), hours(1),
                                                   hours(3),   hours(6),   hours(6),    hours(6)};
    for (size_t i = 0; i < expected.size(); ++i) {
        RetryDecision decision = schedule_retry(
            {.consecutive_failures = static_cast<int>(i) + 1, .last_failure = kStart});
        EXPECT_EQ(decision.retry_at - kStart, expected[i]) << "failure " << i + 1;
    }
}

TEST(RetrySchedule, SaysWhyInWords) {
    EXPECT_EQ(schedule_retry({.consecutive_failures = 1, .last_failure = kStart}).reason,
              "first failure: next try in 1 minute (schedule)");
    EXPECT_EQ(schedule_retry({.consecutive_failures = 4, .last_failure = kStart}).reason,
              "failure 4 in a row: next try in 1 hour (schedule)");
}

TEST(RetrySchedule, ZeroOrNegativeCountsAsTheFirstFailure) {
    EXPECT_EQ(schedule_retry({.consecutive_failures = 0, .last_failure = kStart}).retry_at,
              kStart + minutes(1));
    EXPECT_EQ(schedule_retry({.consecutive_failures = -4, .last_failure = kStart}).retry_at,
              kStart + minutes(1));
}

TEST(RetrySchedule, HonoursALaterRetryAfter) {
    RetryDecision decision = schedule_retry(
        {.consecutive_failures = 1, .last_failure = kStart, .retry_after = hours(2)});
    EXPECT_EQ(decision.retry_at, kStart + hours(2));
    EXPECT_EQ(decision.reason, "first failure: the CA asked to wait 2 hours (Retry-After)");
}

TEST(RetrySchedule, AnEarlierRetryAfterDoesNotShortenTheSchedule) {
    RetryDecision decision = schedule_retry(
        {.consecutive_failures = 5, .last_failure = kStart, .retry_after = seconds(10)});
    EXPECT_EQ(decision.retry_at, kStart + hours(3));
}

TEST(RetrySchedule, AbsurdRetryAfterIsCappedAtAWeek) {
    RetryDecision decision = schedule_retry(
        {.consecutive_failures = 1, .last_failure = kStart, .retry_after = days(400)});
    EXPECT_EQ(decision.retry_at, kStart + days(7));
    EXPECT_TRUE(decision.reason.ends_with(", capped at 7 days")) << decision.reason;
}

TEST(RetrySchedule, NeverSleepsPastTheSafetyFloor) {
    // 90-day certificate, floor 24 h before expiry; the failure is 26 h before expiry, so a 6 h
    // wait would cross the floor: the retry happens when the floor starts.
    Validity cert{.not_before = kStart, .not_after = kStart + days(90)};
    SystemTime failed = cert.not_after - hours(26);
    RetryDecision decision =
        schedule_retry({.consecutive_failures = 7, .last_failure = failed, .current = cert});
    EXPECT_EQ(decision.retry_at, cert.not_after - hours(24));
    EXPECT_EQ(decision.reason,
              "failure 7 in a row: next try in 6 hours (schedule); brought forward to the safety "
              "floor, 1 day before expiry");

    // A CA's Retry-After does not push past it either.
    decision = schedule_retry({.consecutive_failures = 1,
                               .last_failure = failed,
                               .retry_after = days(2),
                               .current = cert});
    EXPECT_EQ(decision.retry_at, cert.not_after - hours(24));
}

TEST(RetrySchedule, InsideTheSafetyFloorKeepsTryingEveryFifteenMinutes) {
    Validity cert{.not_before = kStart, .not_after = kStart + days(6)};  // floor 14.4 h
    SystemTime failed = cert.not_after - hours(10);
    RetryDecision decision = schedule_retry({.consecutive_failures = 9,
                                             .last_failure = failed,
                                             .retry_after = hours(1),
                                             .current = cert});
    EXPECT_EQ(decision.retry_at, failed + minutes(15));
    EXPECT_EQ(decision.reason,
              "failure 9 in a row: the certificate expires in 10 hours, so retrying every 15 "
              "minutes at most (safety floor)");

    // The short end of the table is kept as it is.
    decision = schedule_retry({.consecutive_failures = 1, .last_failure = failed, .current = cert});
    EXPECT_EQ(decision.retry_at, failed + minutes(1));
}

TEST(RetrySchedule, AnExpiredCertificateIsRetriedAtTheShortEnd) {
    Validity cert{.not_before = kStart, .not_after = kStart + days(90)};
    SystemTime failed = cert.not_after + days(3);
    RetryDecision decision =
        schedule_retry({.consecutive_failures = 40, .last_failure = failed, .current = cert});
    EXPECT_EQ(decision.retry_at, failed + minutes(15));
    EXPECT_EQ(decision.reason,
              "failure 40 in a row: the certificate has expired, so retrying every 15 minutes at "
              "most (safety floor)");
}

TEST(RetrySchedule, FirstIssuanceHasNoFloor) {
    RetryDecision decision = schedule_retry({.consecutive_failures = 6, .last_failure = kStart});
    EXPECT_EQ(decision.retry_at, kStart + hours(6));
}

TEST(RetrySchedule, RetryTimeIsWholeSeconds) {
    SystemTime failed = kStart + std::chrono::milliseconds(1500);
    RetryDecision decision = schedule_retry({.consecutive_failures = 1, .last_failure = failed});
    EXPECT_EQ(decision.retry_at, kStart + seconds(61));
}

}  // namespace
}  // namespace certdock::agent
