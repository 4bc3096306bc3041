#include <iostream>

#include "cli_support.hpp"
#include "commands.hpp"
#include "crypto/bundle.hpp"
#include "deploy_support.hpp"

namespace certdock::cli {
namespace {

struct DeployOptions {
    std::string cert_file;
    std::string key_file;
    std::string passphrase_file;
    std::string to;
    DeployFlags deploy;
    bool quiet = false;
    CommonOptions common;
};

// The certificate file may be a full HAProxy bundle or the leaf and chain with the key apart.
Result<crypto::BundleParts> load_bundle(const DeployOptions& options) {
    CERTDOCK_TRY(std::string pem, read_input(options.cert_file));
    auto parsed = crypto::parse_haproxy_bundle(pem);
    if (!parsed) {
        return Unexpected(
            Error(ErrorCategory::kInput, options.cert_file).caused_by(std::move(parsed).error()));
    }
    if (!options.key_file.empty()) {
        CERTDOCK_TRY(std::string key_pem, read_input(options.key_file));
        CERTDOCK_TRY(auto passphrase, read_passphrase(options.passphrase_file));
        auto key = crypto::PrivateKey::from_pem(key_pem, passphrase);
        if (!key) {
            return Unexpected(
                Error(ErrorCategory::kInput, options.key_file).caused_by(std::move(key).error()));
        }
        parsed->key = std::move(*key);
    }
    if (!parsed->key) {
        return fail(
            ErrorCategory::kUsage,
            options.cert_file + " holds no private key and HAProxy needs one: give --key FILE");
    }
    return parsed;
}

Status run_deploy(const DeployOptions& options) {
    CERTDOCK_TRY(crypto::BundleParts bundle, load_bundle(options));
    CERTDOCK_TRY(agent::DeployReport report, deliver(options.deploy, bundle, options.to));
    if (options.common.json) {
        print_json(delivery_json(report, options.to));
    } else if (!options.quiet || !report.ok()) {
        print_delivery(report, options.to);
    }
    return delivery_status(report, options.to);
}

}  // namespace

void register_deploy_command(CLI::App& app, int& exit_code) {
    auto options = std::make_shared<DeployOptions>();
    CLI::App* deploy = app.add_subcommand(
        "deploy",
        "Write a certificate where HAProxy loads it, hot-load it through the Runtime API and "
        "prove it is served");
    deploy
        ->add_option("--cert", options->cert_file,
                     "Leaf and chain, or a whole HAProxy bundle (PEM)")
        ->required();
    deploy->add_option("--key", options->key_file, "Private key, when not in --cert");
    deploy->add_option("--passphrase-file", options->passphrase_file,
                       "First line is the passphrase of an encrypted --key");
    deploy
        ->add_option("--to", options->to,
                     "The file HAProxy loads (written atomically, 0600, previous kept)")
        ->required();
    deploy->add_option("--haproxy-socket", options->deploy.haproxy_sockets,
                       "Runtime API: PATH, HOST:PORT, or MASTER_PATH@1 / @!PID (repeat)");
    add_deploy_flags(*deploy, options->deploy);
    deploy->add_flag("--quiet,-q", options->quiet, "Print only failures");
    add_json_flag(*deploy, options->common);
    bind_command(deploy, options, exit_code, &run_deploy);
}

}  // namespace certdock::cli
