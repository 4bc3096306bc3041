// http-01 answered by a real HAProxy 2.6 from its map, filled through the Runtime API
// (integration).

#include "challenge/http01_haproxy_map.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "haproxy/endpoint.hpp"
#include "loopback.hpp"
#include "support/haproxy_server.hpp"
#include "support/must.hpp"
#include "support/temp_dir.hpp"

namespace certdock::challenge {
namespace {

using namespace std::chrono_literals;
using certdock::test::HaproxyServer;
using certdock::test::HaproxyServerPtr;
using certdock::test::must;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

ChallengeTask task_for(const std::string& token) {
    ChallengeTask task;
    task.type = ChallengeType::kHttp01;
    task.identifier = "site.test";
    task.token = token;
    task.key_authorization = token + ".nP1qzpXGymHBrUEepNY9HCsQk7K8KhOypzEt62jcerQ";
    return task;
}

// `startup_timeout` 0: a socket that is not there fails at once instead of counting as
// HAProxy still starting.
haproxy::RuntimeApiOptions endpoint(const std::string& text,
                                    std::chrono::milliseconds startup_timeout = 10s) {
    haproxy::RuntimeApiOptions options = must(haproxy::parse_runtime_api_endpoint(text));
    options.transport.io_timeout = 5s;
    options.transport.startup_timeout = startup_timeout;
    return options;
}

std::unique_ptr<Http01HaproxyMap> solver_for(const std::vector<std::string>& sockets,
                                             const std::string& map,
                                             std::chrono::milliseconds startup_timeout = 10s) {
    Http01HaproxyMapOptions options;
    for (const std::string& socket : sockets) {
        options.endpoints.push_back(endpoint(socket, startup_timeout));
    }
    options.map = map;
    return must(Http01HaproxyMap::create(options));
}

// What the CA's validator sees on HAProxy's port 80.
test::HttpReply fetch(const HaproxyServer& server, const std::string& token) {
    return test::http_exchange(server.http_port(),
                               "GET /.well-known/acme-challenge/" + token +
                                   " HTTP/1.1\r\nHost: site.test\r\nConnection: close\r\n\r\n");
}

std::vector<haproxy::MapEntry> map_of(const HaproxyServer& server) {
    haproxy::RuntimeApi api(endpoint(server.admin_socket().string()));
    return must(api.show_map(server.map_file().string()));
}

class Http01HaproxyMapTest : public ::testing::Test {
protected:
    HaproxyServerPtr server_ = must(HaproxyServer::start());
    std::string map_ = server_->map_file().string();
    std::unique_ptr<Http01HaproxyMap> solver_ = solver_for({server_->admin_socket()}, map_);
    ChallengeTask first_ = task_for("LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0");
    ChallengeTask second_ = task_for("evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA");
};

TEST_F(Http01HaproxyMapTest, ServesExactlyTheKeyAuthorizationUntilCleanup) {
    EXPECT_EQ(fetch(*server_, first_.token).status, 404);
    ASSERT_TRUE(solver_->check_ready());
    Status presented = solver_->present(first_);
    ASSERT_TRUE(presented) << presented.error().describe();

    test::HttpReply reply = fetch(*server_, first_.token);
    EXPECT_EQ(reply.status, 200);
    EXPECT_EQ(reply.body, first_.key_authorization);  // not a byte more

    Status cleaned = solver_->cleanup(first_);
    ASSERT_TRUE(cleaned) << cleaned.error().describe();
    EXPECT_EQ(fetch(*server_, first_.token).status, 404);
    EXPECT_THAT(map_of(*server_), IsEmpty());
}

TEST_F(Http01HaproxyMapTest, TwoTasksAtOnceAreBothServed) {
    ASSERT_TRUE(solver_->present(first_));
    ASSERT_TRUE(solver_->present(second_));
    EXPECT_EQ(fetch(*server_, first_.token).body, first_.key_authorization);
    EXPECT_EQ(fetch(*server_, second_.token).body, second_.key_authorization);

    ASSERT_TRUE(solver_->cleanup(first_));
    EXPECT_EQ(fetch(*server_, first_.token).status, 404);
    test::HttpReply still = fetch(*server_, second_.token);
    EXPECT_EQ(still.status, 200);
    EXPECT_EQ(still.body, second_.key_authorization);

    ASSERT_TRUE(solver_->cleanup(second_));
    EXPECT_EQ(fetch(*server_, second_.token).status, 404);
    EXPECT_THAT(map_of(*server_), IsEmpty());
}

TEST_F(Http01HaproxyMapTest, StaleEntriesForTheTokenAreReplaced) {
    // Left by an earlier run that died before its cleanup; HAProxy would answer the first.
    haproxy::RuntimeApi api(endpoint(server_->admin_socket().string()));
    ASSERT_TRUE(api.add_map(map_, first_.token, "stale.value"));
    ASSERT_TRUE(api.add_map(map_, first_.token, "older.value"));
    ASSERT_TRUE(solver_->present(first_));
    EXPECT_EQ(fetch(*server_, first_.token).body, first_.key_authorization);
    auto entries = map_of(*server_);
    ASSERT_EQ(entries.size(), 1u);
    EXPECT_EQ(entries[0].value, first_.key_authorization);
    ASSERT_TRUE(solver_->cleanup(first_));
    EXPECT_THAT(map_of(*server_), IsEmpty());
}

TEST_F(Http01HaproxyMapTest, CleanupOfATokenNeverAddedSucceeds) {
    Status cleaned = solver_->cleanup(first_);
    EXPECT_TRUE(cleaned) << cleaned.error().describe();
}

TEST_F(Http01HaproxyMapTest, AMapHaproxyDidNotLoadIsExplained) {
    const std::string missing = (server_->dir() / "acme.map").string();
    auto solver = solver_for({server_->admin_socket()}, missing);
    Status ready = solver->check_ready();
    ASSERT_FALSE(ready);
    EXPECT_EQ(ready.error().category(), ErrorCategory::kUsage);
    EXPECT_THAT(ready.error().describe(),
                AllOf(HasSubstr(server_->admin_socket().string()), HasSubstr(missing),
                      HasSubstr("Unknown map identifier"),
                      HasSubstr("create the empty file before HAProxy starts"),
                      HasSubstr("it has loaded: " + map_)));
    Status presented = solver->present(first_);
    ASSERT_FALSE(presented);
    EXPECT_THAT(presented.error().describe(), HasSubstr("Unknown map identifier"));
    EXPECT_THAT(map_of(*server_), IsEmpty());

    // HAProxy 2.6 has no virtual maps: the fix names the version that does.
    Status virtual_map = solver_for({server_->admin_socket()}, "virt@acme")->check_ready();
    ASSERT_FALSE(virtual_map);
    EXPECT_THAT(virtual_map.error().describe(), HasSubstr("need HAProxy 3.0 or later"));
}

TEST_F(Http01HaproxyMapTest, ADeadSocketIsNamedAndCleanupStillReachesTheOthers) {
    const std::string dead = (server_->dir() / "gone.sock").string();
    auto both = solver_for({dead, server_->admin_socket()}, map_, 0ms);

    Status ready = both->check_ready();
    ASSERT_FALSE(ready);
    EXPECT_THAT(ready.error().describe(), HasSubstr("HAProxy at " + dead));

    Status presented = both->present(first_);
    ASSERT_FALSE(presented);
    EXPECT_THAT(presented.error().describe(),
                AllOf(HasSubstr("HAProxy at " + dead), HasSubstr("stats socket")));

    // The live HAProxy holds the token (presented by another run); the dead one comes first.
    ASSERT_TRUE(solver_->present(first_));
    Status cleaned = both->cleanup(first_);
    ASSERT_FALSE(cleaned);
    EXPECT_THAT(cleaned.error().describe(),
                AllOf(HasSubstr(first_.token), HasSubstr("HAProxy at " + dead)));
    EXPECT_THAT(cleaned.error().describe(),
                Not(HasSubstr("HAProxy at " + server_->admin_socket().string())));
    EXPECT_EQ(fetch(*server_, first_.token).status, 404);
    EXPECT_THAT(map_of(*server_), IsEmpty());
}

TEST(Http01HaproxyMapMany, EveryHaproxyServesTheTokenWhateverItsSocketKind) {
    // Two nodes sharing one configuration: the same map path, one reached through its stats
    // socket, the other through the master CLI.
    certdock::test::TempDir shared;
    const std::filesystem::path map = shared.path() / "acme.map";
    auto plain = must(HaproxyServer::start({.map_file = map}));
    auto master = must(HaproxyServer::start({.master_cli = true, .map_file = map}));
    auto solver = solver_for(
        {plain->admin_socket().string(), master->master_socket().string() + "@1"}, map.string());
    ChallengeTask task = task_for("LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0");

    Status presented = solver->present(task);
    ASSERT_TRUE(presented) << presented.error().describe();
    for (const HaproxyServer* server : {plain.get(), master.get()}) {
        test::HttpReply reply = fetch(*server, task.token);
        EXPECT_EQ(reply.status, 200);
        EXPECT_EQ(reply.body, task.key_authorization);
    }

    Status cleaned = solver->cleanup(task);
    ASSERT_TRUE(cleaned) << cleaned.error().describe();
    for (const HaproxyServer* server : {plain.get(), master.get()}) {
        EXPECT_EQ(fetch(*server, task.token).status, 404);
    }
    EXPECT_THAT(map_of(*plain), IsEmpty());
    EXPECT_THAT(map_of(*master), IsEmpty());
}

}  // namespace
}  // namespace certdock::challenge
