#pragma once

#include <CLI/CLI.hpp>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "acme/client.hpp"
#include "acme/http.hpp"
#include "acme/observed_transport.hpp"

namespace certdock::cli {

// Flags every command that talks to a CA shares.
struct AcmeOptions {
    std::string directory;
    std::string ca_file;
    std::string account_key = "account.key";
    std::vector<std::string> contact;
    bool agree_tos = false;
    std::string eab_kid_file;
    std::string eab_key_file;
    std::string eab_alg = "HS256";
    int timeout_seconds = 300;
    // Told of every request to the CA (the agent's metrics); not a flag.
    acme::RequestObserver observe_requests{};
};

void add_acme_flags(CLI::App& command, AcmeOptions& options);

// A client ready to sign: transport, account key (created 0600 when the file does not exist)
// and the account URL from the cache beside the key, when known.
struct AcmeSession {
    acme::HttpTransportPtr transport;
    std::unique_ptr<acme::Client> client;
    std::string account_key_file;
    bool key_created = false;
};

Result<AcmeSession> open_session(const AcmeOptions& options);

// Registers (or finds) the account unless its URL is already cached; caches it afterwards.
Result<acme::Account> ensure_account(AcmeSession& session, const AcmeOptions& options);

// Writes the account URL for this CA into the cache beside the key.
Status remember_account(const AcmeSession& session, const AcmeOptions& options,
                        const std::string& account_url);

}  // namespace certdock::cli
