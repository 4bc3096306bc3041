#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"

namespace certdock::crypto {

struct PemBlock {
    std::string label;  // "CERTIFICATE", "PRIVATE KEY", ...
    std::string text;   // the whole block, BEGIN and END lines included, ending in '\n'
};

// Splits text into PEM blocks, ignoring text between them (as OpenSSL does). A BEGIN with no
// matching END is reported as truncated, naming the label and the line it started on.
Result<std::vector<PemBlock>> split_pem(std::string_view text);

// Human name of what a PEM label holds, for "expected a private key, found a certificate".
std::string describe_pem_label(std::string_view label);

bool is_private_key_label(std::string_view label);

}  // namespace certdock::crypto
