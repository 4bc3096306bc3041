// certdock bootstrap: a short-lived self-signed placeholder in HAProxy's crt file, so that
// HAProxy starts before any CA has issued a certificate. With --key the placeholder carries
// the stable key that `certdock issue --key` will later certify.

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <memory>

#include "base/file.hpp"
#include "base/time.hpp"
#include "cli_support.hpp"
#include "commands.hpp"
#include "crypto/bundle.hpp"
#include "crypto/self_signed.hpp"
#include "crypto/x509_util.hpp"

namespace certdock::cli {
namespace {

// The subject organization that marks a certificate as our placeholder: only such a
// certificate may be replaced without --force.
constexpr std::string_view kBootstrapOrganization = "certdock bootstrap";
constexpr int kMaxDays = 90;

struct BootstrapOptions {
    std::string cert;
    std::string key_file;
    std::string key_type = "ecdsa-p256";
    std::vector<std::string> domains;
    int days = 7;
    bool force = false;
    CommonOptions common;
};

// What --cert holds now.
enum class Existing { kNothing, kCurrentPlaceholder, kStalePlaceholder, kOther };

struct Inspection {
    Existing existing = Existing::kNothing;
    std::string detail{};  // why, in words, for the report
};

std::vector<std::string> sorted(std::vector<std::string> names) {
    std::sort(names.begin(), names.end());
    return names;
}

std::vector<std::string> names_of(const crypto::Certificate& cert) {
    std::vector<std::string> names = cert.dns_names();
    for (const auto& ip : cert.ip_addresses()) names.push_back(ip);
    return names;
}

// `wanted_key` is the key the new placeholder would carry, when the user named an existing
// one; without it any key will do.
Result<Inspection> inspect_existing(const std::string& path,
                                    const std::optional<crypto::PublicKey>& wanted_key,
                                    const std::vector<std::string>& wanted_names) {
    std::error_code ignored;
    if (!std::filesystem::exists(path, ignored)) return Inspection{};
    CERTDOCK_TRY(std::string content, read_input(path));
    auto certificates = crypto::parse_certificates(content);
    if (!certificates || certificates->empty()) {
        return Inspection{Existing::kOther, "it holds no readable certificate"};
    }
    const crypto::Certificate& leaf = certificates->front();
    if (!crypto::is_self_signed_with_organization(leaf, kBootstrapOrganization)) {
        return Inspection{Existing::kOther, "it holds a certificate for " + leaf.subject() +
                                                " issued by " + leaf.issuer() +
                                                ", not a certdock bootstrap certificate"};
    }
    auto now = std::chrono::system_clock::now();
    if (leaf.not_after() <= now) {
        return Inspection{Existing::kStalePlaceholder,
                          "its bootstrap certificate expired " + format_rfc3339(leaf.not_after())};
    }
    if (wanted_key && !leaf.public_key().same_key(*wanted_key)) {
        return Inspection{
            Existing::kStalePlaceholder,
            "its bootstrap certificate carries another key (" + leaf.public_key().identify() + ")"};
    }
    if (sorted(names_of(leaf)) != sorted(wanted_names)) {
        return Inspection{Existing::kStalePlaceholder,
                          "its bootstrap certificate is for other names"};
    }
    return Inspection{Existing::kCurrentPlaceholder,
                      "it already holds a bootstrap certificate for these names and this key, "
                      "valid until " +
                          format_rfc3339(leaf.not_after())};
}

struct KeyChoice {
    std::optional<crypto::PrivateKey> existing;  // --key names a file that exists
    bool write_new = false;                      // --key names a file to create
};

Result<KeyChoice> read_key_choice(const BootstrapOptions& options) {
    if (options.key_file.empty()) return KeyChoice{};
    std::error_code ignored;
    if (!std::filesystem::exists(options.key_file, ignored)) return KeyChoice{{}, true};
    CERTDOCK_TRY(std::string pem, read_input(options.key_file));
    auto key = crypto::PrivateKey::from_pem(pem);
    if (!key) {
        return Unexpected(Error(ErrorCategory::kInput, "--key " + options.key_file)
                              .caused_by(std::move(key).error()));
    }
    return KeyChoice{std::move(*key), false};
}

void report(const BootstrapOptions& options, const std::string& action, const std::string& detail,
            const crypto::Certificate* cert, bool key_written) {
    if (options.common.json) {
        nlohmann::json out = {{"cert", options.cert}, {"action", action}, {"reason", detail}};
        if (!options.key_file.empty()) out["key_file"] = options.key_file;
        out["key_written"] = key_written;
        if (cert != nullptr) {
            out["names"] = names_of(*cert);
            out["serial"] = cert->serial_hex();
            out["not_after"] = format_rfc3339(cert->not_after());
            out["key_type"] = cert->public_key().describe();
            out["pin_sha256"] = cert->public_key().pin_sha256();
        }
        print_json(out);
        return;
    }
    if (action == "unchanged") {
        std::cout << options.cert << " unchanged: " << detail << "\n";
        return;
    }
    if (key_written) {
        std::cout << "wrote " << cert->public_key().describe() << " key to " << options.key_file
                  << " (mode 0600)\n";
    }
    std::cout << "wrote bootstrap certificate and key to " << options.cert << " (mode 0600)";
    if (!detail.empty()) std::cout << ", replacing what was there: " << detail;
    std::string names;
    for (const auto& name : names_of(*cert)) names += (names.empty() ? "" : ", ") + name;
    std::cout << "\n  names:       " << names
              << "\n  valid until: " << format_rfc3339(cert->not_after())
              << "\n  pin-sha256:  " << cert->public_key().pin_sha256() << "\n";
}

// The exit status: 0 written or already in place, 1 refused.
Result<int> run_bootstrap(const BootstrapOptions& options) {
    if (options.days < 1 || options.days > kMaxDays) {
        return fail(ErrorCategory::kUsage, "--days " + std::to_string(options.days) +
                                               ": a bootstrap certificate lasts 1 to " +
                                               std::to_string(kMaxDays) +
                                               " days; it only has to hold until the real one");
    }
    CERTDOCK_TRY(crypto::KeySpec spec, crypto::parse_key_spec(options.key_type));
    std::vector<std::string> names = options.domains;
    if (names.empty()) names = {"localhost"};
    crypto::SelfSignedSpec cert_spec;
    cert_spec.common_name = names.front();
    cert_spec.organization = std::string(kBootstrapOrganization);
    cert_spec.lifetime = std::chrono::hours(24) * options.days;
    for (const auto& name : names) {
        (crypto::x509::is_ip_address(name) ? cert_spec.ip_addresses : cert_spec.dns_names)
            .push_back(name);
    }

    CERTDOCK_TRY(KeyChoice key_choice, read_key_choice(options));
    std::optional<crypto::PublicKey> wanted_key;
    if (key_choice.existing) wanted_key = key_choice.existing->public_key();
    CERTDOCK_TRY(Inspection inspection, inspect_existing(options.cert, wanted_key, names));
    // A key about to be generated is in no certificate yet.
    if (key_choice.write_new && inspection.existing == Existing::kCurrentPlaceholder) {
        inspection = {
            Existing::kStalePlaceholder,
            "its bootstrap certificate carries a key other than the new " + options.key_file};
    }
    if (!options.force) {
        if (inspection.existing == Existing::kOther) {
            std::string message = "refusing to replace " + options.cert + ": " + inspection.detail +
                                  "; bootstrap only writes placeholders (pass --force to "
                                  "overwrite it anyway)";
            if (options.common.json) report(options, "refused", inspection.detail, nullptr, false);
            std::cerr << "certdock: " << message << "\n";
            return kExitFailed;
        }
        if (inspection.existing == Existing::kCurrentPlaceholder) {
            report(options, "unchanged", inspection.detail, nullptr, false);
            return kExitOk;
        }
    }

    std::optional<crypto::PrivateKey> key = std::move(key_choice.existing);
    if (!key) {
        CERTDOCK_TRY(crypto::PrivateKey generated, crypto::PrivateKey::generate(spec));
        key = std::move(generated);
    }
    CERTDOCK_TRY(crypto::Certificate cert, crypto::make_self_signed(*key, cert_spec));
    CERTDOCK_TRY(std::string bundle, crypto::build_haproxy_bundle({cert, {}, *key, std::nullopt}));
    if (key_choice.write_new) {
        // The key first: a placeholder whose key was never kept could not be certified later.
        CERTDOCK_TRY(std::string key_pem, key->to_pem());
        CERTDOCK_TRY_STATUS(
            write_file_atomic(options.key_file, key_pem, {.mode = 0600, .overwrite = false}));
    }
    CERTDOCK_TRY_STATUS(write_file_atomic(options.cert, bundle, {.mode = 0600}));
    std::string replaced = inspection.existing == Existing::kNothing ? "" : inspection.detail;
    report(options, "written", replaced, &cert, key_choice.write_new);
    return kExitOk;
}

}  // namespace

void register_bootstrap_command(CLI::App& app, int& exit_code) {
    auto options = std::make_shared<BootstrapOptions>();
    CLI::App* command = app.add_subcommand(
        "bootstrap",
        "Write a short-lived self-signed certificate into HAProxy's crt file so HAProxy can "
        "start before a CA has issued one; never replaces a real certificate");
    command
        ->add_option("--cert", options->cert,
                     "The HAProxy PEM to write (certificate then key), mode 0600")
        ->required();
    command->add_option("--key", options->key_file,
                        "Use this key, so the certificate issued later with `certdock issue "
                        "--key` matches; created (0600, --key-type) if the file does not exist. "
                        "Without it, a throwaway key goes into the bundle only");
    command
        ->add_option("--key-type", options->key_type,
                     "Key to generate: rsa2048|rsa3072|rsa4096|ecdsa-p256|ecdsa-p384|ed25519")
        ->capture_default_str();
    command->add_option("--domain,-d", options->domains,
                        "DNS name or IP address to put in the certificate (repeat for more; "
                        "default: localhost)");
    command
        ->add_option("--days", options->days, "Lifetime in days, 1 to " + std::to_string(kMaxDays))
        ->capture_default_str();
    command->add_flag("--force", options->force,
                      "Replace whatever --cert holds, even a real certificate or a current "
                      "bootstrap certificate");
    add_json_flag(*command, options->common);
    command->callback([options, &exit_code] {
        Result<int> status = run_bootstrap(*options);
        exit_code = status ? *status : report_error(status.error());
    });
}

}  // namespace certdock::cli
