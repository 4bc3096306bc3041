#pragma once

#include <chrono>
#include <optional>
#include <random>
#include <string_view>

#include "base/clock.hpp"

namespace certdock::acme {

using std::chrono::milliseconds;

// Retry-After (RFC 9110 §10.2.3): delay-seconds or an HTTP-date. Returns how long to wait
// from `now` (zero for a date in the past); nullopt when the value is neither form.
std::optional<Clock::Duration> parse_retry_after(std::string_view value, Clock::TimePoint now);

// Bounded exponential backoff, each delay drawn between half and all of its step so clients
// that failed together do not retry together; for transient failures (connection reset,
// 5xx). attempt 0 is the first retry.
struct BackoffPolicy {
    milliseconds base{250};
    milliseconds cap{8'000};
    int max_retries = 4;

    milliseconds delay(int attempt, std::mt19937_64& rng) const;
};

// Polling a pending authorization or a processing order: quick at first (most CAs validate
// in well under a second), slower later, always within `cap`.
struct PollSchedule {
    milliseconds first{20};
    milliseconds cap{2'000};

    milliseconds delay(int attempt) const;
};

}  // namespace certdock::acme
