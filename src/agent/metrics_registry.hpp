#pragma once

// A small registry of Prometheus counters and gauges with labels, and its text exposition
// (format 0.0.4, what /metrics serves). Families and series come out sorted, so two renders of
// the same values are the same text.
//
// Thread-safe: the agent loop updates values while the metrics server renders them; one mutex
// guards every family of a registry. Metric and label names are the program's own, so a bad
// name or a wrong number of label values is a bug and aborts.

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace certdock::agent {

enum class MetricType { kCounter, kGauge };

// Label values in the order of the family's label names.
using LabelValues = std::vector<std::string>;

class MetricFamily {
public:
    MetricFamily(const MetricFamily&) = delete;
    MetricFamily& operator=(const MetricFamily&) = delete;

    // Gauges only.
    void set(const LabelValues& labels, double value);
    // Counters: `delta` >= 0. Gauges: any delta.
    void add(const LabelValues& labels, double delta = 1);
    // Creates the series at 0 unless it exists, so a counter is seen before its first
    // increment (otherwise increase() misses that first one).
    void touch(const LabelValues& labels);
    void remove(const LabelValues& labels);
    // Removes every series whose label `label` equals `value`.
    void remove_where(std::string_view label, std::string_view value);
    // Removes every series `drop` returns true for.
    void remove_if(const std::function<bool(const LabelValues&)>& drop);

    // Unset when the series does not exist.
    std::optional<double> value(const LabelValues& labels) const;
    const std::string& name() const { return name_; }
    const std::vector<std::string>& label_names() const { return label_names_; }

private:
    friend class MetricsRegistry;
    MetricFamily(std::mutex& mutex, std::string name, std::string help, MetricType type,
                 std::vector<std::string> label_names);
    void check_arity(const LabelValues& labels) const;
    void render(std::string& out) const;  // the caller holds the mutex

    std::mutex& mutex_;
    std::string name_;
    std::string help_;
    MetricType type_;
    std::vector<std::string> label_names_;
    std::map<LabelValues, double> series_;
};

class MetricsRegistry {
public:
    MetricsRegistry() = default;
    MetricsRegistry(const MetricsRegistry&) = delete;
    MetricsRegistry& operator=(const MetricsRegistry&) = delete;

    // Declares a family, or returns the one declared earlier with the same name (which must
    // then have the same type and label names). References stay valid for the registry's life.
    MetricFamily& counter(const std::string& name, const std::string& help,
                          std::vector<std::string> label_names = {});
    MetricFamily& gauge(const std::string& name, const std::string& help,
                        std::vector<std::string> label_names = {});

    // In every family that has label `label`: removes the series where it equals `value`.
    void remove_where(std::string_view label, std::string_view value);

    // The exposition text: for each family with at least one series, by name, "# HELP",
    // "# TYPE" and one line per series sorted by label values.
    std::string render() const;

private:
    MetricFamily& declare(const std::string& name, const std::string& help, MetricType type,
                          std::vector<std::string> label_names);

    mutable std::mutex mutex_;
    std::map<std::string, std::unique_ptr<MetricFamily>> families_;
};

// Content-Type of the text exposition format.
inline constexpr std::string_view kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";

// Prometheus' escaping of a label value (\\, \", \n) and of HELP text (\\, \n).
std::string escape_label_value(std::string_view value);
std::string escape_help(std::string_view help);
// A sample value as Prometheus reads it: integers without exponent up to 2^53, otherwise the
// shortest text that reads back the same double; "+Inf", "-Inf", "NaN".
std::string format_sample_value(double value);

}  // namespace certdock::agent
