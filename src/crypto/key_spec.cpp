#include "crypto/key_spec.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace certdock::crypto {
namespace {

constexpr std::string_view kSupported =
    "supported: rsa2048, rsa3072, rsa4096, ecdsa-p256, ecdsa-p384, ed25519";

std::string lower_without_separators(std::string_view text) {
    std::string out;
    for (char c : text) {
        if (c == '-' || c == '_' || c == ' ' || c == ':') continue;
        out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return out;
}

std::optional<int> parse_int(std::string_view text) {
    int value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
    return value;
}

Result<KeySpec> rsa_with_bits(int bits, std::string_view original) {
    if (bits == 2048 || bits == 3072 || bits == 4096) return KeySpec::rsa(bits);
    return fail(ErrorCategory::kUsage, "unsupported RSA size in '" + std::string(original) +
                                           "': use 2048, 3072 or 4096 bits");
}

Result<KeySpec> ecdsa_with_bits(int bits, std::string_view original) {
    if (bits == 256) return KeySpec::ecdsa(Curve::kP256);
    if (bits == 384) return KeySpec::ecdsa(Curve::kP384);
    return fail(ErrorCategory::kUsage,
                "unsupported ECDSA curve in '" + std::string(original) + "': use P-256 or P-384");
}

std::optional<Curve> parse_curve(std::string_view normalized) {
    if (normalized == "p256" || normalized == "prime256v1" || normalized == "secp256r1") {
        return Curve::kP256;
    }
    if (normalized == "p384" || normalized == "secp384r1") return Curve::kP384;
    return std::nullopt;
}

}  // namespace

std::string_view curve_name(Curve curve) {
    switch (curve) {
        case Curve::kP256:
            return "P-256";
        case Curve::kP384:
            return "P-384";
        case Curve::kNone:
            break;
    }
    return "none";
}

int curve_bits(Curve curve) {
    switch (curve) {
        case Curve::kP256:
            return 256;
        case Curve::kP384:
            return 384;
        case Curve::kNone:
            break;
    }
    return 0;
}

std::string KeySpec::describe() const {
    switch (type) {
        case KeyType::kRsa:
            return "RSA " + std::to_string(rsa_bits);
        case KeyType::kEcdsa:
            return "ECDSA " + std::string(curve_name(curve));
        case KeyType::kEd25519:
            return "Ed25519";
        case KeyType::kUnsupported:
            break;
    }
    return "unsupported key";
    return "unknown key";
}

std::string KeySpec::token() const {
    switch (type) {
        case KeyType::kRsa:
            return "rsa" + std::to_string(rsa_bits);
        case KeyType::kEcdsa:
            return "ecdsa-p" + std::to_string(curve_bits(curve));
        case KeyType::kEd25519:
            return "ed25519";
        case KeyType::kUnsupported:
            break;
    }
    return "unknown";
}

Result<KeySpec> parse_key_spec(std::string_view text) {
    const std::string n = lower_without_separators(text);
    if (n.empty()) return fail(ErrorCategory::kUsage, "empty key type; " + std::string(kSupported));
    if (n == "ed25519" || n == "eddsa") return KeySpec::ed25519();
    if (n == "rsa") return KeySpec::rsa(2048);
    if (n.starts_with("rsa")) {
        if (auto bits = parse_int(std::string_view(n).substr(3))) return rsa_with_bits(*bits, text);
    }
    if (n == "ecdsa" || n == "ec") return KeySpec::ecdsa(Curve::kP256);
    for (std::string_view prefix : {"ecdsa", "ec", ""}) {
        if (!n.starts_with(prefix)) continue;
        std::string_view rest = std::string_view(n).substr(prefix.size());
        if (auto curve = parse_curve(rest)) return KeySpec::ecdsa(*curve);
        // "ec521", "p521": a curve size, supported or not, so the error can name the choices.
        bool names_a_size = !prefix.empty() || rest.starts_with('p');
        if (rest.starts_with('p')) rest.remove_prefix(1);
        if (auto bits = parse_int(rest); bits && names_a_size) return ecdsa_with_bits(*bits, text);
    }
    return fail(ErrorCategory::kUsage,
                "unknown key type '" + std::string(text) + "'; " + std::string(kSupported));
}

Result<KeySpec> key_spec_from_haproxy(std::string_view keytype, std::optional<int> bits,
                                      std::optional<std::string_view> curves) {
    const std::string type = lower_without_separators(keytype);
    if (type == "rsa")
        return rsa_with_bits(bits.value_or(2048), "bits " + std::to_string(bits.value_or(2048)));
    if (type == "ecdsa" || type == "ec") {
        if (curves) {
            // HAProxy takes a list; the first curve is the one the key is generated on.
            std::string_view first = curves->substr(0, curves->find_first_of(": ,"));
            if (auto curve = parse_curve(lower_without_separators(first))) {
                return KeySpec::ecdsa(*curve);
            }
            return fail(ErrorCategory::kUsage,
                        "unsupported curve '" + std::string(first) + "': use P-256 or P-384");
        }
        if (bits) return ecdsa_with_bits(*bits, "bits " + std::to_string(*bits));
        return KeySpec::ecdsa(Curve::kP256);
    }
    return fail(ErrorCategory::kUsage,
                "unknown keytype '" + std::string(keytype) + "': HAProxy accepts RSA or ECDSA");
}

}  // namespace certdock::crypto
