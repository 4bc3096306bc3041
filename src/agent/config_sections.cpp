// [agent], [acme.<name>], [haproxy.<name>] and [deploy-hook.<name>].

#include <sys/un.h>
#include <unistd.h>

#include <algorithm>

#include "agent/config_parse.hpp"
#include "agent/tls_probe.hpp"
#include "base/file.hpp"
#include "haproxy/endpoint.hpp"

namespace certdock::agent::config_detail {
namespace {

void check_socket_path(TableReader& reader, const std::string& key,
                       const std::filesystem::path& path) {
    if (path.native().size() >= sizeof(sockaddr_un::sun_path)) {
        reader.problem(key, key + " " + quote(path.native()) + " is too long for a unix socket (" +
                                std::to_string(sizeof(sockaddr_un::sun_path) - 1) +
                                " bytes at most); choose a shorter path");
    }
}

std::optional<std::string> contact_url(const std::string& text) {
    if (text.starts_with("mailto:") && text.find('@') != std::string::npos) return text;
    // HAProxy's `contact` takes the address alone and adds "mailto:" itself.
    if (text.find('@') != std::string::npos && text.find(':') == std::string::npos) {
        return "mailto:" + text;
    }
    return std::nullopt;
}

void read_eab(TableReader& reader, AcmeAccount& account) {
    const bool has_key_id = reader.has("eab-key-id");
    const bool has_mac_key = reader.has("eab-mac-key");
    auto key_id = reader.path("eab-key-id");
    auto mac_key = reader.path("eab-mac-key");
    auto algorithm = reader.string("eab-mac-alg");
    if (algorithm && *algorithm != "HS256" && *algorithm != "HS384" && *algorithm != "HS512") {
        reader.problem("eab-mac-alg", "eab-mac-alg " + quote(*algorithm) +
                                          " is not an EAB algorithm; write eab-mac-alg = "
                                          "\"HS256\" (or \"HS384\", \"HS512\")");
        algorithm.reset();
    }
    if (has_key_id != has_mac_key) {
        const std::string given = has_key_id ? "eab-key-id" : "eab-mac-key";
        const std::string absent = has_key_id ? "eab-mac-key" : "eab-key-id";
        reader.problem(given, given + " needs " + absent +
                                  ": external account binding takes both files, the key id and "
                                  "the MAC key the CA gave you");
        return;
    }
    if (!has_key_id) {
        if (reader.has("eab-mac-alg")) {
            reader.problem("eab-mac-alg",
                           "eab-mac-alg without eab-key-id and eab-mac-key does "
                           "nothing; add both files or remove it");
        }
        return;
    }
    if (!key_id || !mac_key) return;  // their values were wrong, and said so
    account.eab = EabFiles{.key_id_file = *key_id,
                           .mac_key_file = *mac_key,
                           .mac_algorithm = algorithm.value_or("HS256")};
    require_file(reader, "eab-key-id", *key_id);
    require_file(reader, "eab-mac-key", *mac_key);
}

void read_ca_roots(TableReader& reader, AcmeAccount& account) {
    auto roots = reader.path("ca-roots");
    if (!roots) return;
    account.ca_roots = *roots;
    if (!require_file(reader, "ca-roots", *roots)) return;
    auto text = read_file(*roots);
    if (text && text->find("-----BEGIN CERTIFICATE-----") == std::string::npos) {
        reader.problem("ca-roots", "ca-roots " + quote(roots->native()) +
                                       " holds no PEM certificate; name the CA's root "
                                       "certificate file (BEGIN CERTIFICATE)");
    }
}

AcmeAccount read_account(const std::string& name, const TomlValue& table, Context& context,
                         const AgentSettings& agent) {
    static const std::vector<Alias> kAliases = {{"account", "account-key"},
                                                {"eab-kid", "eab-key-id"},
                                                {"eab-kid-file", "eab-key-id"},
                                                {"eab-hmac-key", "eab-mac-key"},
                                                {"eab-hmac-key-file", "eab-mac-key"},
                                                {"ca-file", "ca-roots"},
                                                {"email", "contact"},
                                                {"url", "directory"},
                                                {"server", "directory"}};
    TableReader reader(table, "acme " + quote(name),
                       {"directory", "account-key", "contact", "eab-key-id", "eab-mac-key",
                        "eab-mac-alg", "ca-roots", "profile"},
                       context, kAliases);
    AcmeAccount account{.name = name, .line = reader.line()};
    if (auto directory = reader.string("directory")) {
        if (!directory->starts_with("https://") || directory->size() <= 8) {
            reader.problem("directory", "directory " + quote(*directory) +
                                            " is not an https URL; ACME is served over HTTPS "
                                            "(RFC 8555 §6.1), write directory = "
                                            "\"https://…/directory\"");
        }
        account.directory = *directory;
    } else if (!reader.has("directory")) {
        reader.missing("directory",
                       "write the CA's ACME directory URL, as directory = "
                       "\"https://acme-v02.api.letsencrypt.org/directory\"");
    }
    account.account_key =
        reader.path("account-key").value_or(agent.state_dir / "accounts" / (name + ".account.key"));
    for (const std::string& contact :
         reader.strings("contact", true).value_or(std::vector<std::string>{})) {
        if (auto url = contact_url(contact)) {
            account.contact.push_back(*url);
        } else {
            reader.problem("contact", "contact " + quote(contact) +
                                          " is not an e-mail address; write contact = "
                                          "[\"ops@example.com\"] (or \"mailto:ops@example.com\")");
        }
    }
    read_eab(reader, account);
    read_ca_roots(reader, account);
    account.profile = reader.string("profile").value_or("");
    return account;
}

HaproxyTarget read_haproxy(const std::string& name, const TomlValue& table, Context& context) {
    static const std::vector<Alias> kAliases = {
        {"socket", "sockets"}, {"stats-socket", "sockets"}, {"master-socket", "sockets"}};
    TableReader reader(table, "haproxy " + quote(name), {"sockets", "map"}, context, kAliases);
    HaproxyTarget target{.name = name, .line = reader.line()};
    auto sockets = reader.strings("sockets", true);
    if (!sockets && !reader.has("sockets")) {
        reader.missing("sockets",
                       "name HAProxy's Runtime API, as sockets = "
                       "[\"/run/haproxy/admin.sock\"] (a stats socket with level "
                       "admin, HOST:PORT, or the master socket as PATH@1)");
    } else if (sockets && sockets->empty()) {
        reader.problem("sockets", "sockets is empty; name at least one Runtime API socket");
    }
    for (const std::string& text : sockets.value_or(std::vector<std::string>{})) {
        auto endpoint = haproxy::parse_runtime_api_endpoint(text);
        if (!endpoint) {
            reader.problem("sockets", "sockets: " + endpoint.error().message());
            continue;
        }
        const bool duplicate =
            std::any_of(target.sockets.begin(), target.sockets.end(), [&](const auto& known) {
                return haproxy::describe_endpoint(known) == haproxy::describe_endpoint(*endpoint);
            });
        if (duplicate) {
            reader.problem("sockets", "sockets lists " + quote(text) + " twice; remove one");
            continue;
        }
        target.sockets.push_back(std::move(*endpoint));
    }
    target.map = reader.string("map").value_or("");
    return target;
}

DeployHook read_hook(const std::string& name, const TomlValue& table, Context& context) {
    static const std::vector<Alias> kAliases = {
        {"command", "program"}, {"exec", "program"}, {"argv", "args"}, {"arguments", "args"}};
    TableReader reader(table, "deploy-hook " + quote(name), {"program", "args", "timeout"}, context,
                       kAliases);
    DeployHook hook{.name = name, .line = reader.line()};
    if (auto program = reader.path("program")) {
        hook.program = *program;
        if (context.options.check_files && require_file(reader, "program", *program) &&
            ::access(program->c_str(), X_OK) != 0) {
            reader.problem("program", "program " + quote(program->native()) +
                                          " is not executable; chmod +x it");
        }
    } else if (!reader.has("program")) {
        reader.missing("program",
                       "write the program to run, as program = "
                       "\"/usr/local/bin/notify-deploy\"");
    }
    hook.args = reader.strings("args").value_or(std::vector<std::string>{});
    if (auto timeout = reader.duration("timeout")) {
        if (timeout->count() <= 0) {
            reader.problem("timeout", "timeout must be longer than zero, as timeout = \"60s\"");
        } else {
            hook.timeout = *timeout;
        }
    }
    return hook;
}

}  // namespace

bool require_file(TableReader& reader, const std::string& key, const std::filesystem::path& file) {
    if (!reader.context().options.check_files) return true;
    std::error_code error;
    auto status = std::filesystem::status(file, error);
    if (std::filesystem::is_regular_file(status)) return true;
    const std::string what = key + " " + quote(file.native());
    if (std::filesystem::exists(status)) {
        reader.problem(key, what + " is not a regular file; name the file itself");
    } else {
        reader.problem(key, what +
                                " does not exist; create it or correct the path (relative "
                                "paths start at the configuration file's directory)");
    }
    return false;
}

std::vector<std::pair<std::string, const TomlValue*>> named_tables(const TomlValue& parent,
                                                                   const std::string& section,
                                                                   Context& context) {
    std::vector<std::pair<std::string, const TomlValue*>> out;
    if (!parent.is_table()) {
        context.add(context.line_of(parent), section,
                    section + " must be a table of named sections, as [" + section + ".main]");
        return out;
    }
    for (const auto& [name, value] : parent.as_table()) {
        if (!value.is_table()) {
            context.add(context.line_of(value), name,
                        "[" + section + "] needs a name for each entry: write [" + section +
                            ".<name>] with " + name + " = ... inside it");
            continue;
        }
        if (!is_valid_name(name)) {
            context.add(
                context.line_of(value), name,
                section + " " + quote(name) + ": names use letters, digits, '-', '_' and '.' only");
            continue;
        }
        out.emplace_back(name, &value);
    }
    return out;
}

AgentSettings parse_agent_section(const TomlValue* table, Context& context) {
    AgentSettings settings;
    if (!table) return settings;
    if (!table->is_table()) {
        context.add(context.line_of(*table), "agent",
                    "agent must be a table: write [agent] and its keys below it");
        return settings;
    }
    static const std::vector<Alias> kAliases = {
        {"state-directory", "state-dir"}, {"metrics", "metrics-listen"}, {"log", "log-format"}};
    TableReader reader(*table, "[agent]",
                       {"state-dir", "control-socket", "metrics-listen", "log-format"}, context,
                       kAliases);
    settings.state_dir = reader.path("state-dir").value_or(settings.state_dir);
    if (auto socket = reader.path("control-socket")) {
        check_socket_path(reader, "control-socket", *socket);
        settings.control_socket = *socket;
    }
    if (auto listen = reader.string("metrics-listen")) {
        auto address = parse_probe_address(*listen, "metrics-listen");
        if (!address) {
            reader.problem("metrics-listen", address.error().message() +
                                                 "; write metrics-listen = \"127.0.0.1:9732\"");
        }
        settings.metrics_listen = *listen;
    }
    if (auto format = reader.string("log-format")) {
        if (*format == "text") {
            settings.log_format = LogFormat::kText;
        } else if (*format == "json") {
            settings.log_format = LogFormat::kJson;
        } else {
            reader.problem("log-format", "log-format " + quote(*format) +
                                             " is not a log format; write log-format = "
                                             "\"text\" or \"json\"");
        }
    }
    return settings;
}

std::vector<AcmeAccount> parse_acme_sections(const TomlValue& parent, Context& context,
                                             const AgentSettings& agent) {
    std::vector<AcmeAccount> accounts;
    for (const auto& [name, table] : named_tables(parent, "acme", context)) {
        accounts.push_back(read_account(name, *table, context, agent));
    }
    return accounts;
}

std::vector<HaproxyTarget> parse_haproxy_sections(const TomlValue& parent, Context& context) {
    std::vector<HaproxyTarget> targets;
    for (const auto& [name, table] : named_tables(parent, "haproxy", context)) {
        targets.push_back(read_haproxy(name, *table, context));
    }
    return targets;
}

std::vector<DeployHook> parse_hook_sections(const TomlValue& parent, Context& context) {
    std::vector<DeployHook> hooks;
    for (const auto& [name, table] : named_tables(parent, "deploy-hook", context)) {
        hooks.push_back(read_hook(name, *table, context));
    }
    return hooks;
}

}  // namespace certdock::agent::config_detail
