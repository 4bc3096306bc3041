#include "haproxy/endpoint.hpp"

#include <sys/un.h>

#include <algorithm>

namespace certdock::haproxy {
namespace {

bool all_digits(std::string_view text) {
    return !text.empty() &&
           std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

Unexpected usage(std::string_view text, const std::string& why) {
    return fail(ErrorCategory::kUsage, "HAProxy Runtime API endpoint \"" + std::string(text) +
                                           "\": " + why +
                                           " (expected a unix socket path, HOST:PORT, or a "
                                           "master CLI socket with a worker: PATH@1, PATH@!PID)");
}

// The same split cli_transport makes: a numeric port after the last ':' means TCP, unless
// the text starts like a path.
Status check_address(std::string_view whole, std::string_view address) {
    if (address.empty()) return usage(whole, "no socket address");
    size_t colon = address.rfind(':');
    bool path_like = address.front() == '/' || address.front() == '.';
    if (!path_like && colon != std::string_view::npos && all_digits(address.substr(colon + 1))) {
        std::string_view host = address.substr(0, colon);
        std::string_view port = address.substr(colon + 1);
        if (host.empty() || host == "[]") return usage(whole, "no host before the port");
        // Digits only and at most five of them, so stoi cannot throw.
        int number = port.size() > 5 ? 0 : std::stoi(std::string(port));
        if (number < 1 || number > 65535) {
            return usage(whole, "the port must be 1 to 65535");
        }
        return {};
    }
    if (address.size() >= sizeof(sockaddr_un::sun_path)) {
        return usage(whole, "a unix socket path must be shorter than " +
                                std::to_string(sizeof(sockaddr_un::sun_path)) + " bytes");
    }
    return {};
}

}  // namespace

Result<RuntimeApiOptions> parse_runtime_api_endpoint(std::string_view text) {
    RuntimeApiOptions options;
    std::string_view address = text;
    size_t at = text.rfind('@');
    if (at != std::string_view::npos) {
        std::string_view target = text.substr(at + 1);
        if (target == "master") {
            return usage(text,
                         "the master process holds no maps or certificates; name a worker with "
                         "@1 (the first) or @!PID");
        }
        bool by_pid = !target.empty() && target.front() == '!';
        if (all_digits(by_pid ? target.substr(1) : target)) {
            options.target_prefix = "@" + std::string(target);
            address = text.substr(0, at);
        } else if (target.empty() || by_pid || (target.front() >= '0' && target.front() <= '9')) {
            return usage(text, "after '@' comes a worker number (@1) or '!' and a pid (@!4242)");
        }
        // Otherwise the '@' is part of a path.
    }
    CERTDOCK_TRY_STATUS(check_address(text, address));
    options.transport.address = std::string(address);
    return options;
}

std::string describe_endpoint(const RuntimeApiOptions& options) {
    return options.transport.address + options.target_prefix;
}

}  // namespace certdock::haproxy
