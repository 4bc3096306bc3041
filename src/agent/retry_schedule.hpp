#pragma once

// When to try again after a failed renewal (or first issuance), as a pure function of how many
// attempts failed in a row, when the last one failed, what the CA asked (Retry-After) and the
// certificate currently served. The state that feeds it is persisted (cert_state.hpp), so a
// restart neither forgets a failure nor retries at once. Numbers and reasons: docs/renewal.md.

#include <array>
#include <chrono>
#include <optional>
#include <string>

#include "agent/renewal_schedule.hpp"
#include "base/clock.hpp"
#include "base/time.hpp"

namespace certdock::agent {

using std::chrono::minutes;

// The declared table: the n-th consecutive failure waits kRetryIntervals[n - 1], the last
// entry repeats. Quick at first (a DNS record that was slow to propagate, a HAProxy that was
// restarting), then hours, so a broken setup costs the CA four requests a day.
inline constexpr std::array<Clock::Duration, 6> kRetryIntervals = {
    minutes(1), minutes(5), minutes(15), hours(1), hours(3), hours(6)};
// A CA's Retry-After is honoured up to a week; longer values are taken as a CA bug.
inline constexpr Clock::Duration kMaxHonouredRetryAfter = hours(24 * 7);
// Inside the safety floor nothing, not even Retry-After, pushes the next try further out
// than this: an expired certificate costs more than a rejected request. 15 minutes stays
// below the common failed-validation limit of 5 per hour.
inline constexpr Clock::Duration kUrgentRetryCap = minutes(15);

struct RetryInput {
    int consecutive_failures = 1;  // including the one just recorded; at least 1
    SystemTime last_failure{};
    std::optional<Clock::Duration> retry_after{};  // from the CA's failed response, if any
    // The certificate being served; none on a first issuance.
    std::optional<Validity> current{};
};

struct RetryDecision {
    SystemTime retry_at{};  // whole seconds, never before last_failure
    // "failure 3 in a row: next try in 15 minutes (schedule 1m 5m 15m 1h 3h 6h)", ...
    std::string reason{};
};

RetryDecision schedule_retry(const RetryInput& input);

}  // namespace certdock::agent
