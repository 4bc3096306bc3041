#pragma once

#include <CLI/CLI.hpp>

namespace certdock::cli {

// certdock agent import --haproxy-cfg FILE [--out FILE] [--force]: the agent configuration
// equivalent to HAProxy's own ACME setup (acme sections and crt-store loads).
void register_agent_import(CLI::App& agent, int& exit_code);

}  // namespace certdock::cli
