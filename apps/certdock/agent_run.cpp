// certdock agent run: the composition of the agent (ACME sessions per account, solvers from
// the configuration, the state directory) and its loop: scan, renew what is due, sleep until
// the earliest next time. SIGTERM/SIGINT end it between renewals; SIGHUP reloads the
// configuration and keeps the old one when the new one is invalid.

#include "agent_run.hpp"

#include <signal.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>

#include "acme_setup.hpp"
#include "agent/cert_state.hpp"
#include "agent/config.hpp"
#include "agent/renewer.hpp"
#include "base/time.hpp"
#include "cli_support.hpp"
#include "solver_factory.hpp"

namespace certdock::cli {
namespace {

struct RunOptions {
    std::string config_file = "/etc/certdock/certdock.toml";
    bool once = false;
    int deploy_wait_seconds = 30;
};

// One line per event: "2026-01-02T03:04:05Z cert=site issued serial 0a...".
void log_line(std::string_view line) {
    std::cerr << format_rfc3339(std::chrono::time_point_cast<std::chrono::seconds>(
                     std::chrono::system_clock::now()))
              << " " << line << std::endl;
}

AcmeOptions acme_options_for(const agent::AcmeAccount& account) {
    AcmeOptions options;
    options.directory = account.directory;
    options.ca_file = account.ca_roots.string();
    options.account_key = account.account_key.string();
    options.contact = account.contact;
    // Configuring an account is agreeing to its CA's terms, as with HAProxy's acme section.
    options.agree_tos = true;
    if (account.eab) {
        options.eab_kid_file = account.eab->key_id_file.string();
        options.eab_key_file = account.eab->mac_key_file.string();
        options.eab_alg = account.eab->mac_algorithm;
    }
    return options;
}

// One session per account, opened (and the account registered) when first needed.
class AccountSessions {
public:
    Result<acme::Client*> client(const agent::AcmeAccount& account, bool fresh) {
        auto found = sessions_.find(account.name);
        const AcmeOptions options = acme_options_for(account);
        if (found == sessions_.end()) {
            std::error_code ignored;
            std::filesystem::create_directories(account.account_key.parent_path(), ignored);
            CERTDOCK_TRY(AcmeSession session, open_session(options));
            if (session.key_created) {
                log_line("acme=" + account.name + " account key created in " + options.account_key);
            }
            found = sessions_.emplace(account.name, std::move(session)).first;
        }
        if (fresh) found->second.client->forget_account_url();
        auto ensured = ensure_account(found->second, options);
        if (!ensured) {
            sessions_.erase(found);
            return Unexpected(std::move(ensured).error());
        }
        return found->second.client.get();
    }

private:
    std::map<std::string, AcmeSession> sessions_;
};

// http-01 is answered by the certificate's HAProxy targets from their map.
Result<challenge::SolverPtr> solver_for(const agent::Config& config,
                                        const agent::CertificateConfig& certificate) {
    const agent::ChallengeConfig& challenge = certificate.challenge;
    SolverSpec spec{.type = challenge.type,
                    .tls_alpn_listen = challenge.tls_alpn_listen,
                    .dns_hook = challenge.dns_hook.string(),
                    .rfc2136_server = challenge.rfc2136_server,
                    .tsig_key_file = challenge.tsig_key_file.string(),
                    .dns_zone = challenge.dns_zone};
    if (challenge.type == challenge::ChallengeType::kHttp01) {
        for (const auto& name : certificate.placement.haproxy) {
            const agent::HaproxyTarget* target = config.find_haproxy(name);
            if (target == nullptr || target->map.empty()) continue;
            if (!spec.haproxy_map.empty() && spec.haproxy_map != target->map) {
                return fail(ErrorCategory::kUsage,
                            "http-01: the HAProxy targets of certificate \"" + certificate.name +
                                "\" use different maps (" + spec.haproxy_map + ", " + target->map +
                                "); give them the same map");
            }
            spec.haproxy_map = target->map;
            spec.haproxy_endpoints.insert(spec.haproxy_endpoints.end(), target->sockets.begin(),
                                          target->sockets.end());
        }
        if (spec.haproxy_map.empty()) {
            return fail(ErrorCategory::kUsage,
                        "http-01 for certificate \"" + certificate.name +
                            "\" is answered by HAProxy from a map: set map = \"...\" in its "
                            "[haproxy.*] target, or choose challenge = \"dns-01\"");
        }
    }
    return build_solver(spec);
}

// What the agent runs on; rebuilt whole when a reload brings a new configuration.
struct Agent {
    agent::ConfigPtr config;
    AccountSessions sessions;
    std::unique_ptr<agent::DirectoryStateStore> states;
    std::unique_ptr<agent::Renewer> renewer;
};

std::unique_ptr<Agent> make_agent(agent::ConfigPtr config, const RunOptions& options) {
    auto built = std::make_unique<Agent>();
    built->config = config;
    built->states = std::make_unique<agent::DirectoryStateStore>(config->agent.state_dir / "state");
    Agent* self = built.get();
    agent::RenewerDeps deps{
        .clients = [self](const agent::AcmeAccount& account,
                          bool fresh) { return self->sessions.client(account, fresh); },
        .solvers =
            [config](const agent::CertificateConfig& certificate) {
                return solver_for(*config, certificate);
            },
        .states = built->states.get(),
        .log = log_line,
        .deploy_retry_for = std::chrono::seconds(options.deploy_wait_seconds)};
    built->renewer = std::make_unique<agent::Renewer>(config, std::move(deps));
    return built;
}

struct ScanResult {
    bool all_served = true;
    SystemTime next = SystemTime::max();
};

// Every certificate in turn, one at a time: HAProxy has one certificate transaction per
// process, and the CA sees one order at a time from us.
ScanResult scan(Agent& agent) {
    ScanResult result;
    for (const auto& certificate : agent.config->certificates) {
        const std::string prefix = "cert=" + certificate.name + " ";
        auto outcome = agent.renewer->run(certificate);
        if (!outcome) {
            log_line(prefix + "error: " + outcome.error().describe());
            result.all_served = false;
            result.next =
                std::min(result.next, std::chrono::system_clock::now() + std::chrono::minutes(1));
            continue;
        }
        result.next = std::min(result.next, outcome->next);
        switch (outcome->result) {
            case agent::RenewResult::kNotDue:
                if (outcome->check.kind == agent::DueKind::kWaitingRetry) {
                    result.all_served = false;
                    log_line(prefix + "waiting to retry at " + format_rfc3339(outcome->check.next) +
                             " (" + outcome->check.reason + ")");
                } else {
                    log_line(prefix + "not due; next renewal " +
                             format_rfc3339(outcome->check.next) + " (" + outcome->check.reason +
                             ")");
                }
                break;
            case agent::RenewResult::kDelivered:
                break;
            case agent::RenewResult::kFailed:
                result.all_served = false;
                break;
        }
    }
    return result;
}

int run_agent(const RunOptions& options) {
    agent::ConfigCheck check = agent::check_config(options.config_file);
    if (!check.config) {
        for (const auto& issue : check.issues) std::cerr << issue.to_string() << "\n";
        return kExitUsage;
    }
    // Taken by sigtimedwait below rather than by handlers: the loop sees them between
    // renewals, so a renewal is never cut in half. Children get a clean mask (run_process).
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGHUP);
    if (!options.once) sigprocmask(SIG_BLOCK, &signals, nullptr);

