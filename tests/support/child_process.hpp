#pragma once

#include <sys/types.h>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/result.hpp"

namespace certdock::test {

// A server a test starts: stdin on /dev/null, stdout and stderr appended to files, and killed
// with the test if the test dies. Destroying it kills it (SIGKILL) and reaps it.
class ChildProcess {
public:
    // `env` empty: the test's own environment.
    static Result<std::unique_ptr<ChildProcess>> spawn(const std::vector<std::string>& argv,
                                                       const std::vector<std::string>& env,
                                                       const std::filesystem::path& stdout_path,
                                                       const std::filesystem::path& stderr_path);

    ChildProcess(const ChildProcess&) = delete;
    ChildProcess& operator=(const ChildProcess&) = delete;
    ~ChildProcess() { stop(); }

    // The exit status once the process has ended (128 + signal when killed); nothing while
    // it runs.
    std::optional<int> exit_status();
    void stop();
    // Sends `signal_number` while the process runs (SIGHUP, SIGTERM, SIGKILL as an operator
    // would); false once it has ended.
    bool send_signal(int signal_number);
    pid_t pid() const { return pid_; }

private:
    explicit ChildProcess(pid_t pid) : pid_(pid) {}

    pid_t pid_;
    std::optional<int> status_;
};

using ChildProcessPtr = std::unique_ptr<ChildProcess>;

}  // namespace certdock::test
