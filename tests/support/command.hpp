#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace certdock::test {

struct CommandResult {
    int exit_code = -1;  // -1 when the program could not run or died of a signal
    std::string out;
    std::string err;
};

// Runs a program (no shell) with extra environment variables, waits for it, and returns its
// exit status and output. Used to test the certdock binary the way a user runs it.
CommandResult run_command(const std::vector<std::string>& argv,
                          const std::map<std::string, std::string>& extra_env = {});

// The certdock binary built with these tests.
std::filesystem::path certdock_binary();

}  // namespace certdock::test
