#include "crypto/certificate.hpp"

#include <openssl/err.h>
#include <openssl/pem.h>

#include <ctime>

#include "crypto/digest.hpp"
#include "crypto/openssl_error.hpp"
#include "crypto/pem.hpp"
#include "crypto/x509_util.hpp"

namespace certdock::crypto {
namespace {

X509Ptr share(X509* cert) {
    X509_up_ref(cert);
    return X509Ptr(cert);
}

TimePoint to_time_point(const ASN1_TIME* time) {
    std::tm tm{};
    // A certificate OpenSSL parsed always has valid times; a failure here is a broken invariant.
    if (ASN1_TIME_to_tm(time, &tm) != 1) detail::bad_result_access("unreadable certificate time");
    return std::chrono::system_clock::from_time_t(timegm(&tm));
}

// OpenSSL accepts a certificate whose key it cannot decode; we refuse it up front so that
// public_key() always has something to return.
Result<Certificate> checked(X509Ptr cert) {
    if (X509_get0_pubkey(cert.get()) == nullptr) {
        return Unexpected(
            openssl_error("cannot decode the certificate's public key", ErrorCategory::kInput));
    }
    return Certificate(std::move(cert));
}

Result<Certificate> parse_pem_block(const std::string& block) {
    BioPtr bio = x509::memory_bio(block);
    X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (!cert) return Unexpected(openssl_error("cannot parse certificate", ErrorCategory::kInput));
    return checked(std::move(cert));
}

std::string describe_at(size_t index, size_t count, const Certificate& cert) {
    return "certificate " + std::to_string(index + 1) + " of " + std::to_string(count) +
           " (subject " + cert.subject() + ", issuer " + cert.issuer() + ")";
}

// Name and signature: the same test a verifier applies to each link.
bool issued_by(const Certificate& subject, const Certificate& issuer) {
    bool ok = X509_check_issued(issuer.get(), subject.get()) == X509_V_OK &&
              X509_verify(subject.get(), X509_get0_pubkey(issuer.get())) == 1;
    ERR_clear_error();
    return ok;
}

}  // namespace

Certificate::Certificate(X509Ptr cert) : cert_(std::move(cert)) {
    if (!cert_) detail::bad_result_access("Certificate built from a null X509");
}

// Certificates are never modified after parsing, so copies can share one reference-counted X509.
Certificate::Certificate(const Certificate& other) : cert_(share(other.cert_.get())) {}

Certificate& Certificate::operator=(const Certificate& other) {
    if (this != &other) cert_ = share(other.cert_.get());
    return *this;
}

Result<Certificate> Certificate::from_pem(std::string_view pem) {
    CERTDOCK_TRY(auto block, x509::find_pem_block(pem, {"CERTIFICATE"}, "a certificate"));
    return parse_pem_block(block);
}

Result<Certificate> Certificate::from_der(const Bytes& der) {
    const unsigned char* cursor = der.data();
    X509Ptr cert(d2i_X509(nullptr, &cursor, static_cast<long>(der.size())));
    if (!cert) {
        return Unexpected(openssl_error("cannot parse DER certificate", ErrorCategory::kInput));
    }
    if (cursor != der.data() + der.size()) {
        return fail(ErrorCategory::kInput, "unexpected data after the DER certificate");
    }
    return checked(std::move(cert));
}

std::string Certificate::subject() const {
    return x509::name_to_string(X509_get_subject_name(cert_.get()));
}

std::string Certificate::issuer() const {
    return x509::name_to_string(X509_get_issuer_name(cert_.get()));
}

std::optional<std::string> Certificate::common_name() const {
    return x509::common_name_of(X509_get_subject_name(cert_.get()));
}

std::vector<std::string> Certificate::dns_names() const {
    GeneralNamesPtr names(static_cast<GENERAL_NAMES*>(
        X509_get_ext_d2i(cert_.get(), NID_subject_alt_name, nullptr, nullptr)));
    return x509::read_alt_names(names.get()).dns_names;
}

std::vector<std::string> Certificate::ip_addresses() const {
    GeneralNamesPtr names(static_cast<GENERAL_NAMES*>(
        X509_get_ext_d2i(cert_.get(), NID_subject_alt_name, nullptr, nullptr)));
    return x509::read_alt_names(names.get()).ip_addresses;
}

Bytes Certificate::serial_der_content() const {
    // Encode the INTEGER and drop its tag and length: what remains is exactly the content
    // octets, sign byte included, without re-deriving DER's minimal two's complement rules.
    const ASN1_INTEGER* serial = X509_get0_serialNumber(cert_.get());
    unsigned char* raw = nullptr;
    int length = i2d_ASN1_INTEGER(serial, &raw);
    if (length <= 0) detail::bad_result_access("cannot encode a parsed serial number");
    OsslBytesPtr owned(raw);
    size_t header = 2;
    if ((raw[1] & 0x80) != 0) header += raw[1] & 0x7f;  // long-form length
    return Bytes(raw + header, raw + length);
}

std::string Certificate::serial_hex() const {
    const ASN1_INTEGER* serial = X509_get0_serialNumber(cert_.get());
    BignumPtr number(ASN1_INTEGER_to_BN(serial, nullptr));
    if (!number) detail::bad_result_access("cannot read a parsed serial number");
    Bytes magnitude(static_cast<size_t>(BN_num_bytes(number.get())));
    BN_bn2bin(number.get(), magnitude.data());
    if (magnitude.empty()) magnitude.push_back(0);
    return (BN_is_negative(number.get()) ? "-" : "") + hex_encode(magnitude);
}

TimePoint Certificate::not_before() const {
    return to_time_point(X509_get0_notBefore(cert_.get()));
}

TimePoint Certificate::not_after() const {
    return to_time_point(X509_get0_notAfter(cert_.get()));
}

std::optional<Bytes> Certificate::authority_key_id() const {
    const ASN1_OCTET_STRING* id = X509_get0_authority_key_id(cert_.get());
    if (id == nullptr) return std::nullopt;
    const unsigned char* data = ASN1_STRING_get0_data(id);
    return Bytes(data, data + ASN1_STRING_length(id));
}

std::optional<Bytes> Certificate::subject_key_id() const {
    const ASN1_OCTET_STRING* id = X509_get0_subject_key_id(cert_.get());
    if (id == nullptr) return std::nullopt;
    const unsigned char* data = ASN1_STRING_get0_data(id);
    return Bytes(data, data + ASN1_STRING_length(id));
}

bool Certificate::is_ca() const {
    return (X509_get_extension_flags(cert_.get()) & EXFLAG_CA) != 0;
}

bool Certificate::is_self_signed() const {
    bool self_signed = X509_self_signed(cert_.get(), /*verify_signature=*/1) == 1;
    ERR_clear_error();
    return self_signed;
}

PublicKey Certificate::public_key() const {
    return PublicKey(PKeyPtr(X509_get_pubkey(cert_.get())));
}

Bytes Certificate::der() const {
    unsigned char* raw = nullptr;
    int length = i2d_X509(cert_.get(), &raw);
    if (length <= 0) detail::bad_result_access("cannot encode a parsed certificate");
    OsslBytesPtr owned(raw);
    return Bytes(raw, raw + length);
}

std::string Certificate::to_pem() const {
    BioPtr bio(BIO_new(BIO_s_mem()));
    if (PEM_write_bio_X509(bio.get(), cert_.get()) != 1) {
        detail::bad_result_access("cannot write a parsed certificate as PEM");
    }
    return x509::bio_to_string(bio.get());
}

Bytes Certificate::sha256_fingerprint() const {
    return sha256(der());
}

Bytes Certificate::sha1_fingerprint() const {
    Bytes out(EVP_MAX_MD_SIZE);
    unsigned int size = 0;
    // X509_digest only fails on allocation failure; an empty result then compares unequal.
    if (X509_digest(cert_.get(), EVP_sha1(), out.data(), &size) != 1) size = 0;
    out.resize(size);
    return out;
}

Result<std::vector<Certificate>> parse_certificates(std::string_view pem) {
    CERTDOCK_TRY(auto blocks, split_pem(pem));
    std::vector<Certificate> certs;
    for (const auto& block : blocks) {
        if (block.label != "CERTIFICATE") continue;
        auto cert = parse_pem_block(block.text);
        if (!cert) {
            return Error(ErrorCategory::kInput,
                         "certificate " + std::to_string(certs.size() + 1) + " in the chain")
                .caused_by(std::move(cert).error());
        }
        certs.push_back(std::move(*cert));
    }
    return certs;
}

Result<std::string> ari_cert_id(const Certificate& cert) {
    auto key_id = cert.authority_key_id();
    if (!key_id || key_id->empty()) {
        return fail(ErrorCategory::kInput,
                    "certificate " + cert.subject() +
                        " has no Authority Key Identifier keyIdentifier, so it has no ARI "
                        "certID (RFC 9773 §4.1)");
    }
    return base64url_encode(*key_id) + "." + base64url_encode(cert.serial_der_content());
}

Status check_key_matches(const PrivateKey& key, const Certificate& cert) {
    // Certificates may carry keys certdock does not handle (P-521, DSA); say so, do not abort.
    if (auto spec = spec_of(X509_get0_pubkey(cert.get())); !spec) {
        return Error(ErrorCategory::kInput,
                     "certificate " + cert.subject() + " has an unusable key")
            .caused_by(std::move(spec).error());
    }
    // Compares the public parts in place: a copy of the private key's public half costs an
    // encode and a decode, which a scan over thousands of bundles feels. Copies only to say
    // what differs.
    if (EVP_PKEY_eq(X509_get0_pubkey(cert.get()), key.get()) == 1) return {};
    PublicKey cert_key = cert.public_key();
    PublicKey own_key = key.public_key();
    return fail(ErrorCategory::kInput,
                "private key " + own_key.identify() + " does not match the certificate's key " +
                    cert_key.identify() + " (certificate " + cert.subject() + ")");
}

Status check_chain_order(const std::vector<Certificate>& chain) {
    for (size_t i = 0; i + 1 < chain.size(); ++i) {
        const Certificate& subject = chain[i];
        const Certificate& next = chain[i + 1];
        if (issued_by(subject, next)) continue;
        std::string message = describe_at(i, chain.size(), subject) + " is not issued by " +
                              describe_at(i + 1, chain.size(), next);
        int name_check = X509_check_issued(next.get(), subject.get());
        if (issued_by(next, subject)) {
            message += "; the chain looks reversed: put the leaf first, then its issuer";
        } else if (name_check == X509_V_OK) {
            message += "; the names match but the signature does not verify with its key";
        } else if (name_check == X509_V_ERR_AKID_SKID_MISMATCH) {
            message += "; the names match but the Authority Key Identifier names another key";
        }
        ERR_clear_error();
        return fail(ErrorCategory::kInput, message);
    }
    return {};
}

Status verify_chain(const Certificate& leaf, const std::vector<Certificate>& intermediates,
                    const std::vector<Certificate>& roots, const VerifyOptions& options) {
    if (roots.empty()) return fail(ErrorCategory::kUsage, "no trusted root to verify against");
    X509StorePtr store(X509_STORE_new());
    X509StackPtr untrusted(sk_X509_new_null());
    X509StoreCtxPtr ctx(X509_STORE_CTX_new());
    if (!store || !untrusted || !ctx) {
        return Unexpected(openssl_error("cannot allocate a certificate verifier"));
    }
    for (const auto& root : roots) {
        if (X509_STORE_add_cert(store.get(), root.get()) != 1) {
            return Unexpected(openssl_error("cannot add root " + root.subject()));
        }
    }
    for (const auto& cert : intermediates) {
        X509Ptr ref = share(cert.get());
        if (sk_X509_push(untrusted.get(), ref.get()) == 0) {
            return Unexpected(openssl_error("cannot collect intermediates"));
        }
        (void)ref.release();  // the stack owns it now
    }
    if (X509_STORE_CTX_init(ctx.get(), store.get(), leaf.get(), untrusted.get()) != 1) {
        return Unexpected(openssl_error("cannot initialise the certificate verifier"));
    }
    X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
    if (options.at) {
        X509_VERIFY_PARAM_set_time(param, std::chrono::system_clock::to_time_t(*options.at));
    }
    if (options.hostname) {
        const std::string& host = *options.hostname;
        int ok = x509::is_ip_address(host)
                     ? X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str())
                     : X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size());
        if (ok != 1) {
            return Unexpected(
                openssl_error("cannot check for name '" + host + "'", ErrorCategory::kUsage));
        }
    }
    if (X509_verify_cert(ctx.get()) == 1) return {};

    int error = X509_STORE_CTX_get_error(ctx.get());
    int depth = X509_STORE_CTX_get_error_depth(ctx.get());
    X509* failed = X509_STORE_CTX_get_current_cert(ctx.get());
    ERR_clear_error();
    std::string message =
        "certificate chain does not verify: " + std::string(X509_verify_cert_error_string(error)) +
        " at depth " + std::to_string(depth);
    if (failed != nullptr) {
        message += " (subject " + x509::name_to_string(X509_get_subject_name(failed)) + ")";
    }
    if (error == X509_V_ERR_HOSTNAME_MISMATCH || error == X509_V_ERR_IP_ADDRESS_MISMATCH) {
        message += ": it does not cover '" + *options.hostname + "'";
    }
    return fail(ErrorCategory::kInput, message);
}

}  // namespace certdock::crypto
