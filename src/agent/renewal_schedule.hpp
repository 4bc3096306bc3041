#pragma once

// When to renew a certificate, and why, as a pure function of its validity, the CA's ARI
// advice (RFC 9773), the configuration and the time. No I/O, no clock of its own: the caller
// passes "now" and a random source, so months of renewals run in a unit test. The numbers
// and their reasons are in docs/renewal.md.

#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include "acme/wire.hpp"
#include "base/clock.hpp"
#include "base/time.hpp"

namespace certdock::agent {

using std::chrono::hours;

// Uniform in [0, 1). The seam that makes jitter and ARI picks reproducible in tests.
using UniformRandom = std::function<double()>;
// A std::mt19937_64 seeded from std::random_device; not thread-safe (one per scheduler).
UniformRandom make_uniform_random();

struct Validity {
    SystemTime not_before{};
    SystemTime not_after{};

    Clock::Duration lifetime() const { return not_after - not_before; }
};

// Without ARI, renew when this share of the lifetime remains...
inline constexpr double kRenewWhenRemaining = 1.0 / 3.0;
// ...drawn up to this share of the lifetime (at most kMaxJitter) earlier, so a fleet that was
// issued together does not renew together. Jitter only moves renewal earlier.
inline constexpr double kJitterShare = 0.04;
inline constexpr Clock::Duration kMaxJitter = hours(24);
// Renew regardless (even when ARI suggests later) once less than min(lifetime / 10, 24 h)
// remains: a day is enough to ride out a CA outage for long-lived certificates, a tenth keeps
// short-lived ones (6 days -> 14.4 h) from spending their life in the floor.
inline constexpr double kSafetyFloorShare = 0.10;
inline constexpr Clock::Duration kSafetyFloorMax = hours(24);

// The margin before not_after at which the safety floor takes over.
Clock::Duration safety_floor_margin(const Validity& validity);
// not_after - safety_floor_margin.
SystemTime safety_floor_time(const Validity& validity);

struct RenewalPolicy {
    // Configuration `renew-before`: renew this long before not_after instead of at one third.
    // Ignored (and said so in the reason) when it is not shorter than the lifetime, since it
    // would renew every certificate as soon as it is issued.
    std::optional<Clock::Duration> renew_before{};
};

enum class RenewalBasis {
    kAriWindow,         // a random time in the CA's suggested window
    kLifetimeFraction,  // one third of the lifetime remains (with jitter)
    kRenewBefore,       // the configured renew-before (with jitter)
    kSafetyFloor,       // little time left: renew now or at the floor, whatever else says
};
std::string_view basis_name(RenewalBasis basis);  // "ari", "lifetime", "renew-before", ...

struct RenewalDecision {
    SystemTime renew_at{};  // whole seconds; never before `now`
    RenewalBasis basis = RenewalBasis::kLifetimeFraction;
    // For people: "ARI window 2026-12-01T00:00:00Z..2026-12-03T00:00:00Z (picked
    // 2026-12-02T14:05:00Z)", "one third of the 6-day lifetime remains", ...
    std::string reason{};
};

// `ari`: the certificate's current RenewalInfo when the CA offers ARI; an invalid window
// (end not after start) is treated as no answer, as RFC 9773 §4.2 requires.
RenewalDecision schedule_renewal(const Validity& validity,
                                 const std::optional<acme::RenewalInfo>& ari,
                                 const RenewalPolicy& policy, SystemTime now,
                                 const UniformRandom& random);

// When to fetch RenewalInfo again: the server's Retry-After bounded to [1 h, 24 h] (the RFC's
// "no more often than ... and at least daily"), 6 h without one or after a failed fetch.
inline constexpr Clock::Duration kAriPollMin = hours(1);
inline constexpr Clock::Duration kAriPollMax = hours(24);
inline constexpr Clock::Duration kAriPollDefault = hours(6);
SystemTime next_ari_poll(SystemTime now, std::optional<Clock::Duration> retry_after);

// "6 days", "14.4 hours", "90 minutes", "45 seconds": a length of time for people.
std::string describe_duration(Clock::Duration duration);

}  // namespace certdock::agent
