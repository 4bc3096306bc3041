// certdock agent run: the agent's loop. It checks each certificate when its time has come,
// renews what is due one at a time, publishes a status after each check, and otherwise
// waits in poll() on a signalfd (SIGTERM, SIGINT, SIGHUP) and the control server's command
// queue, with the time to the next check as the timeout. Commands (ctl renew, ctl reload)
// and signals are seen between renewals, so a renewal is never cut in half.
//
// Each event the loop reports has its own on_* function below: a log line and the metrics.

#include "agent_run.hpp"

#include <poll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <iostream>
#include <memory>
#include <unordered_map>

#include "agent/agent_status.hpp"
#include "agent/config.hpp"
#include "agent/control_server.hpp"
#include "agent/key_rotation.hpp"
#include "agent/metrics.hpp"
#include "agent/metrics_server.hpp"
#include "agent/renewer.hpp"
#include "agent_setup.hpp"
#include "base/log.hpp"
#include "base/sd_notify.hpp"
#include "base/time.hpp"
#include "cli_support.hpp"

namespace certdock::cli {
namespace {

using agent::CertificateConfig;
using agent::DueCheck;
using agent::DueKind;
using agent::RenewOutcome;
using agent::RenewResult;

struct RunOptions {
    std::string config_file = "/etc/certdock/certdock.toml";
    bool once = false;
    int deploy_wait_seconds = 30;
};

constexpr auto kStateErrorRetry = std::chrono::minutes(1);
constexpr auto kLongestWait = std::chrono::hours(24);
constexpr std::string_view kForcedReason = "renewal asked for with certdock ctl renew";

SystemTime now_seconds() {
    return std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
}

// What the loop last decided for a certificate, so "not due" is logged when it changes only.
struct Decision {
    DueKind kind = DueKind::kNotDue;
    SystemTime next{};
    bool operator==(const Decision&) const = default;
};

// What one certificate check came to.
struct CheckResult {
    std::optional<RenewOutcome> outcome{};  // unset: the state could not be read or written
    std::string error{};
};

class AgentLoop {
public:
    AgentLoop(const RunOptions& options, const agent::ConfigPtr& config, agent::StatusBoard& board,
              Logger& logger, agent::AgentMetrics& metrics)
        : options_(options), board_(board), logger_(logger), metrics_(metrics) {
        install(config);
        on_config_loaded();
    }

    // --once: every certificate checked, renewed when due; true when all are served.
    bool run_once() {
        bool all_served = true;
        for (const auto& certificate : agent_->config->certificates) {
            CheckResult result = check(certificate);
            if (!result.outcome || result.outcome->result == RenewResult::kFailed ||
                result.outcome->check.kind == DueKind::kWaitingRetry) {
                all_served = false;
            }
        }
        return all_served;
    }

    // Until SIGTERM or SIGINT; `signals` is a signalfd, `queue` the control server's.
    int run(int signals, agent::CommandQueue& queue, SdNotifier& notifier) {
        signals_ = signals;
        queue_ = &queue;
        notifier_ = &notifier;
        while (!stop_requested_) {
            scan_due();
            if (stop_requested_) break;
            wait_for_event(time_to_next_check());
        }
        return kExitOk;
    }

private:
    // ---- events -------------------------------------------------------------------------

    // "cert=<name> ..." lines become events with a cert field (base/log.hpp).
    void log_line(std::string_view line) { logger_.line(line); }

