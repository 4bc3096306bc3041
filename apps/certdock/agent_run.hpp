#pragma once

#include <CLI/CLI.hpp>

namespace certdock::cli {

// certdock agent run --config FILE [--once]: keeps every certificate of the configuration
// issued, renewed and served.
void register_agent_run(CLI::App& agent, int& exit_code);

}  // namespace certdock::cli
