#pragma once

#include <string>
#include <string_view>

#include "base/error.hpp"

namespace certdock::crypto {

// Drains OpenSSL's thread-local error queue into one readable string ("" when empty).
std::string drain_openssl_errors();

// An Error for a failed OpenSSL call: `what` says what we tried, the cause says what
// OpenSSL itself reported, so the log shows both.
Error openssl_error(std::string_view what, ErrorCategory category = ErrorCategory::kCrypto);

}  // namespace certdock::crypto
