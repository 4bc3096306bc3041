#include "haproxy/replies.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <iterator>
#include <sstream>

namespace certdock::haproxy {
namespace {

constexpr std::string_view kWhitespace = " \t\r\n";

std::string_view trim(std::string_view text) {
    size_t start = text.find_first_not_of(kWhitespace);
    if (start == std::string_view::npos) return {};
    size_t end = text.find_last_not_of(kWhitespace);
    return text.substr(start, end - start + 1);
}

bool starts_with(std::string_view text, std::string_view prefix) {
    return text.substr(0, prefix.size()) == prefix;
}

Unexpected unexpected_reply(std::string_view command, std::string_view reply) {
    std::string quoted = trim_reply(reply);
    if (quoted.empty()) quoted = "(nothing)";
    return fail(ErrorCategory::kProtocol,
                "HAProxy answered `" + std::string(command) + "` with: " + quoted);
}

}  // namespace

Result<std::string> sanitize_payload(std::string_view payload) {
    std::string out;
    out.reserve(payload.size() + 1);
    while (!payload.empty()) {
        size_t eol = payload.find('\n');
        std::string_view line = payload.substr(0, eol);
        payload.remove_prefix(eol == std::string_view::npos ? payload.size() : eol + 1);
        std::string kept;
        kept.reserve(line.size());
        for (char c : line) {
            if (c != '\r') kept += c;
        }
        if (kept.find_first_not_of(" \t") == std::string::npos) continue;
        out += kept;
        out += '\n';
    }
    if (out.empty()) {
        return fail(ErrorCategory::kUsage, "refusing to send an empty Runtime API payload");
    }
    return out;
}

std::string trim_reply(std::string_view reply) {
    return std::string(trim(reply));
}

std::vector<std::string> reply_lines(std::string_view reply) {
    std::vector<std::string> lines;
    while (!reply.empty()) {
        size_t eol = reply.find('\n');
        std::string_view line = reply.substr(0, eol);
        reply.remove_prefix(eol == std::string_view::npos ? reply.size() : eol + 1);
        size_t end = line.find_last_not_of(kWhitespace);
        if (end != std::string_view::npos) lines.emplace_back(line.substr(0, end + 1));
    }
    return lines;
}

Result<CertList> parse_cert_list(std::string_view reply) {
    CertList list;
    std::vector<std::string> lines = reply_lines(reply);
    // Anything that does not open with a section header is an error message.
    if (!lines.empty() && !starts_with(lines.front(), "#")) {
        return unexpected_reply("show ssl cert", reply);
    }
    for (const std::string& line : lines) {
        if (starts_with(line, "#")) continue;
        if (starts_with(line, "*")) {
            list.transaction = line.substr(1);
        } else {
            list.names.push_back(line);
        }
    }
    return list;
}

std::optional<std::chrono::system_clock::time_point> parse_openssl_time(std::string_view text) {
    static constexpr std::array<std::string_view, 12> kMonths = {
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    std::string copy(trim(text));
    char month[4] = {};
    unsigned day = 0, hour = 0, minute = 0, second = 0;
    int year = 0;
    char zone[4] = {};
    if (std::sscanf(copy.c_str(), "%3s %u %u:%u:%u %d %3s", month, &day, &hour, &minute, &second,
                    &year, zone) != 7 ||
        std::string_view(zone) != "GMT") {
        return std::nullopt;
    }
    auto found = std::find(kMonths.begin(), kMonths.end(), std::string_view(month));
    if (found == kMonths.end() || hour > 23 || minute > 59 || second > 60) return std::nullopt;
    std::chrono::year_month_day date{
        std::chrono::year(year),
        std::chrono::month(static_cast<unsigned>(found - kMonths.begin()) + 1),
        std::chrono::day(day)};
    if (!date.ok()) return std::nullopt;
    return std::chrono::sys_days(date) + std::chrono::hours(hour) + std::chrono::minutes(minute) +
           std::chrono::seconds(second);
}

Result<CertInfo> parse_cert_info(std::string_view reply) {
    CertInfo info;
    std::vector<std::string> lines = reply_lines(reply);
    if (lines.empty() || !starts_with(lines.front(), "Filename: ")) {
        return unexpected_reply("show ssl cert <name>", reply);
    }
    for (const std::string& line : lines) {
        size_t colon = line.find(": ");
        std::string key = line.substr(0, colon);
        std::string value =
            colon == std::string::npos ? std::string() : std::string(trim(line.substr(colon + 2)));
        if (colon == std::string::npos && !key.empty() && key.back() == ':') key.pop_back();
        info.fields.emplace_back(key, value);
        // Chain lines repeat the keys; the first occurrence describes the leaf.
        auto set_once = [&](std::string& field) {
            if (field.empty()) field = value;
        };
        if (key == "Filename") set_once(info.filename);
        if (key == "Status") set_once(info.status);
        if (key == "Serial") set_once(info.serial);
        if (key == "notBefore") set_once(info.not_before);
        if (key == "notAfter") set_once(info.not_after);
        if (key == "Subject") set_once(info.subject);
        if (key == "Issuer") set_once(info.issuer);
        if (key == "Algorithm") set_once(info.algorithm);
        if (key == "SHA1 FingerPrint") set_once(info.sha1_fingerprint);
        if (key == "Subject Alternative Name" && info.dns_names.empty()) {
            // "DNS:a.test, DNS:b.test, " (2.6 leaves a trailing separator).
            std::string_view rest = value;
            while (!rest.empty()) {
                size_t comma = rest.find(',');
                std::string_view item = trim(rest.substr(0, comma));
                rest.remove_prefix(comma == std::string_view::npos ? rest.size() : comma + 1);
                if (starts_with(item, "DNS:")) item.remove_prefix(4);
                if (!item.empty()) info.dns_names.emplace_back(item);
            }
        }
    }
    info.not_before_time = parse_openssl_time(info.not_before);
    info.not_after_time = parse_openssl_time(info.not_after);
    return info;
}

bool same_serial(std::string_view a, std::string_view b) {
    auto normalize = [](std::string_view serial) {
        std::string out;
        for (char c : trim(serial)) {
            if (c == ':') continue;
            out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        }
        size_t first = out.find_first_not_of('0');
        return first == std::string::npos ? std::string("0") : out.substr(first);
    };
    return normalize(a) == normalize(b);
}

Status check_set_reply(std::string_view reply, std::string_view name, size_t payload_bytes) {
    std::string command = "set ssl cert " + std::string(name);
    std::vector<std::string> lines = reply_lines(reply);
    if (lines.empty()) {
        return fail(ErrorCategory::kProtocol,
                    "HAProxy closed the connection without answering `" + command +
                        "`: the payload (" + std::to_string(payload_bytes) +
                        " bytes) probably exceeds tune.bufsize (default 16384); certdock splits "
                        "certificate and key (set ssl cert <name> then <name>.key) above its "
                        "payload limit, or raise tune.bufsize");
    }
    for (std::string_view verb : {"created", "updated"}) {
        std::string prefix = "Transaction " + std::string(verb) + " for certificate ";
        const std::string& line = lines.front();
        if (!starts_with(line, prefix) || line.back() != '!') continue;
        std::string_view target =
            std::string_view(line).substr(prefix.size(), line.size() - prefix.size() - 1);
        if (target == name) return {};
        return fail(ErrorCategory::kProtocol,
                    "HAProxy put the payload for " + std::string(name) +
                        " into the open transaction of " + std::string(target) +
                        " (it answered \"" + line +
                        "\"; HAProxy before 3.1 does not check the transaction's name); abort "
                        "that transaction with `abort ssl cert " +
                        std::string(target) + "` before updating " + std::string(name));
    }
    return unexpected_reply(command, reply);
}

Status check_commit_reply(std::string_view reply, std::string_view name) {
    std::vector<std::string> lines = reply_lines(reply);
    if (lines.empty() || !starts_with(lines.front(), "Committing " + std::string(name)) ||
        lines.back() != "Success!") {
        return unexpected_reply("commit ssl cert " + std::string(name), reply);
    }
    return {};
}

Status check_abort_reply(std::string_view reply, std::string_view name) {
    std::vector<std::string> lines = reply_lines(reply);
    if (lines.size() != 1 ||
        lines.front() != "Transaction aborted for certificate '" + std::string(name) + "'!") {
        return unexpected_reply("abort ssl cert " + std::string(name), reply);
    }
    return {};
}

std::optional<Error> generic_reply_error(std::string_view reply, std::string_view command) {
    std::string trimmed = trim_reply(reply);
    if (trimmed == "Permission denied") {
        return Error(ErrorCategory::kUsage,
                     "HAProxy refused `" + std::string(command) +
                         "`: Permission denied; the Runtime API socket must be declared with "
                         "`stats socket <path> level admin` in HAProxy's global section");
    }
    if (starts_with(trimmed, "Can't find the target PID matching the prefix")) {
        // The master CLI's answer for "@!<pid>" or "@<n>" naming no live process, e.g. a
        // worker replaced by a reload.
        return Error(ErrorCategory::kUsage,
                     "HAProxy's master CLI has no process for the target of `" +
                         std::string(command) + "` (" + reply_lines(trimmed).front() +
                         "); the worker may have been replaced by a reload: list the current "
                         "ones with `show proc`");
    }
    if (starts_with(trimmed, "Unknown command")) {
        std::vector<std::string> lines = reply_lines(trimmed);
        return Error(ErrorCategory::kProtocol, "HAProxy does not know `" + std::string(command) +
                                                   "` (too old a version?): " + lines.front());
    }
    return std::nullopt;
}

bool is_certificate_lock_reply(std::string_view reply) {
    static constexpr std::string_view kLocked = "operations on certificates are currently locked";
    std::string lowered;
    lowered.reserve(reply.size());
    for (char c : reply) {
        lowered += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return lowered.find(kLocked) != std::string::npos;
}

Result<ProcessList> parse_proc_list(std::string_view reply) {
    // "#<PID>  <type>  <reloads>  <uptime>  <version>", then rows such as
    // "4242  master  0 [failed: 0]  0d00h00m01s  2.6.12-1+deb12u4" and section headers.
    std::vector<std::string> lines = reply_lines(reply);
    if (lines.empty() || !starts_with(lines.front(), "#<PID>")) {
        return unexpected_reply("show proc", reply);
    }
    ProcessList list;
    std::string section = "master";
    for (size_t i = 1; i < lines.size(); ++i) {
        const std::string& line = lines[i];
        if (starts_with(line, "#")) {
            section = std::string(trim(std::string_view(line).substr(1)));
            continue;
        }
        std::istringstream columns(line);
        std::vector<std::string> words{std::istream_iterator<std::string>(columns),
                                       std::istream_iterator<std::string>()};
        auto number = [](const std::string& text, int& out) {
            auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), out);
            return error == std::errc() && end == text.data() + text.size();
        };
        ProcessEntry entry;
        if (words.size() < 4 || !number(words[0], entry.pid) || entry.pid <= 0 ||
            !number(words[2], entry.reloads)) {
            return unexpected_reply("show proc", reply);
        }
        entry.type = words[1];
        entry.version = words.back();
        if (entry.type == "master") {
            list.master = std::move(entry);
        } else if (entry.type == "worker" && section == "workers") {
            list.workers.push_back(std::move(entry));
        } else if (entry.type == "worker" && section == "old workers") {
            list.old_workers.push_back(std::move(entry));
        }
    }
    if (!list.master) return unexpected_reply("show proc", reply);
    return list;
}

Result<std::vector<MapEntry>> parse_map_entries(std::string_view reply) {
    std::vector<MapEntry> entries;
    for (const std::string& line : reply_lines(reply)) {
        if (!starts_with(line, "0x")) return unexpected_reply("show map", reply);
        size_t first = line.find(' ');
        if (first == std::string::npos) return unexpected_reply("show map", reply);
        size_t second = line.find(' ', first + 1);
        MapEntry entry;
        entry.ref = line.substr(0, first);
        entry.key = line.substr(
            first + 1, second == std::string::npos ? std::string::npos : second - first - 1);
        if (second != std::string::npos) entry.value = line.substr(second + 1);
        entries.push_back(std::move(entry));
    }
    return entries;
}

}  // namespace certdock::haproxy
