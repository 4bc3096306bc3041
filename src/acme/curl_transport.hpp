#pragma once

#include <memory>
#include <optional>
#include <string>

#include "acme/http.hpp"

namespace certdock::acme {

struct CurlTransportOptions {
    // PEM file of roots to trust instead of the system's (a test CA, a private CA).
    std::optional<std::string> ca_file;
    std::string user_agent = "certdock";
    std::chrono::milliseconds connect_timeout{10'000};
};

// HttpTransport over libcurl. Keeps one easy handle so connections and TLS sessions are
// reused between requests to the same server.
HttpTransportPtr make_curl_transport(const CurlTransportOptions& options);

}  // namespace certdock::acme
