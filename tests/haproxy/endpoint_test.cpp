#include "haproxy/endpoint.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace certdock::haproxy {
namespace {

using ::testing::HasSubstr;

RuntimeApiOptions parsed(std::string_view text) {
    auto options = parse_runtime_api_endpoint(text);
    EXPECT_TRUE(options) << text << ": " << options.error().describe();
    return options ? *options : RuntimeApiOptions{};
}

std::string refusal(std::string_view text) {
    auto options = parse_runtime_api_endpoint(text);
    EXPECT_FALSE(options) << text << " was accepted as " << options->transport.address;
    if (options) return "";
    EXPECT_EQ(options.error().category(), ErrorCategory::kUsage);
    return options.error().message();
}

TEST(RuntimeApiEndpoint, AUnixPathIsAWorkersSocket) {
    RuntimeApiOptions options = parsed("/run/haproxy/admin.sock");
    EXPECT_EQ(options.transport.address, "/run/haproxy/admin.sock");
    EXPECT_EQ(options.target_prefix, "");
    EXPECT_EQ(parsed("admin.sock").transport.address, "admin.sock");
    EXPECT_EQ(parsed("./run/admin.sock").transport.address, "./run/admin.sock");
}

TEST(RuntimeApiEndpoint, HostAndPortIsTcp) {
    EXPECT_EQ(parsed("127.0.0.1:9999").transport.address, "127.0.0.1:9999");
    EXPECT_EQ(parsed("[::1]:9999").transport.address, "[::1]:9999");
    EXPECT_EQ(parsed("lb1.example.net:9999").target_prefix, "");
}

TEST(RuntimeApiEndpoint, MasterCliWithAWorkerNumberOrPid) {
    RuntimeApiOptions first = parsed("/run/haproxy/master.sock@1");
    EXPECT_EQ(first.transport.address, "/run/haproxy/master.sock");
    EXPECT_EQ(first.target_prefix, "@1");
    RuntimeApiOptions by_pid = parsed("/run/haproxy/master.sock@!4242");
    EXPECT_EQ(by_pid.transport.address, "/run/haproxy/master.sock");
    EXPECT_EQ(by_pid.target_prefix, "@!4242");
    RuntimeApiOptions tcp = parsed("127.0.0.1:9999@2");
    EXPECT_EQ(tcp.transport.address, "127.0.0.1:9999");
    EXPECT_EQ(tcp.target_prefix, "@2");
}

TEST(RuntimeApiEndpoint, AnAtSignInsideAPathStaysInThePath) {
    RuntimeApiOptions options = parsed("/srv/user@host/admin.sock");
    EXPECT_EQ(options.transport.address, "/srv/user@host/admin.sock");
    EXPECT_EQ(options.target_prefix, "");
}

TEST(RuntimeApiEndpoint, DescribeGivesBackWhatTheUserWrote) {
    for (const char* text : {"/run/haproxy/master.sock@!4242", "127.0.0.1:9999", "a.sock@1"}) {
        EXPECT_EQ(describe_endpoint(parsed(text)), text);
    }
}

TEST(RuntimeApiEndpoint, RefusesWhatCannotBeASocket) {
    EXPECT_THAT(refusal(""), HasSubstr("no socket address"));
    EXPECT_THAT(refusal("@1"), HasSubstr("no socket address"));
    EXPECT_THAT(refusal("master.sock@"), HasSubstr("worker number (@1)"));
    EXPECT_THAT(refusal("master.sock@!"), HasSubstr("'!' and a pid"));
    EXPECT_THAT(refusal("master.sock@!12a"), HasSubstr("'!' and a pid"));
    EXPECT_THAT(refusal("master.sock@1x"), HasSubstr("worker number"));
    EXPECT_THAT(refusal("master.sock@master"), HasSubstr("master process holds no maps"));
    EXPECT_THAT(refusal("127.0.0.1:0"), HasSubstr("port must be 1 to 65535"));
    EXPECT_THAT(refusal("127.0.0.1:70000"), HasSubstr("port must be 1 to 65535"));
    EXPECT_THAT(refusal(":9999"), HasSubstr("no host"));
    EXPECT_THAT(refusal("/" + std::string(200, 'a')), HasSubstr("shorter than 108 bytes"));
    // Every refusal shows the accepted forms.
    EXPECT_THAT(refusal("x@"), HasSubstr("PATH@1, PATH@!PID"));
}

}  // namespace
}  // namespace certdock::haproxy