    auto current = make_agent(check.config, options);
    log_line("certdock agent: " + options.config_file + ": " + agent::summarize(*check.config));
    while (true) {
        ScanResult result = scan(*current);
        if (options.once) return result.all_served ? kExitOk : kExitFailed;

        const auto now = std::chrono::system_clock::now();
        auto wait = std::clamp<Clock::Duration>(result.next - now, std::chrono::seconds(1),
                                                std::chrono::hours(24));
        log_line("certdock agent: next scan at " +
                 format_rfc3339(std::chrono::time_point_cast<std::chrono::seconds>(now + wait)));
        const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(wait);
        timespec timeout{
            .tv_sec = static_cast<time_t>(seconds.count()),
            .tv_nsec = static_cast<long>(
                std::chrono::duration_cast<std::chrono::nanoseconds>(wait - seconds).count())};
        siginfo_t info{};
        const int signal_number = sigtimedwait(&signals, &info, &timeout);
        if (signal_number == SIGTERM || signal_number == SIGINT) {
            log_line(std::string("certdock agent: ") +
                     (signal_number == SIGTERM ? "SIGTERM" : "SIGINT") + ", exiting");
            return kExitOk;
        }
        if (signal_number == SIGHUP) {
            agent::ConfigCheck reloaded = agent::check_config(options.config_file);
            if (!reloaded.config) {
                for (const auto& issue : reloaded.issues) {
                    log_line("certdock agent: reload: " + issue.to_string());
                }
                log_line("certdock agent: reload refused; keeping the running configuration");
            } else {
                current = make_agent(reloaded.config, options);
                log_line("certdock agent: reloaded " + options.config_file + ": " +
                         agent::summarize(*reloaded.config));
            }
        }
        // Otherwise the timeout (EAGAIN) or an interruption: scan again.
    }
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
