#include "crypto/pem.hpp"

namespace certdock::crypto {
namespace {

constexpr std::string_view kBegin = "-----BEGIN ";
constexpr std::string_view kEnd = "-----END ";
constexpr std::string_view kDashes = "-----";

std::string_view trim_line(std::string_view line) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) {
        line.remove_suffix(1);
    }
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
    return line;
}

std::optional<std::string> marker_label(std::string_view line, std::string_view prefix) {
    if (!line.starts_with(prefix) || !line.ends_with(kDashes)) return std::nullopt;
    if (line.size() < prefix.size() + kDashes.size()) return std::nullopt;
    return std::string(line.substr(prefix.size(), line.size() - prefix.size() - kDashes.size()));
}

}  // namespace

Result<std::vector<PemBlock>> split_pem(std::string_view text) {
    std::vector<PemBlock> blocks;
    std::optional<PemBlock> open;
    size_t open_line = 0;
    size_t line_number = 0;
    size_t body_lines = 0;
    while (!text.empty()) {
        size_t eol = text.find('\n');
        std::string_view line = trim_line(text.substr(0, eol));
        text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);
        ++line_number;

        if (!open) {
            if (auto label = marker_label(line, kBegin)) {
                open = PemBlock{*label, std::string(line) + "\n"};
                open_line = line_number;
                body_lines = 0;
            }
            continue;
        }
        if (auto label = marker_label(line, kEnd)) {
            if (*label != open->label) {
                return fail(ErrorCategory::kInput,
                            "PEM block '" + open->label + "' opened on line " +
                                std::to_string(open_line) + " is closed by 'END " + *label +
                                "' on line " + std::to_string(line_number));
            }
            if (body_lines == 0) {
                return fail(ErrorCategory::kInput, "PEM block '" + open->label + "' on line " +
                                                       std::to_string(open_line) + " is empty");
            }
            open->text += std::string(line) + "\n";
            blocks.push_back(std::move(*open));
            open.reset();
            continue;
        }
        if (marker_label(line, kBegin)) {
            return fail(ErrorCategory::kInput, "PEM block '" + open->label + "' opened on line " +
                                                   std::to_string(open_line) +
                                                   " is truncated: a new block begins on line " +
                                                   std::to_string(line_number) +
                                                   " before its END line");
        }
        // Blank lines inside a block are dropped: they end a HAProxy Runtime API payload.
        if (line.empty()) continue;
        open->text += std::string(line) + "\n";
        ++body_lines;
    }
    if (open) {
        return fail(ErrorCategory::kInput, "PEM block '" + open->label + "' opened on line " +
                                               std::to_string(open_line) +
                                               " is truncated: the file ends before its END line");
    }
    return blocks;
}

bool is_private_key_label(std::string_view label) {
    return label == "PRIVATE KEY" || label == "ENCRYPTED PRIVATE KEY" ||
           label == "RSA PRIVATE KEY" || label == "EC PRIVATE KEY" || label == "TSS2 PRIVATE KEY";
}

std::string describe_pem_label(std::string_view label) {
    if (label == "CERTIFICATE" || label == "TRUSTED CERTIFICATE") return "a certificate";
    if (label == "CERTIFICATE REQUEST" || label == "NEW CERTIFICATE REQUEST") {
        return "a certificate signing request (CSR)";
    }
    if (label == "ENCRYPTED PRIVATE KEY") return "an encrypted private key";
    if (is_private_key_label(label)) return "a private key";
    if (label == "PUBLIC KEY" || label == "RSA PUBLIC KEY") return "a public key";
    if (label == "DH PARAMETERS") return "DH parameters";
    if (label == "EC PARAMETERS") return "EC parameters";
    if (label == "X509 CRL") return "a certificate revocation list";
    return "a PEM block labelled '" + std::string(label) + "'";
}

}  // namespace certdock::crypto
