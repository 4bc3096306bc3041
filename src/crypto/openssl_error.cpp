#include "crypto/openssl_error.hpp"

#include <openssl/err.h>

#include <array>

namespace certdock::crypto {

std::string drain_openssl_errors() {
    std::string text;
    std::array<char, 256> buffer{};
    while (unsigned long code = ERR_get_error()) {
        ERR_error_string_n(code, buffer.data(), buffer.size());
        if (!text.empty()) text += "; ";
        text += buffer.data();
    }
    return text;
}

Error openssl_error(std::string_view what, ErrorCategory category) {
    Error error(category, std::string(what));
    std::string reason = drain_openssl_errors();
    if (reason.empty()) return error;
    return std::move(error).caused_by(Error(ErrorCategory::kCrypto, "OpenSSL: " + reason));
}

}  // namespace certdock::crypto
