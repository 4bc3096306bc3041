#include "crypto/self_signed.hpp"

#include <openssl/err.h>
#include <openssl/rand.h>

#include <array>

#include "crypto/openssl_error.hpp"
#include "crypto/x509_util.hpp"

namespace certdock::crypto {
namespace {

using namespace std::chrono_literals;

constexpr auto kBackdate = 1h;  // clock skew between us and whoever checks the certificate
constexpr std::size_t kSerialBytes = 16;

Status set_random_serial(X509* cert) {
    std::array<unsigned char, kSerialBytes> bytes{};
    if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
        return Unexpected(openssl_error("cannot draw a random serial"));
    }
    bytes[0] &= 0x7f;  // positive
    bytes[0] |= 0x40;  // and of full length
    BignumPtr number(BN_bin2bn(bytes.data(), static_cast<int>(bytes.size()), nullptr));
    if (!number || BN_to_ASN1_INTEGER(number.get(), X509_get_serialNumber(cert)) == nullptr) {
        return Unexpected(openssl_error("cannot set the serial number"));
    }
    return {};
}

Status add_name_entry(X509_NAME* name, int nid, const std::string& value) {
    if (value.empty()) return {};
    const auto* bytes = reinterpret_cast<const unsigned char*>(value.data());
    if (X509_NAME_add_entry_by_NID(name, nid, MBSTRING_UTF8, bytes, static_cast<int>(value.size()),
                                   /*loc=*/-1, /*set=*/0) != 1) {
        return Unexpected(openssl_error("cannot put \"" + value + "\" into the subject"));
    }
    return {};
}

Status set_names_and_validity(X509* cert, const SelfSignedSpec& spec) {
    X509_NAME* subject = X509_get_subject_name(cert);
    CERTDOCK_TRY_STATUS(add_name_entry(subject, NID_organizationName, spec.organization));
    CERTDOCK_TRY_STATUS(add_name_entry(subject, NID_commonName, spec.common_name));
    TimePoint not_before = spec.not_before.value_or(std::chrono::system_clock::now() - kBackdate);
    TimePoint not_after = not_before + spec.lifetime;
    using std::chrono::system_clock;
    if (X509_set_issuer_name(cert, subject) != 1 ||
        ASN1_TIME_set(X509_getm_notBefore(cert), system_clock::to_time_t(not_before)) == nullptr ||
        ASN1_TIME_set(X509_getm_notAfter(cert), system_clock::to_time_t(not_after)) == nullptr) {
        return Unexpected(openssl_error("cannot set the certificate's issuer and validity"));
    }
    return {};
}

// Extensions whose value is simplest to give in OpenSSL's configuration syntax.
Status add_conf_extension(X509* cert, int nid, const char* value) {
    X509V3_CTX context{};
    X509V3_set_ctx(&context, cert, cert, nullptr, nullptr, 0);
    X509ExtensionPtr extension(X509V3_EXT_conf_nid(nullptr, &context, nid, value));
    if (!extension || X509_add_ext(cert, extension.get(), -1) != 1) {
        return Unexpected(openssl_error(std::string("cannot add extension ") + value));
    }
    return {};
}

Status add_server_extensions(X509* cert, const PrivateKey& key) {
    bool rsa = key.spec().type == KeyType::kRsa;
    CERTDOCK_TRY_STATUS(add_conf_extension(cert, NID_basic_constraints, "critical,CA:FALSE"));
    CERTDOCK_TRY_STATUS(add_conf_extension(
        cert, NID_key_usage,
        rsa ? "critical,digitalSignature,keyEncipherment" : "critical,digitalSignature"));
    CERTDOCK_TRY_STATUS(add_conf_extension(cert, NID_ext_key_usage, "serverAuth"));
    return add_conf_extension(cert, NID_subject_key_identifier, "hash");
}

Status add_alt_names(X509* cert, const SelfSignedSpec& spec) {
    CERTDOCK_TRY(GeneralNamesPtr names, x509::make_alt_names(spec.dns_names, spec.ip_addresses));
    if (X509_add1_ext_i2d(cert, NID_subject_alt_name, names.get(), /*crit=*/0,
                          X509V3_ADD_DEFAULT) != 1) {
        return Unexpected(openssl_error("cannot add subjectAltName"));
    }
    return {};
}

Status add_raw_extension(X509* cert, const RawExtension& raw) {
    if (raw.oid.empty() || raw.oid.find_first_not_of("0123456789.") != std::string::npos) {
        return fail(ErrorCategory::kUsage,
                    "extension OID \"" + raw.oid + "\" is not in dotted form (1.3.6.1...)");
    }
    Asn1ObjectPtr oid(OBJ_txt2obj(raw.oid.c_str(), /*no_name=*/1));
    Asn1OctetStringPtr value(ASN1_OCTET_STRING_new());
    if (!oid || !value ||
        ASN1_OCTET_STRING_set(value.get(), raw.der_value.data(),
                              static_cast<int>(raw.der_value.size())) != 1) {
        return Unexpected(openssl_error("cannot encode extension " + raw.oid));
    }
    X509ExtensionPtr extension(
        X509_EXTENSION_create_by_OBJ(nullptr, oid.get(), raw.critical ? 1 : 0, value.get()));
    if (!extension || X509_add_ext(cert, extension.get(), -1) != 1) {
        return Unexpected(openssl_error("cannot add extension " + raw.oid));
    }
    return {};
}

}  // namespace

