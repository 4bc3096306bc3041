#pragma once

// The proof that a certificate is served: a TLS handshake with a frontend, sending an SNI
// name, returning what the server presented. No verification: the caller compares the leaf
// with the certificate it just delivered.

#include <chrono>
#include <string>
#include <vector>

#include "base/result.hpp"
#include "crypto/certificate.hpp"

namespace certdock::agent {

struct ProbeTarget {
    std::string host{};  // name, IPv4 or IPv6 address (without brackets)
    std::uint16_t port = 443;
    std::string sni{};  // empty: no server_name extension
};

struct ProbeOptions {
    std::chrono::milliseconds timeout{5'000};  // connect and handshake, each
};

// "host:port", "[v6]:port"; `flag` names the option in the error.
Result<ProbeTarget> parse_probe_address(const std::string& text, const std::string& flag);

// The leaf first, then whatever chain the server sent.
Result<std::vector<crypto::Certificate>> probe_served_chain(const ProbeTarget& target,
                                                            const ProbeOptions& options = {});

// "127.0.0.1:8443 (SNI example.com)", for messages.
std::string describe(const ProbeTarget& target);

}  // namespace certdock::agent
