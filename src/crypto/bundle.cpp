#include "crypto/bundle.hpp"

#include <openssl/pem.h>

#include "crypto/openssl_error.hpp"
#include "crypto/pem.hpp"
#include "crypto/x509_util.hpp"

namespace certdock::crypto {
namespace {

constexpr std::string_view kDhLabel = "DH PARAMETERS";

Error within(std::string context, Error cause) {
    ErrorCategory category = cause.category();
    return Error(category, std::move(context)).caused_by(std::move(cause));
}

// A blank line ends a HAProxy Runtime API payload, so a bundle sent with "set ssl cert" would
// be cut short. Pieces come from several sources (files, other tools), so normalise them all.
std::string without_blank_lines(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    while (!text.empty()) {
        size_t eol = text.find('\n');
        std::string_view line = text.substr(0, eol);
        text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);
        std::string kept;
        for (char c : line) {
            if (c != '\r') kept += c;
        }
        if (kept.find_first_not_of(" \t") == std::string::npos) continue;
        out += kept;
        out += '\n';
    }
    return out;
}

// The DH parameters must be one decodable "DH PARAMETERS" block and nothing else.
Result<std::string> checked_dhparam(const std::string& pem) {
    CERTDOCK_TRY(auto blocks, split_pem(pem));
    if (blocks.size() != 1 || blocks.front().label != kDhLabel) {
        std::string found = blocks.empty()      ? "no PEM block"
                            : blocks.size() > 1 ? std::to_string(blocks.size()) + " PEM blocks"
                                                : describe_pem_label(blocks.front().label);
        return fail(ErrorCategory::kInput,
                    "expected one \"" + std::string(kDhLabel) + "\" block, found " + found);
    }
    BioPtr bio = x509::memory_bio(blocks.front().text);
    PKeyPtr params(PEM_read_bio_Parameters(bio.get(), nullptr));
    if (!params) {
        return Unexpected(openssl_error("cannot decode the DH parameters", ErrorCategory::kInput));
    }
    return blocks.front().text;
}

}  // namespace

Result<std::string> build_haproxy_bundle(const BundleParts& parts) {
    const std::string context = "cannot build the HAProxy bundle for " + parts.leaf.subject();
    if (parts.key) {
        if (auto status = check_key_matches(*parts.key, parts.leaf); !status) {
            return within(context, std::move(status).error());
        }
    }
    std::vector<Certificate> path{parts.leaf};
    path.insert(path.end(), parts.chain.begin(), parts.chain.end());
    if (auto status = check_chain_order(path); !status) {
        return within(context, std::move(status).error());
    }

    std::string text;
    for (const auto& cert : path) text += cert.to_pem();
    if (parts.key) {
        auto key_pem = parts.key->to_pem(PemFormat::kPkcs8);
        if (!key_pem) return within(context, std::move(key_pem).error());
        text += *key_pem;
    }
    if (parts.dhparam_pem) {
        auto dh = checked_dhparam(*parts.dhparam_pem);
        if (!dh) return within(context, std::move(dh).error());
        text += *dh;
    }
    return without_blank_lines(text);
}

Result<Certificate> CertificateMemo::from_pem(const std::string& pem) {
    if (auto found = parsed_.find(pem); found != parsed_.end()) return found->second;
    CERTDOCK_TRY(Certificate certificate, Certificate::from_pem(pem));
    if (parsed_.size() >= kMaxEntries) parsed_.clear();
    parsed_.emplace(pem, certificate);
    return certificate;
}

Result<BundleParts> parse_haproxy_bundle(std::string_view pem,
                                         const std::optional<std::string>& passphrase,
                                         CertificateMemo* chain_memo) {
    CERTDOCK_TRY(auto blocks, split_pem(pem));
    std::vector<Certificate> certs;
    std::optional<PrivateKey> key;
    std::optional<std::string> dhparam;
    for (const auto& block : blocks) {
        if (block.label == "CERTIFICATE") {
            const bool in_chain = !certs.empty() && chain_memo != nullptr;
            auto cert =
                in_chain ? chain_memo->from_pem(block.text) : Certificate::from_pem(block.text);
            if (!cert) {
                return within("certificate " + std::to_string(certs.size() + 1) + " in the bundle",
                              std::move(cert).error());
            }
            certs.push_back(std::move(*cert));
        } else if (is_private_key_label(block.label)) {
            if (key) {
                return fail(ErrorCategory::kInput, "the bundle holds more than one private key");
            }
            auto parsed = PrivateKey::from_pem(block.text, passphrase);
            if (!parsed) return within("the bundle's private key", std::move(parsed).error());
            key = std::move(*parsed);
        } else if (block.label == kDhLabel) {
            if (dhparam) {
                return fail(ErrorCategory::kInput, "the bundle holds two sets of DH parameters");
            }
            dhparam = block.text;
        }
        // Anything else (EC PARAMETERS written by `openssl ecparam`, ...) HAProxy ignores too.
    }
    if (certs.empty()) {
        return fail(ErrorCategory::kInput,
                    blocks.empty() ? "no PEM data found: expected a HAProxy certificate bundle"
                                   : "the bundle holds no certificate, only " +
                                         describe_pem_label(blocks.front().label));
    }
    std::vector<Certificate> chain(std::make_move_iterator(certs.begin() + 1),
                                   std::make_move_iterator(certs.end()));
    return BundleParts{std::move(certs.front()), std::move(chain), std::move(key),
                       std::move(dhparam)};
}

}  // namespace certdock::crypto
