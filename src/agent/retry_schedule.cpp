#include "agent/retry_schedule.hpp"

#include <algorithm>

namespace certdock::agent {

namespace {

std::string ordinal_failures(int count) {
    return count == 1 ? "first failure" : "failure " + std::to_string(count) + " in a row";
}

}  // namespace

RetryDecision schedule_retry(const RetryInput& input) {
    const int failures = std::max(input.consecutive_failures, 1);
    const auto index =
        static_cast<size_t>(std::min<int>(failures, static_cast<int>(kRetryIntervals.size())) - 1);
    const SystemTime from = std::chrono::floor<std::chrono::seconds>(input.last_failure);

    Clock::Duration wait = kRetryIntervals[index];
    std::string reason =
        ordinal_failures(failures) + ": next try in " + describe_duration(wait) + " (schedule)";

    if (input.retry_after && *input.retry_after > wait) {
        wait = std::min(*input.retry_after, kMaxHonouredRetryAfter);
        reason = ordinal_failures(failures) + ": the CA asked to wait " +
                 describe_duration(*input.retry_after) + " (Retry-After)";
        if (*input.retry_after > kMaxHonouredRetryAfter) {
            reason += ", capped at " + describe_duration(kMaxHonouredRetryAfter);
        }
    }

    if (input.current) {
        const SystemTime floor_at = safety_floor_time(*input.current);
        const std::string left =
            input.current->not_after > from
                ? "expires in " + describe_duration(input.current->not_after - from)
                : "has expired";
        if (from >= floor_at) {
            if (wait > kUrgentRetryCap) {
                wait = kUrgentRetryCap;
                reason = ordinal_failures(failures) + ": the certificate " + left +
                         ", so retrying every " + describe_duration(kUrgentRetryCap) +
                         " at most (safety floor)";
            }
        } else if (from + wait > floor_at) {
            // Reaching the floor starts the short retries; never sleep through it.
            wait = floor_at - from;
            reason += "; brought forward to the safety floor, " +
                      describe_duration(safety_floor_margin(*input.current)) + " before expiry";
        }
    }
    return {.retry_at = std::chrono::floor<std::chrono::seconds>(from + wait),
            .reason = std::move(reason)};
}

}  // namespace certdock::agent
