// [[certificate]]: names, domains, the account, where it goes and what runs afterwards;
// the key policy and challenge are in config_certificate_policy.cpp.

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include "agent/config_parse.hpp"

namespace certdock::agent::config_detail {
namespace {

const std::vector<std::string> kCertificateKeys = {"name",           "domains",
                                                   "acme",           "keytype",
                                                   "bits",           "curves",
                                                   "reuse-key",      "rotate-ahead",
                                                   "key-file",       "csr",
                                                   "challenge",      "dns-hook",
                                                   "rfc2136-server", "tsig-key-file",
                                                   "dns-zone",       "tls-alpn-listen",
                                                   "profile",        "preferred-chain",
                                                   "renew-before",   "haproxy",
                                                   "file",           "runtime-name",
                                                   "crt-list",       "sni",
                                                   "probe",          "deploy-hooks"};

const std::vector<Alias> kCertificateAliases = {
    {"key-type", "keytype"},   {"type", "keytype"},
    {"curve", "curves"},       {"key", "key-file"},
    {"domain", "domains"},     {"names", "domains"},
    {"san", "domains"},        {"ips", "domains"},
    {"alias", "runtime-name"}, {"cert-name", "runtime-name"},
    {"crt", "file"},           {"crt-file", "file"},
    {"probes", "probe"},       {"deploy-hook", "deploy-hooks"},
    {"hooks", "deploy-hooks"}, {"tsig-key", "tsig-key-file"},
    {"zone", "dns-zone"},      {"account", "acme"}};

std::string lower(std::string text) {
    std::transform(text.begin(), text.end(), text.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return text;
}

template <typename Section>
std::string names_of(const std::vector<Section>& sections) {
    std::string out;
    for (const auto& section : sections) out += (out.empty() ? "" : ", ") + section.name;
    return out;
}

template <typename Section>
std::vector<std::string> name_list(const std::vector<Section>& sections) {
    std::vector<std::string> out;
    out.reserve(sections.size());
    for (const auto& section : sections) out.push_back(section.name);
    return out;
}

// "haproxy \"edg\" is not defined; did you mean \"edge\"?"
template <typename Section>
void unknown_reference(TableReader& reader, const std::string& key, const std::string& kind,
                       const std::string& name, const std::vector<Section>& sections) {
    std::string message = key + " " + quote(name) + " is not defined; ";
    if (auto close = closest_match(name, name_list(sections))) {
        message += "did you mean " + quote(*close) + "?";
    } else if (sections.empty()) {
        message += "add a [" + kind + "." + name + "] section";
    } else {
        message += "define [" + kind + "." + name + "] or use one of: " + names_of(sections);
    }
    reader.problem(key, message);
}

void read_domains(TableReader& reader, CertificateConfig& certificate) {
    auto domains = reader.strings("domains", true);
    if (domains && domains->empty()) {
        reader.problem("domains", "domains is empty; list at least one DNS name or IP address");
    }
    for (const std::string& given : domains.value_or(std::vector<std::string>{})) {
        std::string domain = is_ip_address(given) ? given : lower(given);
        if (!is_ip_address(domain)) {
            if (auto why = dns_name_problem(domain)) {
                reader.problem("domains", "domains: " + quote(given) +
                                              " is neither an IP address nor a DNS name: " + *why);
                continue;
            }
            if (domain.ends_with('.')) domain.pop_back();
        }
        if (std::find(certificate.domains.begin(), certificate.domains.end(), domain) !=
            certificate.domains.end()) {
            reader.problem("domains", "domains lists " + quote(given) + " twice; remove one");
            continue;
        }
        certificate.domains.push_back(domain);
    }
}

void read_account_reference(TableReader& reader, CertificateConfig& certificate,
                            const Config& sections) {
    if (auto acme = reader.string("acme")) {
        certificate.acme = *acme;
        if (!sections.find_account(*acme)) {
            unknown_reference(reader, "acme", "acme", *acme, sections.accounts);
        }
    } else if (!reader.has("acme")) {
        if (sections.accounts.size() == 1) {
            certificate.acme = sections.accounts.front().name;
        } else if (sections.accounts.empty()) {
            reader.missing("acme",
                           "define the CA in an [acme.<name>] section with its "
                           "directory, and name it here as acme = \"<name>\"");
        } else {
            reader.missing("acme",
                           "name the CA to use: acme = one of " + names_of(sections.accounts));
        }
    }
}

void read_placement(TableReader& reader, CertificateConfig& certificate, const Config& sections) {
    Placement& placement = certificate.placement;
    if (auto targets = reader.strings("haproxy", true)) {
        for (const std::string& name : *targets) {
            if (!sections.find_haproxy(name)) {
                unknown_reference(reader, "haproxy", "haproxy", name, sections.haproxies);
            }
        }
        placement.haproxy = *targets;
    } else if (!reader.has("haproxy")) {
        if (sections.haproxies.size() == 1) {
            placement.haproxy = {sections.haproxies.front().name};
        } else if (sections.haproxies.size() > 1) {
            reader.missing("haproxy",
                           "name the HAProxy targets to deliver to: haproxy = one "
                           "or more of " +
                               names_of(sections.haproxies));
        }
    }
    if (auto file = reader.path("file")) {
        placement.file = *file;
    } else if (!reader.has("file")) {
        reader.missing("file",
                       "write where the PEM bundle goes, the file HAProxy loads with "
                       "`crt`, as file = \"/etc/haproxy/certs/" +
                           certificate.name + ".pem\"");
    }
    placement.runtime_name = reader.string("runtime-name").value_or("");
    if (!placement.runtime_name.empty() && placement.haproxy.empty()) {
        reader.problem("runtime-name",
                       "runtime-name names the certificate on a HAProxy's "
                       "Runtime API; add haproxy = \"<target>\" or remove it");
    }
    placement.crt_list = reader.path("crt-list").value_or(std::filesystem::path{});
    placement.sni = reader.strings("sni", true).value_or(std::vector<std::string>{});
    if (reader.has("sni") && !reader.has("crt-list")) {
        reader.problem("sni",
                       "sni filters a crt-list line; add crt-list = \"...\" or remove "
                       "sni");
    }
    for (const std::string& text :
         reader.strings("probe", true).value_or(std::vector<std::string>{})) {
        auto target = parse_probe_address(text, "probe");
        if (!target) {
            reader.problem("probe", target.error().message() +
                                        "; write probe = "
                                        "[\"127.0.0.1:443\"]");
            continue;
        }
        placement.probes.push_back(*target);
    }
}

// http-01 is answered by HAProxy from a map certdock fills through the Runtime API.
void check_http01_map(TableReader& reader, const CertificateConfig& certificate,
                      const Config& sections) {
    if (certificate.challenge.type != challenge::ChallengeType::kHttp01) return;
    std::vector<const HaproxyTarget*> targets;
    for (const auto& name : certificate.placement.haproxy) {
        if (const auto* target = sections.find_haproxy(name)) targets.push_back(target);
    }
    if (targets.empty()) {
        if (!certificate.placement.haproxy.empty()) return;  // unknown names were reported
        reader.problem("challenge",
                       "http-01 is answered by HAProxy from a map: add haproxy = "
                       "\"<target>\" with a map, or use dns-01 or tls-alpn-01");
        return;
    }
    if (std::none_of(targets.begin(), targets.end(),
                     [](const HaproxyTarget* t) { return !t->map.empty(); })) {
        reader.problem("challenge", "challenge = \"http-01\" needs a map on haproxy " +
                                        quote(targets.front()->name) +
                                        ": add map = "
                                        "\"/etc/haproxy/acme.map\" to [haproxy." +
                                        targets.front()->name +
                                        "] (HAProxy answers the challenge from it)");
    }
}

void read_hooks(TableReader& reader, CertificateConfig& certificate, const Config& sections) {
    for (const std::string& name :
         reader.strings("deploy-hooks", true).value_or(std::vector<std::string>{})) {
        if (!sections.find_hook(name)) {
            unknown_reference(reader, "deploy-hooks", "deploy-hook", name, sections.hooks);
            continue;
        }
        certificate.deploy_hooks.push_back(name);
    }
}

CertificateConfig read_certificate(const TomlValue& table, size_t index, Context& context,
                                   const Config& sections) {
    // Until the name is known, messages count certificates from one, in file order.
    std::string where = "certificate #" + std::to_string(index + 1);
    if (table.is_table() && table.contains("name") && table.at("name").is_string()) {
        where = "certificate " + quote(table.at("name").as_string().str);
    }
    TableReader reader(table, where, kCertificateKeys, context, kCertificateAliases);
    CertificateConfig certificate{.line = reader.line()};
    if (auto name = reader.string("name")) {
        certificate.name = *name;
        if (!is_valid_name(*name)) {
            reader.problem("name", "name " + quote(*name) +
                                       " may hold letters, digits, '-', '_' and '.' only (it "
                                       "names files and appears in logs)");
        }
    } else if (!reader.has("name")) {
        reader.missing("name",
                       "give each certificate a name, as name = \"site\" (logs, "
                       "metrics and `certdock ctl` use it)");
        certificate.name = "certificate-" + std::to_string(index + 1);
    }
    read_domains(reader, certificate);
    read_key_policy(reader, certificate, sections.agent);
    // In CSR mode the names may come from the CSR instead.
    if (!reader.has("domains") && !certificate.csr_mode() && !reader.has("csr")) {
        reader.missing("domains",
                       "list the names to certify, as domains = "
                       "[\"example.com\", \"www.example.com\"]");
    }
    read_account_reference(reader, certificate, sections);
    read_challenge(reader, certificate);
    certificate.profile = reader.string("profile").value_or("");
    certificate.preferred_chain = reader.string("preferred-chain").value_or("");
    if (auto before = reader.duration("renew-before")) {
        if (before->count() <= 0) {
            reader.problem("renew-before",
                           "renew-before must be longer than zero, as "
                           "renew-before = \"30d\"");
        }
        certificate.renew_before = *before;
    }
    read_placement(reader, certificate, sections);
    check_http01_map(reader, certificate, sections);
    read_hooks(reader, certificate, sections);
    return certificate;
}

// Two certificates may not share a name, nor write the same file.
void check_unique(const std::vector<CertificateConfig>& certificates, Context& context) {
    std::map<std::string, const CertificateConfig*> by_name;
    std::map<std::filesystem::path, const CertificateConfig*> by_file;
    for (const auto& certificate : certificates) {
        const std::string where = "certificate " + quote(certificate.name);
        auto [named, fresh_name] = by_name.emplace(certificate.name, &certificate);
        if (!fresh_name) {
            context.add(certificate.line, "name",
                        where + ": name is already used by the certificate on line " +
                            std::to_string(named->second->line) + "; names must be unique");
        }
        if (certificate.placement.file.empty()) continue;
        auto [filed, fresh_file] = by_file.emplace(certificate.placement.file, &certificate);
        if (!fresh_file) {
            context.add(certificate.line, "file",
                        where + ": file " + quote(certificate.placement.file.native()) +
                            " is also written by certificate " + quote(filed->second->name) +
                            "; give each certificate its own file");
        }
    }
}

}  // namespace

std::vector<CertificateConfig> parse_certificates(const TomlValue& array, Context& context,
                                                  const Config& sections) {
    std::vector<CertificateConfig> certificates;
    if (!array.is_array()) {
        context.add(context.line_of(array), "certificate",
                    "certificate must be a list of tables: write [[certificate]] (double "
                    "brackets) above each certificate");
        return certificates;
    }
    const auto& entries = array.as_array();
    for (size_t i = 0; i < entries.size(); ++i) {
        if (!entries[i].is_table()) {
            context.add(context.line_of(entries[i]), "certificate",
                        "certificate must be a list of tables: write [[certificate]] above "
                        "each certificate");
            continue;
        }
        certificates.push_back(read_certificate(entries[i], i, context, sections));
    }
    check_unique(certificates, context);
    return certificates;
}

}  // namespace certdock::agent::config_detail
