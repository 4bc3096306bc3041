#include "crypto/csr.hpp"

#include <openssl/err.h>
#include <openssl/pem.h>

#include "crypto/openssl_error.hpp"
#include "crypto/x509_util.hpp"

namespace certdock::crypto {
namespace {

// Longest commonName X.520 allows (ub-common-name); longer names only fit in the SAN.
constexpr size_t kMaxCommonName = 64;

std::string default_common_name(const CsrOptions& options) {
    if (options.common_name) return *options.common_name;
    if (!options.dns_names.empty() && options.dns_names.front().size() <= kMaxCommonName) {
        return options.dns_names.front();
    }
    return {};
}

x509::AltNames alt_names_of(X509_REQ* req) {
    X509ExtensionStackPtr extensions(X509_REQ_get_extensions(req));
    ERR_clear_error();  // a CSR without extensions is not an error
    if (!extensions) return {};
    GeneralNamesPtr names(static_cast<GENERAL_NAMES*>(
        X509V3_get_d2i(extensions.get(), NID_subject_alt_name, nullptr, nullptr)));
    return x509::read_alt_names(names.get());
}

// Every Csr holds a key certdock can describe, so public_key() cannot fail later.
Result<Csr> checked(X509ReqPtr req) {
    const EVP_PKEY* key = X509_REQ_get0_pubkey(req.get());
    if (key == nullptr) {
        return Unexpected(openssl_error("cannot read the CSR's public key", ErrorCategory::kInput));
    }
    if (auto spec = spec_of(key); !spec) {
        return Error(ErrorCategory::kInput, "unusable CSR key").caused_by(std::move(spec).error());
    }
    return Csr(std::move(req));
}

}  // namespace

Csr::Csr(X509ReqPtr req) : req_(std::move(req)) {
    if (!req_) detail::bad_result_access("Csr built from a null X509_REQ");
}

// X509_REQ has no reference count, so a copy is a deep copy.
Csr::Csr(const Csr& other) : req_(X509_REQ_dup(other.req_.get())) {
    if (!req_) detail::bad_result_access("X509_REQ_dup failed");
}

Csr& Csr::operator=(const Csr& other) {
    if (this != &other) *this = Csr(other);
    return *this;
}

Result<Csr> Csr::create(const PrivateKey& key, const CsrOptions& options) {
    if (options.dns_names.empty() && options.ip_addresses.empty()) {
        return fail(ErrorCategory::kUsage,
                    "a CSR needs at least one DNS name or IP address: ACME issues for the "
                    "subjectAltName only");
    }
    std::string common_name = default_common_name(options);
    if (common_name.size() > kMaxCommonName) {
        return fail(ErrorCategory::kUsage, "common name '" + common_name + "' is longer than " +
                                               std::to_string(kMaxCommonName) + " characters");
    }
    CERTDOCK_TRY(auto alt_names, x509::make_alt_names(options.dns_names, options.ip_addresses));

    X509ReqPtr req(X509_REQ_new());
    if (!req || X509_REQ_set_version(req.get(), X509_REQ_VERSION_1) != 1) {
        return Unexpected(openssl_error("cannot allocate a CSR"));
    }
    if (!common_name.empty()) {
        X509_NAME* subject = X509_REQ_get_subject_name(req.get());
        const auto* bytes = reinterpret_cast<const unsigned char*>(common_name.data());
        if (X509_NAME_add_entry_by_NID(subject, NID_commonName, MBSTRING_UTF8, bytes,
                                       static_cast<int>(common_name.size()), -1, 0) != 1) {
            return Unexpected(openssl_error(
                "cannot set the CSR's common name '" + common_name + "'", ErrorCategory::kUsage));
        }
    }
    if (X509_REQ_set_pubkey(req.get(), key.get()) != 1) {
        return Unexpected(openssl_error("cannot put the " + key.describe() + " key in the CSR"));
    }

    STACK_OF(X509_EXTENSION)* raw_extensions = nullptr;
    int added = X509V3_add1_i2d(&raw_extensions, NID_subject_alt_name, alt_names.get(),
                                /*crit=*/0, X509V3_ADD_DEFAULT);
    X509ExtensionStackPtr extensions(raw_extensions);
    if (added != 1 || X509_REQ_add_extensions(req.get(), extensions.get()) != 1) {
        return Unexpected(openssl_error("cannot add subjectAltName to the CSR"));
    }

    const EVP_MD* md = x509::signing_md(key.spec(), options.digest);
    if (X509_REQ_sign(req.get(), key.get(), md) <= 0) {
        return Unexpected(openssl_error("cannot sign the CSR with the " + key.describe() + " key"));
    }
    return Csr(std::move(req));
}

Result<Csr> Csr::from_pem(std::string_view pem) {
    CERTDOCK_TRY(auto block,
                 x509::find_pem_block(pem, {"CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST"},
                                      "a certificate signing request (CSR)"));
    BioPtr bio = x509::memory_bio(block);
    X509ReqPtr req(PEM_read_bio_X509_REQ(bio.get(), nullptr, nullptr, nullptr));
    if (!req) return Unexpected(openssl_error("cannot parse CSR", ErrorCategory::kInput));
    return checked(std::move(req));
}

Result<Csr> Csr::from_der(const Bytes& der) {
    const unsigned char* cursor = der.data();
    X509ReqPtr req(d2i_X509_REQ(nullptr, &cursor, static_cast<long>(der.size())));
    if (!req) return Unexpected(openssl_error("cannot parse DER CSR", ErrorCategory::kInput));
    if (cursor != der.data() + der.size()) {
        return fail(ErrorCategory::kInput, "unexpected data after the DER CSR");
    }
    return checked(std::move(req));
}

std::optional<std::string> Csr::common_name() const {
    return x509::common_name_of(X509_REQ_get_subject_name(req_.get()));
}

std::vector<std::string> Csr::dns_names() const {
    return alt_names_of(req_.get()).dns_names;
}

std::vector<std::string> Csr::ip_addresses() const {
    return alt_names_of(req_.get()).ip_addresses;
}

PublicKey Csr::public_key() const {
    return PublicKey(PKeyPtr(X509_REQ_get_pubkey(req_.get())));
}

bool Csr::signature_valid() const {
    EVP_PKEY* key = X509_REQ_get0_pubkey(req_.get());
    bool valid = key != nullptr && X509_REQ_verify(req_.get(), key) == 1;
    ERR_clear_error();
    return valid;
}

Bytes Csr::der() const {
    unsigned char* raw = nullptr;
    int length = i2d_X509_REQ(req_.get(), &raw);
    if (length <= 0) detail::bad_result_access("cannot encode a CSR");
    OsslBytesPtr owned(raw);
    return Bytes(raw, raw + length);
}

std::string Csr::to_pem() const {
    BioPtr bio(BIO_new(BIO_s_mem()));
    if (PEM_write_bio_X509_REQ(bio.get(), req_.get()) != 1) {
        detail::bad_result_access("cannot write a CSR as PEM");
    }
    return x509::bio_to_string(bio.get());
}

}  // namespace certdock::crypto
