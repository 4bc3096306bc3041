#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "base/result.hpp"

namespace certdock {

using SystemTime = std::chrono::system_clock::time_point;

// RFC 3339 in UTC with a 'Z' and whole seconds: "2026-11-24T20:00:00Z".
std::string format_rfc3339(SystemTime time);
// Accepts RFC 3339 with 'Z' or a numeric offset and optional fractional seconds.
Result<SystemTime> parse_rfc3339(std::string_view text);

// "in 89 days", "3 hours ago": how long until (or since) `when`, for people.
std::string describe_interval(SystemTime now, SystemTime when);

}  // namespace certdock
