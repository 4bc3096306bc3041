#include "acme/observed_transport.hpp"

#include <gtest/gtest.h>

#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace certdock::acme {
namespace {

// Answers each request with the next scripted result and records what it was asked.
class ScriptedTransport final : public HttpTransport {
public:
    explicit ScriptedTransport(std::deque<Result<HttpResponse>> script)
        : script_(std::move(script)) {}
    Result<HttpResponse> send(const HttpRequest& request) override {
        urls.push_back(request.url);
        Result<HttpResponse> next = std::move(script_.front());
        script_.pop_front();
        return next;
    }
    std::vector<std::string> urls;

private:
    std::deque<Result<HttpResponse>> script_;
};

HttpRequest request(std::string method, std::string url) {
    HttpRequest built;
    built.method = std::move(method);
    built.url = std::move(url);
    return built;
}

HttpResponse response(int status, std::string body = {}) {
    HttpResponse answer;
    answer.status = status;
    answer.body = std::move(body);
    return answer;
}

TEST(ObservedTransport, CountsEveryRequestByStatusAndPassesResultsThrough) {
    std::deque<Result<HttpResponse>> script;
    script.emplace_back(response(200, "{\"newNonce\":\"x\"}"));
    script.emplace_back(response(201));
    script.emplace_back(response(400, "badNonce"));
    script.emplace_back(response(201));
    script.emplace_back(fail(ErrorCategory::kNetwork, "https://ca.test/dir: connection refused"));
    auto inner = std::make_unique<ScriptedTransport>(std::move(script));
    ScriptedTransport* scripted = inner.get();

    std::map<std::string, int> counts;
    std::vector<std::string> seen;
    ObservedTransport observed(std::move(inner), [&](const RequestObservation& observation) {
        ++counts[status_label(observation)];
        seen.push_back(std::string(observation.method) + " " + std::string(observation.url));
        EXPECT_EQ(observation.error != nullptr, observation.status == 0);
    });

    auto first = observed.send(request("GET", "https://ca.test/dir"));
    ASSERT_TRUE(first);
    EXPECT_EQ(first->body, "{\"newNonce\":\"x\"}");
    EXPECT_EQ(observed.send(request("POST", "https://ca.test/new-acct"))->status, 201);
    EXPECT_EQ(observed.send(request("POST", "https://ca.test/new-order"))->body, "badNonce");
    EXPECT_TRUE(observed.send(request("POST", "https://ca.test/new-order")));
    auto refused = observed.send(request("HEAD", "https://ca.test/nonce"));
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().message(), "https://ca.test/dir: connection refused");

    EXPECT_EQ(counts,
              (std::map<std::string, int>{{"200", 1}, {"201", 2}, {"400", 1}, {"error", 1}}));
    EXPECT_EQ(seen.front(), "GET https://ca.test/dir");
    EXPECT_EQ(seen.back(), "HEAD https://ca.test/nonce");
    EXPECT_EQ(scripted->urls.size(), 5u);
}

TEST(ObservedTransport, WithoutObserverOnlyForwards) {
    std::deque<Result<HttpResponse>> script;
    script.emplace_back(response(204));
    ObservedTransport observed(std::make_unique<ScriptedTransport>(std::move(script)), {});
    EXPECT_EQ(observed.send(request("GET", "https://ca.test/x"))->status, 204);
}

}  // namespace
}  // namespace certdock::acme