    void on_config_loaded() {
        log_line("certdock agent: " + options_.config_file + ": " +
                 agent::summarize(*agent_->config));
    }
    void on_checked(const CertificateConfig& certificate, const DueCheck& check) {
        const Decision decision{.kind = check.kind, .next = check.next};
        auto& last = decisions_[certificate.name];
        if (last && *last == decision) return;
        last = decision;
        const std::string prefix = "cert=" + certificate.name + " ";
        if (check.kind == DueKind::kWaitingRetry) {
            log_line(prefix + "waiting to retry at " + format_rfc3339(check.next) + " (" +
                     check.reason + ")");
        } else if (check.kind == DueKind::kNotDue) {
            log_line(prefix + "not due; next renewal " + format_rfc3339(check.next) + " (" +
                     check.reason + ")");
        }
    }
    void on_renewal_started(const CertificateConfig& certificate, const DueCheck& check) {
        // The Renewer logs the steps and the outcome; this marks the start for `ctl status`.
        board_.begin_renewal(certificate.name, now_seconds());
        log_line("cert=" + certificate.name + " renewing: " +
                 std::string(agent::due_kind_name(check.kind)) + " (" + check.reason + ")");
    }
    // The Renewer logged the outcome.
    void on_renewal_finished(const CertificateConfig& certificate, const RenewOutcome& outcome) {
        board_.end_renewal(certificate.name);
        metrics_.observe_outcome(certificate, outcome);
        // The next check logs its decision again: the renewal changed it.
        decisions_[certificate.name].reset();
    }
    void on_check_failed(const CertificateConfig& certificate, const Error& error) {
        board_.end_renewal(certificate.name);
        logger_.error("error: " + error.describe(), {{"cert", certificate.name}});
        decisions_[certificate.name].reset();
    }
    void on_scan_finished(std::size_t checked, std::chrono::steady_clock::duration took) {
        if (checked > 0) metrics_.observe_scan(took);
        const SystemTime next = earliest_check();
        const bool scheduled = next != SystemTime::max();  // false: no certificates
        board_.update_scan_times(now_seconds(),
                                 scheduled ? std::optional<SystemTime>(next) : std::nullopt);
        std::size_t failing = 0;
        for (const auto& [name, failed] : failing_) failing += failed ? 1 : 0;
        const std::size_t count = agent_->config->certificates.size();
        const std::string summary = std::to_string(count) +
                                    (count == 1 ? " certificate, " : " certificates, ") +
                                    std::to_string(failing) + " failing; next check " +
                                    (scheduled ? format_rfc3339(next) : std::string("none"));
        if (checked > 0) log_line("certdock agent: " + summary);
        if (notifier_ != nullptr) notify(notifier_->status(summary));
    }
    void on_reload_refused(const std::vector<agent::ConfigIssue>& issues) {
        for (const auto& issue : issues)
            logger_.warn("certdock agent: reload: " + issue.to_string());
        logger_.warn("certdock agent: reload refused; keeping the running configuration");
    }
    void on_reload_taken(const std::vector<std::string>& notes) {
        log_line("certdock agent: reloaded " + options_.config_file + ": " +
                 agent::summarize(*agent_->config));
        for (const auto& note : notes) log_line("certdock agent: reload: " + note);
    }
    void on_stop_signal(int signal_number) {
        log_line(std::string("certdock agent: ") +
                 (signal_number == SIGTERM ? "SIGTERM" : "SIGINT") + ", exiting");
        stop_requested_ = true;
    }
    void on_notify_failed(const Error& error) {
        logger_.warn("certdock agent: " + error.describe());
    }

    // ---- work ---------------------------------------------------------------------------

    void install(const agent::ConfigPtr& config) {
        agent_ = make_agent(
            config, std::chrono::seconds(options_.deploy_wait_seconds),
            [this](std::string_view line) { logger_.line(line); },
            [this](const std::string& account) { return metrics_.acme_observer(account); });
        board_.set_config(config);
        metrics_.configure(*config);
        next_check_.clear();
        failing_.clear();
    }

    // One certificate: decide, renew when due, publish what its state says now.
    CheckResult check(const CertificateConfig& certificate) {
        CheckResult result;
        auto due = agent_->renewer->check_due(certificate);
        if (due && due->due()) on_renewal_started(certificate, *due);
        auto outcome =
            due ? agent_->renewer->run(certificate, *due) : Result<RenewOutcome>(due.error());
        if (!outcome) {
            on_check_failed(certificate, outcome.error());
            result.error = outcome.error().describe();
            next_check_[certificate.name] = now_seconds() + kStateErrorRetry;
            failing_[certificate.name] = true;
            publish(certificate, "error", outcome.error().describe());
            return result;
        }
        if (outcome->result == RenewResult::kNotDue) {
            on_checked(certificate, outcome->check);
        } else {
            on_renewal_finished(certificate, *outcome);
        }
        next_check_[certificate.name] = outcome->next;
        failing_[certificate.name] = outcome->result == RenewResult::kFailed ||
                                     outcome->check.kind == DueKind::kWaitingRetry;
        publish(certificate, decision_name(*outcome), {});
        result.outcome = std::move(*outcome);
        return result;
    }

