#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.hpp"

namespace certdock::acme {

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
    std::string method = "GET";  // GET, HEAD or POST
    std::string url;
    HttpHeaders headers;
    std::string body;
    std::chrono::milliseconds timeout{30'000};  // the whole exchange, connect included
};

struct HttpResponse {
    int status = 0;
    HttpHeaders headers;  // names as received; look-ups ignore case
    std::string body;

    // The first header with this name (case-insensitive).
    std::optional<std::string> header(std::string_view name) const;
    // Every header with this name, in order (Link appears more than once).
    std::vector<std::string> headers_named(std::string_view name) const;
    // URLs of `Link: <url>;rel="<rel>"` headers, resolved against nothing (ACME sends absolute
    // URLs).
    std::vector<std::string> links(std::string_view rel) const;
};

// The seam between the ACME client and an HTTP library. Implementations must be usable from
// one thread at a time; they may keep connections open between calls.
//
// Contract: a response with any HTTP status is a success of `send`; only failures to get a
// response at all (DNS, connect, TLS, timeout, reset) are errors, in category kNetwork, with
// a message naming the URL and what failed.
class HttpTransport {
public:
    virtual ~HttpTransport() = default;
    virtual Result<HttpResponse> send(const HttpRequest& request) = 0;
};

using HttpTransportPtr = std::unique_ptr<HttpTransport>;

}  // namespace certdock::acme
