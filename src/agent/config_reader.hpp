#pragma once

// Internal to the configuration loader: typed reads of one TOML table that record a
// ConfigIssue (file, line, key, fix) instead of throwing, and reject keys the table does not
// know, with a "did you mean". Only the loader's .cpp files include this (and toml11).

#include <toml.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/config.hpp"
#include "agent/config_values.hpp"

namespace certdock::agent::config_detail {

// An ordered map keeps iteration in a stable order; issues are sorted by line anyway.
using TomlValue = toml::basic_value<toml::discard_comments, std::map, std::vector>;

// Where each line of a parsed file starts, so a value's line is a binary search. toml11's
// own location().line() counts the newlines from the start of the file on every call, which
// made a file of 10,000 certificates take seconds (quadratic) to load.
class LineIndex {
public:
    std::uint32_t line_of(const TomlValue& value);

private:
    std::shared_ptr<const std::vector<char>> source_{};
    std::vector<size_t> newlines_{};  // offsets of '\n' in source_
};

// What every reader of one file shares: where issues go and how paths resolve.
struct Context {
    std::string file_label;  // the file as the user named it
    std::filesystem::path base_dir;
    LoadOptions options;
    std::vector<ConfigIssue> issues;
    LineIndex lines{};

    void add(std::uint32_t line, std::string key, std::string message);
    std::filesystem::path resolve(const std::string& path) const;
    std::uint32_t line_of(const TomlValue& value) { return lines.line_of(value); }
};

std::string quote(std::string_view text);  // "\"text\""

class TableReader {
public:
    // `where` starts every message ("certificate \"site\"", "[agent]"). Keys outside
    // `known_keys` are reported at once, with the closest known key or alias as a hint.
    TableReader(const TomlValue& table, std::string where, std::vector<std::string> known_keys,
                Context& context, const std::vector<Alias>& aliases = {});

    bool has(const std::string& key) const;
    std::uint32_t line() const { return line_; }
    std::uint32_t line_of(const std::string& key) const;
    const std::string& where() const { return where_; }
    Context& context() { return context_; }

    // Each returns nothing when the key is absent or its value is wrong (an issue recorded).
    std::optional<std::string> string(const std::string& key);
    // A list of strings; `single_ok` also takes one string for a list of one.
    std::optional<std::vector<std::string>> strings(const std::string& key, bool single_ok = false);
    std::optional<std::int64_t> integer(const std::string& key);
    std::optional<std::chrono::seconds> duration(const std::string& key);
    std::optional<std::filesystem::path> path(const std::string& key);

    // Records "<where>: <message>" at the line of `key` (of the table when absent).
    void problem(const std::string& key, const std::string& message);
    // The same when `key` is absent: "<where>: <key> is missing; <fix>".
    void missing(const std::string& key, const std::string& fix);

private:
    const TomlValue* find(const std::string& key) const;
    std::string prefix() const;  // "<where>: ", or nothing at the top level
    void wrong_type(const std::string& key, std::string_view expected);

    const TomlValue& table_;
    std::string where_;
    Context& context_;
    std::uint32_t line_ = 0;
};

}  // namespace certdock::agent::config_detail
