#pragma once

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <string>

#include "dns/tsig_key.hpp"
#include "dns/update.hpp"
#include "support/knot_server.hpp"
#include "support/must.hpp"

namespace certdock::dns {

// The zones every dns test runs against: records with several strings, an RRset too large for
// one UDP reply, a CNAME, a child zone served by the same knotd, a delegation to elsewhere.
inline test::KnotOptions test_zones() {
    test::KnotZone parent{"example.test.",
                          {"multi TXT \"abc\" \"def\" \"ghi\"", "two TXT \"one\"",
                           "two TXT \"two\"", "alias CNAME two", "child NS ns1.child",
                           "ns1.child A 127.0.0.1", "elsewhere NS ns.elsewhere.invalid."}};
    for (int i = 0; i < 40; ++i) {
        parent.records.push_back("big TXT \"" + std::to_string(100 + i) + std::string(60, 'x') +
                                 "\"");
    }
    test::KnotZone child{"child.example.test.", {}};
    return test::KnotOptions{{parent, child}};
}

inline TsigKey to_tsig_key(const test::KnotKey& key) {
    return test::must(parse_tsig_key(key.algorithm + ":" + key.name + ":" + key.secret));
}

// A fresh knotd per test (ctest runs each case in its own process anyway). Without knotd the
// test fails and says what to install: a skipped DNS suite would look like a passing one.
class KnotTest : public ::testing::Test {
protected:
    void SetUp() override {
        auto started = test::KnotServer::start(test_zones());
        ASSERT_TRUE(started) << started.error().describe();
        knot_ = std::move(started).value();
    }

    UpdateClient client(const TsigKey& key) const {
        return test::must(UpdateClient::create({knot_->address(), key, kTimeout}));
    }
    UpdateClient client() const { return client(to_tsig_key(knot_->key())); }

    static constexpr std::chrono::milliseconds kTimeout{2'000};
    std::unique_ptr<test::KnotServer> knot_;
};

// A UDP port where a socket is bound but nobody answers: queries to it time out.
class SilentServer {
public:
    SilentServer() : fd_(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) {
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t length = sizeof address;
        if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&address), length) != 0 ||
            ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
            std::abort();
        }
        port_ = ntohs(address.sin_port);
    }
    SilentServer(const SilentServer&) = delete;
    SilentServer& operator=(const SilentServer&) = delete;
    ~SilentServer() { ::close(fd_); }
    std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

private:
    int fd_;
    std::uint16_t port_ = 0;
};

}  // namespace certdock::dns
