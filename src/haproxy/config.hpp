#pragma once

// A reader of haproxy.cfg into the few things certdock cares about: where certificates come
// from (bind crt/crt-list, crt-store, ssl-f-use, crt-base/key-base), the HAProxy 3.x `acme`
// sections, the http-01 responder rules built on maps, and the stats sockets. Everything keeps
// the file and line it came from, so a check can say where to look.
//
// Lines are split the way HAProxy splits them: words separated by blanks, "..." and '...'
// quoting, backslash escapes, '#' comments. "${VAR}" inside double quotes is expanded from
// this process's environment; an unset variable is left as written, with a warning.

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"

namespace certdock::haproxy {

struct Location {
    std::string file;
    int line = 0;
    std::string describe() const;  // "haproxy.cfg:12"
};

// One keyword with its value, for settings whose line a finding quotes.
struct Setting {
    std::string value{};  // empty when the keyword was given without an argument
    Location where{};
};

struct ConfigWarning {
    Location where{};
    std::string message{};
};

// Splits one line into words. Fails on an unterminated quote. `warnings` receives unresolved
// environment variables.
Result<std::vector<std::string>> split_config_line(std::string_view line, const Location& where,
                                                   std::vector<ConfigWarning>& warnings);

struct StatsSocket {
    std::string address{};  // as written: "/run/haproxy/admin.sock", "ipv4@127.0.0.1:9999"
    std::optional<std::string> level{};  // "user", "operator", "admin"; unset when not given
    Location where{};
};

struct Bind {
    std::string section{};                 // "frontend fe"
    std::vector<std::string> addresses{};  // "127.0.0.1:443", ":443", "ipv4@:443" (split on ',')
    bool ssl = false;
    std::vector<std::string> crts{};       // `crt` arguments, in order, crt-base not applied
    std::vector<std::string> crt_lists{};  // `crt-list` arguments
    Location where{};
};

// `http-request return ... map(<file>)` (also map_str, map_beg, ...) on a line that mentions
// the http-01 path: the responder HAProxy's map-based http-01 needs.
struct MapResponder {
    std::string section{};
    std::string map{};  // "/etc/haproxy/acme.map" or "virt@acme"
    Location where{};
};

// `load crt <file> [key <file>] [alias <name>] [acme <section>] [domains "a,b"]` in a crt-store.
struct CrtLoad {
    std::string crt{};
    std::optional<std::string> key{};
    std::optional<std::string> alias{};
    std::optional<std::string> acme{};
    std::vector<std::string> domains{};
    Location where{};
};

struct CrtStore {
    std::string name{};  // empty for an unnamed crt-store
    std::optional<std::string> crt_base{};
    std::optional<std::string> key_base{};
    std::vector<CrtLoad> loads{};
    Location where{};
};

struct AcmeSection {
    std::string name{};
    std::optional<Setting> directory{};
    std::optional<Setting> keytype{};
    std::optional<Setting> bits{};
    std::optional<Setting> curves{};
    std::optional<Setting> map{};
    std::optional<Setting> challenge{};
    std::optional<Setting> reuse_key{};
    Location where{};
};

// `ssl-f-use [crt <file>] [key <file>] [acme <section>] [domains "a,b"] ...` (HAProxy 3.2).
struct SslFUse {
    std::string section{};
    std::optional<std::string> crt{};
    std::optional<std::string> key{};
    std::optional<std::string> acme{};
    std::vector<std::string> domains{};
    Location where{};
};

struct Config {
    std::string file{};  // the name findings quote
    std::vector<StatsSocket> stats_sockets{};
    std::optional<Setting> crt_base{};
    std::optional<Setting> key_base{};
    bool experimental_directives = false;  // `expose-experimental-directives` in global
    bool load_extra_del_ext = false;       // `ssl-load-extra-del-ext`: "site.crt" -> "site.key"
    std::vector<Bind> binds{};
    std::vector<MapResponder> map_responders{};
    std::vector<CrtStore> crt_stores{};
    std::vector<AcmeSection> acme_sections{};
    std::vector<SslFUse> ssl_f_uses{};
    std::vector<ConfigWarning> warnings{};

    const AcmeSection* find_acme(std::string_view name) const;
};

// `file_name` is what locations quote. Fails, naming file:line, only on text HAProxy could not
// read either (an unterminated quote); keywords it does not know are skipped.
Result<Config> parse_config(std::string_view text, const std::string& file_name);
Result<Config> load_config(const std::filesystem::path& path);

// The map names a sample expression reads: "map(virt@acme)" and "map_str(/x.map,...)" give
// "virt@acme" and "/x.map".
std::vector<std::string> maps_in_expression(std::string_view text);

// Splits a `domains` value "a.example,b.example" (commas and/or blanks).
std::vector<std::string> split_domains(std::string_view text);

}  // namespace certdock::haproxy
