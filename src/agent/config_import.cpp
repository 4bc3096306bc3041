#include "agent/config_import.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <sstream>

namespace certdock::agent {
namespace {

using haproxy::Location;

// What HAProxy does when the acme section does not say (doc/configuration.txt, 12.8).
constexpr std::string_view kHaproxyKeytype = "ECDSA";
constexpr std::string_view kHaproxyCurve = "P-384";
constexpr int kHaproxyRsaBits = 2048;
constexpr std::string_view kHaproxyReuseKey = "off";

// Stand-ins written where haproxy.cfg has nothing to carry over; each comes with a note.
constexpr std::string_view kTargetName = "haproxy";
constexpr std::string_view kPlaceholderSocket = "/run/haproxy/admin.sock";
constexpr std::string_view kPlaceholderMap = "virt@acme";
constexpr std::string_view kPlaceholderDnsHook = "/etc/certdock/hooks/dns-01";

// haproxy::Config keeps only the acme keywords a check needs, so the sections are read again
// here for all of them (account-key, contact, profile, and those without a counterpart).
constexpr std::array<std::string_view, 19> kSectionKeywords = {
    "global",   "defaults",    "frontend", "backend",     "listen",        "peers", "resolvers",
    "userlist", "mailers",     "program",  "http-errors", "ring",          "cache", "crt-store",
    "acme",     "log-forward", "traces",   "fcgi-app",    "dynamic-update"};

struct AcmeKeyword {
    std::string value{};  // first argument; empty when none
    Location where{};
};

struct AcmeSectionText {
    std::string name{};
    Location where{};
    std::vector<std::pair<std::string, AcmeKeyword>> keywords{};  // in file order

