// The control socket's wire format: what ctl sends is what the agent reads, replies survive
// the trip, and a malformed request gets an error that says what to send instead.

#include "agent/control_protocol.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace certdock::agent {
namespace {

using ::testing::HasSubstr;

SystemTime at(std::string_view text) {
    return parse_rfc3339(text).value();
}

TEST(ControlProtocol, RequestsRoundTrip) {
    for (const ControlRequest& request :
         {ControlRequest{.command = ControlCommand::kStatus},
          ControlRequest{.command = ControlCommand::kRenew, .name = "site", .wait = false},
          ControlRequest{.command = ControlCommand::kRenew, .name = "api", .wait = true},
          ControlRequest{.command = ControlCommand::kStatus, .names = {"site", "api"}},
          ControlRequest{.command = ControlCommand::kReload}}) {
        const std::string line = encode_request(request);
        EXPECT_EQ(line.find('\n'), std::string::npos) << line;
        auto parsed = parse_request(line);
        ASSERT_TRUE(parsed) << parsed.error().describe();
        EXPECT_EQ(parsed->command, request.command);
        EXPECT_EQ(parsed->name, request.name);
        EXPECT_EQ(parsed->wait, request.wait);
        EXPECT_EQ(parsed->names, request.names);
    }
}

TEST(ControlProtocol, RenewWaitsUnlessToldNot) {
    auto parsed = parse_request(R"({"command":"renew","name":"site"})");
    ASSERT_TRUE(parsed) << parsed.error().describe();
    EXPECT_TRUE(parsed->wait);
}

TEST(ControlProtocol, MalformedRequestsSayWhatToSend) {
    auto not_json = parse_request("status");
    ASSERT_FALSE(not_json);
    EXPECT_THAT(not_json.error().message(), HasSubstr("not JSON"));
    EXPECT_THAT(not_json.error().message(), HasSubstr(R"({"command":"status"})"));

    auto unknown = parse_request(R"({"command":"restart"})");
    ASSERT_FALSE(unknown);
    EXPECT_THAT(unknown.error().message(), HasSubstr("unknown command \"restart\""));
    EXPECT_THAT(unknown.error().message(), HasSubstr("status, renew or reload"));

    auto no_command = parse_request(R"({"name":"site"})");
    ASSERT_FALSE(no_command);
    EXPECT_THAT(no_command.error().message(), HasSubstr("no \"command\""));

    auto no_name = parse_request(R"({"command":"renew"})");
    ASSERT_FALSE(no_name);
    EXPECT_THAT(no_name.error().message(), HasSubstr("renew needs \"name\""));

    auto bad_wait = parse_request(R"({"command":"renew","name":"site","wait":"yes"})");
    ASSERT_FALSE(bad_wait);
    EXPECT_THAT(bad_wait.error().message(), HasSubstr("\"wait\" must be true or false"));

    auto bad_names = parse_request(R"({"command":"status","names":"site"})");
    ASSERT_FALSE(bad_names);
    EXPECT_THAT(bad_names.error().message(), HasSubstr("\"names\" must be a list"));

    EXPECT_FALSE(parse_request(R"(["status"])"));
}

TEST(ControlProtocol, StatusReplyRoundTrips) {
    CertificateStatus site{
        .name = "site",
        .domains = {"site.test", "www.site.test"},
        .serial = "0A1B",
        .not_after = at("2026-03-01T00:00:00Z"),
        .decision = "waiting-retry",
        .next_renewal = at("2026-02-01T00:00:00Z"),
        .next_renewal_reason = "a third of the lifetime before expiry",
        .last_attempt = at("2026-01-02T03:04:05Z"),
        .last_result = "failure",
        .last_error = "not delivered: HAProxy down",
        .consecutive_failures = 2,
        .next_retry = at("2026-01-02T04:04:05Z"),
        .next_retry_reason = "second failure: 1 hour",
        .renewing_since = at("2026-01-02T03:04:00Z"),
        .served = {{.haproxy = "edge", .socket = "/run/a.sock", .serial = "0a1b"},
                   {.haproxy = "edge", .socket = "/run/b.sock", .error = "unreachable: refused"}}};
    ControlReply reply{.status = StatusReply{.agent = {.pid = 42,
                                                       .config_file = "/etc/certdock/certdock.toml",
                                                       .started = at("2026-01-01T00:00:00Z"),
                                                       .next_scan = at("2026-01-02T04:04:05Z")},
                                             .certificates = {site}}};
    const std::string line = encode_reply(reply);
    EXPECT_EQ(line.find('\n'), std::string::npos);
    auto parsed = parse_reply(line);
    ASSERT_TRUE(parsed) << parsed.error().describe();
    ASSERT_TRUE(parsed->ok);
    ASSERT_TRUE(parsed->status);
    EXPECT_EQ(parsed->status->agent.pid, 42);
    EXPECT_EQ(parsed->status->agent.config_file, "/etc/certdock/certdock.toml");
    EXPECT_EQ(parsed->status->agent.next_scan, at("2026-01-02T04:04:05Z"));
    EXPECT_FALSE(parsed->status->agent.last_scan);
    ASSERT_EQ(parsed->status->certificates.size(), 1U);
    const CertificateStatus& back = parsed->status->certificates[0];
    EXPECT_EQ(back.name, site.name);
    EXPECT_EQ(back.domains, site.domains);
    EXPECT_EQ(back.serial, site.serial);
    EXPECT_EQ(back.not_after, site.not_after);
    EXPECT_EQ(back.decision, site.decision);
    EXPECT_EQ(back.next_renewal, site.next_renewal);
    EXPECT_EQ(back.next_renewal_reason, site.next_renewal_reason);
    EXPECT_EQ(back.last_attempt, site.last_attempt);
    EXPECT_EQ(back.last_result, site.last_result);
    EXPECT_EQ(back.last_error, site.last_error);
    EXPECT_EQ(back.consecutive_failures, 2);
    EXPECT_EQ(back.next_retry, site.next_retry);
    EXPECT_EQ(back.next_retry_reason, site.next_retry_reason);
    EXPECT_EQ(back.renewing_since, site.renewing_since);
    ASSERT_EQ(back.served.size(), 2U);
    EXPECT_EQ(back.served[0].serial, "0a1b");
    EXPECT_EQ(back.served[1].error, "unreachable: refused");
    EXPECT_FALSE(back.served_everywhere());
}

TEST(ControlProtocol, ServedEverywhereComparesSerialsAsNumbers) {
    CertificateStatus status{.serial = "0A1B", .served = {{.haproxy = "edge", .serial = "a1b"}}};
    EXPECT_TRUE(status.served_everywhere());
    status.served.push_back({.haproxy = "edge", .serial = "0C"});
    EXPECT_FALSE(status.served_everywhere());
    status.served.pop_back();
    status.consecutive_failures = 1;
    EXPECT_FALSE(status.served_everywhere()) << "a pending failure is not healthy";
}

TEST(ControlProtocol, RenewAndReloadRepliesRoundTrip) {
    ControlReply renew{.renew = RenewReply{.name = "site",
                                           .outcome = "failed",
                                           .error = "CA said no",
                                           .next_retry = at("2026-01-02T04:04:05Z")}};
    auto parsed = parse_reply(encode_reply(renew));
    ASSERT_TRUE(parsed) << parsed.error().describe();
    ASSERT_TRUE(parsed->renew);
    EXPECT_EQ(parsed->renew->outcome, "failed");
    EXPECT_EQ(parsed->renew->error, "CA said no");
    EXPECT_EQ(parsed->renew->next_retry, at("2026-01-02T04:04:05Z"));

    ControlReply reload{
        .reload = ReloadReply{.taken = false, .issues = {"certdock.toml:14: keytype \"EC\""}}};
    parsed = parse_reply(encode_reply(reload));
    ASSERT_TRUE(parsed) << parsed.error().describe();
    ASSERT_TRUE(parsed->reload);
    EXPECT_FALSE(parsed->reload->taken);
    EXPECT_EQ(parsed->reload->issues, reload.reload->issues);

    auto failure = parse_reply(encode_reply(ControlReply::failure("no certificate named \"x\"")));
    ASSERT_TRUE(failure);
    EXPECT_FALSE(failure->ok);
    EXPECT_EQ(failure->error, "no certificate named \"x\"");
}

TEST(ControlProtocol, AReplyWithoutOkIsAProtocolError) {
    auto parsed = parse_reply(R"({"status":{}})");
    ASSERT_FALSE(parsed);
    EXPECT_THAT(parsed.error().message(), HasSubstr("no \"ok\""));
    EXPECT_FALSE(parse_reply("HTTP/1.1 400 Bad Request"));
}

}  // namespace
}  // namespace certdock::agent
