// certdock agent ...: the long-running agent and the commands around its configuration.

#include <iostream>

#include "agent/config.hpp"
#include "agent_import_command.hpp"
#include "agent_run.hpp"
#include "cli_support.hpp"
#include "commands.hpp"

namespace certdock::cli {
namespace {

struct CheckOptions {
    std::string config_file = "/etc/certdock/certdock.toml";
    bool skip_file_checks = false;
    CommonOptions common;
};

nlohmann::json issue_json(const agent::ConfigIssue& issue) {
    return {
        {"file", issue.file}, {"line", issue.line}, {"key", issue.key}, {"message", issue.message}};
}

// Exit 0 when the file is valid, 2 (bad input) otherwise, every issue on its own line.
int run_check(const CheckOptions& options) {
    const agent::ConfigCheck check = agent::check_config(
        options.config_file, agent::LoadOptions{.check_files = !options.skip_file_checks});
    if (options.common.json) {
        nlohmann::json issues = nlohmann::json::array();
        for (const auto& issue : check.issues) issues.push_back(issue_json(issue));
        nlohmann::json out = {
            {"file", options.config_file}, {"ok", check.config != nullptr}, {"issues", issues}};
        if (check.config) {
            out["certificates"] = check.config->certificates.size();
            out["cas"] = check.config->accounts.size();
            out["haproxy_targets"] = check.config->haproxies.size();
        }
        print_json(out);
    } else if (check.config) {
        std::cout << options.config_file << ": ok (" << agent::summarize(*check.config) << ")\n";
    } else {
        for (const auto& issue : check.issues) std::cerr << issue.to_string() << "\n";
    }
    return check.config ? kExitOk : kExitUsage;
}

void register_check(CLI::App& agent, int& exit_code) {
    auto options = std::make_shared<CheckOptions>();
    CLI::App* check = agent.add_subcommand(
        "check", "Validate the agent's configuration file: every problem with its line and fix");
    check->add_option("--config,-c", options->config_file, "The agent's configuration file")
        ->capture_default_str();
    check->add_flag("--skip-file-checks", options->skip_file_checks,
                    "Do not look for the files it names (a file written for another machine)");
    add_json_flag(*check, options->common);
    check->callback([options, &exit_code] { exit_code = run_check(*options); });
}

}  // namespace

void register_agent_commands(CLI::App& app, int& exit_code) {
    CLI::App* agent = app.add_subcommand(
        "agent", "The agent that keeps HAProxy's certificates issued, renewed and served");
    agent->require_subcommand(1);
    register_check(*agent, exit_code);
    register_agent_run(*agent, exit_code);
    register_agent_import(*agent, exit_code);
}

}  // namespace certdock::cli
