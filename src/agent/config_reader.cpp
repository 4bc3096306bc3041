#include "agent/config_reader.hpp"

#include <algorithm>

namespace certdock::agent::config_detail {

void Context::add(std::uint32_t line, std::string key, std::string message) {
    issues.push_back(ConfigIssue{
        .file = file_label, .line = line, .key = std::move(key), .message = std::move(message)});
}

std::filesystem::path Context::resolve(const std::string& path) const {
    std::filesystem::path given(path);
    if (given.is_absolute()) return given.lexically_normal();
    return (base_dir / given).lexically_normal();
}

std::uint32_t LineIndex::line_of(const TomlValue& value) {
    // toml11 keeps each value's place as a region of the shared source text; its accessor is
    // in toml::detail, so anything else (a value built in code) takes toml11's own answer.
    const auto* region = dynamic_cast<const toml::detail::region*>(toml::detail::get_region(value));
    if (region == nullptr || !region->source()) return value.location().line();
    const auto& source = region->source();
    if (source != source_) {
        source_ = source;
        newlines_.clear();
        for (size_t i = 0; i < source->size(); ++i) {
            if ((*source)[i] == '\n') newlines_.push_back(i);
        }
    }
    const auto offset = static_cast<size_t>(region->first() - source->cbegin());
    const auto before = std::lower_bound(newlines_.begin(), newlines_.end(), offset);
    return static_cast<std::uint32_t>(1 + (before - newlines_.begin()));
}

std::string quote(std::string_view text) {
    return "\"" + std::string(text) + "\"";
}

TableReader::TableReader(const TomlValue& table, std::string where,
                         std::vector<std::string> known_keys, Context& context,
                         const std::vector<Alias>& aliases)
    : table_(table), where_(std::move(where)), context_(context), line_(context.line_of(table)) {
    for (const auto& [key, value] : table_.as_table()) {
        if (std::find(known_keys.begin(), known_keys.end(), key) != known_keys.end()) continue;
        std::string message = "unknown key " + quote(key);
        if (auto suggestion = closest_match(key, known_keys, aliases)) {
            message += "; did you mean " + quote(*suggestion) + "?";
        } else {
            std::sort(known_keys.begin(), known_keys.end());
            std::string list;
            for (const auto& known : known_keys) list += (list.empty() ? "" : ", ") + known;
            message += " (known keys: " + list + ")";
        }
        context_.add(context_.line_of(value), key, prefix() + message);
    }
}

std::string TableReader::prefix() const {
    return where_.empty() ? "" : where_ + ": ";
}

const TomlValue* TableReader::find(const std::string& key) const {
    const auto& table = table_.as_table();
    auto it = table.find(key);
    return it == table.end() ? nullptr : &it->second;
}

bool TableReader::has(const std::string& key) const {
    return find(key) != nullptr;
}

std::uint32_t TableReader::line_of(const std::string& key) const {
    const TomlValue* value = find(key);
    return value ? context_.line_of(*value) : line_;
}

void TableReader::problem(const std::string& key, const std::string& message) {
    context_.add(line_of(key), key, prefix() + message);
}

void TableReader::missing(const std::string& key, const std::string& fix) {
    context_.add(line_, key, prefix() + key + " is missing; " + fix);
}

void TableReader::wrong_type(const std::string& key, std::string_view expected) {
    problem(key, key + " must be " + std::string(expected));
}

std::optional<std::string> TableReader::string(const std::string& key) {
    const TomlValue* value = find(key);
    if (!value) return std::nullopt;
    if (!value->is_string()) {
        wrong_type(key, "a string in quotes, as " + key + " = \"...\"");
        return std::nullopt;
    }
    std::string text = value->as_string().str;
    if (text.empty()) {
        problem(key, key + " is empty; give a value or remove the line");
        return std::nullopt;
    }
    return text;
}

std::optional<std::vector<std::string>> TableReader::strings(const std::string& key,
                                                             bool single_ok) {
    const TomlValue* value = find(key);
    if (!value) return std::nullopt;
    if (single_ok && value->is_string()) {
        auto one = string(key);
        if (!one) return std::nullopt;
        return std::vector<std::string>{*one};
    }
    if (!value->is_array()) {
        wrong_type(key, "a list of strings, as " + key + " = [\"...\", \"...\"]");
        return std::nullopt;
    }
    std::vector<std::string> out;
    bool ok = true;
    for (const auto& element : value->as_array()) {
        if (!element.is_string() || element.as_string().str.empty()) {
            context_.add(context_.line_of(element), key,
                         prefix() + "every entry of " + key + " must be a non-empty string");
            ok = false;
            continue;
        }
        out.push_back(element.as_string().str);
    }
    if (!ok) return std::nullopt;
    return out;
}

std::optional<std::int64_t> TableReader::integer(const std::string& key) {
    const TomlValue* value = find(key);
    if (!value) return std::nullopt;
    if (!value->is_integer()) {
        wrong_type(key, "a whole number without quotes, as " + key + " = 2048");
        return std::nullopt;
    }
    return value->as_integer();
}

std::optional<std::chrono::seconds> TableReader::duration(const std::string& key) {
    const TomlValue* value = find(key);
    if (!value) return std::nullopt;
    if (!value->is_string()) {
        wrong_type(key, "a duration in quotes, as " + key + " = \"30d\"");
        return std::nullopt;
    }
    auto parsed = parse_duration(value->as_string().str);
    if (!parsed) {
        problem(key, key + ": " + parsed.error().message());
        return std::nullopt;
    }
    return *parsed;
}

std::optional<std::filesystem::path> TableReader::path(const std::string& key) {
    auto text = string(key);
    if (!text) return std::nullopt;
    return context_.resolve(*text);
}

}  // namespace certdock::agent::config_detail
