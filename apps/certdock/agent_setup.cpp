#include "agent_setup.hpp"

#include <filesystem>

#include "agent/cached_state_store.hpp"
#include "solver_factory.hpp"

namespace certdock::cli {
namespace {

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

}  // namespace

Result<acme::Client*> AccountSessions::client(const agent::AcmeAccount& account, bool fresh) {
    auto found = sessions_.find(account.name);
    AcmeOptions options = acme_options_for(account);
    if (observers_) options.observe_requests = observers_(account.name);
    if (found == sessions_.end()) {
        std::error_code ignored;
        std::filesystem::create_directories(account.account_key.parent_path(), ignored);
        CERTDOCK_TRY(AcmeSession session, open_session(options));
        if (session.key_created && log_) {
            log_("acme=" + account.name + " account key created in " + options.account_key);
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

std::unique_ptr<Agent> make_agent(const agent::ConfigPtr& config, std::chrono::seconds deploy_wait,
                                  const agent::EventLog& log, const AcmeObservers& observers) {
    auto built = std::make_unique<Agent>();
    built->config = config;
    built->sessions = std::make_unique<AccountSessions>(log, observers);
    // The agent is the only writer of its states: a scan reads them from memory.
    built->states = std::make_unique<agent::CachedStateStore>(
        std::make_unique<agent::DirectoryStateStore>(config->agent.state_dir / "state"));
    AccountSessions* sessions = built->sessions.get();
    agent::RenewerDeps deps{
        .clients = [sessions](const agent::AcmeAccount& account,
                              bool fresh) { return sessions->client(account, fresh); },
        .solvers =
            [config](const agent::CertificateConfig& certificate) {
                return solver_for(*config, certificate);
            },
        .states = built->states.get(),
        .log = log,
        .deploy_retry_for = deploy_wait};
    built->renewer = std::make_unique<agent::Renewer>(config, std::move(deps));
    return built;
}

}  // namespace certdock::cli