    static std::string decision_name(const RenewOutcome& outcome) {
        switch (outcome.result) {
            case RenewResult::kDelivered:
                return "not-due";
            case RenewResult::kFailed:
                return "waiting-retry";
            case RenewResult::kNotDue:
                break;
        }
        return std::string(agent::due_kind_name(outcome.check.kind));
    }

    void publish(const CertificateConfig& certificate, std::string decision,
                 const std::string& error) {
        auto state = agent_->states->load(certificate.name);
        if (state) metrics_.observe(certificate, *state);
        agent::CertificateStatus status = agent::status_from_state(
            certificate, state ? *state : agent::CertState{}, std::move(decision));
        if (!state) status.last_error = state.error().describe();
        if (certificate.key.reuse == agent::ReuseKey::kRotate) add_next_key(certificate, status);
        if (!error.empty()) status.last_error = error;
        board_.update(std::move(status));
    }

    // The next key's pins, read from its file (a few rotating certificates, not thousands).
    static void add_next_key(const CertificateConfig& certificate,
                             agent::CertificateStatus& status) {
        auto pins = agent::rotation_pins(certificate.key);
        if (!pins) {
            status.next_key_pin = "unreadable: " + pins.error().describe();
            return;
        }
        if (!pins->next) return;
        status.next_key_pin = pins->next->pin_sha256;
        status.next_key_tlsa = "3 1 1 " + pins->next->tlsa_311;
        status.next_key_usable_after = pins->next_usable_after;
    }

    // Every certificate whose time has come, in configuration order. Stops early when a
    // signal or a command arrives; the rest are still due at the next pass.
    void scan_due() {
        const auto started = std::chrono::steady_clock::now();
        std::size_t checked = 0;
        for (const auto& certificate : agent_->config->certificates) {
            auto next = next_check_.find(certificate.name);
            if (next != next_check_.end() && next->second > std::chrono::system_clock::now()) {
                continue;
            }
            check(certificate);
            ++checked;
            if (event_pending()) break;
        }
        on_scan_finished(checked, std::chrono::steady_clock::now() - started);
    }

    SystemTime earliest_check() const {
        SystemTime earliest = SystemTime::max();
        for (const auto& certificate : agent_->config->certificates) {
            auto next = next_check_.find(certificate.name);
            if (next == next_check_.end()) return now_seconds();
            earliest = std::min(earliest, next->second);
        }
        return earliest;
    }

    std::chrono::milliseconds time_to_next_check() const {
        const SystemTime next = earliest_check();
        if (next == SystemTime::max()) return kLongestWait;
        return std::clamp<std::chrono::milliseconds>(
            std::chrono::duration_cast<std::chrono::milliseconds>(next -
                                                                  std::chrono::system_clock::now()),
            std::chrono::milliseconds(0), kLongestWait);
    }

    bool event_pending() const {
        pollfd fds[2] = {{signals_, POLLIN, 0}, {queue_ ? queue_->wake_fd() : -1, POLLIN, 0}};
        return signals_ >= 0 && ::poll(fds, 2, 0) > 0;
    }

    void wait_for_event(std::chrono::milliseconds timeout) {
        pollfd fds[2] = {{signals_, POLLIN, 0}, {queue_->wake_fd(), POLLIN, 0}};
        const int ready = ::poll(fds, 2, static_cast<int>(timeout.count()));
        if (ready <= 0) return;  // the time of a check has come, or EINTR
        if (fds[0].revents != 0) take_signals();
        if (fds[1].revents != 0) {
            for (auto& command : queue_->take()) carry_out(command);
        }
    }

