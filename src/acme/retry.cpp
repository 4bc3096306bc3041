#include "acme/retry.hpp"

#include <charconv>
#include <ctime>
#include <string>

namespace certdock::acme {

std::optional<Clock::Duration> parse_retry_after(std::string_view value, Clock::TimePoint now) {
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
    if (value.empty()) return std::nullopt;
    long long seconds = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
    if (ec == std::errc() && end == value.data() + value.size()) {
        if (seconds < 0) return std::nullopt;
        return std::chrono::seconds(seconds);
    }
    // IMF-fixdate, the only date form a server may send: "Sun, 06 Nov 1994 08:49:37 GMT".
    std::tm tm{};
    std::string text(value);
    const char* parsed = ::strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
    if (parsed == nullptr || *parsed != '\0') return std::nullopt;
    auto when = std::chrono::system_clock::from_time_t(::timegm(&tm));
    return when > now ? when - now : Clock::Duration::zero();
}

milliseconds BackoffPolicy::delay(int attempt, std::mt19937_64& rng) const {
    milliseconds ceiling = base * (1LL << std::min(attempt, 20));
    if (ceiling > cap) ceiling = cap;
    std::uniform_int_distribution<long long> jitter(ceiling.count() / 2, ceiling.count());
    return milliseconds(jitter(rng));
}

milliseconds PollSchedule::delay(int attempt) const {
    milliseconds value = first * (1LL << std::min(attempt, 20));
    return value > cap ? cap : value;
}

}  // namespace certdock::acme
