#include "crypto/key.hpp"

#include <openssl/core_names.h>
#include <openssl/decoder.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include <array>
#include <cstring>

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

// ---- Fast decoding of plain private keys ------------------------------------------------
//
// PEM_read_bio_PrivateKey lets OpenSSL 3 try every decoder it has (about 0.5 ms a key);
// with thousands of managed certificates that dominates start-up. A plain key whose PEM
// label names its structure (and, for PKCS#8, whose AlgorithmIdentifier names its type) is
// decoded by a decoder context asked for exactly that. Anything else, and any failure here,
// goes the generic way, which also gives the error messages.

using DecoderCtxPtr = std::unique_ptr<OSSL_DECODER_CTX, OsslDeleter<OSSL_DECODER_CTX_free>>;

// What a decoder context is set up for: a DER structure and a key type (nullptr: any).
struct DecoderKind {
    const char* structure = nullptr;
    const char* key_type = nullptr;
};

// A decoder context kept per thread and kind: setting one up costs more than decoding.
// OpenSSL writes the decoded key through the pointer given at set-up, so `slot` must keep
// its address; it is emptied before and after every decode because the construct step
// reports success whenever the slot is non-null, even with a key from an earlier call.
struct CachedDecoder {
    EVP_PKEY* slot = nullptr;
    DecoderCtxPtr ctx{};
};

// One DER value: tag, and where its contents start and end.
struct DerValue {
    unsigned char tag = 0;
    size_t start = 0;
    size_t end = 0;
};

// Reads the DER header at `offset` (definite lengths up to 4 bytes); nullopt when malformed.
std::optional<DerValue> read_der(const Bytes& der, size_t offset) {
    if (offset + 2 > der.size()) return std::nullopt;
    DerValue value{.tag = der[offset], .start = 0, .end = 0};
    size_t length = der[offset + 1];
    size_t cursor = offset + 2;
    if (length & 0x80) {
        size_t count = length & 0x7f;
        if (count == 0 || count > 4 || cursor + count > der.size()) return std::nullopt;
        length = 0;
        for (size_t i = 0; i < count; ++i) length = (length << 8) | der[cursor++];
    }
    if (length > der.size() - cursor) return std::nullopt;
    value.start = cursor;
    value.end = cursor + length;
    return value;
}

// Key type named by a PKCS#8 PrivateKeyInfo's AlgorithmIdentifier, for the types certdock
// uses; nullptr lets the decoder find out (slower, still correct).
const char* pkcs8_key_type(const Bytes& der) {
    static constexpr std::array<unsigned char, 9> kRsaEncryption{0x2a, 0x86, 0x48, 0x86, 0xf7,
                                                                 0x0d, 0x01, 0x01, 0x01};
    static constexpr std::array<unsigned char, 7> kEcPublicKey{0x2a, 0x86, 0x48, 0xce,
                                                               0x3d, 0x02, 0x01};
    static constexpr std::array<unsigned char, 3> kEd25519{0x2b, 0x65, 0x70};
    // PrivateKeyInfo ::= SEQUENCE { version INTEGER, algorithm SEQUENCE { OID, ... }, ... }
    auto info = read_der(der, 0);
    if (!info || info->tag != 0x30) return nullptr;
    auto version = read_der(der, info->start);
    if (!version || version->tag != 0x02) return nullptr;
    auto algorithm = read_der(der, version->end);
    if (!algorithm || algorithm->tag != 0x30) return nullptr;
    auto oid = read_der(der, algorithm->start);
    if (!oid || oid->tag != 0x06) return nullptr;
    auto is = [&](const auto& expected) {
        return oid->end - oid->start == expected.size() &&
               std::memcmp(der.data() + oid->start, expected.data(), expected.size()) == 0;
    };
    if (is(kRsaEncryption)) return "RSA";
    if (is(kEcPublicKey)) return "EC";
    if (is(kEd25519)) return "ED25519";
    return nullptr;
}

CachedDecoder& cached_decoder(const DecoderKind& kind) {
    static constexpr std::array<DecoderKind, 6> kKinds{{
        {"type-specific", "EC"},
        {"type-specific", "RSA"},
        {"PrivateKeyInfo", "EC"},
        {"PrivateKeyInfo", "RSA"},
        {"PrivateKeyInfo", "ED25519"},
        {"PrivateKeyInfo", nullptr},
    }};
    thread_local std::array<CachedDecoder, kKinds.size()> decoders{};
    // The last kind, PKCS#8 of any key type, takes what matches none of the others.
    size_t index = 0;
    for (; index + 1 < kKinds.size(); ++index) {
        const DecoderKind& known = kKinds[index];
        if (std::strcmp(known.structure, kind.structure) == 0 && kind.key_type != nullptr &&
            std::strcmp(known.key_type, kind.key_type) == 0) {
            break;
        }
    }
    CachedDecoder& cached = decoders[index];
    if (!cached.ctx) {
        cached.ctx.reset(OSSL_DECODER_CTX_new_for_pkey(&cached.slot, "DER", kKinds[index].structure,
                                                       kKinds[index].key_type, EVP_PKEY_KEYPAIR,
                                                       nullptr, nullptr));
    }
    return cached;
}

// The key of a plain SEC1, PKCS#1 or PKCS#8 block; null when this path does not apply or
// fails, leaving OpenSSL's error queue as it found it.
PKeyPtr decode_plain_key(const PemBlock& block) {
    DecoderKind kind;
    if (block.label == "EC PRIVATE KEY") {
        kind = {"type-specific", "EC"};
    } else if (block.label == "RSA PRIVATE KEY") {
        kind = {"type-specific", "RSA"};
    } else if (block.label != "PRIVATE KEY") {
        return nullptr;
    }
    const std::string& text = block.text;
    size_t begin = text.find('\n');
    size_t end = text.rfind("-----END ");
    if (begin == std::string::npos || end == std::string::npos || end < begin) return nullptr;
    // Headers (Proc-Type, DEK-Info: an encrypted traditional key) are not base64 and make
    // the decode fail, which sends the block the generic way.
    auto der = base64_decode(std::string_view(text).substr(begin + 1, end - begin - 1));
    if (!der || der->empty()) return nullptr;
    if (kind.structure == nullptr) kind = {"PrivateKeyInfo", pkcs8_key_type(*der)};

    ERR_set_mark();
    CachedDecoder& decoder = cached_decoder(kind);
    PKeyPtr key;
    if (decoder.ctx) {
        const unsigned char* data = der->data();
        size_t length = der->size();
        decoder.slot = nullptr;
        int ok = OSSL_DECODER_from_data(decoder.ctx.get(), &data, &length);
        key.reset(decoder.slot);
        decoder.slot = nullptr;
        // Trailing bytes mean the block was not what its label said.
        if (ok != 1 || length != 0) key.reset();
    }
    if (key) {
        ERR_clear_last_mark();
    } else {
        ERR_pop_to_mark();
    }
    return key;
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
    if (PKeyPtr fast = decode_plain_key(*found)) {
        CERTDOCK_TRY_STATUS(spec_of(fast.get()));
        return PrivateKey(std::move(fast));
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
