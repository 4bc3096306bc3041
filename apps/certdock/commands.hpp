#pragma once

#include <CLI/CLI.hpp>

#include <functional>

namespace certdock::cli {

// Each registers its subcommand tree on `app`. The callback a subcommand sets stores its
// exit status in `exit_code`, so main() returns it after CLI11 has parsed.
void register_key_commands(CLI::App& app, int& exit_code);
void register_csr_commands(CLI::App& app, int& exit_code);
void register_cert_commands(CLI::App& app, int& exit_code);
void register_acme_commands(CLI::App& app, int& exit_code);
void register_bootstrap_command(CLI::App& app, int& exit_code);
void register_deploy_command(CLI::App& app, int& exit_code);
void register_doctor_command(CLI::App& app, int& exit_code);
void register_agent_commands(CLI::App& app, int& exit_code);

}  // namespace certdock::cli
