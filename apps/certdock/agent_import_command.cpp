// certdock agent import: moves an operator from HAProxy's experimental ACME client to certdock
// by writing the agent configuration that keeps the same certificates, keys and CA accounts.

#include "agent_import_command.hpp"

#include <filesystem>
#include <iostream>

#include "agent/config.hpp"
#include "agent/config_import.hpp"
#include "base/file.hpp"
#include "cli_support.hpp"

namespace certdock::cli {
namespace {

struct ImportOptions {
    std::string haproxy_cfg{};
    std::string out{};  // empty: standard output
    bool force = false;
};

// Exit 0 when written (notes, if any, on standard error), 1 when haproxy.cfg has nothing to
// import, 2 when it cannot be read or --out exists without --force.
int run_import(const ImportOptions& options) {
    auto text = read_input(options.haproxy_cfg);
    if (!text) return report_error(text.error());
    std::string name = options.haproxy_cfg == "-"
                           ? std::string("haproxy.cfg")
                           : std::filesystem::path(options.haproxy_cfg).filename().string();
    auto imported = agent::import_haproxy_config(*text, name);
    if (!imported) return report_error(imported.error());
    for (const auto& note : imported->notes) std::cerr << note.to_string() << "\n";
    if (imported->certificates == 0) return kExitFailed;

    // The file must be one `certdock agent check` accepts; the files it names may be on
    // another machine, so only their syntax is checked here.
    const std::string target = options.out.empty() ? "certdock.toml" : options.out;
    agent::ConfigCheck check =
        agent::check_config_text(imported->toml, target, agent::LoadOptions{.check_files = false});
    if (!check.config) {
        for (const auto& issue : check.issues) std::cerr << issue.to_string() << "\n";
        std::cerr << "certdock: the imported configuration does not pass its own check (above); "
                     "nothing was written\n";
        return kExitFailed;
    }

    if (options.out.empty()) {
        std::cout << imported->toml;
        return kExitOk;
    }
    std::error_code ignored;
    if (!options.force && std::filesystem::exists(options.out, ignored)) {
        std::cerr << "certdock: " << options.out
                  << " already exists; choose another --out or add --force to replace it\n";
        return kExitUsage;
    }
    Status written = write_file_atomic(options.out, imported->toml,
                                       WriteOptions{.mode = 0644, .overwrite = options.force});
    if (!written) return report_error(written.error());
    std::cout << options.out << ": " << agent::summarize(*check.config) << " imported from "
              << options.haproxy_cfg << ", " << imported->notes.size()
              << " notes; check it with: certdock agent check --config " << options.out << "\n";
    return kExitOk;
}

}  // namespace

void register_agent_import(CLI::App& agent, int& exit_code) {
    auto options = std::make_shared<ImportOptions>();
    CLI::App* command = agent.add_subcommand(
        "import", "Write the agent configuration for HAProxy's acme sections and crt-store loads");
    command->add_option("--haproxy-cfg", options->haproxy_cfg, "haproxy.cfg to read (- for stdin)")
        ->required();
    command->add_option("--out,-o", options->out,
                        "Write the configuration here (default: standard output)");
    command->add_flag("--force", options->force, "Replace --out when it exists");
    command->callback([options, &exit_code] { exit_code = run_import(*options); });
}

}  // namespace certdock::cli