Result<Certificate> make_self_signed(const PrivateKey& key, const SelfSignedSpec& spec) {
    if (spec.dns_names.empty() && spec.ip_addresses.empty()) {
        return fail(ErrorCategory::kUsage,
                    "a self-signed certificate needs at least one DNS name or IP address");
    }
    if (spec.lifetime <= std::chrono::seconds::zero()) {
        return fail(ErrorCategory::kUsage, "a certificate's lifetime must be positive");
    }
    X509Ptr cert(X509_new());
    if (!cert || X509_set_version(cert.get(), X509_VERSION_3) != 1 ||
        X509_set_pubkey(cert.get(), key.get()) != 1) {
        return Unexpected(openssl_error("cannot allocate a certificate"));
    }
    CERTDOCK_TRY_STATUS(set_random_serial(cert.get()));
    CERTDOCK_TRY_STATUS(set_names_and_validity(cert.get(), spec));
    if (spec.server_extensions) CERTDOCK_TRY_STATUS(add_server_extensions(cert.get(), key));
    CERTDOCK_TRY_STATUS(add_alt_names(cert.get(), spec));
    for (const RawExtension& raw : spec.extra_extensions) {
        CERTDOCK_TRY_STATUS(add_raw_extension(cert.get(), raw));
    }
    if (X509_sign(cert.get(), key.get(), x509::signing_md(key.spec(), {})) <= 0) {
        return Unexpected(openssl_error("cannot sign the self-signed certificate"));
    }
    return Certificate(std::move(cert));
}

std::optional<std::string> subject_organization(const Certificate& cert) {
    const X509_NAME* subject = X509_get_subject_name(cert.get());
    int index = X509_NAME_get_index_by_NID(subject, NID_organizationName, -1);
    if (index < 0) return std::nullopt;
    const ASN1_STRING* value = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, index));
    unsigned char* raw = nullptr;
    int length = ASN1_STRING_to_UTF8(&raw, value);
    if (length < 0) {
        ERR_clear_error();
        return std::nullopt;
    }
    OsslBytesPtr owned(raw);
    return std::string(reinterpret_cast<const char*>(raw), static_cast<size_t>(length));
}

bool is_self_signed_with_organization(const Certificate& cert, std::string_view organization) {
    return subject_organization(cert) == organization && cert.is_self_signed();
}

}  // namespace certdock::crypto
