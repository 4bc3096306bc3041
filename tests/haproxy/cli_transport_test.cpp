#include "haproxy/cli_transport.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "haproxy/runtime_api.hpp"
#include "support/fake_clock.hpp"
#include "support/temp_dir.hpp"

namespace certdock::haproxy {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

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

}  // namespace
}  // namespace certdock::haproxy
