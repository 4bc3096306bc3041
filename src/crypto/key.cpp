#include "crypto/key.hpp"

#include <openssl/core_names.h>
#include <openssl/pem.h>

#include <array>

#include "crypto/digest.hpp"
#include "crypto/openssl_error.hpp"
#include "crypto/pem.hpp"

namespace certdock::crypto {
namespace {

PKeyPtr share(EVP_PKEY* key) {
    EVP_PKEY_up_ref(key);
    return PKeyPtr(key);
}

// Spec of a key we constructed ourselves; failure here is a broken invariant.
KeySpec spec_or_abort(const EVP_PKEY* key) {
    auto spec = spec_of(key);
    if (!spec) detail::bad_result_access(spec.error().describe().c_str());
    return *spec;
}

BioPtr memory_bio(std::string_view data) {
    return BioPtr(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
}

std::string bio_to_string(BIO* bio) {
    char* data = nullptr;
    long size = BIO_get_mem_data(bio, &data);
    return std::string(data, static_cast<size_t>(size));
}

// Passphrase callback: never prompts on a terminal. A missing passphrase fails the read,
// which we turn into a message telling the user how to give one.
int passphrase_callback(char* buffer, int size, int /*rwflag*/, void* userdata) {
    const auto* passphrase = static_cast<const std::optional<std::string>*>(userdata);
    if (!passphrase->has_value()) return -1;
    const std::string& value = **passphrase;
    if (value.size() > static_cast<size_t>(size)) return -1;
    value.copy(buffer, value.size());
    return static_cast<int>(value.size());
}

// "EC secp521r1 (unsupported)", "DSA 2048 (unsupported)": enough to recognise the key.
std::string unsupported_description(const EVP_PKEY* key) {
    const char* type = EVP_PKEY_get0_type_name(key);
    std::string text = type ? type : "unknown";
    std::array<char, 64> group{};
    size_t length = 0;
    if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group.data(), group.size(),
                                       &length) == 1) {
        text += " " + std::string(group.data(), length);
    } else if (int bits = EVP_PKEY_get_bits(key); bits > 0) {
        text += " " + std::to_string(bits);
    }
    return text + " (unsupported)";
}

}  // namespace

Result<KeySpec> spec_of(const EVP_PKEY* key) {
    if (EVP_PKEY_is_a(key, "RSA")) return KeySpec::rsa(EVP_PKEY_get_bits(key));
    if (EVP_PKEY_is_a(key, "ED25519")) return KeySpec::ed25519();
    if (EVP_PKEY_is_a(key, "EC")) {
        std::array<char, 64> group{};
        size_t length = 0;
        if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group.data(),
                                           group.size(), &length) != 1) {
            return Unexpected(openssl_error("cannot read the curve of an EC key"));
        }
        std::string_view name(group.data(), length);
        if (name == "prime256v1" || name == "P-256") return KeySpec::ecdsa(Curve::kP256);
        if (name == "secp384r1" || name == "P-384") return KeySpec::ecdsa(Curve::kP384);
        return fail(ErrorCategory::kInput, "unsupported ECDSA curve " + std::string(name) +
                                               ": certdock supports P-256 and P-384");
    }
    const char* type = EVP_PKEY_get0_type_name(key);
    return fail(ErrorCategory::kInput, std::string("unsupported key type ") +
                                           (type ? type : "(unknown)") +
                                           ": certdock supports RSA, ECDSA and Ed25519");
}

// ---- PublicKey -------------------------------------------------------------------------

PublicKey::PublicKey(PKeyPtr key) : key_(std::move(key)) {
    if (auto spec = spec_of(key_.get())) {
        spec_ = *spec;
        description_ = spec->describe();
    } else {
        spec_ = KeySpec{KeyType::kUnsupported, 0, Curve::kNone};
        description_ = unsupported_description(key_.get());
    }
}

PublicKey::PublicKey(const PublicKey& other)
    : key_(share(other.key_.get())), spec_(other.spec_), description_(other.description_) {}

PublicKey& PublicKey::operator=(const PublicKey& other) {
    if (this != &other) {
        key_ = share(other.key_.get());
        spec_ = other.spec_;
        description_ = other.description_;
    }
    return *this;
}

Result<PublicKey> PublicKey::from_spki_der(const Bytes& der) {
    const unsigned char* cursor = der.data();
    PKeyPtr key(d2i_PUBKEY(nullptr, &cursor, static_cast<long>(der.size())));
    if (!key)
        return Unexpected(
            openssl_error("cannot parse SubjectPublicKeyInfo", ErrorCategory::kInput));
    CERTDOCK_TRY_STATUS(spec_of(key.get()));
    return PublicKey(std::move(key));
}