    const AcmeKeyword* find(std::string_view keyword) const {
        const AcmeKeyword* found = nullptr;  // the last one wins, as in HAProxy
        for (const auto& [word, value] : keywords) {
            if (word == keyword) found = &value;
        }
        return found;
    }
};

Result<std::vector<AcmeSectionText>> read_acme_sections(std::string_view text,
                                                        const std::string& file_name) {
    std::vector<AcmeSectionText> sections;
    std::vector<haproxy::ConfigWarning> ignored;  // parse_config reported them already
    bool in_acme = false;
    int number = 0;
    std::istringstream lines{std::string(text)};
    for (std::string line; std::getline(lines, line);) {
        Location where{file_name, ++number};
        CERTDOCK_TRY(auto words, haproxy::split_config_line(line, where, ignored));
        if (words.empty() || words[0].starts_with('.')) continue;
        if (std::find(kSectionKeywords.begin(), kSectionKeywords.end(), words[0]) !=
            kSectionKeywords.end()) {
            in_acme = words[0] == "acme";
            if (in_acme)
                sections.push_back({.name = words.size() > 1 ? words[1] : "", .where = where});
            continue;
        }
        if (!in_acme) continue;
        sections.back().keywords.emplace_back(
            words[0], AcmeKeyword{.value = words.size() > 1 ? words[1] : "", .where = where});
    }
    return sections;
}

// A certificate HAProxy's ACME client keeps: a crt-store load or an ssl-f-use line.
struct AcmeCertificate {
    std::string store{};  // crt-store name; unset for ssl-f-use
    bool in_store = false;
    std::string crt{};  // as written
    std::optional<std::string> key{};
    std::optional<std::string> alias{};
    std::string acme{};
    std::vector<std::string> domains{};
    std::optional<std::string> crt_base{};
    std::optional<std::string> key_base{};
    std::string frontend{};  // ssl-f-use: its section
    Location where{};
};

std::string lower(std::string_view text) {
    std::string out(text);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

std::string toml_string(std::string_view text) {
    std::string out = "\"";
    for (char c : text) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (static_cast<unsigned char>(c) < 0x20) {
            constexpr std::string_view kHex = "0123456789abcdef";
            out += "\\u00";
            out += kHex[static_cast<unsigned char>(c) >> 4];
            out += kHex[static_cast<unsigned char>(c) & 0xf];
        } else {
            out += c;
        }
    }
    return out + "\"";
}

std::string toml_list(const std::vector<std::string>& values) {
    std::string out = "[";
    for (size_t i = 0; i < values.size(); ++i) out += (i ? ", " : "") + toml_string(values[i]);
    return out + "]";
}

// HAProxy joins a relative file name to crt-base/key-base with a '/'.
std::string with_base(const std::string& file, const std::optional<std::string>& base) {
    if (!base || base->empty() || file.starts_with('/')) return file;
    return *base + (base->ends_with('/') ? "" : "/") + file;
}

// A name certdock accepts (letters, digits, '-', '_', '.') from a file name or alias.
std::string certificate_name(const AcmeCertificate& certificate) {
    std::string base =
        certificate.alias.value_or(std::filesystem::path(certificate.crt).stem().string());
    std::string name;
    for (char c : base) {
        bool ok =
            std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '_' || c == '.';
        name += ok ? c : '-';
    }
    return name.empty() ? "certificate" : name;
}

// "ipv4@127.0.0.1:9999" -> "127.0.0.1:9999", "unix@/run/x.sock" -> "/run/x.sock"; unset for
// addresses certdock cannot reach (abstract sockets, IPv6 written without brackets).
std::optional<std::string> socket_address(std::string_view address) {
    if (address.starts_with("unix@")) return std::string(address.substr(5));
    if (address.starts_with("ipv4@")) return std::string(address.substr(5));
    if (address.starts_with('/')) return std::string(address);
    if (address.find('@') != std::string_view::npos) return std::nullopt;
    if (std::count(address.begin(), address.end(), ':') == 1) return std::string(address);
    return std::nullopt;
}

// A bind address as a HOST:PORT a probe can connect to; wildcards are reached on loopback.
std::optional<std::string> probe_address(std::string_view address) {
    if (address.starts_with("ipv4@")) address.remove_prefix(5);
    if (address.find('@') != std::string_view::npos || address.starts_with('/')) return {};
    size_t colon = address.rfind(':');
    if (colon == std::string_view::npos || address.find(':') != colon) return {};
    std::string_view host = address.substr(0, colon);
    std::string_view port = address.substr(colon + 1);
    if (port.empty() || !std::all_of(port.begin(), port.end(), [](char c) {
            return std::isdigit(static_cast<unsigned char>(c)) != 0;
        })) {
        return {};  // a port range or a variable
    }
    if (host.empty() || host == "*" || host == "0.0.0.0") host = "127.0.0.1";
    return std::string(host) + ":" + std::string(port);
}

class Importer {
public:
    Importer(const haproxy::Config& config, std::vector<AcmeSectionText> sections)
        : config_(config), sections_(std::move(sections)) {}

    ImportResult run() && {
        collect_certificates();
        std::set<std::string> used;
        for (const auto& certificate : certificates_) used.insert(certificate.acme);
        for (const auto& section : sections_) {
            if (!used.contains(section.name)) {
                note(section.where, "acme section \"" + section.name +
                                        "\" is not used by any certificate (no `load crt ... "
                                        "acme " +
                                        section.name + "`): not carried over");
            } else if (!section.find("directory")) {
                note(section.where, "acme section \"" + section.name +
                                        "\" has no directory (HAProxy refuses it too): its "
                                        "certificates were not carried over");
            } else {
                write_account(section);
            }
        }
        for (const auto& certificate : certificates_) write_certificate(certificate);
        write_target();
        std::stable_sort(
            result_.notes.begin(), result_.notes.end(),
            [](const ImportNote& a, const ImportNote& b) { return a.where.line < b.where.line; });
        result_.toml = header() + accounts_ + target_ + certificate_text_;
        return std::move(result_);
    }

private:
    void note(const Location& where, std::string message) {
        result_.notes.push_back({.where = where, .message = std::move(message)});
    }

