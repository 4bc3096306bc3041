#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.hpp"

namespace certdock::dns {

inline constexpr std::uint16_t kDnsPort = 53;

// A name server to talk to: an IP address or a host name, and a port.
struct ServerAddress {
    std::string host;  // "192.0.2.53", "2001:db8::53" (no brackets), "ns1.example.com"
    std::uint16_t port = kDnsPort;

    // How messages name the server: "192.0.2.53", "127.0.0.1:5353", "[2001:db8::53]:5353".
    std::string to_string() const;
};

// Accepts "host", "host:port", "[v6]", "[v6]:port" and a bare IPv6 address ("::1").
Result<ServerAddress> parse_server_address(std::string_view text);

}  // namespace certdock::dns