    void take_signals() {
        signalfd_siginfo info{};
        while (::read(signals_, &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
            const int signal_number = static_cast<int>(info.ssi_signo);
            if (signal_number == SIGHUP) {
                reload();
            } else {
                on_stop_signal(signal_number);
            }
        }
    }

    void carry_out(agent::PendingCommand& command) {
        agent::ControlReply reply;
        switch (command.request.command) {
            case agent::ControlCommand::kRenew:
                reply = renew_now(command.request.name);
                break;
            case agent::ControlCommand::kReload:
                reply.reload = reload();
                break;
            case agent::ControlCommand::kStatus:
                reply = agent::ControlReply::failure("status is answered by the control server");
                break;
        }
        command.reply.set_value(std::move(reply));
    }

    // ctl renew NAME: made due now through its state, then checked as any other.
    agent::ControlReply renew_now(const std::string& name) {
        const CertificateConfig* certificate = nullptr;
        for (const auto& candidate : agent_->config->certificates) {
            if (candidate.name == name) certificate = &candidate;
        }
        if (certificate == nullptr) {
            return agent::ControlReply::failure("no certificate named \"" + name +
                                                "\" in the running configuration");
        }
        if (auto forced = force_due(name); !forced) {
            return agent::ControlReply::failure(forced.error().describe());
        }
        CheckResult result = check(*certificate);
        agent::RenewReply renew{.name = name};
        if (!result.outcome) {
            renew.outcome = "failed";
            renew.error = result.error;
        } else if (result.outcome->result == RenewResult::kDelivered) {
            renew.outcome = "delivered";
            renew.serial = result.outcome->serial;
        } else if (result.outcome->result == RenewResult::kFailed) {
            renew.outcome = "failed";
            renew.error = result.outcome->error;
            renew.next_retry = result.outcome->next;
        } else {
            renew.outcome = "not-renewed";
            renew.error = result.outcome->check.reason;
        }
        return agent::ControlReply{.renew = std::move(renew)};
    }

    Status force_due(const std::string& name) {
        CERTDOCK_TRY(agent::CertState state, agent_->states->load(name));
        const SystemTime now = now_seconds();
        if (state.consecutive_failures > 0) {
            state.next_retry = now;
            state.next_retry_reason = kForcedReason;
        } else {
            state.next_renewal = now;
            state.next_renewal_reason = kForcedReason;
        }
        return agent_->states->save(name, state);
    }

    // SIGHUP and ctl reload: a valid file replaces the running configuration whole; an
    // invalid one is refused and the running one stays.
    agent::ReloadReply reload() {
        if (notifier_ != nullptr) notify(notifier_->reloading());
        agent::ReloadReply reply;
        agent::ConfigCheck reloaded = agent::check_config(options_.config_file);
        if (!reloaded.config) {
            for (const auto& issue : reloaded.issues) reply.issues.push_back(issue.to_string());
            on_reload_refused(reloaded.issues);
        } else {
            if (reloaded.config->agent.metrics_listen != agent_->config->agent.metrics_listen) {
                reply.notes.push_back("metrics-listen changed to \"" +
                                      reloaded.config->agent.metrics_listen +
                                      "\"; metrics stay where they are until the agent is "
                                      "restarted");
            }
            if (reloaded.config->agent.control_socket != agent_->config->agent.control_socket) {
                reply.notes.push_back(
                    "control-socket changed to " + reloaded.config->agent.control_socket.string() +
                    "; the agent keeps answering on " +
                    agent_->config->agent.control_socket.string() + " until it is restarted");
            }
            install(reloaded.config);
            reply.taken = true;
            reply.summary = agent::summarize(*reloaded.config);
            on_reload_taken(reply.notes);
        }
        if (notifier_ != nullptr) notify(notifier_->ready());
        return reply;
    }

    void notify(const Status& sent) {
        if (!sent) on_notify_failed(sent.error());
    }

    const RunOptions& options_;
    agent::StatusBoard& board_;
    Logger& logger_;
    agent::AgentMetrics& metrics_;
    std::unique_ptr<Agent> agent_{};
    std::unordered_map<std::string, SystemTime> next_check_{};
    std::unordered_map<std::string, bool> failing_{};
    std::unordered_map<std::string, std::optional<Decision>> decisions_{};
    int signals_ = -1;
    agent::CommandQueue* queue_ = nullptr;
    SdNotifier* notifier_ = nullptr;
    bool stop_requested_ = false;
};

// SIGTERM, SIGINT and SIGHUP are blocked in every thread and read from a signalfd by the
// loop. Blocked before the control server starts its threads, which inherit the mask.
Result<UniqueFd> take_signals() {
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGHUP);
    if (::pthread_sigmask(SIG_BLOCK, &signals, nullptr) != 0) {
        return fail(ErrorCategory::kInternal, "cannot block SIGTERM, SIGINT and SIGHUP");
    }
    UniqueFd fd(::signalfd(-1, &signals, SFD_CLOEXEC | SFD_NONBLOCK));
    if (!fd.valid()) {
        return fail(ErrorCategory::kIo,
                    std::string("cannot create a signalfd: ") + std::strerror(errno));
    }
    return fd;
}

int run_agent(const RunOptions& options) {
    agent::ConfigCheck check = agent::check_config(options.config_file);
    if (!check.config) {
        for (const auto& issue : check.issues) std::cerr << issue.to_string() << "\n";
        return kExitUsage;
    }
    Logger logger(check.config->agent.log_format == agent::LogFormat::kJson ? LogFormat::kJson
                                                                            : LogFormat::kText);
    agent::AgentMetrics metrics(CERTDOCK_VERSION);
    agent::StatusBoard board;
    if (options.once) {
        AgentLoop loop(options, check.config, board, logger, metrics);
        return loop.run_once() ? kExitOk : kExitFailed;
    }

    auto signals = take_signals();
    if (!signals) return report_error(signals.error());
    agent::CommandQueue queue;
    board.set_agent({.pid = static_cast<long>(::getpid()),
                     .config_file = options.config_file,
                     .started = now_seconds()});
    board.set_config(check.config);
    auto server =
        agent::ControlServer::start({.socket = check.config->agent.control_socket}, board, queue);
    if (!server) return report_error(server.error());
    logger.info("certdock agent: control socket " + check.config->agent.control_socket.string());

    // Declared before the loop, so it stops after the loop and before the metrics it reads.
    std::unique_ptr<agent::MetricsServer> metrics_server;
    if (!check.config->agent.metrics_listen.empty()) {
        auto started =
            agent::MetricsServer::start({.listen = check.config->agent.metrics_listen,
                                         .metrics = [&metrics] { return metrics.render(); }});
        if (!started) return report_error(started.error());
        metrics_server = std::move(*started);
        logger.info("certdock agent: metrics at http://" + metrics_server->address() + "/metrics");
    }

    SdNotifier notifier = SdNotifier::from_environment();
    AgentLoop loop(options, check.config, board, logger, metrics);
    // Ready once the configuration is loaded and `certdock ctl` can connect: the first scan
    // may run orders for minutes, and `systemctl start` should not wait for them.
    if (auto ready = notifier.ready(); !ready) {
        logger.warn("certdock agent: " + ready.error().describe());
    }
    const int exit_code = loop.run(signals->get(), queue, notifier);
    if (auto stopping = notifier.stopping(); !stopping) {
        logger.warn("certdock agent: " + stopping.error().describe());
    }
    queue.close("the agent is stopping");
    (*server)->stop();
    return exit_code;
}

}  // namespace

void register_agent_run(CLI::App& agent, int& exit_code) {
    auto options = std::make_shared<RunOptions>();
    CLI::App* run = agent.add_subcommand(
        "run", "Keep every certificate of the configuration issued, renewed and served");
    run->add_option("--config,-c", options->config_file, "The agent's configuration file")
        ->capture_default_str();
    run->add_flag("--once", options->once,
                  "One scan, then exit: 0 when every certificate is issued and served, 1 if not");
    run->add_option("--deploy-wait", options->deploy_wait_seconds,
                    "Seconds an unreachable HAProxy is retried within one delivery")
        ->capture_default_str();
    run->callback([options, &exit_code] { exit_code = run_agent(*options); });
}

}  // namespace certdock::cli
