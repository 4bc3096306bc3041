#include "agent/metrics_registry.hpp"

#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <utility>

namespace certdock::agent {
namespace {

[[noreturn]] void broken(const std::string& what) {
    std::fprintf(stderr, "certdock: broken invariant: metrics: %s\n", what.c_str());
    std::abort();
}

bool valid_name(std::string_view name, bool allow_colon) {
    if (name.empty()) return false;
    for (size_t i = 0; i < name.size(); ++i) {
        const char c = name[i];
        const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
                            (allow_colon && c == ':');
        const bool digit = c >= '0' && c <= '9';
        if (!letter && !(digit && i > 0)) return false;
    }
    return true;
}

}  // namespace

std::string escape_label_value(std::string_view value) {
    std::string out;
    out.reserve(value.size());
    for (char c : value) {
        if (c == '\\') {
            out += "\\\\";
        } else if (c == '"') {
            out += "\\\"";
        } else if (c == '\n') {
            out += "\\n";
        } else {
            out += c;
        }
    }
    return out;
}

std::string escape_help(std::string_view help) {
    std::string out;
    out.reserve(help.size());
    for (char c : help) {
        if (c == '\\') {
            out += "\\\\";
        } else if (c == '\n') {
            out += "\\n";
        } else {
            out += c;
        }
    }
    return out;
}

std::string format_sample_value(double value) {
    if (std::isnan(value)) return "NaN";
    if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
    constexpr double kExactIntegers = 9007199254740992.0;  // 2^53
    if (value == std::trunc(value) && std::fabs(value) < kExactIntegers) {
        return std::to_string(static_cast<std::int64_t>(value));
    }
    std::array<char, 32> buffer{};
    const auto [end, error] = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value);
    if (error != std::errc()) return "NaN";
    return std::string(buffer.data(), end);
}

MetricFamily::MetricFamily(std::mutex& mutex, std::string name, std::string help, MetricType type,
                           std::vector<std::string> label_names)
    : mutex_(mutex),
      name_(std::move(name)),
      help_(std::move(help)),
      type_(type),
      label_names_(std::move(label_names)) {}

void MetricFamily::check_arity(const LabelValues& labels) const {
    if (labels.size() != label_names_.size()) {
        broken(name_ + " takes " + std::to_string(label_names_.size()) + " label values, given " +
               std::to_string(labels.size()));
    }
}

void MetricFamily::set(const LabelValues& labels, double value) {
    check_arity(labels);
    if (type_ != MetricType::kGauge) broken("set() on counter " + name_);
    const std::lock_guard lock(mutex_);
    series_[labels] = value;
}

void MetricFamily::add(const LabelValues& labels, double delta) {
    check_arity(labels);
    if (type_ == MetricType::kCounter && !(delta >= 0)) {
        broken("counter " + name_ + " can only go up");
    }
    const std::lock_guard lock(mutex_);
    series_[labels] += delta;
}

void MetricFamily::touch(const LabelValues& labels) {
    check_arity(labels);
    const std::lock_guard lock(mutex_);
    series_.try_emplace(labels, 0.0);
}

void MetricFamily::remove(const LabelValues& labels) {
    const std::lock_guard lock(mutex_);
    series_.erase(labels);
}

void MetricFamily::remove_where(std::string_view label, std::string_view value) {
    size_t index = 0;
    while (index < label_names_.size() && label_names_[index] != label) ++index;
    if (index == label_names_.size()) return;
    remove_if([&](const LabelValues& labels) { return labels[index] == value; });
}

void MetricFamily::remove_if(const std::function<bool(const LabelValues&)>& drop) {
    const std::lock_guard lock(mutex_);
    std::erase_if(series_, [&](const auto& entry) { return drop(entry.first); });
}

std::optional<double> MetricFamily::value(const LabelValues& labels) const {
    const std::lock_guard lock(mutex_);
    auto found = series_.find(labels);
    if (found == series_.end()) return std::nullopt;
    return found->second;
}

void MetricFamily::render(std::string& out) const {
    if (series_.empty()) return;
    out += "# HELP " + name_ + " " + escape_help(help_) + "\n";
    out += "# TYPE " + name_ + (type_ == MetricType::kCounter ? " counter\n" : " gauge\n");
    for (const auto& [labels, value] : series_) {
        out += name_;
        if (!labels.empty()) {
            out += '{';
            for (size_t i = 0; i < labels.size(); ++i) {
                if (i > 0) out += ',';
                out += label_names_[i] + "=\"" + escape_label_value(labels[i]) + "\"";
            }
            out += '}';
        }
        out += ' ';
        out += format_sample_value(value);
        out += '\n';
    }
}

MetricFamily& MetricsRegistry::counter(const std::string& name, const std::string& help,
                                       std::vector<std::string> label_names) {
    return declare(name, help, MetricType::kCounter, std::move(label_names));
}

MetricFamily& MetricsRegistry::gauge(const std::string& name, const std::string& help,
                                     std::vector<std::string> label_names) {
    return declare(name, help, MetricType::kGauge, std::move(label_names));
}

MetricFamily& MetricsRegistry::declare(const std::string& name, const std::string& help,
                                       MetricType type, std::vector<std::string> label_names) {
    if (!valid_name(name, true)) broken("invalid metric name \"" + name + "\"");
    for (const auto& label : label_names) {
        if (!valid_name(label, false) || label.starts_with("__")) {
            broken(name + ": invalid label name \"" + label + "\"");
        }
    }
    const std::lock_guard lock(mutex_);
    auto found = families_.find(name);
    if (found != families_.end()) {
        if (found->second->type_ != type || found->second->label_names_ != label_names) {
            broken(name + " declared twice with different types or labels");
        }
        return *found->second;
    }
    // The constructor is private: make_unique cannot reach it.
    std::unique_ptr<MetricFamily> family(
        new MetricFamily(mutex_, name, help, type, std::move(label_names)));
    return *families_.emplace(name, std::move(family)).first->second;
}

void MetricsRegistry::remove_where(std::string_view label, std::string_view value) {
    std::vector<MetricFamily*> families;
    {
        const std::lock_guard lock(mutex_);
        for (const auto& [name, family] : families_) families.push_back(family.get());
    }
    for (MetricFamily* family : families) family->remove_where(label, value);
}

std::string MetricsRegistry::render() const {
    std::string out;
    const std::lock_guard lock(mutex_);
    for (const auto& [name, family] : families_) family->render(out);
    return out;
}

}  // namespace certdock::agent
