#include "support/child_process.hpp"

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>

#include "base/unique_fd.hpp"

extern char** environ;

namespace certdock::test {
namespace {

std::vector<char*> pointers(const std::vector<std::string>& strings) {
    std::vector<char*> out;
    out.reserve(strings.size() + 1);
    for (const std::string& s : strings) out.push_back(const_cast<char*>(s.c_str()));
    out.push_back(nullptr);
    return out;
}

Error io_error(const std::string& what) {
    return Error(ErrorCategory::kIo, what + ": " + std::strerror(errno));
}

}  // namespace

Result<ChildProcessPtr> ChildProcess::spawn(const std::vector<std::string>& argv,
                                            const std::vector<std::string>& env,
                                            const std::filesystem::path& stdout_path,
                                            const std::filesystem::path& stderr_path) {
    std::vector<char*> argv_ptrs = pointers(argv);
    std::vector<char*> env_ptrs = pointers(env);
    char** child_env = env.empty() ? environ : env_ptrs.data();
    constexpr int kLogFlags = O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC;
    UniqueFd null_in(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    UniqueFd out(::open(stdout_path.c_str(), kLogFlags, 0600));
    UniqueFd err(::open(stderr_path.c_str(), kLogFlags, 0600));
    if (!null_in.valid() || !out.valid() || !err.valid()) {
        return Unexpected(io_error("cannot open the log files of " + argv[0]));
    }
    pid_t parent = ::getpid();
    pid_t pid = ::fork();
    if (pid < 0) return Unexpected(io_error("cannot fork to start " + argv[0]));
    if (pid == 0) {
        // Only async-signal-safe calls from here on: the test may have other threads.
        // Die with the test (even on a crash or a ctest timeout) rather than linger and hold
        // ports; the signal follows the forking thread, the test's main thread.
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (::getppid() != parent) ::_exit(127);
        if (::dup2(null_in.get(), 0) < 0 || ::dup2(out.get(), 1) < 0 || ::dup2(err.get(), 2) < 0) {
            ::_exit(127);
        }
        ::close_range(3, ~0U, 0);  // no sockets or pipes of the test leak into the child
        ::execve(argv_ptrs[0], argv_ptrs.data(), child_env);
        ::_exit(127);
    }
    return ChildProcessPtr(new ChildProcess(pid));
}

std::optional<int> ChildProcess::exit_status() {
    if (pid_ > 0) {
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;
            status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        }
    }
    return status_;
}

bool ChildProcess::send_signal(int signal_number) {
    if (exit_status()) return false;
    return ::kill(pid_, signal_number) == 0;
}

void ChildProcess::stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
    status_ = 128 + SIGKILL;
}

}  // namespace certdock::test
