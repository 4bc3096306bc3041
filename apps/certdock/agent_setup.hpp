#pragma once

// The composition of a running agent from its configuration: ACME sessions per account,
// solvers from the certificate's challenge settings, the state directory and the Renewer.
// Rebuilt whole when a reload brings a new configuration.

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "acme_setup.hpp"
#include "agent/cert_state.hpp"
#include "agent/config.hpp"
#include "agent/renewer.hpp"

namespace certdock::cli {

// One session per account, opened (and the account registered) when first needed.
// The observer (when set) of each account's requests to its CA.
using AcmeObservers = std::function<acme::RequestObserver(const std::string& account)>;

class AccountSessions {
public:
    AccountSessions(agent::EventLog log, AcmeObservers observers)
        : log_(std::move(log)), observers_(std::move(observers)) {}
    Result<acme::Client*> client(const agent::AcmeAccount& account, bool fresh);

private:
    agent::EventLog log_;
    AcmeObservers observers_;
    std::map<std::string, AcmeSession> sessions_;
};

struct Agent {
    agent::ConfigPtr config;
    std::unique_ptr<AccountSessions> sessions;
    agent::StateStorePtr states;
    std::unique_ptr<agent::Renewer> renewer;
};

// `log` receives one line per event ("cert=site delivered ...").
std::unique_ptr<Agent> make_agent(const agent::ConfigPtr& config, std::chrono::seconds deploy_wait,
                                  const agent::EventLog& log, const AcmeObservers& observers = {});

}  // namespace certdock::cli
