#include "challenge/task_check.hpp"

#include <algorithm>
#include <string>

#include "crypto/x509_util.hpp"

namespace certdock::challenge {
namespace {

// Longer than any token a CA sends (Boulder and Pebble use 43 characters); keeps a hostile
// one out of file names and messages.
constexpr std::size_t kMaxTokenLength = 256;
constexpr std::size_t kMaxDnsNameLength = 253;

bool is_base64url_char(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
}

bool is_dns_name_char(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_';
}

Unexpected usage(std::string message) {
    return fail(ErrorCategory::kUsage, std::move(message));
}

Status check_identifier(const ChallengeTask& task) {
    const std::string& id = task.identifier;
    if (id.empty()) return usage("challenge task without an identifier");
    if (task.identifier_type == "ip") {
        if (!crypto::x509::is_ip_address(id)) {
            return usage("identifier '" + id + "' of type ip is not an IPv4 or IPv6 address");
        }
        return {};
    }
    if (task.identifier_type != "dns") {
        return usage("unsupported identifier type '" + task.identifier_type + "'");
    }
    if (id.starts_with("*.")) {
        return usage("identifier '" + id + "' still carries '*.': give the base name and set " +
                     "wildcard");
    }
    if (id.size() > kMaxDnsNameLength || !std::all_of(id.begin(), id.end(), is_dns_name_char) ||
        id.front() == '.' || id.front() == '-') {
        return usage("identifier '" + id + "' is not a DNS name in ASCII (A-label) form");
    }
    return {};
}

}  // namespace

Status check_token(std::string_view token) {
    if (token.empty()) return usage("challenge token is empty");
    if (token.size() > kMaxTokenLength ||
        !std::all_of(token.begin(), token.end(), is_base64url_char)) {
        // Not echoed in full: it may be long or contain path separators.
        return usage("challenge token '" + std::string(token.substr(0, 64)) +
                     "' contains characters outside the base64url alphabet");
    }
    return {};
}

Status check_task(const ChallengeTask& task, ChallengeType type) {
    if (task.type != type) {
        return usage("a " + std::string(challenge_type_name(type)) + " solver cannot answer a " +
                     std::string(challenge_type_name(task.type)) + " challenge");
    }
    CERTDOCK_TRY_STATUS(check_token(task.token));
    const std::string& key_auth = task.key_authorization;
    std::string_view thumbprint =
        std::string_view(key_auth).substr(std::min(key_auth.size(), task.token.size() + 1));
    if (!key_auth.starts_with(task.token + ".") || thumbprint.empty() ||
        !std::all_of(thumbprint.begin(), thumbprint.end(), is_base64url_char)) {
        return usage("key authorization for token " + task.token +
                     " is not \"<token>.<base64url thumbprint>\"");
    }
    return check_identifier(task);
}

}  // namespace certdock::challenge
