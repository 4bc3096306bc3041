#pragma once

// Structured event logging: one line per event, as text for people and grep, or as a JSON
// object per line for log shippers. An event is a level, ordered fields naming what it is
// about (cert=site, acme=letsencrypt, haproxy=edge) and a message.
//
//   text: 2026-01-02T03:04:05Z info cert=site delivered serial 0a1b
//   json: {"time":"2026-01-02T03:04:05Z","level":"info","cert":"site","msg":"delivered serial
//   0a1b"}
//
// Every event is one line whatever it holds: line breaks and control characters in a message
// or a field are escaped, so a peer's error text cannot forge a second event.

#include <initializer_list>
#include <iosfwd>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.hpp"
#include "base/time.hpp"

namespace certdock {

// Levels that mean something: info is the normal course, warn needs no action yet but says
// why something may soon need it, error means a certificate is not where it should be.
enum class LogLevel { kInfo, kWarn, kError };
std::string_view log_level_name(LogLevel level);  // "info", "warn", "error"

enum class LogFormat { kText, kJson };

struct LogField {
    std::string key{};  // a short lower-case word; not "time", "level" or "msg"
    std::string value{};
};

struct LogEvent {
    LogLevel level = LogLevel::kInfo;
    std::vector<LogField> fields{};  // in the order they are written
    std::string message{};
};

// One event as the line the logger writes, without the trailing newline.
std::string format_log_line(const LogEvent& event, SystemTime time, LogFormat format);

// A line in the Renewer's and the agent's plain form, "cert=site delivered serial 0a", as an
// event: leading "cert=", "acme=" and "haproxy=" words become fields, the rest the message.
// The level comes from the words: "failed" or "error" make an error, "waiting to retry" or
// "retry" a warning, anything else is info.
LogEvent parse_log_line(std::string_view line);

// Writes events to a stream, one whole line per event. Thread-safe: the agent loop and the
// control socket thread share one Logger; lines never interleave. The stream must outlive the
// Logger.
class Logger {
public:
    // Defaults: text on standard error, the system clock.
    explicit Logger(LogFormat format = LogFormat::kText);
    Logger(LogFormat format, std::ostream& out, const Clock& clock = system_clock());
    Logger(const Logger&) = delete;
    Logger& operator=(const Logger&) = delete;

    void log(const LogEvent& event);
    void log(LogLevel level, std::string_view message, std::initializer_list<LogField> fields = {});
    void info(std::string_view message, std::initializer_list<LogField> fields = {}) {
        log(LogLevel::kInfo, message, fields);
    }
    void warn(std::string_view message, std::initializer_list<LogField> fields = {}) {
        log(LogLevel::kWarn, message, fields);
    }
    void error(std::string_view message, std::initializer_list<LogField> fields = {}) {
        log(LogLevel::kError, message, fields);
    }
    // A plain line ("cert=site failed: ..."), through parse_log_line: the Renewer's EventLog.
    void line(std::string_view text) { log(parse_log_line(text)); }

    LogFormat format() const { return format_; }

private:
    LogFormat format_;
    std::ostream* out_;
    const Clock* clock_;
    std::mutex mutex_;
};

}  // namespace certdock
