// certdock: one binary, one subcommand per job. This is the only place that wires concrete
// classes together.

#include <CLI/CLI.hpp>

#include <iostream>

#include "cli_support.hpp"
#include "commands.hpp"
#include "ctl_command.hpp"

#ifndef CERTDOCK_VERSION
#define CERTDOCK_VERSION "0.0.0"
#endif

int main(int argc, char** argv) {
    CLI::App app{"certdock: certificates for HAProxy, obtained over ACME and hot-loaded"};
    app.set_version_flag("--version", CERTDOCK_VERSION);
    app.require_subcommand(1);

    int exit_code = certdock::cli::kExitOk;
    certdock::cli::register_key_commands(app, exit_code);
    certdock::cli::register_csr_commands(app, exit_code);
    certdock::cli::register_cert_commands(app, exit_code);
    certdock::cli::register_acme_commands(app, exit_code);
    certdock::cli::register_bootstrap_command(app, exit_code);
    certdock::cli::register_deploy_command(app, exit_code);
    certdock::cli::register_doctor_command(app, exit_code);
    certdock::cli::register_agent_commands(app, exit_code);
    certdock::cli::register_ctl_command(app, exit_code);

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& error) {
        int code = app.exit(error);
        // CLI11 uses 0 for --help/--version and its own codes otherwise; usage errors are 2.
        return code == 0 ? 0 : certdock::cli::kExitUsage;
    }
    return exit_code;
}