Result<PublicKey> PublicKey::from_pem(std::string_view pem) {
    CERTDOCK_TRY(auto blocks, split_pem(pem));
    for (const auto& block : blocks) {
        if (block.label == "PUBLIC KEY") {
            BioPtr bio = memory_bio(block.text);
            PKeyPtr key(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
            if (!key)
                return Unexpected(openssl_error("cannot parse public key", ErrorCategory::kInput));
            CERTDOCK_TRY_STATUS(spec_of(key.get()));
            return PublicKey(std::move(key));
        }
    }
    if (blocks.empty())
        return fail(ErrorCategory::kInput, "no PEM data found: expected a public key");
    return fail(ErrorCategory::kInput,
                "expected a public key, found " + describe_pem_label(blocks.front().label));
}

Bytes PublicKey::spki_der() const {
    unsigned char* raw = nullptr;
    int length = i2d_PUBKEY(key_.get(), &raw);
    if (length <= 0) detail::bad_result_access("i2d_PUBKEY failed on a valid key");
    OsslBytesPtr owned(raw);
    return Bytes(raw, raw + length);
}

Bytes PublicKey::spki_sha256() const {
    return sha256(spki_der());
}

std::string PublicKey::pin_sha256() const {
    return base64_encode(spki_sha256());
}

std::string PublicKey::tlsa_311() const {
    return hex_encode(spki_sha256());
}

std::string PublicKey::identify() const {
    return describe() + " sha256/" + pin_sha256();
}

std::string PublicKey::to_pem() const {
    BioPtr bio(BIO_new(BIO_s_mem()));
    PEM_write_bio_PUBKEY(bio.get(), key_.get());
    return bio_to_string(bio.get());
}

bool PublicKey::same_key(const PublicKey& other) const {
    return EVP_PKEY_eq(key_.get(), other.key_.get()) == 1;
}

// ---- PrivateKey ------------------------------------------------------------------------

PrivateKey::PrivateKey(PKeyPtr key) : key_(std::move(key)), spec_(spec_or_abort(key_.get())) {}

PrivateKey::PrivateKey(const PrivateKey& other)
    : key_(share(other.key_.get())), spec_(other.spec_) {}

PrivateKey& PrivateKey::operator=(const PrivateKey& other) {
    if (this != &other) {
        key_ = share(other.key_.get());
        spec_ = other.spec_;
    }
    return *this;
}

Result<PrivateKey> PrivateKey::generate(const KeySpec& spec) {
    PKeyPtr key;
    switch (spec.type) {
        case KeyType::kRsa:
            if (spec.rsa_bits < 2048 || spec.rsa_bits > 8192) {
                return fail(ErrorCategory::kUsage, "RSA keys must have 2048 to 8192 bits");
            }
            key.reset(
                EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(spec.rsa_bits)));
            break;
        case KeyType::kEcdsa: {
            std::string group = spec.curve == Curve::kP384 ? "P-384" : "P-256";
            if (spec.curve == Curve::kNone)
                return fail(ErrorCategory::kUsage, "ECDSA key needs a curve");
            key.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", group.c_str()));
            break;
        }
        case KeyType::kEd25519:
            key.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
            break;
        case KeyType::kUnsupported:
            return fail(ErrorCategory::kUsage, "cannot generate an unsupported key type");
    }
    if (!key) return Unexpected(openssl_error("cannot generate " + spec.describe() + " key"));
    return PrivateKey(std::move(key));
}

Result<PrivateKey> PrivateKey::from_pem(std::string_view pem,
                                        const std::optional<std::string>& passphrase) {
    CERTDOCK_TRY(auto blocks, split_pem(pem));
    if (blocks.empty()) {
        return fail(ErrorCategory::kInput,
                    "no PEM data found: expected a private key (\"-----BEGIN PRIVATE KEY-----\")");
    }
    const PemBlock* found = nullptr;
    for (const auto& block : blocks) {
        if (is_private_key_label(block.label)) {
            found = &block;
            break;
        }
    }
    if (found == nullptr) {
        return fail(ErrorCategory::kInput,
                    "expected a private key, found " + describe_pem_label(blocks.front().label));
    }
    if (found->label == "ENCRYPTED PRIVATE KEY" && !passphrase) {
        return fail(ErrorCategory::kInput,
                    "the private key is encrypted: give its passphrase in a file "
                    "(--passphrase-file)");
    }
    BioPtr bio = memory_bio(found->text);
    PKeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, passphrase_callback,
                                        const_cast<std::optional<std::string>*>(&passphrase)));
    if (!key) {
        if (found->label == "ENCRYPTED PRIVATE KEY") {
            return Unexpected(
                openssl_error("cannot decrypt the private key: wrong passphrase or damaged file",
                              ErrorCategory::kInput));
        }
        return Unexpected(
            openssl_error("cannot parse the " + found->label + " block", ErrorCategory::kInput));
    }
    CERTDOCK_TRY_STATUS(spec_of(key.get()));
    return PrivateKey(std::move(key));
}

PublicKey PrivateKey::public_key() const {
    unsigned char* raw = nullptr;
    int length = i2d_PUBKEY(key_.get(), &raw);
    if (length <= 0) detail::bad_result_access("i2d_PUBKEY failed on a valid private key");
    OsslBytesPtr owned(raw);
    const unsigned char* cursor = raw;
    PKeyPtr pub(d2i_PUBKEY(nullptr, &cursor, length));
    if (!pub) detail::bad_result_access("d2i_PUBKEY failed on our own encoding");
    return PublicKey(std::move(pub));
}

Result<std::string> PrivateKey::to_pem(PemFormat format,
                                       const std::optional<std::string>& passphrase) const {
    BioPtr bio(BIO_new(BIO_s_mem()));
    int ok = 0;
    if (format == PemFormat::kTraditional && spec_.type != KeyType::kEd25519) {
        if (passphrase) {
            return fail(ErrorCategory::kUsage,
                        "encrypted keys are written as PKCS#8 only; drop the traditional format");
        }
        ok = PEM_write_bio_PrivateKey_traditional(bio.get(), key_.get(), nullptr, nullptr, 0,
                                                  nullptr, nullptr);
    } else {
        const EVP_CIPHER* cipher = passphrase ? EVP_aes_256_cbc() : nullptr;
        ok = PEM_write_bio_PKCS8PrivateKey(
            bio.get(), key_.get(), cipher,
            passphrase ? const_cast<char*>(passphrase->data()) : nullptr,
            passphrase ? static_cast<int>(passphrase->size()) : 0, nullptr, nullptr);
    }
    if (ok != 1) return Unexpected(openssl_error("cannot encode the private key as PEM"));
    return bio_to_string(bio.get());
}

}  // namespace certdock::crypto
