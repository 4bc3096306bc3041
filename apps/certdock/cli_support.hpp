#pragma once

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <memory>
#include <optional>
#include <string>

#include "base/result.hpp"
#include "crypto/key.hpp"

namespace certdock::cli {

// Exit statuses shared by every subcommand.
enum ExitCode : int {
    kExitOk = 0,
    kExitFailed = 1,  // the operation ran and the answer is "no" (chain does not verify, ...)
    kExitUsage = 2,   // bad flags or bad input files: nothing was done
};

// Options most subcommands share; bound to flags by add_common_flags.
struct CommonOptions {
    bool json = false;
};
void add_json_flag(CLI::App& command, CommonOptions& options);

// Prints "certdock: <what went wrong>" on one line and returns the exit status it deserves.
int report_error(const Error& error);

// Reads a file the user named ("-" for standard input). Errors name the file.
Result<std::string> read_input(const std::string& path);

// Reads a passphrase from the first line of a file; secrets never come from argv.
Result<std::optional<std::string>> read_passphrase(const std::string& path);

// The public key of whatever `path` holds: private key, public key, certificate or CSR.
Result<crypto::PublicKey> public_key_from_file(const std::string& path,
                                               const std::optional<std::string>& passphrase);

void print_json(const nlohmann::json& value);

// Runs `run` with the parsed options when `command` is chosen and records its exit status.
template <typename Options>
void bind_command(CLI::App* command, const std::shared_ptr<Options>& options, int& exit_code,
                  Status (*run)(const Options&)) {
    command->callback([options, &exit_code, run] {
        Status status = run(*options);
        exit_code = status ? kExitOk : report_error(status.error());
    });
}

}  // namespace certdock::cli
