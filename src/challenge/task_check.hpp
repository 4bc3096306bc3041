#pragma once

// Checks shared by the solvers. A token or identifier ends up in a file path, an argv entry
// or a TLS name, and both come from the ACME server: a hostile or buggy server must not be
// able to write outside the webroot or smuggle options into a hook.

#include <string_view>

#include "base/result.hpp"
#include "challenge/solver.hpp"

namespace certdock::challenge {

// Non-empty and only base64url characters (RFC 8555 §8.1, §8.3).
Status check_token(std::string_view token);

// The task is of `type`, its token passes check_token, its key authorization is
// "<token>.<thumbprint>" in base64url, and its identifier is a plain DNS name ("*." already
// removed, ASCII as RFC 8555 §7.1.4 requires) or, for identifier_type "ip", an IP address.
// Errors are kUsage: the caller built a task no CA could have sent.
Status check_task(const ChallengeTask& task, ChallengeType type);

}  // namespace certdock::challenge
