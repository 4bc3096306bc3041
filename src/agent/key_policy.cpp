#include "agent/key_policy.hpp"

#include "base/file.hpp"
#include "crypto/key.hpp"

namespace certdock::agent {

Result<DetectedKeySpec> detect_key_policy(const KeyPolicy& policy) {
    std::error_code error;
    const bool key_exists =
        !policy.key_file.empty() && std::filesystem::exists(policy.key_file, error);
    if (!key_exists) {
        if (policy.spec) return DetectedKeySpec{*policy.spec, KeySpecSource::kConfigured};
        return DetectedKeySpec{kDefaultKeySpec, KeySpecSource::kDefault};
    }
    const std::string file = "key-file \"" + policy.key_file.string() + "\"";
    auto key = read_file(policy.key_file).and_then([](const std::string& pem) {
        return crypto::PrivateKey::from_pem(pem);
    });
    if (!key) {
        return Error(ErrorCategory::kInput,
                     file +
                         " holds no usable private key; replace it with an unencrypted PEM "
                         "key or move it away to have a new one made")
            .caused_by(std::move(key).error());
    }
    const crypto::KeySpec found = key->spec();
    if (found.type != crypto::KeyType::kRsa && found.type != crypto::KeyType::kEcdsa) {
        return fail(ErrorCategory::kInput, file + " holds an " + found.describe() +
                                               " key; CAs issue for RSA and ECDSA keys only, "
                                               "move it away to have a new key made");
    }
    if (!policy.spec) return DetectedKeySpec{found, KeySpecSource::kExistingKey};
    if (*policy.spec != found && policy.reuse != ReuseKey::kOff) {
        return fail(ErrorCategory::kInput,
                    file + " holds an " + found.describe() +
                        " key but the configuration asks "
                        "for " +
                        policy.spec->describe() +
                        "; remove keytype (and bits, curves) to keep the key, or move the "
                        "file away to have a new " +
                        policy.spec->describe() + " key made");
    }
    return DetectedKeySpec{*policy.spec, KeySpecSource::kConfigured};
}

}  // namespace certdock::agent
