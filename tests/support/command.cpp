#include "support/command.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "support/temp_dir.hpp"

extern char** environ;

namespace certdock::test {
namespace {

std::string slurp(const std::filesystem::path& path) {
    std::ifstream in(path);
    std::stringstream content;
    content << in.rdbuf();
    return content.str();
}

}  // namespace

CommandResult run_command(const std::vector<std::string>& argv,
                          const std::map<std::string, std::string>& extra_env) {
    TempDir dir;
    const auto out_path = dir.path() / "stdout";
    const auto err_path = dir.path() / "stderr";
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out_path.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err_path.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0600);

    std::vector<std::string> env_strings;
    for (char** entry = environ; *entry != nullptr; ++entry) env_strings.emplace_back(*entry);
    for (const auto& [name, value] : extra_env) env_strings.push_back(name + "=" + value);
    std::vector<char*> env;
    env.reserve(env_strings.size() + 1);
    for (auto& entry : env_strings) env.push_back(entry.data());
    env.push_back(nullptr);
    std::vector<std::string> args = argv;
    std::vector<char*> raw_args;
    raw_args.reserve(args.size() + 1);
    for (auto& arg : args) raw_args.push_back(arg.data());
    raw_args.push_back(nullptr);

    CommandResult result;
    pid_t pid = 0;
    int rc = posix_spawn(&pid, raw_args[0], &actions, nullptr, raw_args.data(), env.data());
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
        result.err = "cannot run " + args[0];
        return result;
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
    result.out = slurp(out_path);
    result.err = slurp(err_path);
    return result;
}

std::filesystem::path certdock_binary() {
    return CERTDOCK_BINARY;
}

}  // namespace certdock::test
