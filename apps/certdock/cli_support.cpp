#include "cli_support.hpp"

#include <iostream>
#include <iterator>

#include "base/file.hpp"
#include "crypto/certificate.hpp"
#include "crypto/csr.hpp"
#include "crypto/pem.hpp"

namespace certdock::cli {

void add_json_flag(CLI::App& command, CommonOptions& options) {
    command.add_flag("--json", options.json, "Print machine-readable JSON");
}

int report_error(const Error& error) {
    std::cerr << "certdock: " << error.describe() << "\n";
    switch (error.category()) {
        case ErrorCategory::kUsage:
        case ErrorCategory::kInput:
            return kExitUsage;
        default:
            return kExitFailed;
    }
}

Result<std::string> read_input(const std::string& path) {
    if (path == "-") {
        return std::string(std::istreambuf_iterator<char>(std::cin), {});
    }
    auto content = read_file(path);
    if (!content) return Unexpected(Error(ErrorCategory::kInput, content.error().message()));
    return content;
}

Result<std::optional<std::string>> read_passphrase(const std::string& path) {
    if (path.empty()) return std::optional<std::string>();
    CERTDOCK_TRY(std::string content, read_input(path));
    std::string line = content.substr(0, content.find('\n'));
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) {
        return fail(ErrorCategory::kInput, "passphrase file " + path + " is empty");
    }
    return std::optional<std::string>(line);
}

Result<crypto::PublicKey> public_key_from_file(const std::string& path,
                                               const std::optional<std::string>& passphrase) {
    CERTDOCK_TRY(std::string content, read_input(path));
    CERTDOCK_TRY(auto blocks, crypto::split_pem(content));
    if (blocks.empty()) {
        return fail(ErrorCategory::kInput, path +
                                               ": no PEM data found (expected a key, "
                                               "certificate or CSR in PEM form)");
    }
    const std::string& label = blocks.front().label;
    Result<crypto::PublicKey> key =
        fail(ErrorCategory::kInput,
             path + ": cannot take a public key from " + crypto::describe_pem_label(label));
    if (crypto::is_private_key_label(label)) {
        auto private_key = crypto::PrivateKey::from_pem(content, passphrase);
        if (private_key)
            key = private_key->public_key();
        else
            key = std::move(private_key).error();
    } else if (label == "PUBLIC KEY") {
        key = crypto::PublicKey::from_pem(content);
    } else if (label == "CERTIFICATE") {
        auto cert = crypto::Certificate::from_pem(content);
        if (cert)
            key = cert->public_key();
        else
            key = std::move(cert).error();
    } else if (label == "CERTIFICATE REQUEST" || label == "NEW CERTIFICATE REQUEST") {
        auto csr = crypto::Csr::from_pem(content);
        if (csr)
            key = csr->public_key();
        else
            key = std::move(csr).error();
    }
    if (!key) return Unexpected(Error(key.error().category(), path).caused_by(key.error()));
    return key;
}

void print_json(const nlohmann::json& value) {
    std::cout << value.dump(2) << "\n";
}

}  // namespace certdock::cli