    const AcmeSectionText* find_section(const std::string& name) const {
        for (const auto& section : sections_) {
            if (section.name == name) return &section;
        }
        return nullptr;
    }

    void collect_certificates() {
        for (const auto& store : config_.crt_stores) {
            for (const auto& load : store.loads) {
                if (!load.acme) continue;
                certificates_.push_back({.store = store.name,
                                         .in_store = true,
                                         .crt = load.crt,
                                         .key = load.key,
                                         .alias = load.alias,
                                         .acme = *load.acme,
                                         .domains = load.domains,
                                         .crt_base = store.crt_base,
                                         .key_base = store.key_base,
                                         .where = load.where});
            }
        }
        for (const auto& use : config_.ssl_f_uses) {
            // "crt @store/name" refers to a crt-store load, imported above.
            if (!use.acme || !use.crt || use.crt->starts_with('@')) continue;
            certificates_.push_back({.crt = *use.crt,
                                     .key = use.key,
                                     .acme = *use.acme,
                                     .domains = use.domains,
                                     .frontend = use.section,
                                     .where = use.where});
        }
        for (auto& certificate : certificates_) {
            if (!certificate.crt_base && config_.crt_base) {
                certificate.crt_base = config_.crt_base->value;
            }
            if (!certificate.key_base && config_.key_base) {
                certificate.key_base = config_.key_base->value;
            }
        }
    }

    std::string header() const {
        return "# certdock agent configuration, imported from " + config_.file +
               " by `certdock agent import`.\n"
               "# Check it with: certdock agent check --config <this file>\n"
               "# HAProxy's defaults are written out (keytype, curves, bits, reuse-key), because\n"
               "# certdock's differ (reuse-key \"on\"): certificates are made as before.\n"
               "# Once certdock runs, remove `acme` and `domains` from HAProxy's load lines so\n"
               "# the two clients do not both renew. Keys are described in "
               "docs/agent-config.md.\n";
    }

    void write_account(const AcmeSectionText& section) {
        std::string out = "\n# " + section.where.describe() + ": acme " + section.name + "\n";
        out += "[acme." + section.name + "]\n";
        out += "directory = " + toml_string(section.find("directory")->value) + "\n";
        // Until 3.2-dev12 the keyword was `account`; HAProxy's default name keeps the account.
        const AcmeKeyword* key = section.find("account-key");
        if (!key) key = section.find("account");
        std::optional<std::string> crt_base;
        if (config_.crt_base) crt_base = config_.crt_base->value;
        std::string account_key =
            with_base(key ? key->value : section.name + ".account.key", crt_base);
        out += "account-key = " + toml_string(account_key) + "\n";
        if (!account_key.starts_with('/')) {
            note(key ? key->where : section.where,
                 "account key \"" + account_key +
                     "\" is relative: HAProxy read it from its working directory, certdock "
                     "reads it from the directory of the generated file; write the absolute "
                     "path to keep the same account");
        }
        if (const AcmeKeyword* contact = section.find("contact")) {
            out += "contact = " + toml_list({contact->value}) + "\n";
        }
        if (const AcmeKeyword* profile = section.find("profile")) {
            out += "profile = " + toml_string(profile->value) + "\n";
        }
        for (const auto& [keyword, value] : section.keywords) {
            static const std::set<std::string> kCarried = {
                "directory", "account-key", "account", "contact",   "profile",  "keytype",
                "bits",      "curves",      "map",     "challenge", "reuse-key"};
            static const std::set<std::string> kDnsProvider = {"acme-vars", "provider-name",
                                                               "challenge-ready", "dns-delay"};
            if (kCarried.contains(keyword)) continue;
            if (kDnsProvider.contains(keyword)) {
                note(value.where, keyword +
                                      " configures HAProxy's DNS provider interface, which "
                                      "certdock does not have: publish the TXT records with "
                                      "dns-hook or rfc2136-server instead");
            } else {
                note(value.where, "acme keyword \"" + keyword +
                                      "\" has no certdock counterpart: "
                                      "not carried over");
            }
        }
        accounts_ += out;
    }

