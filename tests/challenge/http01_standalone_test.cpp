#include "challenge/http01_standalone.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

#include "challenge/loopback.hpp"

namespace certdock::challenge {
namespace {

using test::http_exchange;
using test::http_get;
using ::testing::HasSubstr;

ChallengeTask task_for(const std::string& token) {
    ChallengeTask task;
    task.type = ChallengeType::kHttp01;
    task.identifier = "example.com";
    task.token = token;
    task.key_authorization = token + ".nP1qzpXGymHBrUEepNY9HCsQk7K8KhOypzEt62jcerQ";
    return task;
}

std::string path_for(const ChallengeTask& task) {
    return "/.well-known/acme-challenge/" + task.token;
}

Http01StandaloneOptions loopback_options() {
    Http01StandaloneOptions options;
    options.address = "127.0.0.1";
    options.port = 0;
    return options;
}

class Http01StandaloneTest : public ::testing::Test {
protected:
    void SetUp() override {
        Status started = solver_.start();
        ASSERT_TRUE(started) << started.error().describe();
        ASSERT_NE(solver_.port(), 0);
    }

    Http01Standalone solver_{loopback_options()};
    ChallengeTask task_ = task_for("LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0");
};

TEST_F(Http01StandaloneTest, ServesKeyAuthorizationAsTextPlain) {
    ASSERT_TRUE(solver_.present(task_));
    auto reply = http_get(solver_.port(), path_for(task_));
    EXPECT_EQ(reply.status_line, "HTTP/1.1 200 OK");
    EXPECT_EQ(reply.header("Content-Type"), "text/plain");
    EXPECT_EQ(reply.header("Content-Length"), std::to_string(task_.key_authorization.size()));
    EXPECT_EQ(reply.body, task_.key_authorization);  // exactly, no trailing newline
}

TEST_F(Http01StandaloneTest, AnswersHeadWithoutBody) {
    ASSERT_TRUE(solver_.present(task_));
    auto reply = http_exchange(
        solver_.port(), "HEAD " + path_for(task_) + " HTTP/1.1\r\nHost: example.com\r\n\r\n");
    EXPECT_EQ(reply.status, 200);
    EXPECT_EQ(reply.header("Content-Length"), std::to_string(task_.key_authorization.size()));
    EXPECT_EQ(reply.body, "");
}

TEST_F(Http01StandaloneTest, AnswersHttp10AndBareLineFeeds) {
    ASSERT_TRUE(solver_.present(task_));
    auto reply = http_exchange(solver_.port(), "GET " + path_for(task_) + " HTTP/1.0\r\n\r\n");
    EXPECT_EQ(reply.status, 200);
    EXPECT_EQ(reply.body, task_.key_authorization);

    reply = http_exchange(solver_.port(), "GET " + path_for(task_) + " HTTP/1.0\n\n");
    EXPECT_EQ(reply.status, 200);
}

TEST_F(Http01StandaloneTest, AcceptsAbsoluteFormTarget) {
    ASSERT_TRUE(solver_.present(task_));
    auto reply = http_exchange(solver_.port(), "GET http://example.com" + path_for(task_) +
                                                   " HTTP/1.1\r\nHost: example.com\r\n\r\n");
    EXPECT_EQ(reply.status, 200);
    EXPECT_EQ(reply.body, task_.key_authorization);
}

TEST_F(Http01StandaloneTest, UnknownTokensAndOtherPathsAre404) {
    ASSERT_TRUE(solver_.present(task_));
    EXPECT_EQ(http_get(solver_.port(), "/.well-known/acme-challenge/unknown").status, 404);
    EXPECT_EQ(http_get(solver_.port(), "/.well-known/acme-challenge/").status, 404);
    EXPECT_EQ(http_get(solver_.port(), "/").status, 404);
    EXPECT_EQ(http_get(solver_.port(), path_for(task_) + "/extra").status, 404);
}

TEST_F(Http01StandaloneTest, CleanedUpTokenIs404) {
    ASSERT_TRUE(solver_.present(task_));
    ASSERT_EQ(http_get(solver_.port(), path_for(task_)).status, 200);
    ASSERT_TRUE(solver_.cleanup(task_));
    auto reply = http_get(solver_.port(), path_for(task_));
    EXPECT_EQ(reply.status, 404);
    EXPECT_THAT(reply.body, Not(HasSubstr(task_.key_authorization)));
}

TEST_F(Http01StandaloneTest, ServesSeveralTasksAtOnce) {
    ChallengeTask other = task_for("9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI");
    ASSERT_TRUE(solver_.present(task_));
    ASSERT_TRUE(solver_.present(other));
    EXPECT_EQ(http_get(solver_.port(), path_for(task_)).body, task_.key_authorization);
    EXPECT_EQ(http_get(solver_.port(), path_for(other)).body, other.key_authorization);

    ASSERT_TRUE(solver_.cleanup(task_));
    EXPECT_EQ(http_get(solver_.port(), path_for(task_)).status, 404);
    EXPECT_EQ(http_get(solver_.port(), path_for(other)).body, other.key_authorization);
}

TEST_F(Http01StandaloneTest, SlowClientDoesNotBlockOthers) {
    ASSERT_TRUE(solver_.present(task_));
    test::Socket slow = test::connect_loopback(solver_.port());
    ASSERT_TRUE(slow.valid());
    ASSERT_TRUE(test::send_all(slow, "GET " + path_for(task_) + " HTTP/1.1\r\n"));

    std::vector<std::thread> clients;
    std::vector<int> statuses(4);
    for (std::size_t i = 0; i < statuses.size(); ++i) {
        clients.emplace_back(
            [&, i] { statuses[i] = http_get(solver_.port(), path_for(task_)).status; });
    }
    for (auto& client : clients) client.join();
    EXPECT_THAT(statuses, ::testing::Each(200));

    ASSERT_TRUE(test::send_all(slow, "Host: example.com\r\n\r\n"));
    auto reply = test::parse_http_reply(test::read_until_close(slow));
    EXPECT_EQ(reply.status, 200);
}

TEST_F(Http01StandaloneTest, IgnoresRequestBody) {
    ASSERT_TRUE(solver_.present(task_));
    auto reply = http_exchange(solver_.port(), "GET " + path_for(task_) +
                                                   " HTTP/1.1\r\nHost: example.com\r\n"
                                                   "Content-Length: 11\r\n\r\nhello world");
    EXPECT_EQ(reply.status, 200);
    EXPECT_EQ(reply.body, task_.key_authorization);
}

TEST_F(Http01StandaloneTest, RefusesOtherMethodsAndVersions) {
    ASSERT_TRUE(solver_.present(task_));
    auto post = http_exchange(solver_.port(),
                              "POST " + path_for(task_) + " HTTP/1.1\r\nContent-Length: 0\r\n\r\n");
    EXPECT_EQ(post.status, 405);
    EXPECT_EQ(post.header("Allow"), "GET, HEAD");
    EXPECT_EQ(http_exchange(solver_.port(), "GET " + path_for(task_) + " HTTP/2.0\r\n\r\n").status,
              505);
    EXPECT_EQ(http_exchange(solver_.port(), "nonsense\r\n\r\n").status, 400);
}

TEST(Http01Standalone, OversizedRequestGets431) {
    Http01StandaloneOptions options = loopback_options();
    options.max_request_bytes = 1024;
    Http01Standalone solver(options);
    ASSERT_TRUE(solver.start());
    std::string request = "GET / HTTP/1.1\r\nX-Filler: " + std::string(4096, 'a') + "\r\n\r\n";
    EXPECT_EQ(http_exchange(solver.port(), request).status, 431);
    // The server is still fine afterwards.
    EXPECT_EQ(http_get(solver.port(), "/").status, 404);
}

TEST(Http01Standalone, ClosesIdleConnections) {
    Http01StandaloneOptions options = loopback_options();
    options.request_timeout = std::chrono::milliseconds(200);
    Http01Standalone solver(options);
    ASSERT_TRUE(solver.start());
    test::Socket idle = test::connect_loopback(solver.port());
    ASSERT_TRUE(idle.valid());
    auto started = std::chrono::steady_clock::now();
    EXPECT_EQ(test::read_until_close(idle), "");
    EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(3));
}

TEST(Http01Standalone, PresentStartsTheServer) {
    Http01Standalone solver(loopback_options());
    EXPECT_EQ(solver.port(), 0);
    ChallengeTask task = task_for("evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA");
    ASSERT_TRUE(solver.present(task));
    ASSERT_NE(solver.port(), 0);
    EXPECT_EQ(http_get(solver.port(), path_for(task)).body, task.key_authorization);
}

TEST(Http01Standalone, ListensOnAllAddressesByDefault) {
    Http01StandaloneOptions options;
    options.port = 0;
    Http01Standalone solver(options);
    Status started = solver.start();
    ASSERT_TRUE(started) << started.error().describe();
    EXPECT_EQ(http_get(solver.port(), "/").status, 404);  // reached over 127.0.0.1
}

TEST(Http01Standalone, StopsInDestructor) {
    std::uint16_t port = 0;
    {
        Http01Standalone solver(loopback_options());
        ASSERT_TRUE(solver.start());
        port = solver.port();
    }
    EXPECT_FALSE(test::connect_loopback(port).valid());
}

TEST(Http01Standalone, PortInUseNamesAddressAndFix) {
    std::uint16_t port = 0;
    test::Socket busy = test::listen_loopback(port);
    ASSERT_TRUE(busy.valid());
    Http01StandaloneOptions options = loopback_options();
    options.port = port;
    Http01Standalone solver(options);

    Status started = solver.start();
    ASSERT_FALSE(started);
    EXPECT_EQ(started.error().category(), ErrorCategory::kIo);
    std::string message = started.error().describe();
    EXPECT_THAT(message, HasSubstr("127.0.0.1:" + std::to_string(port)));
    EXPECT_THAT(message, HasSubstr("in use"));
    EXPECT_THAT(message, HasSubstr("ss -ltnp"));
    // present() reports the same instead of pretending the task is served.
    EXPECT_FALSE(solver.present(task_for("evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA")));
}

TEST(Http01Standalone, BadAddressIsAUsageError) {
    Http01StandaloneOptions options = loopback_options();
    options.address = "localhost";
    Http01Standalone solver(options);
    Status started = solver.start();
    ASSERT_FALSE(started);
    EXPECT_EQ(started.error().category(), ErrorCategory::kUsage);
    EXPECT_THAT(started.error().describe(), HasSubstr("'localhost' is not an IPv4 or IPv6"));
}

TEST(Http01Standalone, RefusesTasksOfOtherTypesAndBadTokens) {
    Http01Standalone solver(loopback_options());
    ChallengeTask task = task_for("evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA");
    task.type = ChallengeType::kDns01;
    EXPECT_FALSE(solver.present(task));
    ChallengeTask bad = task_for("../../etc/passwd");
    auto status = solver.present(bad);
    ASSERT_FALSE(status);
    EXPECT_EQ(status.error().category(), ErrorCategory::kUsage);
}

}  // namespace
}  // namespace certdock::challenge
