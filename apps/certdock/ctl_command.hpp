#pragma once

#include <CLI/CLI.hpp>

namespace certdock::cli {

// certdock ctl [--socket PATH | --config FILE] status [NAME...] [--json] | renew NAME [--no-wait] |
// reload: talks to a running `certdock agent run` over its control socket.
void register_ctl_command(CLI::App& app, int& exit_code);

}  // namespace certdock::cli
