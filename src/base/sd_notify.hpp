#pragma once

// systemd's readiness protocol (sd_notify(3)) without libsystemd: one datagram of
// "KEY=value" lines to the unix socket named by $NOTIFY_SOCKET ("/run/systemd/notify", or
// "@name" for an abstract socket). Without $NOTIFY_SOCKET every call does nothing, so a
// program run by hand or by another supervisor is unaffected.

#include <string>
#include <string_view>

#include "base/result.hpp"
#include "base/unique_fd.hpp"

namespace certdock {

class SdNotifier {
public:
    // Reads $NOTIFY_SOCKET now; the variable is left in place for child processes to ignore
    // (they get a clean environment where it matters).
    static SdNotifier from_environment();
    // For tests and callers that know the socket; empty: disabled.
    explicit SdNotifier(std::string socket_path);

    bool enabled() const { return !socket_path_.empty(); }
    const std::string& socket_path() const { return socket_path_; }

    // Sends `state` ("READY=1", "STATUS=...\n", several lines at once) as one datagram.
    // Fails when the socket cannot be reached; callers log it and carry on, since a missed
    // notification must not stop the service.
    Status notify(std::string_view state);

    Status ready() { return notify("READY=1"); }
    Status status(std::string_view text);  // "STATUS=<text>", newlines flattened
    // "RELOADING=1" with MONOTONIC_USEC, as systemd 253+ asks for Type=notify-reload.
    Status reloading();
    Status stopping() { return notify("STOPPING=1"); }

private:
    std::string socket_path_;
    UniqueFd fd_;
};

}  // namespace certdock