    // keytype, curves or bits, and reuse-key, with HAProxy's defaults written out.
    std::string key_lines(const AcmeSectionText& section) {
        std::string out;
        std::string keytype(kHaproxyKeytype);
        if (const AcmeKeyword* given = section.find("keytype")) {
            std::string value = lower(given->value);
            if (value == "rsa") {
                keytype = "RSA";
            } else if (value == "ec") {
                noted_once(given->where,
                           "keytype EC is written keytype = \"ECDSA\" (the same "
                           "key type; certdock spells it as HAProxy documents)");
            } else if (value != "ecdsa") {
                noted_once(given->where, "keytype \"" + given->value +
                                             "\" is neither RSA nor ECDSA: written as ECDSA, "
                                             "HAProxy's default");
            }
        }
        out += "keytype = " + toml_string(keytype) + "\n";
        if (keytype == "RSA") {
            out += "bits = " + std::to_string(rsa_bits(section)) + "\n";
        } else {
            out += "curves = " + toml_string(curve(section)) + "\n";
        }
        std::string reuse(kHaproxyReuseKey);
        if (const AcmeKeyword* given = section.find("reuse-key")) {
            std::string value = lower(given->value);
            if (value == "on" || value == "off") {
                reuse = value;
            } else {
                noted_once(given->where, "reuse-key \"" + given->value +
                                             "\" is neither on nor off: written as \"off\", "
                                             "HAProxy's default");
            }
        }
        out += "reuse-key = " + toml_string(reuse) + "\n";
        return out;
    }

    int rsa_bits(const AcmeSectionText& section) {
        const AcmeKeyword* given = section.find("bits");
        if (!given) return kHaproxyRsaBits;
        int bits = 0;
        try {
            bits = std::stoi(given->value);
        } catch (const std::exception&) {
        }
        for (int allowed : {2048, 3072, 4096}) {
            if (bits == allowed) return bits;
        }
        int chosen = bits > 4096 ? 4096 : bits > 3072 ? 4096 : bits > 2048 ? 3072 : 2048;
        noted_once(given->where, "bits " + given->value +
                                     ": certdock makes RSA keys of 2048, 3072 or 4096 bits; "
                                     "written as " +
                                     std::to_string(chosen));
        return chosen;
    }

    std::string curve(const AcmeSectionText& section) {
        const AcmeKeyword* given = section.find("curves");
        if (!given) return std::string(kHaproxyCurve);
        std::string value = lower(given->value);
        if (value == "p-256" || value == "prime256v1" || value == "secp256r1") return "P-256";
        if (value == "p-384" || value == "secp384r1") return "P-384";
        noted_once(given->where, "curves \"" + given->value +
                                     "\": certdock makes P-256 or P-384 keys; written as P-384, "
                                     "HAProxy's default");
        return "P-384";
    }

    // A section's setting is noted once, not once per certificate using it.
    void noted_once(const Location& where, std::string message) {
        if (noted_lines_.insert(where.line).second) note(where, std::move(message));
    }

