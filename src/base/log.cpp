#include "base/log.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "base/time.hpp"

namespace certdock {
namespace {

// Line breaks and other control characters become visible escapes, so one event stays one
// line. Bytes from 0x80 up pass through (UTF-8 names and messages stay readable).
void append_escaped(std::string& out, std::string_view text, bool escape_quotes) {
    for (char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        if (c == '\n') {
            out += "\\n";
        } else if (c == '\r') {
            out += "\\r";
        } else if (c == '\t') {
            out += "\\t";
        } else if (byte < 0x20 || byte == 0x7f) {
            std::array<char, 5> hex{};
            std::snprintf(hex.data(), hex.size(), "\\x%02x", byte);
            out += hex.data();
        } else if (escape_quotes && (c == '"' || c == '\\')) {
            out += '\\';
            out += c;
        } else {
            out += c;
        }
    }
}

// A field value is quoted when it would not read back as one word.
bool needs_quotes(std::string_view value) {
    if (value.empty()) return true;
    for (char c : value) {
        const auto byte = static_cast<unsigned char>(c);
        if (c == ' ' || c == '"' || c == '=' || c == '\\' || byte < 0x20 || byte == 0x7f) {
            return true;
        }
    }
    return false;
}

std::string text_line(const LogEvent& event, SystemTime time) {
    std::string line = format_rfc3339(time);
    line += ' ';
    line += log_level_name(event.level);
    for (const auto& field : event.fields) {
        line += ' ';
        append_escaped(line, field.key, false);
        line += '=';
        if (needs_quotes(field.value)) {
            line += '"';
            append_escaped(line, field.value, true);
            line += '"';
        } else {
            line += field.value;
        }
    }
    if (!event.message.empty()) {
        line += ' ';
        append_escaped(line, event.message, false);
    }
    return line;
}

std::string json_line(const LogEvent& event, SystemTime time) {
    // Ordered, so every line reads time, level, fields, msg as the text form does.
    nlohmann::ordered_json object;
    object["time"] = format_rfc3339(time);
    object["level"] = log_level_name(event.level);
    for (const auto& field : event.fields) object[field.key] = field.value;
    object["msg"] = event.message;
    // Invalid UTF-8 (a peer's bytes in an error) is replaced rather than thrown on.
    return object.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

bool is_word_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
}

bool has_word(std::string_view text, std::string_view word) {
    for (size_t at = text.find(word); at != std::string_view::npos; at = text.find(word, at + 1)) {
        const bool starts = at == 0 || !is_word_char(text[at - 1]);
        const size_t end = at + word.size();
        const bool ends = end == text.size() || !is_word_char(text[end]);
        if (starts && ends) return true;
    }
    return false;
}

// The level of a plain line comes from its head, the words before the details (": ", " (",
// "; "), so a reason quoting a past failure does not make a normal event an error.
LogLevel level_of(std::string_view message) {
    size_t end = message.size();
    for (std::string_view separator : {": ", " (", "; "}) {
        end = std::min(end, message.find(separator));
    }
    const std::string_view head = message.substr(0, end);
    for (std::string_view word : {"failed", "error", "failure"}) {
        if (has_word(head, word)) return LogLevel::kError;
    }
    for (std::string_view word : {"retry", "retrying"}) {
        if (has_word(head, word)) return LogLevel::kWarn;
    }
    return LogLevel::kInfo;
}

}  // namespace

std::string_view log_level_name(LogLevel level) {
    switch (level) {
        case LogLevel::kInfo:
            return "info";
        case LogLevel::kWarn:
            return "warn";
        case LogLevel::kError:
            return "error";
    }
    return "info";
}

std::string format_log_line(const LogEvent& event, SystemTime time, LogFormat format) {
    const auto seconds = std::chrono::time_point_cast<std::chrono::seconds>(time);
    return format == LogFormat::kJson ? json_line(event, seconds) : text_line(event, seconds);
}

LogEvent parse_log_line(std::string_view line) {
    LogEvent event;
    while (true) {
        bool matched = false;
        for (std::string_view key : {"cert", "acme", "haproxy"}) {
            if (line.size() <= key.size() + 1 || line.substr(0, key.size()) != key ||
                line[key.size()] != '=') {
                continue;
            }
            const std::string_view rest = line.substr(key.size() + 1);
            const size_t space = rest.find(' ');
            const std::string_view value = rest.substr(0, space);
            if (value.empty()) continue;
            event.fields.push_back({std::string(key), std::string(value)});
            line = space == std::string_view::npos ? std::string_view() : rest.substr(space + 1);
            matched = true;
            break;
        }
        if (!matched) break;
    }
    event.message = std::string(line);
    event.level = level_of(line);
    return event;
}

Logger::Logger(LogFormat format) : Logger(format, std::cerr) {}

Logger::Logger(LogFormat format, std::ostream& out, const Clock& clock)
    : format_(format), out_(&out), clock_(&clock) {}

void Logger::log(const LogEvent& event) {
    std::string text = format_log_line(event, clock_->now(), format_);
    text += '\n';
    const std::lock_guard lock(mutex_);
    // One write and a flush per event: the line reaches journald or a pipe whole and now.
    out_->write(text.data(), static_cast<std::streamsize>(text.size()));
    out_->flush();
}

void Logger::log(LogLevel level, std::string_view message, std::initializer_list<LogField> fields) {
    log(LogEvent{.level = level, .fields = fields, .message = std::string(message)});
}

}  // namespace certdock
