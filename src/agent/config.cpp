#include "agent/config.hpp"

#include <algorithm>
#include <sstream>

#include "agent/config_parse.hpp"
#include "base/file.hpp"

namespace certdock::agent {
namespace {

using config_detail::Context;
using config_detail::TomlValue;

const std::vector<std::string> kTopLevelKeys = {"agent", "acme", "haproxy", "deploy-hook",
                                                "certificate"};
const std::vector<Alias> kTopLevelAliases = {{"certificates", "certificate"},
                                             {"cert", "certificate"},
                                             {"certs", "certificate"},
                                             {"hook", "deploy-hook"},
                                             {"hooks", "deploy-hook"},
                                             {"deploy-hooks", "deploy-hook"},
                                             {"ca", "acme"}};

// toml11 says "[error] toml::parse_xxx: what\n --> file\n | ...\n | ^--- hint": keep the
// "what" and the hint, on one line.
std::string syntax_message(const std::string& what) {
    std::string first = what.substr(0, what.find('\n'));
    if (first.starts_with("[error] ")) first.erase(0, 8);
    if (first.starts_with("toml::")) {
        size_t colon = first.find(": ");
        if (colon != std::string::npos) first.erase(0, colon + 2);
    }
    size_t marker = what.rfind("^---");
    if (marker == std::string::npos) marker = what.rfind("~~~");
    if (marker != std::string::npos) {
        std::string hint = what.substr(marker + 4);
        hint = hint.substr(0, hint.find('\n'));
        size_t start = hint.find_first_not_of(" -~");
        if (start != std::string::npos && hint.substr(start) != "here") {
            first += " (" + hint.substr(start) + ")";
        }
    }
    return "syntax error: " + first;
}

Config build(const TomlValue& root, Context& context) {
    Config config;
    config_detail::TableReader top(root, "", kTopLevelKeys, context, kTopLevelAliases);
    const auto& table = root.as_table();
    auto section = [&](const std::string& key) -> const TomlValue* {
        auto it = table.find(key);
        return it == table.end() ? nullptr : &it->second;
    };
    config.agent = config_detail::parse_agent_section(section("agent"), context);
    if (const auto* acme = section("acme")) {
        config.accounts = config_detail::parse_acme_sections(*acme, context, config.agent);
    }
    if (const auto* haproxy = section("haproxy")) {
        config.haproxies = config_detail::parse_haproxy_sections(*haproxy, context);
    }
    if (const auto* hooks = section("deploy-hook")) {
        config.hooks = config_detail::parse_hook_sections(*hooks, context);
    }
    if (const auto* certificates = section("certificate")) {
        config.certificates = config_detail::parse_certificates(*certificates, context, config);
    }
    return config;
}

template <typename Section>
const Section* find_named(const std::vector<Section>& sections, const std::string& name) {
    auto it = std::find_if(sections.begin(), sections.end(),
                           [&](const Section& section) { return section.name == name; });
    return it == sections.end() ? nullptr : &*it;
}

std::string count(size_t n, const std::string& one, const std::string& many) {
    return std::to_string(n) + " " + (n == 1 ? one : many);
}

}  // namespace

const AcmeAccount* Config::find_account(const std::string& name) const {
    return find_named(accounts, name);
}
const HaproxyTarget* Config::find_haproxy(const std::string& name) const {
    return find_named(haproxies, name);
}
const DeployHook* Config::find_hook(const std::string& name) const {
    return find_named(hooks, name);
}

std::string ConfigIssue::to_string() const {
    return file + (line > 0 ? ":" + std::to_string(line) : "") + ": " + message;
}

ConfigCheck check_config_text(std::string_view text, const std::filesystem::path& file,
                              const LoadOptions& options) {
    std::error_code error;
    std::filesystem::path absolute = std::filesystem::absolute(file, error);
    Context context{.file_label = file.string(),
                    .base_dir = (error ? file : absolute).parent_path(),
                    .options = options,
                    .issues = {}};
    ConfigCheck check;
    std::optional<Config> config;
    try {
        std::istringstream stream{std::string(text)};
        // toml11 copies the source name into every value; messages name the file themselves
        // (syntax_message keeps no "--> file" line), so a short name saves a heap string per
        // value: megabytes for a file of 10,000 certificates.
        const TomlValue root =
            toml::parse<toml::discard_comments, std::map, std::vector>(stream, "toml");
        config = build(root, context);
    } catch (const toml::exception& e) {
        context.add(e.location().line(), "", syntax_message(e.what()));
    } catch (const std::exception& e) {
        context.add(0, "", std::string("cannot be read as TOML: ") + e.what());
    }
    std::stable_sort(context.issues.begin(), context.issues.end(),
                     [](const ConfigIssue& a, const ConfigIssue& b) { return a.line < b.line; });
    check.issues = std::move(context.issues);
    if (check.issues.empty() && config) {
        config->file = file;
        check.config = std::make_shared<const Config>(std::move(*config));
    }
    return check;
}

ConfigCheck check_config(const std::filesystem::path& file, const LoadOptions& options) {
    std::error_code error;
    const bool exists = std::filesystem::exists(file, error);
    auto text = read_file(file);
    if (!text) {
        ConfigCheck check;
        check.issues.push_back(
            ConfigIssue{.file = file.string(),
                        .line = 0,
                        .key = "",
                        .message = exists ? text.error().describe() : "no such file"});
        return check;
    }
    return check_config_text(*text, file, options);
}

Result<ConfigPtr> load_config(const std::filesystem::path& file, const LoadOptions& options) {
    ConfigCheck check = check_config(file, options);
    if (check.config) return check.config;
    std::string message;
    for (const auto& issue : check.issues) {
        message += (message.empty() ? "" : "\n") + issue.to_string();
    }
    return fail(ErrorCategory::kInput, message);
}

std::string summarize(const Config& config) {
    return count(config.certificates.size(), "certificate", "certificates") + ", " +
           count(config.accounts.size(), "CA", "CAs") + ", " +
           count(config.haproxies.size(), "HAProxy target", "HAProxy targets");
}

}  // namespace certdock::agent
