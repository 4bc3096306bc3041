#pragma once

// An HttpTransport that reports every exchange of the one it wraps: method, URL, the HTTP
// status or the failure to get one, and how long it took. The agent counts requests per CA
// and status with it (certdock_acme_requests_total); the wrapped transport's behaviour and
// results are passed through unchanged.

#include <chrono>
#include <functional>
#include <string>
#include <string_view>

#include "acme/http.hpp"
#include "base/error.hpp"

namespace certdock::acme {

struct RequestObservation {
    std::string_view method{};
    std::string_view url{};
    int status = 0;                // the HTTP status; 0 when no response came
    const Error* error = nullptr;  // set exactly when status is 0
    std::chrono::microseconds elapsed{0};
};

// Called once per request, on the thread that sent it, after the response (or the failure)
// and before send() returns. It must not throw.
using RequestObserver = std::function<void(const RequestObservation&)>;

class ObservedTransport final : public HttpTransport {
public:
    ObservedTransport(HttpTransportPtr inner, RequestObserver observer);

    Result<HttpResponse> send(const HttpRequest& request) override;

private:
    HttpTransportPtr inner_;
    RequestObserver observer_;
};

// "200", "404", ... or "error" when no response came: the status label of a request counter.
std::string status_label(const RequestObservation& observation);

}  // namespace certdock::acme
