#pragma once

// What each HAProxy serves for a certificate, asked over the Runtime API (`show ssl cert`),
// for `certdock ctl status`. Runs on the control server's thread: it reads only the immutable
// configuration and talks to HAProxy with its own connections; it never takes HAProxy's
// certificate lock, so a delivery in progress is not disturbed.

#include <map>
#include <string>
#include <vector>

#include "agent/agent_status.hpp"
#include "agent/config.hpp"

namespace certdock::agent {

struct ServedLookupOptions {
    std::chrono::milliseconds io_timeout{3'000};  // per Runtime API exchange
};

// One lookup per status request: the certificate list of each socket is asked once.
class ServedLookup {
public:
    explicit ServedLookup(ConfigPtr config, ServedLookupOptions options = {});

    // One entry per Runtime API socket of each HAProxy target of `certificate`.
    std::vector<ServedBy> served(const CertificateConfig& certificate);

private:
    struct SocketNames {
        std::vector<std::string> names{};
        std::string error{};
    };
    const SocketNames& names_of(const haproxy::RuntimeApiOptions& socket);
    ServedBy ask(const std::string& target, const haproxy::RuntimeApiOptions& socket,
                 const CertificateConfig& certificate);

    ConfigPtr config_;
    ServedLookupOptions options_;
    std::map<std::string, SocketNames> names_{};
};

// "/run/haproxy/admin.sock", "/run/haproxy-master.sock @1".
std::string describe_socket(const haproxy::RuntimeApiOptions& socket);

}  // namespace certdock::agent
