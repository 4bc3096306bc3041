#include "agent/config_values.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cctype>

namespace certdock::agent {
namespace {

struct Unit {
    char suffix;
    std::chrono::seconds length;
};
constexpr std::array<Unit, 4> kUnits{{{'d', std::chrono::hours(24)},
                                      {'h', std::chrono::hours(1)},
                                      {'m', std::chrono::minutes(1)},
                                      {'s', std::chrono::seconds(1)}}};

std::string normalized(std::string_view word) {
    std::string out;
    for (char c : word) {
        out += c == '_' ? '-' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return out;
}

size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<size_t> row(b.size() + 1);
    for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
        size_t diagonal = row[0];
        row[0] = i;
        for (size_t j = 1; j <= b.size(); ++j) {
            size_t above = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1])});
            diagonal = above;
        }
    }
    return row[b.size()];
}

bool label_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
}

}  // namespace

Result<std::chrono::seconds> parse_duration(std::string_view text) {
    auto bad = [&] {
        return fail(ErrorCategory::kInput,
                    "\"" + std::string(text) +
                        "\" is not a duration; write a number and a unit: \"30d\", \"12h\", "
                        "\"90m\", \"45s\" (or \"1d12h\")");
    };
    if (text.empty()) return bad();
    std::chrono::seconds total{0};
    size_t next_unit = 0;  // units must come in decreasing order, each at most once
    size_t pos = 0;
    while (pos < text.size()) {
        size_t digits = 0;
        while (pos + digits < text.size() &&
               std::isdigit(static_cast<unsigned char>(text[pos + digits]))) {
            ++digits;
        }
        if (digits == 0 || digits > 9 || pos + digits == text.size()) return bad();
        long long number = std::stoll(std::string(text.substr(pos, digits)));
        char suffix = text[pos + digits];
        auto unit = std::find_if(kUnits.begin() + static_cast<std::ptrdiff_t>(next_unit),
                                 kUnits.end(), [&](const Unit& u) { return u.suffix == suffix; });
        if (unit == kUnits.end()) return bad();
        total += number * unit->length;
        next_unit = static_cast<size_t>(unit - kUnits.begin()) + 1;
        pos += digits + 1;
    }
    return total;
}

std::string format_duration(std::chrono::seconds duration) {
    if (duration.count() == 0) return "0s";
    std::string out;
    for (const Unit& unit : kUnits) {
        auto count = duration / unit.length;
        if (count == 0) continue;
        out += std::to_string(count) + unit.suffix;
        duration -= count * unit.length;
    }
    return out;
}

bool is_ip_address(std::string_view text) {
    std::string copy(text);
    std::array<unsigned char, 16> buffer{};
    return inet_pton(AF_INET, copy.c_str(), buffer.data()) == 1 ||
           inet_pton(AF_INET6, copy.c_str(), buffer.data()) == 1;
}

bool is_valid_name(std::string_view name) {
    return !name.empty() && name != "." && name != ".." &&
           std::all_of(name.begin(), name.end(), [](char c) {
               return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' ||
                      c == '.';
           });
}

std::optional<std::string> dns_name_problem(std::string_view name) {
    if (name.empty()) return "an empty name";
    if (name.starts_with("*.")) name.remove_prefix(2);
    if (name.ends_with('.')) name.remove_suffix(1);
    if (name.size() > 253) return "longer than 253 characters";
    if (name.find('.') == std::string_view::npos) {
        return "not a fully qualified name (a CA issues for names with a dot)";
    }
    if (name.find('*') != std::string_view::npos) {
        return "a '*' is only allowed as the whole first label, as in \"*.example.com\"";
    }
    size_t start = 0;
    while (start <= name.size()) {
        size_t end = std::min(name.find('.', start), name.size());
        std::string_view label = name.substr(start, end - start);
        if (label.empty()) return "an empty label (two dots in a row)";
        if (label.size() > 63) return "a label longer than 63 characters";
        if (!std::all_of(label.begin(), label.end(), label_char)) {
            return "a character other than letters, digits, '-' and '.'";
        }
        if (label.front() == '-' || label.back() == '-') {
            return "a label starting or ending with '-'";
        }
        start = end + 1;
    }
    return std::nullopt;
}

std::optional<std::string> closest_match(std::string_view word,
                                         const std::vector<std::string>& candidates,
                                         const std::vector<Alias>& aliases) {
    const std::string wanted = normalized(word);
    for (const Alias& alias : aliases) {
        if (normalized(alias.foreign) == wanted) return std::string(alias.ours);
    }
    std::optional<std::string> best;
    size_t best_distance = 0;
    for (const std::string& candidate : candidates) {
        size_t distance = edit_distance(wanted, normalized(candidate));
        if (!best || distance < best_distance) {
            best = candidate;
            best_distance = distance;
        }
    }
    // A typo changes a letter or two; beyond a third of the word it is another word.
    size_t limit = std::max<size_t>(1, std::min<size_t>(3, wanted.size() / 3));
    if (best && best_distance <= limit) return best;
    return std::nullopt;
}

}  // namespace certdock::agent
