#include "crypto/x509_util.hpp"

#include <arpa/inet.h>
#include <openssl/err.h>

#include <algorithm>
#include <array>

#include "crypto/openssl_error.hpp"
#include "crypto/pem.hpp"

namespace certdock::crypto::x509 {
namespace {

std::string asn1_to_utf8(const ASN1_STRING* value) {
    unsigned char* raw = nullptr;
    int length = ASN1_STRING_to_UTF8(&raw, value);
    if (length < 0) {
        ERR_clear_error();
        return {};
    }
    OsslBytesPtr owned(raw);
    return std::string(reinterpret_cast<const char*>(raw), static_cast<size_t>(length));
}

std::optional<std::string> ip_to_text(const ASN1_OCTET_STRING* address) {
    const unsigned char* data = ASN1_STRING_get0_data(address);
    int length = ASN1_STRING_length(address);
    std::array<char, INET6_ADDRSTRLEN> text{};
    int family = length == 4 ? AF_INET : length == 16 ? AF_INET6 : AF_UNSPEC;
    if (family == AF_UNSPEC) return std::nullopt;  // e.g. a name constraint's address/mask
    if (inet_ntop(family, data, text.data(), text.size()) == nullptr) return std::nullopt;
    return std::string(text.data());
}

Status push_name(GENERAL_NAMES* names, int type, const std::string& value) {
    GeneralNamePtr name(
        a2i_GENERAL_NAME(nullptr, nullptr, nullptr, type, value.c_str(), /*is_nc=*/0));
    if (!name) {
        return Unexpected(openssl_error(type == GEN_IPADD
                                            ? "'" + value + "' is not an IPv4 or IPv6 address"
                                            : "cannot encode DNS name '" + value + "'",
                                        ErrorCategory::kUsage));
    }
    if (sk_GENERAL_NAME_push(names, name.get()) == 0) {
        return Unexpected(openssl_error("cannot build subjectAltName"));
    }
    (void)name.release();  // the stack owns it now
    return {};
}

}  // namespace

bool is_ip_address(const std::string& text) {
    std::array<unsigned char, 16> buffer{};
    return inet_pton(AF_INET, text.c_str(), buffer.data()) == 1 ||
           inet_pton(AF_INET6, text.c_str(), buffer.data()) == 1;
}

std::string name_to_string(const X509_NAME* name) {
    BioPtr bio(BIO_new(BIO_s_mem()));
    constexpr unsigned long kFlags = XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB;
    if (X509_NAME_print_ex(bio.get(), name, 0, kFlags) < 0) {
        ERR_clear_error();
        return {};
    }
    return bio_to_string(bio.get());
}

std::optional<std::string> common_name_of(const X509_NAME* name) {
    int index = -1;
    int last = -1;
    while ((index = X509_NAME_get_index_by_NID(name, NID_commonName, index)) >= 0) last = index;
    if (last < 0) return std::nullopt;
    const X509_NAME_ENTRY* entry = X509_NAME_get_entry(name, last);
    return asn1_to_utf8(X509_NAME_ENTRY_get_data(entry));
}

AltNames read_alt_names(const GENERAL_NAMES* names) {
    AltNames out;
    if (names == nullptr) return out;
    for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
        const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, i);
        if (name->type == GEN_DNS) {
            const ASN1_IA5STRING* dns = name->d.dNSName;
            out.dns_names.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(dns)),
                                       static_cast<size_t>(ASN1_STRING_length(dns)));
        } else if (name->type == GEN_IPADD) {
            if (auto text = ip_to_text(name->d.iPAddress)) out.ip_addresses.push_back(*text);
        }
    }
    return out;
}

Result<GeneralNamesPtr> make_alt_names(const std::vector<std::string>& dns_names,
                                       const std::vector<std::string>& ip_addresses) {
    GeneralNamesPtr names(GENERAL_NAMES_new());
    if (!names) return Unexpected(openssl_error("cannot allocate subjectAltName"));
    for (const auto& dns : dns_names) {
        if (dns.empty()) return fail(ErrorCategory::kUsage, "empty DNS name");
        if (is_ip_address(dns)) {
            return fail(ErrorCategory::kUsage,
                        "'" + dns + "' is an IP address: list it as an IP address, not a DNS name");
        }
        CERTDOCK_TRY_STATUS(push_name(names.get(), GEN_DNS, dns));
    }
    for (const auto& ip : ip_addresses) {
        if (!is_ip_address(ip)) {
            return fail(ErrorCategory::kUsage, "'" + ip + "' is not an IPv4 or IPv6 address");
        }
        CERTDOCK_TRY_STATUS(push_name(names.get(), GEN_IPADD, ip));
    }
    return names;
}

const EVP_MD* signing_md(const KeySpec& spec, std::optional<DigestAlgorithm> requested) {
    if (spec.type == KeyType::kEd25519) return nullptr;
    return evp_md(requested.value_or(natural_digest(spec).value_or(DigestAlgorithm::kSha256)));
}

Result<std::string> find_pem_block(std::string_view pem,
                                   std::initializer_list<std::string_view> labels,
                                   std::string_view expected) {
    CERTDOCK_TRY(auto blocks, split_pem(pem));
    for (auto& block : blocks) {
        if (std::find(labels.begin(), labels.end(), block.label) != labels.end()) {
            return std::move(block.text);
        }
    }
    if (blocks.empty()) {
        return fail(ErrorCategory::kInput, "no PEM data found: expected " + std::string(expected));
    }
    return fail(ErrorCategory::kInput, "expected " + std::string(expected) + ", found " +
                                           describe_pem_label(blocks.front().label));
}

BioPtr memory_bio(std::string_view data) {
    return BioPtr(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
}

std::string bio_to_string(BIO* bio) {
    char* data = nullptr;
    long size = BIO_get_mem_data(bio, &data);
    if (size <= 0 || data == nullptr) return {};
    return std::string(data, static_cast<size_t>(size));
}

}  // namespace certdock::crypto::x509
