#include <iostream>
#include <memory>

#include "base/file.hpp"
#include "cli_support.hpp"
#include "commands.hpp"
#include "crypto/pem.hpp"

namespace certdock::cli {
namespace {

struct GenerateOptions {
    std::string type = "ecdsa-p256";
    std::string haproxy_keytype;
    std::optional<int> haproxy_bits;
    std::string haproxy_curves;
    std::string out;
    std::string format = "pkcs8";
    std::string passphrase_file;
    bool force = false;
    CommonOptions common;
};

struct InspectOptions {
    std::string file;
    std::string passphrase_file;
    CommonOptions common;
};

struct PinOptions {
    std::string file;
    std::string passphrase_file;
    bool tlsa = false;
    CommonOptions common;
};

nlohmann::json describe_key_json(const crypto::PublicKey& key) {
    return {{"type", key.describe()},
            {"token", key.spec().token()},
            {"pin_sha256", key.pin_sha256()},
            {"tlsa_311", key.tlsa_311()}};
}

Result<crypto::KeySpec> requested_spec(const GenerateOptions& options) {
    if (!options.haproxy_keytype.empty()) {
        std::optional<std::string_view> curves;
        if (!options.haproxy_curves.empty()) curves = options.haproxy_curves;
        return crypto::key_spec_from_haproxy(options.haproxy_keytype, options.haproxy_bits, curves);
    }
    return crypto::parse_key_spec(options.type);
}

Status run_generate(const GenerateOptions& options) {
    CERTDOCK_TRY(crypto::KeySpec spec, requested_spec(options));
    CERTDOCK_TRY(auto passphrase, read_passphrase(options.passphrase_file));
    // Fail before spending time on key generation when the target is taken.
    if (!options.force && std::filesystem::exists(options.out)) {
        return fail(ErrorCategory::kUsage,
                    options.out + " already exists; pass --force to replace the key in it");
    }
    CERTDOCK_TRY(crypto::PrivateKey key, crypto::PrivateKey::generate(spec));
    auto format = options.format == "traditional" ? crypto::PemFormat::kTraditional
                                                  : crypto::PemFormat::kPkcs8;
    CERTDOCK_TRY(std::string pem, key.to_pem(format, passphrase));
    CERTDOCK_TRY_STATUS(
        write_file_atomic(options.out, pem, {.mode = 0600, .overwrite = options.force}));
    crypto::PublicKey pub = key.public_key();
    if (options.common.json) {
        nlohmann::json out = describe_key_json(pub);
        out["file"] = options.out;
        out["encrypted"] = passphrase.has_value();
        print_json(out);
    } else {
        std::cout << "wrote " << key.describe() << " key to " << options.out << " (mode 0600"
                  << (passphrase ? ", encrypted" : "") << ")\n"
                  << "pin-sha256: " << pub.pin_sha256() << "\n";
    }
    return {};
}

Status run_inspect(const InspectOptions& options) {
    CERTDOCK_TRY(auto passphrase, read_passphrase(options.passphrase_file));
    CERTDOCK_TRY(std::string content, read_input(options.file));
    CERTDOCK_TRY(auto blocks, crypto::split_pem(content));
    CERTDOCK_TRY(crypto::PublicKey pub, public_key_from_file(options.file, passphrase));
    std::string kind = blocks.empty() ? "" : crypto::describe_pem_label(blocks.front().label);
    std::string form = "public";
    if (!blocks.empty() && crypto::is_private_key_label(blocks.front().label)) {
        const std::string& label = blocks.front().label;
        form = label == "PRIVATE KEY"             ? "PKCS#8"
               : label == "ENCRYPTED PRIVATE KEY" ? "encrypted PKCS#8"
                                                  : "traditional";
    }
    if (options.common.json) {
        nlohmann::json out = describe_key_json(pub);
        out["file"] = options.file;
        out["source"] = kind;
        out["format"] = form;
        print_json(out);
        return {};
    }
    std::cout << options.file << ": " << pub.describe() << " (" << kind
              << (form != "public" ? ", " + form : "") << ")\n"
              << "  pin-sha256: " << pub.pin_sha256() << "\n"
              << "  tlsa 3 1 1: " << pub.tlsa_311() << "\n";
    return {};
}

Status run_pin(const PinOptions& options) {
    CERTDOCK_TRY(auto passphrase, read_passphrase(options.passphrase_file));
    CERTDOCK_TRY(crypto::PublicKey pub, public_key_from_file(options.file, passphrase));
    if (options.common.json) {
        print_json(describe_key_json(pub));
    } else if (options.tlsa) {
        std::cout << "3 1 1 " << pub.tlsa_311() << "\n";
    } else {
        std::cout << pub.pin_sha256() << "\n";
    }
    return {};
}

}  // namespace

void register_key_commands(CLI::App& app, int& exit_code) {
    CLI::App* key = app.add_subcommand("key", "Generate and inspect private keys");
    key->require_subcommand(1);

    auto generate = std::make_shared<GenerateOptions>();
    CLI::App* gen = key->add_subcommand("generate", "Generate a private key, written 0600");
    gen->add_option("--type,-t", generate->type,
                    "rsa2048|rsa3072|rsa4096|ecdsa-p256|ecdsa-p384|ed25519")
        ->capture_default_str();
    gen->add_option("--keytype", generate->haproxy_keytype,
                    "HAProxy spelling: RSA or ECDSA (with --bits / --curves)");
    gen->add_option("--bits", generate->haproxy_bits,
                    "HAProxy spelling: RSA size or ECDSA curve size");
    gen->add_option("--curves", generate->haproxy_curves, "HAProxy spelling: P-256 or P-384");
    gen->add_option("--out,-o", generate->out, "Where to write the key")->required();
    gen->add_option("--format", generate->format, "pkcs8 or traditional")
        ->check(CLI::IsMember({"pkcs8", "traditional"}))
        ->capture_default_str();
    gen->add_option("--passphrase-file", generate->passphrase_file,
                    "Encrypt the key (PKCS#8, AES-256) with the first line of this file");
    gen->add_flag("--force", generate->force, "Replace an existing key file");
    add_json_flag(*gen, generate->common);
    bind_command(gen, generate, exit_code, &run_generate);

    auto inspect = std::make_shared<InspectOptions>();
    CLI::App* insp = key->add_subcommand("inspect", "Describe a key: type, size or curve, pins");
    insp->add_option("file", inspect->file, "Key, certificate or CSR (PEM; - for stdin)")
        ->required();
    insp->add_option("--passphrase-file", inspect->passphrase_file,
                     "Passphrase of an encrypted key");
    add_json_flag(*insp, inspect->common);
    bind_command(insp, inspect, exit_code, &run_inspect);

    auto pin = std::make_shared<PinOptions>();
    CLI::App* pin_cmd =
        key->add_subcommand("pin", "Print the HPKP pin-sha256 (or DANE 3 1 1) of a public key");
    pin_cmd->add_option("file", pin->file, "Key, certificate or CSR (PEM; - for stdin)")
        ->required();
    pin_cmd->add_option("--passphrase-file", pin->passphrase_file,
                        "Passphrase of an encrypted key");
    pin_cmd->add_flag("--tlsa", pin->tlsa, "Print the DANE TLSA 3 1 1 record data instead");
    add_json_flag(*pin_cmd, pin->common);
    bind_command(pin_cmd, pin, exit_code, &run_pin);
}

}  // namespace certdock::cli
