#pragma once

// How a user names one HAProxy's Runtime API on a command line, e.g.
//   /run/haproxy/admin.sock           a worker's stats socket (unix)
//   127.0.0.1:9999                    a stats socket on TCP ("[::1]:9999" for IPv6)
//   /run/haproxy/master.sock@1        the master CLI, talking to the first worker
//   /run/haproxy/master.sock@!4242    the master CLI, talking to the worker with pid 4242

#include <string>
#include <string_view>

#include "base/result.hpp"
#include "haproxy/runtime_api.hpp"

namespace certdock::haproxy {

// The text as RuntimeApiOptions (transport timeouts left at their defaults). A trailing
// "@<n>" or "@!<pid>" becomes the master CLI target prefix; any other '@' belongs to the
// path. kUsage errors say what form was expected: an empty address, "@" with nothing usable
// after it, "@master" (the master holds no maps or certificates), a port outside 1-65535,
// a unix path too long for a socket address.
Result<RuntimeApiOptions> parse_runtime_api_endpoint(std::string_view text);

// The endpoint as a user wrote it, for messages: "<address>" or "<address>@1".
std::string describe_endpoint(const RuntimeApiOptions& options);

}  // namespace certdock::haproxy
