#include "base/time.hpp"

#include <cstdio>
#include <ctime>

namespace certdock {

std::string format_rfc3339(SystemTime time) {
    std::time_t t = std::chrono::system_clock::to_time_t(time);
    std::tm tm{};
    ::gmtime_r(&t, &tm);
    char buffer[32];
    std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buffer;
}

Result<SystemTime> parse_rfc3339(std::string_view text) {
    auto invalid = [&] {
        return fail(ErrorCategory::kInput, "invalid RFC 3339 time '" + std::string(text) +
                                               "': expected the form 2026-11-24T20:00:00Z");
    };
    std::tm tm{};
    int consumed = 0;
    std::string copy(text);
    if (std::sscanf(copy.c_str(), "%4d-%2d-%2d%*1[Tt ]%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon,
                    &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &consumed) != 6) {
        return invalid();
    }
    if (tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
        tm.tm_min > 59 || tm.tm_sec > 60) {
        return invalid();
    }
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    std::string_view rest = std::string_view(copy).substr(static_cast<size_t>(consumed));
    std::chrono::nanoseconds fraction{0};
    if (!rest.empty() && rest.front() == '.') {
        rest.remove_prefix(1);
        long long scale = 100'000'000;
        size_t digits = 0;
        while (digits < rest.size() && rest[digits] >= '0' && rest[digits] <= '9') {
            fraction += std::chrono::nanoseconds((rest[digits] - '0') * scale);
            scale /= 10;
            ++digits;
        }
        if (digits == 0) return invalid();
        rest.remove_prefix(digits);
    }
    long offset_seconds = 0;
    if (rest == "Z" || rest == "z") {
        offset_seconds = 0;
    } else if (rest.size() == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':') {
        int hours = 0;
        int minutes = 0;
        if (std::sscanf(std::string(rest.substr(1)).c_str(), "%2d:%2d", &hours, &minutes) != 2) {
            return invalid();
        }
        offset_seconds = (hours * 3600L + minutes * 60L) * (rest[0] == '-' ? -1 : 1);
    } else {
        return invalid();
    }
    std::time_t t = ::timegm(&tm);
    return std::chrono::system_clock::from_time_t(t - offset_seconds) +
           std::chrono::duration_cast<std::chrono::system_clock::duration>(fraction);
}

std::string describe_interval(SystemTime now, SystemTime when) {
    using std::chrono::duration_cast;
    auto delta = duration_cast<std::chrono::seconds>(when - now).count();
    bool past = delta < 0;
    long long magnitude = past ? -delta : delta;
    std::string amount;
    if (magnitude >= 2 * 86400) {
        amount = std::to_string(magnitude / 86400) + " days";
    } else if (magnitude >= 2 * 3600) {
        amount = std::to_string(magnitude / 3600) + " hours";
    } else if (magnitude >= 120) {
        amount = std::to_string(magnitude / 60) + " minutes";
    } else {
        amount = std::to_string(magnitude) + " seconds";
    }
    return past ? amount + " ago" : "in " + amount;
}

}  // namespace certdock
