#include "challenge/subprocess.hpp"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <thread>

#include "base/unique_fd.hpp"

namespace certdock::challenge::detail {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr std::size_t kMaxStderrKept = std::size_t{16} * 1024;
constexpr std::size_t kMaxLineShown = 200;
constexpr milliseconds kPollInterval{20};  // how often an exit is noticed while stderr is open
constexpr milliseconds kKillGrace{2'000};  // between SIGTERM and SIGKILL

// posix_spawn's attribute and file-action objects, destroyed on scope exit.
struct SpawnSetup {
    posix_spawnattr_t attr{};
    posix_spawn_file_actions_t actions{};
    SpawnSetup() {
        posix_spawnattr_init(&attr);
        posix_spawn_file_actions_init(&actions);
    }
    SpawnSetup(const SpawnSetup&) = delete;
    SpawnSetup& operator=(const SpawnSetup&) = delete;
    ~SpawnSetup() {
        posix_spawn_file_actions_destroy(&actions);
        posix_spawnattr_destroy(&attr);
    }
};

Error start_error(const std::string& path, int err) {
    std::string why;
    switch (err) {
        case ENOENT:
            why = "no such file";
            break;
        case EACCES:
            why =
                "permission denied: the file must be executable (chmod +x) and its directory "
                "searchable";
            break;
        case ENOEXEC:
            why = "not a program: a script needs a #! line";
            break;
        default:
            why = std::strerror(err);
    }
    return Error(ErrorCategory::kIo, "cannot run " + path + ": " + why);
}

// Appends what is readable now; false once the pipe reached end of file or failed.
bool read_available(int fd, std::string& kept) {
    std::array<char, 4096> buffer{};
    while (true) {
        ssize_t n = ::read(fd, buffer.data(), buffer.size());
        if (n > 0) {
            kept.append(buffer.data(), static_cast<std::size_t>(n));
            if (kept.size() > kMaxStderrKept) kept.erase(0, kept.size() - kMaxStderrKept);
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
    }
}

enum class Wait { kExited, kTimedOut, kFailed };

// Waits for `pid` until `deadline`, collecting its stderr meanwhile; `status` is set on
// kExited, errno tells why on kFailed.
Wait wait_until(pid_t pid, Clock::time_point deadline, int stderr_fd, std::string& kept,
                int& status) {
    bool pipe_open = stderr_fd >= 0;
    while (true) {
        pid_t done = ::waitpid(pid, &status, WNOHANG);
        if (done == pid) {
            if (pipe_open) read_available(stderr_fd, kept);
            return Wait::kExited;
        }
        if (done < 0 && errno != EINTR) return Wait::kFailed;
        auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
        if (left <= milliseconds::zero()) return Wait::kTimedOut;
        milliseconds step = std::min(left, kPollInterval);
        if (pipe_open) {
            pollfd entry{stderr_fd, POLLIN, 0};
            if (::poll(&entry, 1, static_cast<int>(step.count())) > 0) {
                pipe_open = read_available(stderr_fd, kept);
            }
        } else {
            std::this_thread::sleep_for(step);
        }
    }
}

Error wait_error(const std::string& path, int err) {
    return Error(ErrorCategory::kIo, "cannot learn how " + path + " ended: " + std::strerror(err) +
                                         (err == ECHILD ? " (is SIGCHLD ignored?)" : ""));
}

std::vector<char*> pointers(const std::vector<std::string>& strings) {
    std::vector<char*> out;
    out.reserve(strings.size() + 1);
    for (const auto& s : strings) out.push_back(const_cast<char*>(s.c_str()));
    out.push_back(nullptr);
    return out;
}

}  // namespace

Result<ProcessOutcome> run_process(const ProcessRun& run) {
    if (run.argv.empty() || run.argv.front().empty()) {
        return fail(ErrorCategory::kUsage, "no program to run");
    }
    const std::string& path = run.argv.front();
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) {
        return fail(ErrorCategory::kIo,
                    std::string("cannot create a pipe: ") + std::strerror(errno));
    }
    UniqueFd read_end(fds[0]);
    UniqueFd write_end(fds[1]);

    SpawnSetup setup;
    sigset_t signals;
    sigemptyset(&signals);
    posix_spawnattr_setsigmask(&setup.attr, &signals);
    // Ignored signals survive exec; a hook must not inherit our SIGPIPE disposition.
    sigfillset(&signals);
    posix_spawnattr_setsigdefault(&setup.attr, &signals);
    // Its own group, so a timeout also ends what the hook started (nsupdate, sleep, curl).
    posix_spawnattr_setpgroup(&setup.attr, 0);
    posix_spawnattr_setflags(
        &setup.attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
    posix_spawn_file_actions_adddup2(&setup.actions, write_end.get(), STDERR_FILENO);
    posix_spawn_file_actions_addopen(&setup.actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&setup.actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    // Listening sockets and key files of other threads stay out of the hook.
    posix_spawn_file_actions_addclosefrom_np(&setup.actions, STDERR_FILENO + 1);

    std::vector<char*> argv = pointers(run.argv);
    std::vector<char*> envp = pointers(run.env);
    pid_t pid = 0;
    int err =
        ::posix_spawn(&pid, path.c_str(), &setup.actions, &setup.attr, argv.data(), envp.data());
    if (err != 0) return Unexpected(start_error(path, err));
    write_end.reset();  // so the pipe reaches end of file when the hook's side closes
    ::fcntl(read_end.get(), F_SETFL, O_NONBLOCK);

    ProcessOutcome outcome;
    Wait result = wait_until(pid, Clock::now() + run.timeout, read_end.get(), outcome.stderr_tail,
                             outcome.wait_status);
    if (result == Wait::kTimedOut) {
        outcome.timed_out = true;
        ::kill(-pid, SIGTERM);
        result = wait_until(pid, Clock::now() + kKillGrace, read_end.get(), outcome.stderr_tail,
                            outcome.wait_status);
    }
    if (result == Wait::kTimedOut) {
        ::kill(-pid, SIGKILL);
        pid_t done = 0;
        while ((done = ::waitpid(pid, &outcome.wait_status, 0)) < 0 && errno == EINTR) {
        }
        result = done == pid ? Wait::kExited : Wait::kFailed;
    }
    if (result == Wait::kFailed) return Unexpected(wait_error(path, errno));
    return outcome;
}

bool ProcessOutcome::succeeded() const {
    return !timed_out && WIFEXITED(wait_status) && WEXITSTATUS(wait_status) == 0;
}

std::string describe_wait_status(int wait_status) {
    if (WIFEXITED(wait_status))
        return "exited with status " + std::to_string(WEXITSTATUS(wait_status));
    if (WIFSIGNALED(wait_status)) {
        int sig = WTERMSIG(wait_status);
        return "was killed by signal " + std::to_string(sig) + " (" + ::strsignal(sig) + ")";
    }
    return "ended with wait status " + std::to_string(wait_status);
}

std::string last_lines(std::string_view text, std::size_t max_lines) {
    std::vector<std::string_view> lines;
    while (!text.empty() && lines.size() < max_lines) {
        if (text.back() == '\n' || text.back() == '\r') {
            text.remove_suffix(1);
            continue;
        }
        std::size_t start = text.find_last_of('\n');
        start = start == std::string_view::npos ? 0 : start + 1;
        lines.push_back(text.substr(start));
        text = text.substr(0, start);
    }
    std::string out;
    for (auto it = lines.rbegin(); it != lines.rend(); ++it) {
        std::string_view line = *it;
        if (!out.empty()) out += " | ";
        for (char c : line.substr(0, kMaxLineShown)) {
            auto byte = static_cast<unsigned char>(c);
            out += (byte < 0x20 || byte == 0x7f) ? '?' : c;
        }
        if (line.size() > kMaxLineShown) out += "...";
    }
    return out;
}

}  // namespace certdock::challenge::detail
