#include "acme_setup.hpp"

#include <nlohmann/json.hpp>

#include <filesystem>

#include "acme/curl_transport.hpp"
#include "acme/problem.hpp"
#include "base/file.hpp"
#include "cli_support.hpp"

namespace certdock::cli {
namespace {

// "<key file>.accounts.json": {"<directory URL>": "<account URL>"}. Beside the key because an
// account is a key at a CA; a new key means a new cache.
std::string cache_path(const std::string& key_file) {
    return key_file + ".accounts.json";
}

std::optional<std::string> cached_account(const std::string& key_file,
                                          const std::string& directory) {
    auto content = read_file(cache_path(key_file));
    if (!content) return std::nullopt;
    auto cache = nlohmann::json::parse(*content, nullptr, false);
    if (!cache.is_object() || !cache.contains(directory) || !cache[directory].is_string()) {
        return std::nullopt;
    }
    return cache[directory].get<std::string>();
}

Result<std::optional<acme::EabCredentials>> read_eab(const AcmeOptions& options) {
    if (options.eab_kid_file.empty() && options.eab_key_file.empty()) {
        return std::optional<acme::EabCredentials>();
    }
    if (options.eab_kid_file.empty() || options.eab_key_file.empty()) {
        return fail(ErrorCategory::kUsage,
                    "External Account Binding needs both --eab-kid-file "
                    "and --eab-key-file");
    }
    CERTDOCK_TRY(auto kid, read_passphrase(options.eab_kid_file));
    CERTDOCK_TRY(auto key_text, read_passphrase(options.eab_key_file));
    auto mac_key = base64url_decode(*key_text);
    if (!mac_key) {
        return fail(ErrorCategory::kInput, options.eab_key_file +
                                               ": the EAB MAC key must be base64url (as the CA "
                                               "gave it): " +
                                               mac_key.error().message());
    }
    auto algorithm = acme::jose::parse_algorithm(options.eab_alg);
    if (!algorithm || !acme::jose::is_mac_algorithm(*algorithm)) {
        return fail(ErrorCategory::kUsage, "--eab-alg must be HS256, HS384 or HS512");
    }
    return std::optional<acme::EabCredentials>(acme::EabCredentials{*kid, *mac_key, *algorithm});
}

}  // namespace

void add_acme_flags(CLI::App& command, AcmeOptions& options) {
    command.add_option("--directory", options.directory, "ACME directory URL of the CA")
        ->required();
    command.add_option("--ca-file", options.ca_file,
                       "Trust these roots (PEM) for the CA's HTTPS instead of the system's");
    command
        .add_option("--account-key", options.account_key,
                    "Account key (PEM); created as ECDSA P-256 when missing")
        ->capture_default_str();
    command.add_option("--contact", options.contact, "Contact URL, e.g. mailto:ops@example.com");
    command.add_flag("--agree-tos", options.agree_tos, "Agree to the CA's terms of service");
    command.add_option("--eab-kid-file", options.eab_kid_file, "File holding the EAB key id");
    command.add_option("--eab-key-file", options.eab_key_file,
                       "File holding the EAB MAC key (base64url)");
    command.add_option("--eab-alg", options.eab_alg, "HS256, HS384 or HS512")
        ->capture_default_str();
    command
        .add_option("--timeout", options.timeout_seconds, "Seconds the whole operation may take")
        ->capture_default_str();
}

Result<AcmeSession> open_session(const AcmeOptions& options) {
    AcmeSession session;
    session.account_key_file = options.account_key;
    acme::CurlTransportOptions transport_options;
    if (!options.ca_file.empty()) {
        if (!std::filesystem::exists(options.ca_file)) {
            return fail(ErrorCategory::kInput, "--ca-file " + options.ca_file + " does not exist");
        }
        transport_options.ca_file = options.ca_file;
    }
    session.transport = acme::make_curl_transport(transport_options);
    if (options.observe_requests) {
        session.transport = std::make_unique<acme::ObservedTransport>(std::move(session.transport),
                                                                      options.observe_requests);
    }

    std::optional<crypto::PrivateKey> key;
    if (std::filesystem::exists(options.account_key)) {
        CERTDOCK_TRY(std::string pem, read_input(options.account_key));
        auto loaded = crypto::PrivateKey::from_pem(pem);
        if (!loaded) {
            return Unexpected(Error(ErrorCategory::kInput, "account key " + options.account_key)
                                  .caused_by(std::move(loaded).error()));
        }
        key = std::move(*loaded);
    } else {
        CERTDOCK_TRY(key,
                     crypto::PrivateKey::generate(crypto::KeySpec::ecdsa(crypto::Curve::kP256)));
        CERTDOCK_TRY(std::string pem, key->to_pem());
        CERTDOCK_TRY_STATUS(
            write_file_atomic(options.account_key, pem, {.mode = 0600, .overwrite = false}));
        session.key_created = true;
    }
    acme::ClientOptions client_options{.directory_url = options.directory};
    session.client = std::make_unique<acme::Client>(*session.transport, client_options);
    session.client->set_account_key(*key, cached_account(options.account_key, options.directory));
    return session;
}

Status remember_account(const AcmeSession& session, const AcmeOptions& options,
                        const std::string& account_url) {
    auto content = read_file(cache_path(session.account_key_file));
    auto cache =
        content ? nlohmann::json::parse(*content, nullptr, false) : nlohmann::json::object();
    if (!cache.is_object()) cache = nlohmann::json::object();
    if (cache.value(options.directory, "") == account_url) return {};
    cache[options.directory] = account_url;
    return write_file_atomic(cache_path(session.account_key_file), cache.dump(2) + "\n",
                             {.mode = 0600});
}

Result<acme::Account> ensure_account(AcmeSession& session, const AcmeOptions& options) {
    if (session.client->account_url()) {
        return acme::Account{*session.client->account_url(), acme::AcmeStatus::kValid, {}, {}};
    }
    auto found = session.client->find_account();
    if (!found && !acme::has_problem(found.error(), acme::ProblemType::kAccountDoesNotExist)) {
        return Unexpected(std::move(found).error());
    }
    if (!found) {
        CERTDOCK_TRY(auto eab, read_eab(options));
        acme::NewAccountRequest request{options.contact, options.agree_tos, eab};
        found = session.client->register_account(request);
        if (!found) return Unexpected(std::move(found).error());
    }
    CERTDOCK_TRY_STATUS(remember_account(session, options, found->url));
    return found;
}

}  // namespace certdock::cli