    // The challenge lines; "http-01" also asks for a map on the target.
    std::string challenge_lines(const AcmeSectionText& section,
                                const AcmeCertificate& certificate) {
        std::string challenge = "http-01";
        const AcmeKeyword* given = section.find("challenge");
        if (given) {
            std::string value = lower(given->value);
            if (value == "dns-01") {
                challenge = "dns-01";
            } else if (value == "dns-persist-01") {
                challenge = "dns-01";
                noted_once(given->where,
                           "certdock has no dns-persist-01: written as dns-01, "
                           "which publishes a TXT record at every renewal");
            } else if (value != "http-01") {
                noted_once(given->where, "challenge \"" + given->value +
                                             "\" is not one HAProxy or certdock knows: written "
                                             "as http-01, HAProxy's default");
            }
        }
        bool wildcard = std::any_of(certificate.domains.begin(), certificate.domains.end(),
                                    [](const std::string& d) { return d.starts_with("*."); });
        if (challenge == "http-01" && wildcard) {
            challenge = "dns-01";
            note(certificate.where,
                 "a wildcard can only be validated with dns-01 (HAProxy "
                 "would fail with http-01 too): written as dns-01");
        }
        if (challenge == "http-01") {
            http01_sections_.push_back(&section);
            return "challenge = \"http-01\"\n";
        }
        note(certificate.where,
             "dns-01: HAProxy's DNS provider settings cannot be carried over; configure "
             "dns-hook or rfc2136-server (written: dns-hook = \"" +
                 std::string(kPlaceholderDnsHook) +
                 "\", which `agent check` reports until it "
                 "exists)");
        return "challenge = \"dns-01\"\ndns-hook = " + toml_string(kPlaceholderDnsHook) + "\n";
    }

    void write_certificate(const AcmeCertificate& certificate) {
        const AcmeSectionText* section = find_section(certificate.acme);
        if (!section) {
            note(certificate.where, "acme section \"" + certificate.acme +
                                        "\" is not defined (HAProxy refuses this line too): "
                                        "certificate not carried over");
            return;
        }
        if (!section->find("directory")) return;  // noted with the section
        if (certificate.domains.empty()) {
            note(certificate.where,
                 "no domains on this line (HAProxy needs them to order the "
                 "certificate): certificate not carried over");
            return;
        }
        std::string name = certificate_name(certificate);
        for (int n = 2; !names_.insert(name).second; ++n) {
            name = certificate_name(certificate) + "-" + std::to_string(n);
        }
        std::string file = with_base(certificate.crt, certificate.crt_base);
        if (!file.starts_with('/')) {
            note(certificate.where, "file \"" + file +
                                        "\" is relative: HAProxy read it from its working "
                                        "directory, certdock resolves it from the directory of "
                                        "the generated file; write the absolute path");
        }
        std::string out = "\n# " + certificate.where.describe() + "\n[[certificate]]\n";
        out += "name = " + toml_string(name) + "\n";
        out += "domains = " + toml_list(certificate.domains) + "\n";
        out += "acme = " + toml_string(certificate.acme) + "\n";
        out += key_lines(*section);
        if (certificate.key) {
            out += "key-file = " + toml_string(with_base(*certificate.key, certificate.key_base)) +
                   "\n";
        }
        out += challenge_lines(*section, certificate);
        out += "haproxy = " + toml_string(kTargetName) + "\n";
        out += "file = " + toml_string(file) + "\n";
        std::string runtime_name = this->runtime_name(certificate);
        if (runtime_name != file) out += "runtime-name = " + toml_string(runtime_name) + "\n";
        std::vector<std::string> probes = probes_for(certificate, runtime_name);
        if (!probes.empty()) out += "probe = " + toml_list(probes) + "\n";
        certificate_text_ += out;
        ++result_.certificates;
    }

    // The name HAProxy gives the certificate on its Runtime API.
    static std::string runtime_name(const AcmeCertificate& certificate) {
        if (certificate.in_store && (!certificate.store.empty() || certificate.alias)) {
            return "@" + certificate.store + "/" + certificate.alias.value_or(certificate.crt);
        }
        return with_base(certificate.crt, certificate.crt_base);
    }

