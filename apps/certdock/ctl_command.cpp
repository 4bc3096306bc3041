// certdock ctl: the operator's view of a running agent. Exit 0 when the answer is good (all
// certificates healthy and served; renewed; reloaded), 1 when it is not, 2 when the request
// could not be made (no agent at the socket, bad usage).

#include "ctl_command.hpp"

#include <algorithm>
#include <iostream>
#include <memory>
#include <sstream>

#include "agent/control_client.hpp"
#include "agent/control_protocol.hpp"
#include "base/time.hpp"
#include "cli_support.hpp"
#include "haproxy/replies.hpp"

namespace certdock::cli {
namespace {

struct CtlOptions {
    std::string socket{};
    std::string config_file{};
    bool json = false;
    std::string name{};
    std::vector<std::string> names{};
    bool no_wait = false;
};

constexpr auto kStatusTimeout = std::chrono::minutes(2);
// Renew and reload are carried out by the loop between renewals: they wait for the one
// running (order, delivery, hooks), and a renewal for its own.
constexpr auto kRenewTimeout = std::chrono::hours(1);
constexpr auto kReloadTimeout = kRenewTimeout;
constexpr const char* kDefaultConfig = "/etc/certdock/certdock.toml";

Result<std::filesystem::path> socket_path(const CtlOptions& options) {
    if (!options.socket.empty()) return std::filesystem::path(options.socket);
    if (!options.config_file.empty()) return agent::control_socket_of(options.config_file);
    std::error_code ignored;
    if (std::filesystem::exists(kDefaultConfig, ignored)) {
        return agent::control_socket_of(kDefaultConfig);
    }
    return agent::AgentSettings{}.control_socket;
}

std::string time_or_dash(const std::optional<SystemTime>& time) {
    return time ? format_rfc3339(*time) : "-";
}

std::string state_word(const agent::CertificateStatus& status) {
    if (status.renewing_since) return "renewing";
    if (status.consecutive_failures > 0) {
        return "failing(" + std::to_string(status.consecutive_failures) + ")";
    }
    if (status.serial.empty()) return "not issued";
    return "ok";
}

std::string served_word(const agent::CertificateStatus& status) {
    if (status.served.empty()) return "-";
    const auto good =
        std::count_if(status.served.begin(), status.served.end(), [&](const auto& by) {
            return by.error.empty() && haproxy::same_serial(by.serial, status.serial);
        });
    if (static_cast<size_t>(good) == status.served.size()) return "yes";
    return std::to_string(good) + "/" + std::to_string(status.served.size());
}

void print_table(const std::vector<std::vector<std::string>>& rows) {
    std::vector<size_t> widths;
    for (const auto& row : rows) {
        widths.resize(std::max(widths.size(), row.size()));
        for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
    }
    for (const auto& row : rows) {
        std::string line;
        for (size_t i = 0; i < row.size(); ++i) {
            line += row[i];
            if (i + 1 < row.size()) line += std::string(widths[i] - row[i].size() + 2, ' ');
        }
        std::cout << line << "\n";
    }
}

void print_details(const agent::CertificateStatus& status) {
    std::cout << status.name << ":";
    if (!status.domains.empty()) {
        std::string domains;
        for (const auto& domain : status.domains) domains += (domains.empty() ? "" : ", ") + domain;
        std::cout << " " << domains;
    }
    std::cout << "\n";
    if (status.renewing_since) {
        std::cout << "  renewing since " << format_rfc3339(*status.renewing_since) << "\n";
    }
    if (status.next_renewal) {
        std::cout << "  next renewal " << format_rfc3339(*status.next_renewal) << " ("
                  << status.next_renewal_reason << ")\n";
    }
    if (status.last_attempt) {
        std::cout << "  last attempt " << format_rfc3339(*status.last_attempt) << ": "
                  << status.last_result << "\n";
    }
    if (status.consecutive_failures > 0) {
        std::cout << "  " << status.consecutive_failures << " consecutive failure"
                  << (status.consecutive_failures == 1 ? "" : "s") << "; next retry "
                  << time_or_dash(status.next_retry) << " (" << status.next_retry_reason << ")\n";
    }
    if (!status.last_error.empty() && status.last_result != "success") {
        std::cout << "  error: " << status.last_error << "\n";
    }
    if (!status.key_pin.empty()) std::cout << "  key pin-sha256 " << status.key_pin << "\n";
    if (!status.next_key_pin.empty()) {
        std::cout << "  next key pin-sha256 " << status.next_key_pin << ", TLSA "
                  << status.next_key_tlsa << ", used from "
                  << time_or_dash(status.next_key_usable_after) << "\n";
    }
    for (const auto& by : status.served) {
        std::cout << "  haproxy " << by.haproxy << " " << by.socket << ": ";
        if (!by.error.empty()) {
            std::cout << by.error << "\n";
        } else if (haproxy::same_serial(by.serial, status.serial)) {
            std::cout << "serves " << status.serial << "\n";
        } else {
            std::cout << "serves " << by.serial << ", not "
                      << (status.serial.empty() ? "an issued certificate" : status.serial) << "\n";
        }
    }
}

int print_status(const agent::StatusReply& status, bool json) {
    const bool good =
        std::all_of(status.certificates.begin(), status.certificates.end(),
                    [](const agent::CertificateStatus& c) { return c.served_everywhere(); });
    if (json) {
        std::cout << agent::encode_status_json(status, 2) << "\n";
        return good ? kExitOk : kExitFailed;
    }
    std::cout << "agent pid " << status.agent.pid << ", " << status.agent.config_file
              << ", started " << time_or_dash(status.agent.started) << ", next check "
              << time_or_dash(status.agent.next_scan) << "\n\n";
    std::vector<std::vector<std::string>> rows = {
        {"NAME", "STATE", "SERIAL", "NOT AFTER", "NEXT", "SERVED"}};
    for (const auto& c : status.certificates) {
        const auto& next = c.consecutive_failures > 0 ? c.next_retry : c.next_renewal;
        rows.push_back({c.name, state_word(c), c.serial.empty() ? "-" : c.serial,
                        time_or_dash(c.not_after), time_or_dash(next), served_word(c)});
    }
    print_table(rows);
    std::cout << "\n";
    for (const auto& c : status.certificates) print_details(c);
    return good ? kExitOk : kExitFailed;
}

int print_renew(const agent::RenewReply& renew) {
    if (renew.outcome == "delivered") {
        std::cout << renew.name << ": delivered serial " << renew.serial << "\n";
        return kExitOk;
    }
    if (renew.outcome == "queued") {
        std::cout << renew.name << ": queued; `certdock ctl status` shows when it runs\n";
        return kExitOk;
    }
    std::cout << renew.name << ": " << renew.outcome << ": " << renew.error;
    if (renew.next_retry) std::cout << "; next retry " << format_rfc3339(*renew.next_retry);
    std::cout << "\n";
    return kExitFailed;
}

int print_reload(const agent::ReloadReply& reload) {
    if (reload.taken) {
        std::cout << "reloaded: " << reload.summary << "\n";
        for (const auto& note : reload.notes) std::cout << "note: " << note << "\n";
        return kExitOk;
    }
    std::cout << "reload refused; the agent keeps its running configuration:\n";
    for (const auto& issue : reload.issues) std::cout << "  " << issue << "\n";
    return kExitFailed;
}

int run_ctl(const CtlOptions& options, const agent::ControlRequest& request,
            std::chrono::milliseconds timeout) {
    auto socket = socket_path(options);
    if (!socket) return report_error(socket.error());
    auto reply = agent::exchange(*socket, request, timeout);
    if (!reply) {
        std::cerr << "certdock: " << reply.error().describe() << "\n";
        return kExitUsage;
    }
    if (!reply->ok) {
        std::cerr << "certdock: " << reply->error << "\n";
        return kExitUsage;
    }
    if (options.json && request.command != agent::ControlCommand::kStatus) {
        std::cout << agent::encode_reply(*reply) << "\n";
    }
    switch (request.command) {
        case agent::ControlCommand::kStatus:
            if (reply->status) return print_status(*reply->status, options.json);
            break;
        case agent::ControlCommand::kRenew:
            if (reply->renew) {
                if (!options.json) return print_renew(*reply->renew);
                const auto& outcome = reply->renew->outcome;
                return outcome == "delivered" || outcome == "queued" ? kExitOk : kExitFailed;
            }
            break;
        case agent::ControlCommand::kReload:
            if (reply->reload) {
                if (!options.json) return print_reload(*reply->reload);
                return reply->reload->taken ? kExitOk : kExitFailed;
            }
            break;
    }
    std::cerr << "certdock: the agent's reply lacks the "
              << agent::control_command_name(request.command) << " result\n";
    return kExitUsage;
}

}  // namespace

void register_ctl_command(CLI::App& app, int& exit_code) {
    auto options = std::make_shared<CtlOptions>();
    CLI::App* ctl = app.add_subcommand(
        "ctl", "Ask a running agent (certdock agent run) for its status, a renewal or a reload");
    ctl->require_subcommand(1);
    auto* socket = ctl->add_option("--socket", options->socket,
                                   "The agent's control socket (default: from --config)");
    ctl->add_option("--config,-c", options->config_file,
                    std::string("The agent's configuration file, to find its control-socket "
                                "(default: ") +
                        kDefaultConfig + " if present, else /run/certdock/control.sock)")
        ->excludes(socket);

    CLI::App* status = ctl->add_subcommand(
        "status",
        "Every certificate: serial, expiry, next renewal, last attempt, what HAProxy "
        "serves. Exit 0 when all are healthy and served, 1 if not");
    status->add_option("names", options->names, "Only these certificates (default: all)");
    status->add_flag("--json", options->json, "One JSON object for scripts");
    status->callback([options, &exit_code] {
        exit_code =
            run_ctl(*options, {.command = agent::ControlCommand::kStatus, .names = options->names},
                    kStatusTimeout);
    });

    CLI::App* renew = ctl->add_subcommand(
        "renew", "Renew a certificate now and wait for the outcome (exit 0: delivered)");
    renew->add_option("name", options->name, "The certificate's name in the configuration")
        ->required();
    renew->add_flag("--no-wait", options->no_wait, "Answer once the renewal is queued");
    renew->add_flag("--json", options->json, "Print the agent's JSON reply");
    renew->callback([options, &exit_code] {
        exit_code = run_ctl(*options,
                            {.command = agent::ControlCommand::kRenew,
                             .name = options->name,
                             .wait = !options->no_wait},
                            kRenewTimeout);
    });

    CLI::App* reload = ctl->add_subcommand(
        "reload",
        "Reload the configuration file (as SIGHUP); exit 1 with the issues when the "
        "agent refuses it and keeps the running one");
    reload->add_flag("--json", options->json, "Print the agent's JSON reply");
    reload->callback([options, &exit_code] {
        exit_code = run_ctl(*options, {.command = agent::ControlCommand::kReload}, kReloadTimeout);
    });
}

}  // namespace certdock::cli
