#pragma once

// Turns a HAProxy 3.x configuration that uses HAProxy's own ACME client (`acme` sections,
// crt-store `load crt ... acme <name> domains "..."`, `ssl-f-use ... acme`) into the agent's
// configuration, so the same certificates keep being issued the same way by certdock.
//
// HAProxy's defaults are written out explicitly (keytype ECDSA, curves P-384, reuse-key off),
// because certdock's own defaults differ and a migration must not change behaviour silently.
// Whatever cannot be carried over becomes a note naming the haproxy.cfg line and what to do.

#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"
#include "haproxy/config.hpp"

namespace certdock::agent {

// Something the generated file does not do the way haproxy.cfg did, or left for the operator.
struct ImportNote {
    haproxy::Location where{};      // the haproxy.cfg line concerned; line 0: the file as a whole
    std::string message{};          // what differs and what to do
    std::string to_string() const;  // "haproxy.cfg:12: ..."
};

struct ImportResult {
    std::string toml{};               // the agent configuration, ready for `agent check`
    std::vector<ImportNote> notes{};  // in haproxy.cfg order
    int certificates = 0;             // how many [[certificate]] tables were written
};

// `text` is haproxy.cfg, `file_name` what notes quote. Fails (kInput) only on text HAProxy
// could not read either; an `acme` setup certdock cannot reproduce gives notes, not errors.
// No file is read or written.
Result<ImportResult> import_haproxy_config(std::string_view text, const std::string& file_name);

}  // namespace certdock::agent
