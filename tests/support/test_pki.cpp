#include "support/test_pki.hpp"

#include <openssl/rand.h>

#include <array>
#include <chrono>

#include "crypto/openssl_error.hpp"
#include "crypto/x509_util.hpp"

namespace certdock::test {
namespace {

using crypto::openssl_error;
using namespace std::chrono_literals;

constexpr auto kDefaultLifetime = std::chrono::hours(24 * 90);
constexpr auto kCaLifetime = std::chrono::hours(24 * 365 * 10);

Result<Bytes> random_serial() {
    Bytes serial(16);
    if (RAND_bytes(serial.data(), static_cast<int>(serial.size())) != 1) {
        return Unexpected(openssl_error("cannot draw a random serial"));
    }
    // Positive, non-zero and exactly 16 content octets, as public CAs issue them.
    serial[0] = static_cast<std::uint8_t>((serial[0] & 0x7f) | 0x40);
    return serial;
}

Status set_serial(X509* cert, const std::optional<Bytes>& wanted) {
    CERTDOCK_TRY(Bytes serial, wanted ? Result<Bytes>(*wanted) : random_serial());
    crypto::BignumPtr number(BN_bin2bn(serial.data(), static_cast<int>(serial.size()), nullptr));
    if (!number || BN_to_ASN1_INTEGER(number.get(), X509_get_serialNumber(cert)) == nullptr) {
        return Unexpected(openssl_error("cannot set the serial number"));
    }
    return {};
}

Status set_validity(X509* cert, const CertSpec& spec) {
    crypto::TimePoint not_before = spec.not_before.value_or(std::chrono::system_clock::now() - 1h);
    crypto::TimePoint not_after = spec.not_after.value_or(not_before + kDefaultLifetime);
    using std::chrono::system_clock;
    if (ASN1_TIME_set(X509_getm_notBefore(cert), system_clock::to_time_t(not_before)) == nullptr ||
        ASN1_TIME_set(X509_getm_notAfter(cert), system_clock::to_time_t(not_after)) == nullptr) {
        return Unexpected(openssl_error("cannot set the validity period"));
    }
    return {};
}

// Extensions given as OpenSSL structures (SKI, AKI, SAN); none of them is critical here.
bool add_struct_extension(X509* cert, int nid, void* value) {
    return X509_add1_ext_i2d(cert, nid, value, /*crit=*/0, X509V3_ADD_DEFAULT) == 1;
}

// Extensions whose value is simplest to give in OpenSSL's configuration syntax.
Status add_conf_extension(X509* cert, int nid, const std::string& value) {
    crypto::X509ExtensionPtr extension(X509V3_EXT_conf_nid(nullptr, nullptr, nid, value.c_str()));
    if (!extension || X509_add_ext(cert, extension.get(), -1) != 1) {
        return Unexpected(openssl_error("cannot add extension " + value));
    }
    return {};
}

Status add_key_ids(X509* cert, const CertSpec& spec, const crypto::Certificate* issuer) {
    std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
    unsigned int length = 0;
    crypto::Asn1OctetStringPtr ski(ASN1_OCTET_STRING_new());
    if (X509_pubkey_digest(cert, EVP_sha1(), digest.data(), &length) != 1 || !ski ||
        ASN1_OCTET_STRING_set(ski.get(), digest.data(), static_cast<int>(length)) != 1 ||
        !add_struct_extension(cert, NID_subject_key_identifier, ski.get())) {
        return Unexpected(openssl_error("cannot add the subject key identifier"));
    }

    std::optional<Bytes> key_id = spec.authority_key_id;
    if (!key_id) {
        key_id = issuer ? issuer->subject_key_id() : Bytes(digest.data(), digest.data() + length);
    }
    if (!key_id || key_id->empty()) return {};  // no AKI, as old CAs and some tests want

    crypto::AuthorityKeyIdPtr aki(AUTHORITY_KEYID_new());
    if (!aki) return Unexpected(openssl_error("cannot allocate the authority key identifier"));
    aki->keyid = ASN1_OCTET_STRING_new();  // owned by `aki` from here on
    if (aki->keyid == nullptr ||
        ASN1_OCTET_STRING_set(aki->keyid, key_id->data(), static_cast<int>(key_id->size())) != 1 ||
        !add_struct_extension(cert, NID_authority_key_identifier, aki.get())) {
        return Unexpected(openssl_error("cannot add the authority key identifier"));
    }
    return {};
}

Status add_extensions(X509* cert, const crypto::PublicKey& subject_key, const CertSpec& spec,
                      const crypto::Certificate* issuer) {
    if (spec.is_ca) {
        CERTDOCK_TRY_STATUS(add_conf_extension(cert, NID_basic_constraints, "critical,CA:TRUE"));
        CERTDOCK_TRY_STATUS(add_conf_extension(cert, NID_key_usage,
                                               "critical,digitalSignature,keyCertSign,cRLSign"));
    } else {
        CERTDOCK_TRY_STATUS(add_conf_extension(cert, NID_basic_constraints, "critical,CA:FALSE"));
        bool rsa = subject_key.spec().type == crypto::KeyType::kRsa;
        CERTDOCK_TRY_STATUS(add_conf_extension(
            cert, NID_key_usage,
            rsa ? "critical,digitalSignature,keyEncipherment" : "critical,digitalSignature"));
        CERTDOCK_TRY_STATUS(add_conf_extension(cert, NID_ext_key_usage, "serverAuth"));
    }
    CERTDOCK_TRY_STATUS(add_key_ids(cert, spec, issuer));
    if (!spec.dns_names.empty() || !spec.ip_addresses.empty()) {
        CERTDOCK_TRY(auto names, crypto::x509::make_alt_names(spec.dns_names, spec.ip_addresses));
        if (!add_struct_extension(cert, NID_subject_alt_name, names.get())) {
            return Unexpected(openssl_error("cannot add subjectAltName"));
        }
    }
    return {};
}

CertSpec ca_spec(const std::string& common_name) {
    CertSpec spec;
    spec.common_name = common_name;
    spec.is_ca = true;
    spec.not_before = std::chrono::system_clock::now() - 1h;
    spec.not_after = *spec.not_before + kCaLifetime;
    return spec;
}

}  // namespace

Result<crypto::Certificate> build_certificate(const crypto::PublicKey& subject_key,
                                              const CertSpec& spec,
                                              const crypto::Certificate* issuer,
                                              const crypto::PrivateKey& signer) {
    crypto::X509Ptr cert(X509_new());
    if (!cert || X509_set_version(cert.get(), X509_VERSION_3) != 1) {
        return Unexpected(openssl_error("cannot allocate a certificate"));
    }
    CERTDOCK_TRY_STATUS(set_serial(cert.get(), spec.serial));
    X509_NAME* subject = X509_get_subject_name(cert.get());
    if (!spec.common_name.empty()) {
        const auto* cn = reinterpret_cast<const unsigned char*>(spec.common_name.c_str());
        int added = X509_NAME_add_entry_by_NID(subject, NID_commonName, MBSTRING_UTF8, cn,
                                               /*len=*/-1, /*loc=*/-1, /*set=*/0);
        if (added != 1) {
            return Unexpected(openssl_error("cannot set common name " + spec.common_name));
        }
    }
    X509_NAME* issuer_name = issuer ? X509_get_subject_name(issuer->get()) : subject;
    if (X509_set_issuer_name(cert.get(), issuer_name) != 1 ||
        X509_set_pubkey(cert.get(), subject_key.get()) != 1) {
        return Unexpected(openssl_error("cannot set issuer and key"));
    }
    CERTDOCK_TRY_STATUS(set_validity(cert.get(), spec));
    CERTDOCK_TRY_STATUS(add_extensions(cert.get(), subject_key, spec, issuer));
    if (X509_sign(cert.get(), signer.get(), crypto::x509::signing_md(signer.spec(), {})) <= 0) {
        return Unexpected(openssl_error("cannot sign the certificate"));
    }
    return crypto::Certificate(std::move(cert));
}

Result<TestCa> TestCa::create_root(const std::string& common_name,
                                   const crypto::KeySpec& key_spec) {
    CERTDOCK_TRY(auto key, crypto::PrivateKey::generate(key_spec));
    CERTDOCK_TRY(auto cert,
                 build_certificate(key.public_key(), ca_spec(common_name), nullptr, key));
    return TestCa(Issued{std::move(cert), std::move(key)});
}

Result<TestCa> TestCa::create_intermediate(const std::string& common_name,
                                           const crypto::KeySpec& key_spec) const {
    CertSpec spec = ca_spec(common_name);
    spec.key_spec = key_spec;
    CERTDOCK_TRY(auto issued, issue(spec));
    return TestCa(std::move(issued));
}

Result<Issued> TestCa::issue(const CertSpec& spec) const {
    CERTDOCK_TRY(auto key, crypto::PrivateKey::generate(spec.key_spec));
    CERTDOCK_TRY(auto cert, sign(key.public_key(), spec));
    return Issued{std::move(cert), std::move(key)};
}

Result<crypto::Certificate> TestCa::sign(const crypto::PublicKey& subject_key,
                                         const CertSpec& spec) const {
    return build_certificate(subject_key, spec, &issued_.certificate, issued_.key);
}

Result<TestPki> make_test_pki(const std::vector<std::string>& names) {
    CERTDOCK_TRY(auto root, TestCa::create_root("certdock Test Root"));
    CERTDOCK_TRY(auto intermediate, root.create_intermediate("certdock Test Intermediate"));
    CertSpec spec;
    spec.common_name = names.empty() ? "" : names.front();
    spec.dns_names = names;
    CERTDOCK_TRY(auto leaf, intermediate.issue(spec));
    return TestPki{std::move(root), std::move(intermediate), std::move(leaf)};
}

}  // namespace certdock::test
