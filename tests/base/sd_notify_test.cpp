// sd_notify without libsystemd: the datagrams a service manager would receive, on a path
// socket and on an abstract one, and nothing at all when NOTIFY_SOCKET is unset.

#include "base/sd_notify.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstddef>
#include <cstring>
#include <string>

#include "base/unique_fd.hpp"
#include "support/temp_dir.hpp"

namespace certdock {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// A datagram socket standing in for systemd's notify socket.
class NotifyReceiver {
public:
    // `name`: a path, or "@name" for an abstract socket.
    explicit NotifyReceiver(const std::string& name)
        : fd_(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) {
        sockaddr_un address{};
        address.sun_family = AF_UNIX;
        std::memcpy(address.sun_path, name.data(), name.size());
        auto length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size());
        if (name[0] == '@') {
            address.sun_path[0] = '\0';
        } else {
            length += 1;
        }
        bound_ = ::bind(fd_.get(), reinterpret_cast<const sockaddr*>(&address), length) == 0;
    }
    bool bound() const { return bound_; }

    // The next datagram, or "" when none came (the sender sends before this is called).
    std::string receive() {
        pollfd entry{fd_.get(), POLLIN, 0};
        if (::poll(&entry, 1, 5'000) <= 0) return {};
        char buffer[4096];
        const ssize_t got = ::recv(fd_.get(), buffer, sizeof buffer, 0);
        return got > 0 ? std::string(buffer, static_cast<size_t>(got)) : std::string();
    }

private:
    UniqueFd fd_;
    bool bound_ = false;
};

TEST(SdNotify, SendsEachStateAsOneDatagram) {
    test::TempDir dir;
    const std::string path = (dir.path() / "notify.sock").string();
    NotifyReceiver receiver(path);
    ASSERT_TRUE(receiver.bound());

    SdNotifier notifier(path);
    ASSERT_TRUE(notifier.enabled());
    ASSERT_TRUE(notifier.ready());
    EXPECT_EQ(receiver.receive(), "READY=1");
    ASSERT_TRUE(notifier.status("3 certificates,\n0 failing"));
    EXPECT_EQ(receiver.receive(), "STATUS=3 certificates, 0 failing");
    ASSERT_TRUE(notifier.reloading());
    const std::string reloading = receiver.receive();
    EXPECT_THAT(reloading, StartsWith("RELOADING=1\nMONOTONIC_USEC="));
    EXPECT_GT(std::stoll(reloading.substr(reloading.rfind('=') + 1)), 0);
    ASSERT_TRUE(notifier.stopping());
    EXPECT_EQ(receiver.receive(), "STOPPING=1");
}

TEST(SdNotify, ReachesAnAbstractSocket) {
    const std::string name = "@certdock-sd-notify-test-" + std::to_string(::getpid());
    NotifyReceiver receiver(name);
    ASSERT_TRUE(receiver.bound());
    SdNotifier notifier(name);
    ASSERT_TRUE(notifier.ready());
    EXPECT_EQ(receiver.receive(), "READY=1");
}

TEST(SdNotify, ReadsNotifySocketFromTheEnvironment) {
    test::TempDir dir;
    const std::string path = (dir.path() / "notify.sock").string();
    NotifyReceiver receiver(path);
    ASSERT_TRUE(receiver.bound());
    ::setenv("NOTIFY_SOCKET", path.c_str(), 1);
    SdNotifier notifier = SdNotifier::from_environment();
    ::unsetenv("NOTIFY_SOCKET");
    EXPECT_EQ(notifier.socket_path(), path);
    ASSERT_TRUE(notifier.ready());
    EXPECT_EQ(receiver.receive(), "READY=1");
}

TEST(SdNotify, DoesNothingWithoutNotifySocket) {
    ::unsetenv("NOTIFY_SOCKET");
    SdNotifier notifier = SdNotifier::from_environment();
    EXPECT_FALSE(notifier.enabled());
    EXPECT_TRUE(notifier.ready());
}

TEST(SdNotify, AMissingSocketIsAnErrorNamingIt) {
    test::TempDir dir;
    const std::string path = (dir.path() / "gone.sock").string();
    SdNotifier notifier(path);
    auto sent = notifier.ready();
    ASSERT_FALSE(sent);
    EXPECT_THAT(sent.error().describe(), HasSubstr(path));

    auto relative = SdNotifier("notify.sock").ready();
    ASSERT_FALSE(relative);
    EXPECT_THAT(relative.error().describe(), HasSubstr("starting with '@'"));
}

}  // namespace
}  // namespace certdock
