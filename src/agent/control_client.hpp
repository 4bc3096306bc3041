#pragma once

// The client side of the control socket, for `certdock ctl`: where the agent listens, and
// one request/reply exchange.

#include <chrono>
#include <filesystem>

#include "agent/control_protocol.hpp"
#include "base/result.hpp"

namespace certdock::agent {

// The control-socket a configuration file names ([agent] control-socket, relative paths
// against the file's directory), or the default. Read leniently: a file the agent would
// refuse for another reason (a bad certificate section) still tells where its socket is, so
// `certdock ctl reload` can report that refusal. Fails only when the file cannot be read or
// is not TOML.
Result<std::filesystem::path> control_socket_of(const std::filesystem::path& config_file);

// Sends `request` and waits up to `timeout` for the reply line. When nothing listens at
// `socket` the error (kUsage) says that no agent is running there and how to start one.
Result<ControlReply> exchange(const std::filesystem::path& socket, const ControlRequest& request,
                              std::chrono::milliseconds timeout);

}  // namespace certdock::agent