    // Frontends serving the certificate: binds naming it, or the binds of its ssl-f-use.
    std::vector<std::string> probes_for(const AcmeCertificate& certificate,
                                        const std::string& runtime_name) const {
        std::vector<std::string> probes;
        for (const auto& bind : config_.binds) {
            bool serves =
                std::find(bind.crts.begin(), bind.crts.end(), runtime_name) != bind.crts.end() ||
                std::find(bind.crts.begin(), bind.crts.end(), certificate.crt) != bind.crts.end() ||
                (!certificate.frontend.empty() && bind.ssl && bind.section == certificate.frontend);
            if (!serves) continue;
            for (const auto& address : bind.addresses) {
                auto probe = probe_address(address);
                if (probe && std::find(probes.begin(), probes.end(), *probe) == probes.end()) {
                    probes.push_back(*probe);
                }
            }
        }
        return probes;
    }

    void write_target() {
        if (result_.certificates == 0) {
            note({config_.file, 0},
                 "no certificate is issued by HAProxy's ACME client (`load "
                 "crt ... acme <section> domains ...`): nothing to import");
            return;
        }
        std::vector<std::string> sockets;
        for (const auto& socket : config_.stats_sockets) {
            if (socket.level && *socket.level != "admin") {
                note(socket.where, "stats socket " + socket.address + " has level " +
                                       *socket.level +
                                       ": loading certificates needs level admin; not used");
                continue;
            }
            if (auto address = socket_address(socket.address)) {
                sockets.push_back(*address);
            } else {
                note(socket.where, "stats socket " + socket.address +
                                       ": certdock reaches unix sockets and IPv4 HOST:PORT; "
                                       "not used");
            }
        }
        std::string out = "\n# The HAProxy that serves these certificates (its Runtime API).\n";
        out += "[haproxy." + std::string(kTargetName) + "]\n";
        if (sockets.empty()) {
            sockets.emplace_back(kPlaceholderSocket);
            note({config_.file, 0},
                 "no stats socket with level admin: add `stats socket " +
                     std::string(kPlaceholderSocket) +
                     " level admin` to the global section (certdock loads certificates through "
                     "it); the generated file names that socket");
        }
        out += "sockets = " + toml_list(sockets) + "\n";
        if (std::optional<std::string> map = http01_map()) {
            out += "map = " + toml_string(*map) + "\n";
        }
        target_ = out;
    }

    // The map http-01 tokens go to: the acme sections', else the one HAProxy answers from.
    std::optional<std::string> http01_map() {
        std::optional<std::string> map;
        for (const AcmeSectionText* section : http01_sections_) {
            const AcmeKeyword* given = section->find("map");
            if (!given) continue;
            if (!map) {
                map = given->value;
            } else if (*map != given->value) {
                noted_once(given->where, "map " + given->value + " differs from map " + *map +
                                             " of another acme section: certdock uses one map "
                                             "per HAProxy; written as " +
                                             *map);
            }
        }
        if (map || http01_sections_.empty()) return map;
        if (!config_.map_responders.empty()) return config_.map_responders.front().map;
        note({config_.file, 0},
             "http-01 needs a map HAProxy answers from, and no acme section names one: written "
             "map = \"" +
                 std::string(kPlaceholderMap) +
                 "\"; declare it and add the http-request return rule shown in "
                 "docs/agent-config.md");
        return std::string(kPlaceholderMap);
    }

    const haproxy::Config& config_;
    std::vector<AcmeSectionText> sections_;
    std::vector<AcmeCertificate> certificates_;
    std::vector<const AcmeSectionText*> http01_sections_;
    std::set<std::string> names_;
    std::set<int> noted_lines_;
    std::string accounts_;
    std::string target_;
    std::string certificate_text_;
    ImportResult result_;
};

}  // namespace

std::string ImportNote::to_string() const {
    return (where.line > 0 ? where.describe() : where.file) + ": " + message;
}

Result<ImportResult> import_haproxy_config(std::string_view text, const std::string& file_name) {
    CERTDOCK_TRY(haproxy::Config config, haproxy::parse_config(text, file_name));
    CERTDOCK_TRY(auto sections, read_acme_sections(text, file_name));
    return Importer(config, std::move(sections)).run();
}

}  // namespace certdock::agent
