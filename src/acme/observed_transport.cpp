#include "acme/observed_transport.hpp"

#include <string>
#include <utility>

namespace certdock::acme {

ObservedTransport::ObservedTransport(HttpTransportPtr inner, RequestObserver observer)
    : inner_(std::move(inner)), observer_(std::move(observer)) {}

Result<HttpResponse> ObservedTransport::send(const HttpRequest& request) {
    const auto started = std::chrono::steady_clock::now();
    Result<HttpResponse> response = inner_->send(request);
    if (!observer_) return response;
    RequestObservation observation{.method = request.method,
                                   .url = request.url,
                                   .status = response ? response->status : 0,
                                   .error = response ? nullptr : &response.error(),
                                   .elapsed = std::chrono::duration_cast<std::chrono::microseconds>(
                                       std::chrono::steady_clock::now() - started)};
    observer_(observation);
    return response;
}

std::string status_label(const RequestObservation& observation) {
    return observation.error != nullptr || observation.status <= 0
               ? "error"
               : std::to_string(observation.status);
}

}  // namespace certdock::acme
