#pragma once

// Value syntax of the agent configuration that does not depend on TOML: durations, names a
// certificate may hold, and "did you mean" suggestions.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"

namespace certdock::agent {

// "30d", "12h", "90m", "45s", or several in decreasing order: "1d12h". Fails (kInput) on
// anything else, naming the units; zero is allowed, the caller decides whether it makes sense.
Result<std::chrono::seconds> parse_duration(std::string_view text);

// "30d", "12h", "1d12h": the shortest spelling parse_duration reads back.
std::string format_duration(std::chrono::seconds duration);

bool is_ip_address(std::string_view text);

// Section and certificate names: letters, digits, '-', '_' and '.', so they can name files
// (a certificate's default key file) and appear in logs without quoting.
bool is_valid_name(std::string_view name);

// A DNS name an ACME CA can validate: letters, digits and hyphens in labels of 1 to 63
// characters, no label starting or ending with a hyphen, 253 characters at most, at least
// two labels; "*." in front for a wildcard. Returns why not, or nothing when it is fine.
std::optional<std::string> dns_name_problem(std::string_view name);

// The candidate closest to `word` when it is close enough to be a typo (case, '_' for '-',
// a letter or two), for "did you mean" hints. `aliases` maps other tools' spellings to ours.
struct Alias {
    std::string_view foreign;
    std::string_view ours;
};
std::optional<std::string> closest_match(std::string_view word,
                                         const std::vector<std::string>& candidates,
                                         const std::vector<Alias>& aliases = {});

}  // namespace certdock::agent
