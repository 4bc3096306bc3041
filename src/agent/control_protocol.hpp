#pragma once

// The control socket's protocol between `certdock ctl` and a running `certdock agent run`:
// one JSON object per line each way, one request and one reply per connection.
//
//   {"command":"status"}                       (optionally "names":["site","api"])
//   {"command":"renew","name":"site","wait":true}
//   {"command":"reload"}
//
// Every reply has "ok"; when false, "error" says what was wrong and what to do. A renewal
// that ran and failed, or a reload that was refused, is still "ok": the request was carried
// out, and its "renew" or "reload" object tells the outcome.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/agent_status.hpp"
#include "base/result.hpp"

namespace certdock::agent {

enum class ControlCommand { kStatus, kRenew, kReload };
std::string_view control_command_name(ControlCommand command);  // "status", "renew", "reload"

struct ControlRequest {
    ControlCommand command = ControlCommand::kStatus;
    std::string name{};                // renew: the certificate
    bool wait = true;                  // renew: answer once it ran (false: once it is queued)
    std::vector<std::string> names{};  // status: only these certificates; empty: all
};

struct RenewReply {
    std::string name{};
    // "delivered", "failed", "not-renewed" (the agent found nothing to do), "queued".
    std::string outcome{};
    std::string serial{};  // delivered: the new certificate's
    std::string error{};   // failed / not-renewed: why
    std::optional<SystemTime> next_retry{};
};

struct ReloadReply {
    bool taken = false;
    std::string summary{};              // taken: "3 certificates, 1 CA, 2 HAProxy targets"
    std::vector<std::string> issues{};  // refused: "file:line: ..." each
    std::vector<std::string> notes{};   // taken: what a reload does not change (the socket)
};

struct StatusReply {
    AgentInfo agent{};
    std::vector<CertificateStatus> certificates{};
};

struct ControlReply {
    bool ok = true;
    std::string error{};
    std::optional<StatusReply> status{};
    std::optional<RenewReply> renew{};
    std::optional<ReloadReply> reload{};

    static ControlReply failure(std::string message) {
        return ControlReply{.ok = false, .error = std::move(message)};
    }
};

// One line, without the trailing '\n'.
std::string encode_request(const ControlRequest& request);
std::string encode_reply(const ControlReply& reply);
// The error says what was malformed, for the reply to a bad request.
Result<ControlRequest> parse_request(std::string_view line);
Result<ControlReply> parse_reply(std::string_view line);

// The status as JSON (`certdock ctl status --json` prints this object).
std::string encode_status_json(const StatusReply& status, int indent);

}  // namespace certdock::agent
