#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <string>

#include "challenge/solver.hpp"

namespace certdock::challenge {

struct HookOptions {
    std::filesystem::path executable;  // run directly, never through a shell
    // dns-01 is the usual case; http-01 and tls-alpn-01 let a script deploy the response to a
    // web server or load balancer certdock cannot reach itself.
    ChallengeType type = ChallengeType::kDns01;
    // After this the hook's process group gets SIGTERM, and SIGKILL two seconds later.
    std::chrono::milliseconds timeout{120'000};
};

// Publishes challenge responses through an external program, with uacme's hook contract
// (docs/hooks.md):
//
//   <executable> <method> <type> <identifier> <token> <value>
//
// method is "begin" from present(); from cleanup() it is "done", or "failed" when the begin
// call failed or mark_failed() was called for the task. type is "dns-01", "http-01" or
// "tls-alpn-01"; identifier is the domain without "*." (or the IP address); value is the TXT
// record value base64url(SHA-256(key authorization)) for dns-01 and the key authorization
// otherwise. The environment is certdock's, plus CERTDOCK_IDENTIFIER_TYPE ("dns" or "ip")
// and, for dns-01, CERTDOCK_CHALLENGE_RECORD_NAME ("_acme-challenge.example.com"). stdin and
// stdout are /dev/null; stderr is kept for the error message. Exit status 0 means done.
//
// The hook sees pairs: cleanup() runs it only for a task whose begin it ran. wait_ready()
// does not check propagation; a hook returns from begin once the value is visible.
class Dns01Hook final : public Solver {
public:
    explicit Dns01Hook(HookOptions options);

    ChallengeType type() const override { return options_.type; }
    // Errors (kIo) name the hook and the call, and quote the exit status or signal and the
    // last lines of the hook's stderr; a timeout says so. kUsage for a task of another type,
    // a malformed one, or dns-01 for an IP address (RFC 8738 §7); the hook does not run then.
    Status present(const ChallengeTask& task) override;
    Status cleanup(const ChallengeTask& task) override;

    // The CA refused the challenge: the task's cleanup() reports "failed" instead of "done",
    // so the script can keep what it needs to investigate.
    void mark_failed(const ChallengeTask& task);

private:
    Status run(std::string_view method, const ChallengeTask& task) const;

    HookOptions options_;
    std::map<std::string, bool> begun_;  // token -> failed, for tasks awaiting cleanup
};

}  // namespace certdock::challenge
