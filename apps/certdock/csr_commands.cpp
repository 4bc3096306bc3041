#include <iostream>

#include "base/file.hpp"
#include "cli_support.hpp"
#include "commands.hpp"
#include "crypto/csr.hpp"

namespace certdock::cli {
namespace {

struct CreateOptions {
    std::string key_file;
    std::string passphrase_file;
    std::vector<std::string> domains;
    std::vector<std::string> ips;
    std::optional<std::string> common_name;
    std::string digest;
    std::string out;
    CommonOptions common;
};

struct InspectOptions {
    std::string file;
    CommonOptions common;
};

std::optional<crypto::DigestAlgorithm> parse_digest(const std::string& name) {
    if (name == "sha256") return crypto::DigestAlgorithm::kSha256;
    if (name == "sha384") return crypto::DigestAlgorithm::kSha384;
    if (name == "sha512") return crypto::DigestAlgorithm::kSha512;
    return std::nullopt;
}

nlohmann::json csr_json(const crypto::Csr& csr) {
    crypto::PublicKey key = csr.public_key();
    return {{"common_name", csr.common_name().value_or("")},
            {"dns_names", csr.dns_names()},
            {"ip_addresses", csr.ip_addresses()},
            {"key", key.describe()},
            {"pin_sha256", key.pin_sha256()},
            {"signature_valid", csr.signature_valid()}};
}

Status run_create(const CreateOptions& options) {
    CERTDOCK_TRY(auto passphrase, read_passphrase(options.passphrase_file));
    CERTDOCK_TRY(std::string key_pem, read_input(options.key_file));
    CERTDOCK_TRY(crypto::PrivateKey key, crypto::PrivateKey::from_pem(key_pem, passphrase));
    crypto::CsrOptions csr_options{options.domains, options.ips, options.common_name,
                                   parse_digest(options.digest)};
    CERTDOCK_TRY(crypto::Csr csr, crypto::Csr::create(key, csr_options));
    if (options.out.empty()) {
        std::cout << csr.to_pem();
        return {};
    }
    CERTDOCK_TRY_STATUS(write_file_atomic(options.out, csr.to_pem()));
    if (options.common.json) {
        nlohmann::json out = csr_json(csr);
        out["file"] = options.out;
        print_json(out);
    } else {
        std::cout << "wrote CSR for " << csr.dns_names().size() + csr.ip_addresses().size()
                  << " name(s) with the " << key.describe() << " key to " << options.out << "\n";
    }
    return {};
}

Status run_inspect(const InspectOptions& options) {
    CERTDOCK_TRY(std::string pem, read_input(options.file));
    CERTDOCK_TRY(crypto::Csr csr, crypto::Csr::from_pem(pem));
    if (options.common.json) {
        print_json(csr_json(csr));
        return {};
    }
    crypto::PublicKey key = csr.public_key();
    std::cout << options.file << ": certificate signing request\n"
              << "  subject CN: " << csr.common_name().value_or("(none)") << "\n";
    for (const auto& name : csr.dns_names()) std::cout << "  DNS:        " << name << "\n";
    for (const auto& ip : csr.ip_addresses()) std::cout << "  IP:         " << ip << "\n";
    std::cout << "  key:        " << key.identify() << "\n"
              << "  signature:  " << (csr.signature_valid() ? "valid" : "INVALID") << "\n";
    if (!csr.signature_valid()) {
        return fail(ErrorCategory::kInput, options.file + ": the CSR's signature does not verify");
    }
    return {};
}

}  // namespace

void register_csr_commands(CLI::App& app, int& exit_code) {
    CLI::App* csr = app.add_subcommand("csr", "Create and inspect certificate signing requests");
    csr->require_subcommand(1);

    auto create = std::make_shared<CreateOptions>();
    CLI::App* cr = csr->add_subcommand("create", "Create a CSR for a key and a list of names");
    cr->add_option("--key,-k", create->key_file, "Private key (PEM)")->required();
    cr->add_option("--passphrase-file", create->passphrase_file, "Passphrase of an encrypted key");
    cr->add_option("--domain,-d", create->domains, "DNS name (repeat for more)");
    cr->add_option("--ip", create->ips, "IP address (repeat for more)");
    cr->add_option("--cn", create->common_name,
                   "Subject common name (default: the first domain; \"\" for none)");
    cr->add_option("--digest", create->digest, "sha256|sha384|sha512 (default: the key's own)")
        ->check(CLI::IsMember({"sha256", "sha384", "sha512"}));
    cr->add_option("--out,-o", create->out, "Where to write the CSR (default: standard output)");
    add_json_flag(*cr, create->common);
    bind_command(cr, create, exit_code, &run_create);

    auto inspect = std::make_shared<InspectOptions>();
    CLI::App* insp = csr->add_subcommand("inspect", "Show a CSR's names, key and signature");
    insp->add_option("file", inspect->file, "CSR (PEM; - for stdin)")->required();
    add_json_flag(*insp, inspect->common);
    bind_command(insp, inspect, exit_code, &run_inspect);
}

}  // namespace certdock::cli
