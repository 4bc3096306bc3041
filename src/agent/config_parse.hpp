#pragma once

// Internal to the configuration loader: one function per kind of section. Each records its
// issues in the context and returns what it could read; the caller builds a Config only when
// no issue was recorded.

#include <vector>

#include "agent/config.hpp"
#include "agent/config_reader.hpp"

namespace certdock::agent::config_detail {

// [agent]; `table` may be null (all defaults).
AgentSettings parse_agent_section(const TomlValue* table, Context& context);

// [acme.<name>], [haproxy.<name>], [deploy-hook.<name>]: `parent` is the table holding them.
std::vector<AcmeAccount> parse_acme_sections(const TomlValue& parent, Context& context,
                                             const AgentSettings& agent);
std::vector<HaproxyTarget> parse_haproxy_sections(const TomlValue& parent, Context& context);
std::vector<DeployHook> parse_hook_sections(const TomlValue& parent, Context& context);

// [[certificate]], checked against the sections already read (names, maps) and, when the
// options say so, against the files it names.
std::vector<CertificateConfig> parse_certificates(const TomlValue& array, Context& context,
                                                  const Config& sections);

// Parts of one [[certificate]] (config_certificate_policy.cpp): the key policy or the CSR,
// and the challenge with its solver. Domains are already in `certificate`.
void read_key_policy(TableReader& reader, CertificateConfig& certificate,
                     const AgentSettings& agent);
void read_challenge(TableReader& reader, CertificateConfig& certificate);

// The named tables under `parent` ("[acme.le]" gives "le"), each with its header's line;
// anything that is not a table is reported as written in the wrong form.
std::vector<std::pair<std::string, const TomlValue*>> named_tables(const TomlValue& parent,
                                                                   const std::string& section,
                                                                   Context& context);

// True when `file` names an existing regular file; records why not otherwise.
bool require_file(TableReader& reader, const std::string& key, const std::filesystem::path& file);

}  // namespace certdock::agent::config_detail
