#include "dns/server_address.hpp"

#include <charconv>

namespace certdock::dns {
namespace {

Unexpected bad_address(std::string_view text, std::string_view why) {
    return fail(ErrorCategory::kInput, "invalid DNS server address \"" + std::string(text) +
                                           "\": " + std::string(why) +
                                           " (expected host, host:port or [IPv6]:port)");
}

}  // namespace

std::string ServerAddress::to_string() const {
    bool v6 = host.find(':') != std::string::npos;
    if (port == kDnsPort) return host;
    return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

Result<ServerAddress> parse_server_address(std::string_view text) {
    ServerAddress address;
    std::string_view host = text;
    std::string_view port;
    if (text.starts_with('[')) {
        size_t close = text.find(']');
        if (close == std::string_view::npos) return bad_address(text, "missing ']'");
        host = text.substr(1, close - 1);
        std::string_view rest = text.substr(close + 1);
        if (!rest.empty()) {
            if (!rest.starts_with(':')) return bad_address(text, "junk after ']'");
            port = rest.substr(1);
            if (port.empty()) return bad_address(text, "empty port");
        }
    } else if (size_t colon = text.find(':'); colon != std::string_view::npos) {
        // One colon separates a port; more than one is a bare IPv6 address.
        if (text.find(':', colon + 1) == std::string_view::npos) {
            host = text.substr(0, colon);
            port = text.substr(colon + 1);
            if (port.empty()) return bad_address(text, "empty port");
        }
    }
    if (host.empty()) return bad_address(text, "empty host");
    address.host = std::string(host);
    if (!port.empty()) {
        unsigned value = 0;
        auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
        if (ec != std::errc() || end != port.data() + port.size() || value == 0 || value > 65535) {
            return bad_address(text, "port must be a number from 1 to 65535");
        }
        address.port = static_cast<std::uint16_t>(value);
    }
    return address;
}

}  // namespace certdock::dns
