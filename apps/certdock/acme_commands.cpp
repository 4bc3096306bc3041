#include <unistd.h>

#include <iostream>

#include "acme/issuance.hpp"
#include "acme/problem.hpp"
#include "acme_setup.hpp"
#include "base/file.hpp"
#include "cli_support.hpp"
#include "commands.hpp"
#include "crypto/bundle.hpp"
#include "crypto/csr.hpp"
#include "deploy_support.hpp"
#include "haproxy/endpoint.hpp"
#include "solver_factory.hpp"

namespace certdock::cli {
namespace {

struct IssueOptions {
    AcmeOptions acme;
    std::vector<std::string> domains;
    std::string challenge = "http-01";
    std::string http_listen = ":80";
    std::string webroot;
    // deploy.haproxy_sockets: every HAProxy serving the names. With haproxy_map, http-01 is
    // answered from that map; with --out, the bundle is hot-loaded into them and proven.
    DeployFlags deploy;
    std::string haproxy_map;
    std::string tls_alpn_listen = ":443";
    std::string dns_hook;
    std::string rfc2136_server;
    std::string tsig_key_file;
    std::string dns_zone;
    std::vector<std::string> dns_check_servers;
    std::string key_type = "ecdsa-p256";
    std::string key_file;
    std::string csr_file;
    std::string profile;
    std::string replaces_file;
    std::string preferred_chain;
    std::string out;
    std::string key_out;
    std::string cert_out;
    std::string chain_out;
    std::string fullchain_out;
    bool quiet = false;
    CommonOptions common;
};

struct AccountOptions {
    AcmeOptions acme;
    std::string new_key_file;
    CommonOptions common;
};

struct RevokeOptions {
    AcmeOptions acme;
    std::string cert_file;
    std::string cert_key_file;
    std::string reason = "unspecified";
};

Result<challenge::SolverPtr> make_solver(const IssueOptions& options) {
    auto type = challenge::parse_challenge_type(options.challenge);
    if (!type) {
        return fail(ErrorCategory::kUsage, "--challenge must be http-01, dns-01 or tls-alpn-01");
    }
    SolverSpec spec{.type = *type,
                    .haproxy_map = options.haproxy_map,
                    .webroot = options.webroot,
                    .http_listen = options.http_listen,
                    .tls_alpn_listen = options.tls_alpn_listen,
                    .dns_hook = options.dns_hook,
                    .rfc2136_server = options.rfc2136_server,
                    .tsig_key_file = options.tsig_key_file,
                    .dns_zone = options.dns_zone,
                    .dns_check_servers = options.dns_check_servers};
    if (!options.haproxy_map.empty()) {
        if (options.deploy.haproxy_sockets.empty()) {
            return fail(ErrorCategory::kUsage,
                        "--haproxy-map needs --haproxy-socket ADDRESS: the Runtime API socket "
                        "(level admin) of every HAProxy serving port 80 for these names");
        }
        if (*type != challenge::ChallengeType::kHttp01) {
            return fail(ErrorCategory::kUsage,
                        "--haproxy-map answers http-01 only; add --challenge http-01");
        }
        for (const std::string& socket : options.deploy.haproxy_sockets) {
            CERTDOCK_TRY(auto endpoint, haproxy::parse_runtime_api_endpoint(socket));
            spec.haproxy_endpoints.push_back(std::move(endpoint));
        }
    }
    return build_solver(spec);
}

struct KeyMaterial {
    std::optional<crypto::PrivateKey> key;
    crypto::Csr csr;
    bool key_generated = false;
};

// The CSR to finalize with, and the key when certdock has it (not in pure --csr mode).
Result<KeyMaterial> prepare_key_and_csr(const IssueOptions& options,
                                        std::vector<acme::Identifier>& identifiers) {
    std::optional<crypto::PrivateKey> key;
    bool generated = false;
    if (!options.key_file.empty()) {
        CERTDOCK_TRY(std::string pem, read_input(options.key_file));
        CERTDOCK_TRY(key, crypto::PrivateKey::from_pem(pem));
    } else if (options.csr_file.empty()) {
        CERTDOCK_TRY(crypto::KeySpec spec, crypto::parse_key_spec(options.key_type));
        CERTDOCK_TRY(key, crypto::PrivateKey::generate(spec));
        generated = true;
    }
    if (!options.csr_file.empty()) {
        CERTDOCK_TRY(std::string pem, read_input(options.csr_file));
        CERTDOCK_TRY(crypto::Csr csr, crypto::Csr::from_pem(pem));
        if (!csr.signature_valid()) {
            return fail(ErrorCategory::kInput,
                        options.csr_file + ": the CSR's signature does not verify");
        }
        if (key && !key->public_key().same_key(csr.public_key())) {
            return fail(ErrorCategory::kInput, "--key " + options.key_file + " (" +
                                                   key->public_key().identify() +
                                                   ") is not the key of --csr " + options.csr_file +
                                                   " (" + csr.public_key().identify() + ")");
        }
        if (identifiers.empty()) {
            for (const auto& name : csr.dns_names())
                identifiers.push_back(acme::Identifier::dns(name));
            for (const auto& ip : csr.ip_addresses())
                identifiers.push_back(acme::Identifier::ip(ip));
        }
        return KeyMaterial{key, std::move(csr), false};
    }
    if (identifiers.empty()) {
        return fail(ErrorCategory::kUsage, "no names: give -d NAME (repeat for more) or --csr");
    }
    crypto::CsrOptions csr_options;
    for (const auto& id : identifiers) {
        (id.type == "ip" ? csr_options.ip_addresses : csr_options.dns_names).push_back(id.value);
    }
    CERTDOCK_TRY(crypto::Csr csr, crypto::Csr::create(*key, csr_options));
    return KeyMaterial{key, std::move(csr), generated};
}

// With --out and a HAProxy socket, the bundle goes through the deployer: disk, hot load, proof.
bool delivers(const IssueOptions& options) {
    return !options.out.empty() && !options.deploy.haproxy_sockets.empty();
}

Status check_outputs(const IssueOptions& options, bool have_key, bool key_generated) {
    if (uses_delivery_options(options.deploy) && !delivers(options)) {
        return fail(ErrorCategory::kUsage,
                    "--probe, --crt-list, --sni and --cert-name deliver the certificate: give "
                    "--out and --haproxy-socket too");
    }
    CERTDOCK_TRY_STATUS(check_deploy_flags(options.deploy));
    if (options.out.empty() && options.cert_out.empty() && options.fullchain_out.empty()) {
        return fail(ErrorCategory::kUsage,
                    "nowhere to write the certificate: give --out (HAProxy bundle), --cert-out or "
                    "--fullchain-out");
    }
    if (key_generated && options.key_out.empty() && options.out.empty()) {
        return fail(ErrorCategory::kUsage,
                    "a new key would be generated but never written: give --key-out or --out");
    }
    if (!options.out.empty() && !have_key) {
        return fail(ErrorCategory::kUsage,
                    "--out writes the HAProxy bundle, which needs the private key: add --key "
                    "FILE with --csr, or use --fullchain-out");
    }
    if (!options.key_out.empty() && key_generated && std::filesystem::exists(options.key_out)) {
        return fail(ErrorCategory::kUsage,
                    options.key_out + " already exists; reuse it with --key or remove it");
    }
    return {};
}

Status write_outputs(const IssueOptions& options, const KeyMaterial& material,
                     const acme::CertificateChain& chain) {
    const auto& certs = chain.certificates;
    std::vector<crypto::Certificate> intermediates(certs.begin() + 1, certs.end());
    if (!options.key_out.empty() && material.key && material.key_generated) {
        CERTDOCK_TRY(std::string pem, material.key->to_pem());
        CERTDOCK_TRY_STATUS(
            write_file_atomic(options.key_out, pem, {.mode = 0600, .overwrite = false}));
    }
    std::string chain_pem;
    for (const auto& cert : intermediates) chain_pem += cert.to_pem();
    if (!options.cert_out.empty()) {
        CERTDOCK_TRY_STATUS(
            write_file_atomic(options.cert_out, certs.front().to_pem(), {.keep_previous = true}));
    }
    if (!options.chain_out.empty()) {
        CERTDOCK_TRY_STATUS(
            write_file_atomic(options.chain_out, chain_pem, {.keep_previous = true}));
    }
    if (!options.fullchain_out.empty()) {
        CERTDOCK_TRY_STATUS(write_file_atomic(
            options.fullchain_out, certs.front().to_pem() + chain_pem, {.keep_previous = true}));
    }
    if (!options.out.empty() && !delivers(options)) {
        crypto::BundleParts parts{certs.front(), intermediates, material.key, std::nullopt};
        CERTDOCK_TRY(std::string bundle, crypto::build_haproxy_bundle(parts));
        CERTDOCK_TRY_STATUS(
            write_file_atomic(options.out, bundle, {.mode = 0600, .keep_previous = true}));
    }
    return {};
}

Status run_issue(const IssueOptions& options) {
    std::vector<acme::Identifier> identifiers;
    for (const auto& name : options.domains) identifiers.push_back(acme::identifier_for(name));
    // Everything that can be checked locally is checked before the CA hears from us.
    CERTDOCK_TRY(KeyMaterial material, prepare_key_and_csr(options, identifiers));
    CERTDOCK_TRY_STATUS(check_outputs(options, material.key.has_value(), material.key_generated));
    CERTDOCK_TRY(challenge::SolverPtr solver, make_solver(options));
    std::optional<std::string> replaces;
    if (!options.replaces_file.empty()) {
        CERTDOCK_TRY(std::string pem, read_input(options.replaces_file));
        CERTDOCK_TRY(crypto::Certificate old, crypto::Certificate::from_pem(pem));
        CERTDOCK_TRY(replaces, crypto::ari_cert_id(old));
    }

    CERTDOCK_TRY(AcmeSession session, open_session(options.acme));
    const bool show_progress = !options.quiet && !options.common.json && ::isatty(STDERR_FILENO);
    auto progress = [&](std::string_view step) {
        if (show_progress) std::cerr << "certdock: " << step << "\n";
    };
    progress("using the account at " + options.acme.directory);
    CERTDOCK_TRY_STATUS(ensure_account(session, options.acme));

    acme::IssueRequest request{
        identifiers,
        material.csr.der(),
        options.profile.empty() ? std::nullopt : std::optional(options.profile),
        replaces,
        options.preferred_chain.empty() ? std::nullopt : std::optional(options.preferred_chain),
        std::chrono::seconds(options.acme.timeout_seconds)};
    auto issued =
        acme::issue_certificate(*session.client, request, {solver.get()}, system_clock(), progress);
    if (!issued && acme::has_problem(issued.error(), acme::ProblemType::kAccountDoesNotExist)) {
        // The cached account URL is stale (a CA reset, a deactivated account): look it up anew.
        progress("the CA does not know the cached account; registering again");
        session.client->forget_account_url();
        CERTDOCK_TRY_STATUS(ensure_account(session, options.acme));
        issued = acme::issue_certificate(*session.client, request, {solver.get()}, system_clock(),
                                         progress);
    }
    if (!issued) {
        return Unexpected(
            Error(ErrorCategory::kAcme, "not issued").caused_by(std::move(issued).error()));
    }
    const auto& leaf = issued->chain.certificates.front();
    if (!leaf.public_key().same_key(material.csr.public_key())) {
        return fail(ErrorCategory::kProtocol, "the CA returned a certificate for another key (" +
                                                  leaf.public_key().identify() + ", expected " +
                                                  material.csr.public_key().identify() +
                                                  "); nothing written");
    }
    CERTDOCK_TRY_STATUS(crypto::check_chain_order(issued->chain.certificates));
    CERTDOCK_TRY_STATUS(write_outputs(options, material, issued->chain));
    std::optional<agent::DeployReport> delivery;
    if (delivers(options)) {
        const auto& certs = issued->chain.certificates;
        crypto::BundleParts parts{
            leaf, {certs.begin() + 1, certs.end()}, material.key, std::nullopt};
        CERTDOCK_TRY(delivery, deliver(options.deploy, parts, options.out));
    }

    if (options.common.json) {
        nlohmann::json names = leaf.dns_names();
        for (const auto& ip : leaf.ip_addresses()) names.push_back(ip);
        print_json({{"issued", true},
                    {"names", names},
                    {"serial", leaf.serial_hex()},
                    {"not_after", format_rfc3339(leaf.not_after())},
                    {"issuer", leaf.issuer()},
                    {"key", leaf.public_key().identify()},
                    {"order_url", issued->order_url},
                    {"certificate_url", issued->certificate_url},
                    {"delivery",
                     delivery ? delivery_json(*delivery, options.out) : nlohmann::json(nullptr)}});
    } else if (!options.quiet) {
        std::cout << "issued " << leaf.subject() << " serial " << leaf.serial_hex()
                  << ", valid until " << format_rfc3339(leaf.not_after()) << ", key "
                  << leaf.public_key().describe() << ", issuer " << leaf.issuer() << "\n";
    }
    if (!delivery) return {};
    if (!options.common.json && (!options.quiet || !delivery->ok())) {
        print_delivery(*delivery, options.out);
    }
    return delivery_status(*delivery, options.out);
}

Status run_account_register(const AccountOptions& options) {
    CERTDOCK_TRY(AcmeSession session, open_session(options.acme));
    CERTDOCK_TRY(acme::Account account, ensure_account(session, options.acme));
    CERTDOCK_TRY(account, session.client->fetch_account());
    if (options.common.json) {
        print_json({{"account_url", account.url},
                    {"status", acme::status_name(account.status)},
                    {"contact", account.contact},
                    {"key_created", session.key_created}});
    } else {
        std::cout << "account " << account.url << " (" << acme::status_name(account.status) << ")"
                  << (session.key_created ? ", new key in " + options.acme.account_key : "")
                  << "\n";
    }
    return {};
}

Status run_account_show(const AccountOptions& options) {
    CERTDOCK_TRY(AcmeSession session, open_session(options.acme));
    CERTDOCK_TRY(acme::Account account, session.client->fetch_account());
    CERTDOCK_TRY_STATUS(remember_account(session, options.acme, account.url));
    if (options.common.json) {
        print_json({{"account_url", account.url},
                    {"status", acme::status_name(account.status)},
                    {"contact", account.contact},
                    {"thumbprint", session.client->thumbprint()}});
    } else {
        std::cout << "account " << account.url << " (" << acme::status_name(account.status) << ")\n"
                  << "  thumbprint: " << session.client->thumbprint() << "\n";
        for (const auto& contact : account.contact)
            std::cout << "  contact:    " << contact << "\n";
    }
    return {};
}

Status run_account_rollover(const AccountOptions& options) {
    if (options.new_key_file.empty()) {
        return fail(ErrorCategory::kUsage, "rollover needs --new-key FILE");
    }
    CERTDOCK_TRY(std::string pem, read_input(options.new_key_file));
    CERTDOCK_TRY(crypto::PrivateKey new_key, crypto::PrivateKey::from_pem(pem));
    CERTDOCK_TRY(AcmeSession session, open_session(options.acme));
    CERTDOCK_TRY(acme::Account account, session.client->fetch_account());
    CERTDOCK_TRY_STATUS(session.client->change_key(new_key));
    // The account now answers to the new key: make it the account key file, keeping the old.
    CERTDOCK_TRY(std::string new_pem, new_key.to_pem());
    CERTDOCK_TRY_STATUS(write_file_atomic(options.acme.account_key, new_pem,
                                          {.mode = 0600, .keep_previous = true}));
    CERTDOCK_TRY_STATUS(remember_account(session, options.acme, account.url));
    std::cout << "account " << account.url << " now uses the key from " << options.new_key_file
              << " (" << new_key.describe() << "); written to " << options.acme.account_key
              << ", old key kept as " << previous_file_of(options.acme.account_key).string()
              << "\n";
    return {};
}

Status run_account_deactivate(const AccountOptions& options) {
    CERTDOCK_TRY(AcmeSession session, open_session(options.acme));
    CERTDOCK_TRY(acme::Account account, session.client->deactivate_account());
    std::cout << "account " << account.url << " is " << acme::status_name(account.status) << "\n";
    return {};
}

Result<acme::RevocationReason> parse_reason(const std::string& text) {
    if (text == "unspecified") return acme::RevocationReason::kUnspecified;
    if (text == "keyCompromise") return acme::RevocationReason::kKeyCompromise;
    if (text == "superseded") return acme::RevocationReason::kSuperseded;
    if (text == "cessationOfOperation") return acme::RevocationReason::kCessationOfOperation;
    return fail(ErrorCategory::kUsage,
                "--reason must be unspecified, keyCompromise, superseded or cessationOfOperation");
}

Status run_revoke(const RevokeOptions& options) {
    CERTDOCK_TRY(acme::RevocationReason reason, parse_reason(options.reason));
    CERTDOCK_TRY(std::string pem, read_input(options.cert_file));
    CERTDOCK_TRY(crypto::Certificate cert, crypto::Certificate::from_pem(pem));
    std::optional<crypto::PrivateKey> cert_key;
    if (!options.cert_key_file.empty()) {
        CERTDOCK_TRY(std::string key_pem, read_input(options.cert_key_file));
        CERTDOCK_TRY(cert_key, crypto::PrivateKey::from_pem(key_pem));
        CERTDOCK_TRY_STATUS(crypto::check_key_matches(*cert_key, cert));
    }
    CERTDOCK_TRY(AcmeSession session, open_session(options.acme));
    if (!cert_key) CERTDOCK_TRY_STATUS(ensure_account(session, options.acme));
    CERTDOCK_TRY_STATUS(session.client->revoke(cert, reason, cert_key));
    std::cout << "revoked serial " << cert.serial_hex() << " (" << options.reason << ")\n";
    return {};
}

}  // namespace

void register_acme_commands(CLI::App& app, int& exit_code) {
    auto issue = std::make_shared<IssueOptions>();
    CLI::App* iss = app.add_subcommand("issue", "Obtain a certificate from an ACME CA");
    add_acme_flags(*iss, issue->acme);
    iss->add_option("--domain,-d", issue->domains, "DNS name or IP address (repeat for more)");
    iss->add_option("--challenge", issue->challenge, "http-01, dns-01 or tls-alpn-01")
        ->capture_default_str();
    iss->add_option("--http-listen", issue->http_listen, "http-01 responder address:port")
        ->capture_default_str();
    iss->add_option("--webroot", issue->webroot, "http-01: write tokens under this directory");
    iss->add_option("--haproxy-socket", issue->deploy.haproxy_sockets,
                    "HAProxy Runtime API (level admin): unix path, HOST:PORT, or master CLI "
                    "PATH@1 / PATH@!PID; repeat for every HAProxy. With --out, the new "
                    "certificate is hot-loaded there (see certdock deploy)");
    add_deploy_flags(*iss, issue->deploy);
    iss->add_option("--haproxy-map", issue->haproxy_map,
                    "http-01: answer from this HAProxy map (the path as in map(...), or "
                    "virt@NAME on 3.x); see docs/haproxy.md")
        ->excludes("--webroot")
        ->excludes("--http-listen");
    iss->add_option("--tls-alpn-listen", issue->tls_alpn_listen,
                    "tls-alpn-01 responder address:port")
        ->capture_default_str();
    iss->add_option("--dns-hook", issue->dns_hook, "dns-01: program run as HOOK begin|done ...");
    iss->add_option("--rfc2136-server", issue->rfc2136_server,
                    "dns-01: primary for RFC 2136 updates");
    iss->add_option("--tsig-key-file", issue->tsig_key_file, "dns-01: TSIG key for RFC 2136");
    iss->add_option("--dns-zone", issue->dns_zone,
                    "dns-01: zone to update (default: found by SOA)");
    iss->add_option("--dns-check-server", issue->dns_check_servers,
                    "dns-01: wait until this server serves the record (repeat)");
    iss->add_option("--key-type", issue->key_type, "Key to generate")->capture_default_str();
    iss->add_option("--key", issue->key_file, "Use this existing key (stable keys)");
    iss->add_option("--csr", issue->csr_file, "Finalize with this CSR (its key, its names)");
    iss->add_option("--profile", issue->profile, "Certificate profile the CA offers");
    iss->add_option("--replaces", issue->replaces_file, "Certificate this one renews (ARI)");
    iss->add_option("--preferred-chain", issue->preferred_chain,
                    "Prefer the chain whose root issuer contains this");
    iss->add_option("--out,-o", issue->out, "HAProxy bundle: certificate, chain and key (0600)");
    iss->add_option("--key-out", issue->key_out, "Write a generated key here (0600)");
    iss->add_option("--cert-out", issue->cert_out, "Write the leaf certificate here");
    iss->add_option("--chain-out", issue->chain_out, "Write the intermediates here");
    iss->add_option("--fullchain-out", issue->fullchain_out, "Write leaf and intermediates here");
    iss->add_flag("--quiet,-q", issue->quiet, "No progress or summary lines");
    add_json_flag(*iss, issue->common);
    bind_command(iss, issue, exit_code, &run_issue);

    CLI::App* account = app.add_subcommand("account", "Manage the ACME account");
    account->require_subcommand(1);
    auto add_account_command = [&](const char* name, const char* help,
                                   Status (*run)(const AccountOptions&)) {
        auto options = std::make_shared<AccountOptions>();
        CLI::App* command = account->add_subcommand(name, help);
        add_acme_flags(*command, options->acme);
        add_json_flag(*command, options->common);
        bind_command(command, options, exit_code, run);
        return std::pair(command, options);
    };
    add_account_command("register", "Create the account (or find it) and cache its URL",
                        &run_account_register);
    add_account_command("show", "Show the account's URL, status and contacts", &run_account_show);
    auto [rollover, rollover_options] = add_account_command(
        "rollover", "Move the account to a new key (RFC 8555 §7.3.5)", &run_account_rollover);
    rollover->add_option("--new-key", rollover_options->new_key_file, "The new account key (PEM)")
        ->required();
    add_account_command("deactivate", "Deactivate the account for good", &run_account_deactivate);

    auto revoke = std::make_shared<RevokeOptions>();
    CLI::App* rev = app.add_subcommand("revoke", "Revoke a certificate");
    add_acme_flags(*rev, revoke->acme);
    rev->add_option("--cert", revoke->cert_file, "The certificate to revoke (PEM)")->required();
    rev->add_option("--cert-key", revoke->cert_key_file,
                    "Sign with the certificate's own key instead of the account key");
    rev->add_option("--reason", revoke->reason,
                    "unspecified, keyCompromise, superseded or cessationOfOperation")
        ->capture_default_str();
    bind_command(rev, revoke, exit_code, &run_revoke);
}

}  // namespace certdock::cli
