#pragma once

// Runs a program to completion with a deadline. Internal to the challenge component (the
// hook solver); moves to base if another component needs it.

#include <chrono>
#include <string>
#include <vector>

#include "base/result.hpp"

namespace certdock::challenge::detail {

struct ProcessRun {
    std::vector<std::string> argv;  // argv[0] is the path that is executed, no PATH search
    std::vector<std::string> env;   // "NAME=value", the complete environment
    std::chrono::milliseconds timeout{120'000};
};

struct ProcessOutcome {
    bool timed_out = false;   // killed by us; `wait_status` then says how it died
    int wait_status = 0;      // as waitpid reports it
    std::string stderr_tail;  // the last few KiB the program wrote to stderr

    bool succeeded() const;  // exited by itself with status 0
};

// Starts the program in a process group of its own, stdin and stdout on /dev/null, no other
// descriptor inherited, default signal handling. Past the timeout the group gets SIGTERM, then
// SIGKILL. Fails (kIo) only when the program cannot be started; the error says why in terms
// a user can fix (missing, not executable, no #! line).
Result<ProcessOutcome> run_process(const ProcessRun& run);

// "exited with status 3", "was killed by signal 9 (Killed)".
std::string describe_wait_status(int wait_status);

// The last `max_lines` non-empty lines of `text`, control characters replaced, each line cut
// to a readable length, joined with " | ".
std::string last_lines(std::string_view text, std::size_t max_lines);

}  // namespace certdock::challenge::detail
