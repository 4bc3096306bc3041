#include "challenge/dns01_hook.hpp"

#include <unistd.h>

#include <vector>

#include "challenge/subprocess.hpp"
#include "challenge/task_check.hpp"

extern char** environ;  // NOLINT: POSIX declares it nowhere else

namespace certdock::challenge {
namespace {

constexpr std::string_view kRecordNameVar = "CERTDOCK_CHALLENGE_RECORD_NAME";
constexpr std::string_view kIdentifierTypeVar = "CERTDOCK_IDENTIFIER_TYPE";
constexpr std::size_t kStderrLinesShown = 5;

// Our environment minus the variables this call sets, so a value inherited from a parent
// certdock (or left over for another type) never reaches the hook.
std::vector<std::string> hook_environment(const ChallengeTask& task) {
    std::vector<std::string> env;
    for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
        std::string_view text(*entry);
        std::string_view name = text.substr(0, text.find('='));
        if (name == kRecordNameVar || name == kIdentifierTypeVar) continue;
        env.emplace_back(text);
    }
    env.push_back(std::string(kIdentifierTypeVar) + "=" + task.identifier_type);
    if (task.type == ChallengeType::kDns01) {
        env.push_back(std::string(kRecordNameVar) + "=" + dns01_record_name(task));
    }
    return env;
}

std::string format_duration(std::chrono::milliseconds duration) {
    if (duration.count() % 1000 == 0) return std::to_string(duration.count() / 1000) + " s";
    return std::to_string(duration.count()) + " ms";
}

}  // namespace

Dns01Hook::Dns01Hook(HookOptions options) : options_(std::move(options)) {}

Status Dns01Hook::present(const ChallengeTask& task) {
    CERTDOCK_TRY_STATUS(check_task(task, options_.type));
    if (task.type == ChallengeType::kDns01 && task.identifier_type == "ip") {
        return fail(ErrorCategory::kUsage, "dns-01 cannot validate IP address " + task.identifier +
                                               " (RFC 8738 §7); use http-01 or tls-alpn-01");
    }
    Status begun = run("begin", task);
    begun_[task.token] = !begun;
    return begun;
}

Status Dns01Hook::cleanup(const ChallengeTask& task) {
    auto it = begun_.find(task.token);
    if (it == begun_.end()) return {};  // present() refused the task: nothing to undo
    bool failed = it->second;
    begun_.erase(it);
    return run(failed ? "failed" : "done", task);
}

void Dns01Hook::mark_failed(const ChallengeTask& task) {
    auto it = begun_.find(task.token);
    if (it != begun_.end()) it->second = true;
}

Status Dns01Hook::run(std::string_view method, const ChallengeTask& task) const {
    std::string type_name(challenge_type_name(task.type));
    std::string value =
        task.type == ChallengeType::kDns01 ? dns01_record_value(task) : task.key_authorization;
    detail::ProcessRun process;
    process.argv = {options_.executable.string(),
                    std::string(method),
                    type_name,
                    task.identifier,
                    task.token,
                    value};
    process.env = hook_environment(task);
    process.timeout = options_.timeout;

    std::string call = "hook " + options_.executable.string() + " " + std::string(method) + " " +
                       type_name + " " + task.identifier;
    auto ran = detail::run_process(process);
    if (!ran) return Unexpected(Error(ErrorCategory::kIo, call).caused_by(std::move(ran).error()));
    const detail::ProcessOutcome& outcome = *ran;
    if (outcome.succeeded()) return {};
    Error error(
        ErrorCategory::kIo,
        call + (outcome.timed_out ? " did not finish within " + format_duration(options_.timeout) +
                                        " and was killed"
                                  : " " + detail::describe_wait_status(outcome.wait_status)));
    std::string tail = detail::last_lines(outcome.stderr_tail, kStderrLinesShown);
    if (tail.empty()) return Unexpected(std::move(error));
    return Unexpected(std::move(error).caused_by(Error(ErrorCategory::kIo, "stderr: " + tail)));
}

}  // namespace certdock::challenge
