#include "agent/renewal_schedule.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <random>

namespace certdock::agent {

namespace {

using std::chrono::seconds;

Clock::Duration scaled(Clock::Duration duration, double factor) {
    return std::chrono::duration_cast<Clock::Duration>(
        std::chrono::duration<double, Clock::Duration::period>(
            static_cast<double>(duration.count()) * factor));
}

SystemTime whole_seconds(SystemTime time) {
    return std::chrono::floor<seconds>(time);
}

// A misbehaving random source must not move a renewal outside its bounds.
double draw(const UniformRandom& random) {
    double value = random ? random() : 0.0;
    if (!(value >= 0.0)) return 0.0;  // also catches NaN
    return std::min(value, std::nextafter(1.0, 0.0));
}

// "6 days" -> "6-day", for "the 6-day lifetime".
std::string as_adjective(std::string amount) {
    if (amount.ends_with('s')) amount.pop_back();
    if (auto space = amount.rfind(' '); space != std::string::npos) amount[space] = '-';
    return amount;
}

// Jitter moves a target earlier by a uniform share of `range`.
SystemTime jittered(SystemTime target, Clock::Duration range, const UniformRandom& random) {
    return target - scaled(range, draw(random));
}

Clock::Duration jitter_range(Clock::Duration lifetime) {
    return std::min(scaled(lifetime, kJitterShare), kMaxJitter);
}

bool usable(const std::optional<acme::RenewalInfo>& ari) {
    return ari && ari->window_end > ari->window_start;
}

RenewalDecision pick_in_ari_window(const acme::RenewalInfo& ari, const UniformRandom& random) {
    SystemTime picked =
        whole_seconds(ari.window_start + scaled(ari.window_end - ari.window_start, draw(random)));
    std::string reason = "ARI window " + format_rfc3339(ari.window_start) + ".." +
                         format_rfc3339(ari.window_end) + " (picked " + format_rfc3339(picked) +
                         ")";
    if (ari.explanation_url) reason += "; the CA explains: " + *ari.explanation_url;
    return {.renew_at = picked, .basis = RenewalBasis::kAriWindow, .reason = std::move(reason)};
}

RenewalDecision pick_without_ari(const Validity& validity,
                                 const std::optional<acme::RenewalInfo>& ari,
                                 const RenewalPolicy& policy, const UniformRandom& random) {
    const Clock::Duration lifetime = validity.lifetime();
    const std::string lifetime_text = as_adjective(describe_duration(lifetime));
    std::string preface;
    if (ari) preface += "ARI window ignored (its end is not after its start); ";

    if (policy.renew_before && *policy.renew_before > Clock::Duration::zero() &&
        *policy.renew_before < lifetime) {
        // Jitter never more than half of what the setting leaves, so a renew-before close to
        // the lifetime cannot turn into "renew right after issuance".
        Clock::Duration range =
            std::min(jitter_range(lifetime), (lifetime - *policy.renew_before) / 2);
        return {.renew_at = whole_seconds(
                    jittered(validity.not_after - *policy.renew_before, range, random)),
                .basis = RenewalBasis::kRenewBefore,
                .reason = preface + "renew-before " + describe_duration(*policy.renew_before) +
                          " of the " + lifetime_text + " lifetime (configured)"};
    }
    if (policy.renew_before) {
        preface += "renew-before " + describe_duration(*policy.renew_before) +
                   " ignored (not shorter than the " + lifetime_text + " lifetime); ";
    }
    SystemTime target = validity.not_after - scaled(lifetime, kRenewWhenRemaining);
    return {.renew_at = whole_seconds(jittered(target, jitter_range(lifetime), random)),
            .basis = RenewalBasis::kLifetimeFraction,
            .reason = preface + "one third of the " + lifetime_text + " lifetime remains"};
}

std::string time_left(const Validity& validity, SystemTime now) {
    if (now >= validity.not_after) {
        return "expired " + describe_duration(now - validity.not_after) + " ago";
    }
    return "expires in " + describe_duration(validity.not_after - now);
}

}  // namespace

UniformRandom make_uniform_random() {
    auto engine = std::make_shared<std::mt19937_64>(std::random_device{}());
    return [engine] { return std::uniform_real_distribution<double>(0.0, 1.0)(*engine); };
}

Clock::Duration safety_floor_margin(const Validity& validity) {
    return std::min(scaled(validity.lifetime(), kSafetyFloorShare), kSafetyFloorMax);
}

SystemTime safety_floor_time(const Validity& validity) {
    return validity.not_after - safety_floor_margin(validity);
}

std::string_view basis_name(RenewalBasis basis) {
    switch (basis) {
        case RenewalBasis::kAriWindow:
            return "ari";
        case RenewalBasis::kLifetimeFraction:
            return "lifetime";
        case RenewalBasis::kRenewBefore:
            return "renew-before";
        case RenewalBasis::kSafetyFloor:
            return "safety-floor";
    }
    return "unknown";
}

RenewalDecision schedule_renewal(const Validity& validity,
                                 const std::optional<acme::RenewalInfo>& ari,
                                 const RenewalPolicy& policy, SystemTime now,
                                 const UniformRandom& random) {
    const SystemTime due_now = whole_seconds(now);
    if (validity.lifetime() <= Clock::Duration::zero()) {
        return {.renew_at = due_now,
                .basis = RenewalBasis::kSafetyFloor,
                .reason = "the certificate's not-after is not after its not-before: renewing now"};
    }
    const SystemTime floor_at = whole_seconds(safety_floor_time(validity));
    if (now >= floor_at) {
        return {.renew_at = due_now,
                .basis = RenewalBasis::kSafetyFloor,
                .reason = "safety floor: " + time_left(validity, now)};
    }

    RenewalDecision decision = usable(ari) ? pick_in_ari_window(*ari, random)
                                           : pick_without_ari(validity, ari, policy, random);
    if (decision.renew_at > floor_at) {
        decision = {.renew_at = floor_at,
                    .basis = RenewalBasis::kSafetyFloor,
                    .reason = "safety floor: " + describe_duration(validity.not_after - floor_at) +
                              " before expiry, earlier than " + decision.reason};
    }
    if (decision.renew_at < due_now) {
        decision.renew_at = due_now;
        decision.reason += "; already due";
    }
    return decision;
}

SystemTime next_ari_poll(SystemTime now, std::optional<Clock::Duration> retry_after) {
    Clock::Duration wait =
        std::clamp(retry_after.value_or(kAriPollDefault), kAriPollMin, kAriPollMax);
    return whole_seconds(now + wait);
}

std::string describe_duration(Clock::Duration duration) {
    // The largest unit that fits twice, or exactly once: "36 hours", "1 day", "90 minutes".
    struct Unit {
        double seconds;
        const char* name;
    };
    constexpr Unit kUnits[] = {{86400, "day"}, {3600, "hour"}, {60, "minute"}, {1, "second"}};
    const double total = std::abs(std::chrono::duration<double>(duration).count());
    Unit unit = kUnits[3];
    for (const Unit& candidate : kUnits) {
        if (total >= 2 * candidate.seconds || total == candidate.seconds) {
            unit = candidate;
            break;
        }
    }
    const double amount = std::round(total / unit.seconds * 10) / 10;
    char buffer[64];
    if (amount == std::floor(amount)) {
        std::snprintf(buffer, sizeof buffer, "%.0f %s%s", amount, unit.name,
                      amount == 1 ? "" : "s");
    } else {
        std::snprintf(buffer, sizeof buffer, "%.1f %ss", amount, unit.name);
    }
    return buffer;
}

}  // namespace certdock::agent
