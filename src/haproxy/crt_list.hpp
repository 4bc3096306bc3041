#pragma once

// A HAProxy crt-list file: one certificate a line, with optional SSL options in brackets and
// SNI filters. "site.pem [alpn h2 ocsp-update on] example.com *.example.com !old.example.com".

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"
#include "haproxy/config.hpp"

namespace certdock::haproxy {

struct CrtListEntry {
    std::string crt{};                       // as written; crt-base not applied
    std::vector<std::string> options{};      // the words inside [...]
    std::vector<std::string> sni_filters{};  // "example.com", "*.example.com", "!old.example.com"
    std::optional<std::string> acme{};       // `acme <section>` among the options
    std::vector<std::string> domains{};      // `domains "a,b"` among the options
    Location where{};
};

// Fails, naming file:line, on an unterminated quote or bracket.
Result<std::vector<CrtListEntry>> parse_crt_list(std::string_view text,
                                                 const std::string& file_name,
                                                 std::vector<ConfigWarning>& warnings);
Result<std::vector<CrtListEntry>> load_crt_list(const std::filesystem::path& path,
                                                std::vector<ConfigWarning>& warnings);

}  // namespace certdock::haproxy
