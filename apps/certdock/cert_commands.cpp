#include <filesystem>
#include <iostream>

#include "base/file.hpp"
#include "base/time.hpp"
#include "cli_support.hpp"
#include "commands.hpp"
#include "crypto/bundle.hpp"
#include "crypto/certificate.hpp"

namespace certdock::cli {
namespace {

// Debian's bundle of trusted roots, used when --roots is not given.
constexpr const char* kSystemRoots = "/etc/ssl/certs/ca-certificates.crt";

struct InspectOptions {
    std::string file;
    CommonOptions common;
};

struct VerifyOptions {
    std::string file;
    std::string roots;
    std::string name;
    std::string key_file;
    std::string passphrase_file;
    std::string at;
    CommonOptions common;
};

struct BundleOptions {
    std::string cert_file;
    std::string chain_file;
    std::string key_file;
    std::string passphrase_file;
    std::string dhparam_file;
    std::string out;
    CommonOptions common;
};

Result<std::vector<crypto::Certificate>> load_certificates(const std::string& path) {
    CERTDOCK_TRY(std::string pem, read_input(path));
    auto certs = crypto::parse_certificates(pem);
    if (!certs) return Unexpected(Error(ErrorCategory::kInput, path).caused_by(certs.error()));
    if (certs->empty()) {
        return fail(ErrorCategory::kInput, path +
                                               ": no certificate found (expected "
                                               "\"-----BEGIN CERTIFICATE-----\" blocks)");
    }
    return certs;
}

nlohmann::json certificate_json(const crypto::Certificate& cert) {
    crypto::PublicKey key = cert.public_key();
    auto ari = crypto::ari_cert_id(cert);
    return {{"subject", cert.subject()},
            {"issuer", cert.issuer()},
            {"serial", cert.serial_hex()},
            {"not_before", format_rfc3339(cert.not_before())},
            {"not_after", format_rfc3339(cert.not_after())},
            {"dns_names", cert.dns_names()},
            {"ip_addresses", cert.ip_addresses()},
            {"is_ca", cert.is_ca()},
            {"key", key.describe()},
            {"pin_sha256", key.pin_sha256()},
            {"sha256_fingerprint", hex_encode(cert.sha256_fingerprint())},
            {"ari_cert_id", ari ? nlohmann::json(*ari) : nlohmann::json(nullptr)}};
}

void print_certificate(const crypto::Certificate& cert, size_t index, size_t count) {
    auto now = std::chrono::system_clock::now();
    crypto::PublicKey key = cert.public_key();
    std::string role = index == 0 ? "leaf" : (cert.is_self_signed() ? "root" : "intermediate");
    if (count == 1 && cert.is_ca()) role = cert.is_self_signed() ? "root" : "CA";
    std::cout << "certificate " << index + 1 << " of " << count << " (" << role << ")\n"
              << "  subject:  " << cert.subject() << "\n"
              << "  issuer:   " << cert.issuer() << "\n"
              << "  serial:   " << cert.serial_hex() << "\n"
              << "  valid:    " << format_rfc3339(cert.not_before()) << " to "
              << format_rfc3339(cert.not_after());
    if (cert.not_after() < now) {
        std::cout << " (EXPIRED " << describe_interval(now, cert.not_after()) << ")\n";
    } else if (cert.not_before() > now) {
        std::cout << " (NOT YET VALID, starts " << describe_interval(now, cert.not_before())
                  << ")\n";
    } else {
        std::cout << " (expires " << describe_interval(now, cert.not_after()) << ")\n";
    }
    for (const auto& name : cert.dns_names()) std::cout << "  DNS:      " << name << "\n";
    for (const auto& ip : cert.ip_addresses()) std::cout << "  IP:       " << ip << "\n";
    std::cout << "  key:      " << key.identify() << "\n"
              << "  sha256:   " << hex_colon_encode(cert.sha256_fingerprint()) << "\n";
    if (auto ari = crypto::ari_cert_id(cert)) std::cout << "  ARI id:   " << *ari << "\n";
}

Status run_inspect(const InspectOptions& options) {
    CERTDOCK_TRY(auto certs, load_certificates(options.file));
    if (options.common.json) {
        nlohmann::json out = nlohmann::json::array();
        for (const auto& cert : certs) out.push_back(certificate_json(cert));
        print_json(out);
        return {};
    }
    for (size_t i = 0; i < certs.size(); ++i) print_certificate(certs[i], i, certs.size());
    return {};
}

Status run_verify(const VerifyOptions& options) {
    CERTDOCK_TRY(auto certs, load_certificates(options.file));
    std::string roots_file = options.roots.empty() ? kSystemRoots : options.roots;
    CERTDOCK_TRY(auto roots, load_certificates(roots_file));
    crypto::VerifyOptions verify_options;
    if (!options.name.empty()) verify_options.hostname = options.name;
    if (!options.at.empty()) {
        CERTDOCK_TRY(verify_options.at, parse_rfc3339(options.at));
    }
    std::vector<crypto::Certificate> intermediates(certs.begin() + 1, certs.end());
    if (certs.size() > 1) CERTDOCK_TRY_STATUS(crypto::check_chain_order(certs));
    Status verified = crypto::verify_chain(certs.front(), intermediates, roots, verify_options);
    if (!verified) {
        return Unexpected(
            Error(ErrorCategory::kProtocol, options.file + " does not verify against " + roots_file)
                .caused_by(verified.error()));
    }
    if (!options.key_file.empty()) {
        CERTDOCK_TRY(auto passphrase, read_passphrase(options.passphrase_file));
        CERTDOCK_TRY(std::string key_pem, read_input(options.key_file));
        CERTDOCK_TRY(crypto::PrivateKey key, crypto::PrivateKey::from_pem(key_pem, passphrase));
        Status matches = crypto::check_key_matches(key, certs.front());
        if (!matches) {
            return Unexpected(Error(ErrorCategory::kProtocol, matches.error().message()));
        }
    }
    if (options.common.json) {
        print_json({{"verified", true},
                    {"subject", certs.front().subject()},
                    {"chain_length", certs.size()},
                    {"key_matches",
                     !options.key_file.empty() ? nlohmann::json(true) : nlohmann::json(nullptr)}});
        return {};
    }
    std::cout << "OK: " << certs.front().subject();
    for (const auto& cert : intermediates) std::cout << " <- " << cert.subject();
    std::cout << " <- trusted root in " << roots_file << "\n";
    if (verify_options.hostname) std::cout << "OK: covers " << *verify_options.hostname << "\n";
    if (!options.key_file.empty())
        std::cout << "OK: " << options.key_file << " matches the certificate's key\n";
    return {};
}

Status run_bundle(const BundleOptions& options) {
    CERTDOCK_TRY(auto certs, load_certificates(options.cert_file));
    if (!options.chain_file.empty()) {
        CERTDOCK_TRY(auto chain, load_certificates(options.chain_file));
        certs.insert(certs.end(), chain.begin(), chain.end());
    }
    CERTDOCK_TRY(auto passphrase, read_passphrase(options.passphrase_file));
    CERTDOCK_TRY(std::string key_pem, read_input(options.key_file));
    CERTDOCK_TRY(crypto::PrivateKey key, crypto::PrivateKey::from_pem(key_pem, passphrase));
    crypto::BundleParts parts{certs.front(), {certs.begin() + 1, certs.end()}, key, std::nullopt};
    if (!options.dhparam_file.empty()) {
        CERTDOCK_TRY(parts.dhparam_pem, read_input(options.dhparam_file));
    }
    CERTDOCK_TRY(std::string bundle, crypto::build_haproxy_bundle(parts));
    CERTDOCK_TRY_STATUS(
        write_file_atomic(options.out, bundle, {.mode = 0600, .keep_previous = true}));
    if (options.common.json) {
        print_json({{"file", options.out},
                    {"subject", certs.front().subject()},
                    {"chain_length", certs.size()},
                    {"key", key.describe()}});
    } else {
        std::cout << "wrote " << options.out << " (mode 0600): " << certs.front().subject() << ", "
                  << certs.size() - 1 << " chain certificate(s), " << key.describe() << " key"
                  << (parts.dhparam_pem ? ", DH parameters" : "") << "\n";
    }
    return {};
}

}  // namespace

void register_cert_commands(CLI::App& app, int& exit_code) {
    CLI::App* cert = app.add_subcommand("cert", "Inspect, verify and bundle certificates");
    cert->require_subcommand(1);

    auto inspect = std::make_shared<InspectOptions>();
    CLI::App* insp = cert->add_subcommand("inspect", "Show every certificate in a PEM file");
    insp->add_option("file", inspect->file, "Certificate or chain (PEM; - for stdin)")->required();
    add_json_flag(*insp, inspect->common);
    bind_command(insp, inspect, exit_code, &run_inspect);

    auto verify = std::make_shared<VerifyOptions>();
    CLI::App* ver = cert->add_subcommand(
        "verify", "Verify a chain against trusted roots, and optionally a name and a key");
    ver->add_option("file", verify->file, "Leaf first, then intermediates (PEM)")->required();
    ver->add_option("--roots", verify->roots, "Trusted roots (PEM; default: the system's)");
    ver->add_option("--name", verify->name, "DNS name or IP the leaf must cover");
    ver->add_option("--key", verify->key_file, "Private key that must match the leaf");
    ver->add_option("--passphrase-file", verify->passphrase_file, "Passphrase of an encrypted key");
    ver->add_option("--at", verify->at, "Verify at this RFC 3339 time instead of now");
    add_json_flag(*ver, verify->common);
    bind_command(ver, verify, exit_code, &run_verify);

    auto bundle = std::make_shared<BundleOptions>();
    CLI::App* bun = cert->add_subcommand(
        "bundle", "Write the single PEM HAProxy loads: leaf, chain, key, DH parameters");
    bun->add_option("--cert", bundle->cert_file, "Leaf or full chain (PEM)")->required();
    bun->add_option("--chain", bundle->chain_file, "Intermediates, if not in --cert");
    bun->add_option("--key", bundle->key_file, "Private key of the leaf")->required();
    bun->add_option("--passphrase-file", bundle->passphrase_file, "Passphrase of an encrypted key");
    bun->add_option("--dhparam", bundle->dhparam_file, "DH parameters to append");
    bun->add_option("--out,-o", bundle->out,
                    "Bundle to write (the previous one kept as .<name>.previous)")
        ->required();
    add_json_flag(*bun, bundle->common);
    bind_command(bun, bundle, exit_code, &run_bundle);
}

}  // namespace certdock::cli
