#include "haproxy/cli_transport.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <atomic>
#include <cstring>
#include <mutex>
#include <thread>

#include "base/unique_fd.hpp"
#include "haproxy/runtime_api.hpp"
#include "support/fake_clock.hpp"
#include "support/temp_dir.hpp"

namespace certdock::haproxy {
namespace {

using namespace std::chrono_literals;
using ::testing::Each;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// A stand-in for a stats socket, for replies the real HAProxy cannot be made to give on
// demand: answers each connection, once the client has half-closed, with the next scripted
// reply (the last one repeats) and remembers what was asked.
class ScriptedCliServer {
public:
    ScriptedCliServer(const std::filesystem::path& path, std::vector<std::string> replies)
        : replies_(std::move(replies)) {
        listener_ = UniqueFd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
        sockaddr_un address{};
        address.sun_family = AF_UNIX;
        std::strncpy(address.sun_path, path.c_str(), sizeof address.sun_path - 1);
        if (listener_.get() < 0 ||
            ::bind(listener_.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
            ::listen(listener_.get(), 8) != 0) {
            throw std::runtime_error("cannot listen on " + path.string() + ": " +
                                     std::strerror(errno));
        }
        thread_ = std::thread([this] { serve(); });
    }
    ScriptedCliServer(const ScriptedCliServer&) = delete;
    ScriptedCliServer& operator=(const ScriptedCliServer&) = delete;
    ~ScriptedCliServer() {
        stop_ = true;
        thread_.join();
    }

    std::vector<std::string> requests() const {
        std::lock_guard lock(mutex_);
        return requests_;
    }

private:
    void serve() {
        while (!stop_) {
            pollfd entry{listener_.get(), POLLIN, 0};
            if (::poll(&entry, 1, 20) <= 0) continue;
            UniqueFd client(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
            if (client.get() < 0) continue;
            // A client that never half-closes must not hang the test.
            timeval limit{2, 0};
            ::setsockopt(client.get(), SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
            std::string request;
            char buffer[4096];
            ssize_t n = 0;
            while ((n = ::recv(client.get(), buffer, sizeof buffer, 0)) > 0) {
                request.append(buffer, static_cast<size_t>(n));
            }
            std::string reply;
            {
                std::lock_guard lock(mutex_);
                reply = replies_[std::min(requests_.size(), replies_.size() - 1)];
                requests_.push_back(request);
            }
            (void)::send(client.get(), reply.data(), reply.size(), MSG_NOSIGNAL);
        }
    }

    std::vector<std::string> replies_;
    UniqueFd listener_;
    std::atomic<bool> stop_{false};
    mutable std::mutex mutex_;
    std::vector<std::string> requests_;
    std::thread thread_;
};

constexpr std::string_view kLocked =
    "Can't update the certificate!\nOperations on certificates are currently locked!\n\n";

RuntimeApi api_with_clock(const std::filesystem::path& socket, test::FakeClock& clock) {
    RuntimeApiOptions options;
    options.transport.address = socket.string();
    options.transport.io_timeout = 5s;
    options.transport.clock = &clock;
    options.lock_timeout = 1s;
    return RuntimeApi(options);
}

Clock::Duration ms(long long count) {
    return std::chrono::duration_cast<Clock::Duration>(std::chrono::milliseconds(count));
}

TEST(CliTransport, MissingSocketRetriesWithGrowingBackoffThenSaysHaproxyDidNotComeUp) {
    test::TempDir dir;
    test::FakeClock clock;
    CliTransportOptions options;
    options.address = (dir.path() / "admin.sock").string();
    options.startup_timeout = 5s;
    options.clock = &clock;
    auto reply = cli_exchange(options, "show info\n", "show info");
    ASSERT_FALSE(reply);
    EXPECT_EQ(reply.error().category(), ErrorCategory::kNetwork);
    EXPECT_THAT(reply.error().message(), HasSubstr("HAProxy did not come up"));
    EXPECT_THAT(reply.error().message(), HasSubstr(options.address));
    EXPECT_THAT(reply.error().message(), HasSubstr("No such file or directory"));

    const auto& sleeps = clock.sleeps();
    ASSERT_GE(sleeps.size(), 6u);
    EXPECT_EQ(sleeps.front(), std::chrono::duration_cast<Clock::Duration>(20ms));
    Clock::Duration total{};
    for (size_t i = 0; i < sleeps.size(); ++i) {
        EXPECT_LE(sleeps[i], std::chrono::duration_cast<Clock::Duration>(1s));
        if (i > 0 && i + 1 < sleeps.size()) {
            EXPECT_GE(sleeps[i], sleeps[i - 1]);
        }
        total += sleeps[i];
    }
    EXPECT_EQ(total, std::chrono::duration_cast<Clock::Duration>(5s));
}

TEST(CliTransport, RefusedTcpPortIsAlsoTreatedAsStarting) {
    test::FakeClock clock;
    CliTransportOptions options;
    options.address = "127.0.0.1:1";  // nothing listens on tcpmux
    options.startup_timeout = 2s;
    options.clock = &clock;
    auto reply = cli_exchange(options, "show info\n", "show info");
    ASSERT_FALSE(reply);
    EXPECT_THAT(reply.error().message(), HasSubstr("HAProxy did not come up"));
    EXPECT_THAT(reply.error().message(), HasSubstr("127.0.0.1:1"));
    EXPECT_FALSE(clock.sleeps().empty());
}

TEST(RuntimeApi, RefusesArgumentsThatWouldChangeTheCommand) {
    RuntimeApi api({});
    Status spaced = api.add_map("/m.map", "a b", "c");
    ASSERT_FALSE(spaced);
    EXPECT_EQ(spaced.error().category(), ErrorCategory::kUsage);
    EXPECT_FALSE(api.commit_ssl_cert("/a.pem\nshow info"));
    EXPECT_FALSE(api.execute("show info\nshow sess"));
    auto empty = api.execute_with_payload("set ssl cert /a.pem", "\n\r\n");
    ASSERT_FALSE(empty);
    EXPECT_THAT(empty.error().message(), HasSubstr("empty"));
}

TEST(CertificateLock, LockedCommandIsSentAgainWithDoublingWaitsUntilItGoesThrough) {
    test::TempDir dir;
    test::FakeClock clock;
    const std::filesystem::path socket = dir.path() / "admin.sock";
    ScriptedCliServer server(socket,
                             {std::string(kLocked), std::string(kLocked), std::string(kLocked),
                              "Transaction created for certificate /a/site.pem!\n\n"});
    RuntimeApi api = api_with_clock(socket, clock);

    Status set = api.set_ssl_cert("/a/site.pem", "-----BEGIN CERTIFICATE-----\nMIIB\n");
    ASSERT_TRUE(set) << set.error().describe();
    EXPECT_THAT(clock.sleeps(), ElementsAre(ms(20), ms(40), ms(80)));
    auto requests = server.requests();
    ASSERT_EQ(requests.size(), 4u);
    EXPECT_THAT(requests, Each(requests.front())) << "the same request each time";
    EXPECT_THAT(requests.front(), HasSubstr("set ssl cert /a/site.pem <<\n"));
}

TEST(CertificateLock, LockHeldPastTheDeadlineIsAClearRetryableError) {
    test::TempDir dir;
    test::FakeClock clock;
    const std::filesystem::path socket = dir.path() / "admin.sock";
    ScriptedCliServer server(socket, {std::string(kLocked)});
    RuntimeApi api = api_with_clock(socket, clock);

    Status commit = api.commit_ssl_cert("/a/site.pem");
    ASSERT_FALSE(commit);
    EXPECT_EQ(commit.error().category(), ErrorCategory::kNetwork);
    EXPECT_THAT(commit.error().message(), HasSubstr("commit ssl cert /a/site.pem"));
    EXPECT_THAT(commit.error().message(), HasSubstr("currently locked"));
    EXPECT_THAT(commit.error().message(), HasSubstr("1000 ms"));
    EXPECT_THAT(commit.error().message(), HasSubstr("nothing was changed"));
    // 20, 40, ... 640 ms, capped there, the last wait cut to the deadline: 1 s in all.
    const auto& sleeps = clock.sleeps();
    ASSERT_GE(sleeps.size(), 3u);
    EXPECT_EQ(sleeps[0], ms(20));
    EXPECT_EQ(sleeps[1], ms(40));
    Clock::Duration total{};
    for (auto sleep : sleeps) total += sleep;
    EXPECT_EQ(total, ms(1000));
    EXPECT_EQ(server.requests().size(), sleeps.size() + 1);
}

TEST(CertificateLock, OtherRefusalsAreNotRetried) {
    test::TempDir dir;
    test::FakeClock clock;
    const std::filesystem::path socket = dir.path() / "admin.sock";
    ScriptedCliServer server(
        socket, {"Can't replace a certificate which is not referenced by the configuration!\n\n"});
    RuntimeApi api = api_with_clock(socket, clock);

    Status set = api.set_ssl_cert("/a/other.pem", "-----BEGIN CERTIFICATE-----\nMIIB\n");
    ASSERT_FALSE(set);
    EXPECT_THAT(set.error().message(), HasSubstr("not referenced by the configuration"));
    EXPECT_TRUE(clock.sleeps().empty());
    EXPECT_EQ(server.requests().size(), 1u);
}

// `show ssl cert` says "Can't show!" first; the retry covers reads as well as changes.
TEST(CertificateLock, ReadsAreRetriedToo) {
    test::TempDir dir;
    test::FakeClock clock;
    const std::filesystem::path socket = dir.path() / "admin.sock";
    ScriptedCliServer server(socket,
                             {"Can't show!\nOperations on certificates are currently locked!\n\n",
                              "# transaction\n# filename\n/a/site.pem\n\n"});
    RuntimeApi api = api_with_clock(socket, clock);

    auto names = api.show_ssl_cert_list();
    ASSERT_TRUE(names) << names.error().describe();
    EXPECT_THAT(*names, ElementsAre("/a/site.pem"));
    EXPECT_THAT(clock.sleeps(), ElementsAre(ms(20)));
}

}  // namespace
}  // namespace certdock::haproxy
