#include "acme/client.hpp"

#include <gtest/gtest.h>

#include "acme/issuance.hpp"
#include "acme/problem.hpp"
#include "crypto/csr.hpp"
#include "fake_acme_server.hpp"
#include "support/fake_clock.hpp"
#include "support/must.hpp"

namespace certdock::acme {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using test::must;

// Records what the issuance asked of it; answers every http-01 task.
class RecordingSolver final : public challenge::Solver {
public:
    challenge::ChallengeType type() const override { return challenge::ChallengeType::kHttp01; }
    Status present(const challenge::ChallengeTask& task) override {
        presented.push_back(task);
        return {};
    }
    Status cleanup(const challenge::ChallengeTask& task) override {
        cleaned.push_back(task.token);
        return {};
    }
    std::vector<challenge::ChallengeTask> presented;
    std::vector<std::string> cleaned;
};

class ClientTest : public ::testing::Test {
protected:
    ClientTest() : client_(server_, {.directory_url = server_.directory_url()}, clock_) {
        client_.set_account_key(
            must(crypto::PrivateKey::generate(crypto::KeySpec::ecdsa(crypto::Curve::kP256))));
    }

    Result<IssuedCertificate> issue() {
        auto registered = client_.register_account({.agree_to_terms = true});
        if (!registered) return Unexpected(std::move(registered).error());
        auto key = must(crypto::PrivateKey::generate(crypto::KeySpec::ecdsa(crypto::Curve::kP256)));
        auto csr = must(crypto::Csr::create(key, {.dns_names = {"site.test"}}));
        IssueRequest request{{Identifier::dns("site.test")}, csr.der()};
        return issue_certificate(client_, request, {&solver_}, clock_);
    }

    test::FakeAcmeServer server_;
    test::FakeClock clock_;
    Client client_;
    RecordingSolver solver_;
};

TEST_F(ClientTest, IssuesAndCleansUpTheChallenge) {
    auto issued = issue();
    ASSERT_TRUE(issued) << issued.error().describe();
    EXPECT_EQ(issued->chain.certificates.front().dns_names(),
              std::vector<std::string>{"site.test"});
    EXPECT_EQ(issued->chain.certificates.size(), 2U);
    ASSERT_EQ(solver_.presented.size(), 1U);
    EXPECT_EQ(solver_.presented[0].identifier, "site.test");
    EXPECT_EQ(solver_.presented[0].key_authorization, "tok1." + client_.thumbprint());
    EXPECT_EQ(solver_.cleaned, std::vector<std::string>{"tok1"});
}

TEST_F(ClientTest, SurvivesBadNoncesFromAServerThatForgetsReplayNonce) {
    server_.knobs.nonce_on_errors = false;
    server_.knobs.reject_nonces = 3;
    auto issued = issue();
    ASSERT_TRUE(issued) << issued.error().describe();
    // Each rejection came without a nonce, so each retry had to ask newNonce for one.
    EXPECT_GE(server_.count("HEAD /nonce"), 4);
}

TEST_F(ClientTest, GivesUpOnNoncesAfterItsLimit) {
    server_.knobs.reject_nonces = 1000;
    auto issued = issue();
    ASSERT_FALSE(issued);
    EXPECT_TRUE(has_problem(issued.error(), ProblemType::kBadNonce));
    EXPECT_NE(issued.error().message().find("newAccount failed"), std::string::npos);
}

TEST_F(ClientTest, RetriesServerErrorsWithBackoff) {
    server_.knobs.server_errors = 2;
    auto issued = issue();
    ASSERT_TRUE(issued) << issued.error().describe();
    ASSERT_GE(clock_.sleeps().size(), 2U);
    EXPECT_GE(clock_.sleeps()[0], milliseconds(125));
    EXPECT_LE(clock_.sleeps()[0], milliseconds(250));
}

TEST_F(ClientTest, PollsQuicklyAtFirstWithoutRetryAfter) {
    server_.knobs.authz_pending_polls = 3;
    auto issued = issue();
    ASSERT_TRUE(issued) << issued.error().describe();
    ASSERT_GE(clock_.sleeps().size(), 3U);
    EXPECT_EQ(clock_.sleeps()[0], milliseconds(20));
    EXPECT_EQ(clock_.sleeps()[1], milliseconds(40));
    EXPECT_EQ(clock_.sleeps()[2], milliseconds(80));
}

TEST_F(ClientTest, HonoursRetryAfterInSeconds) {
    server_.knobs.authz_pending_polls = 1;
    server_.knobs.authz_retry_after = "3";
    ASSERT_TRUE(issue());
    ASSERT_FALSE(clock_.sleeps().empty());
    EXPECT_EQ(clock_.sleeps()[0], seconds(3));
}

TEST_F(ClientTest, HonoursRetryAfterAsAnHttpDate) {
    server_.knobs.authz_pending_polls = 1;
    // The fake clock starts at 2027-01-15T08:00:00Z.
    server_.knobs.authz_retry_after = "Fri, 15 Jan 2027 08:00:07 GMT";
    ASSERT_TRUE(issue());
    ASSERT_FALSE(clock_.sleeps().empty());
    EXPECT_EQ(clock_.sleeps()[0], seconds(7));
}

TEST_F(ClientTest, ReportsRateLimitsWithTheTimeAndDoesNotHammer) {
    server_.knobs.rate_limit_new_order = true;
    server_.knobs.rate_limit_retry_after = "3600";
    auto issued = issue();
    ASSERT_FALSE(issued);
    EXPECT_TRUE(has_problem(issued.error(), ProblemType::kRateLimited));
    EXPECT_NE(issued.error().message().find("retry after 2027-01-15T09:00:00Z"), std::string::npos)
        << issued.error().message();
    EXPECT_EQ(server_.count("POST /new-order"), 1);
}

TEST_F(ClientTest, InvalidChallengeSaysWhyAndStillCleansUp) {
    server_.knobs.invalidate_challenge = true;
    auto issued = issue();
    ASSERT_FALSE(issued);
    EXPECT_TRUE(has_problem(issued.error(), ProblemType::kIncorrectResponse));
    EXPECT_NE(issued.error().message().find("dns:site.test is invalid"), std::string::npos);
    EXPECT_NE(issued.error().message().find("the response did not match"), std::string::npos);
    EXPECT_EQ(solver_.cleaned, std::vector<std::string>{"tok1"});
}

TEST_F(ClientTest, InvalidOrderCarriesTheOrdersProblem) {
    server_.knobs.invalidate_order = true;
    auto issued = issue();
    ASSERT_FALSE(issued);
    EXPECT_TRUE(has_problem(issued.error(), ProblemType::kBadCsr));
    EXPECT_NE(issued.error().message().find("became invalid"), std::string::npos);
}

TEST_F(ClientTest, WaitsForAProcessingOrder) {
    server_.knobs.order_processing_polls = 2;
    auto issued = issue();
    ASSERT_TRUE(issued) << issued.error().describe();
}

TEST_F(ClientTest, ChecksTheProfileAgainstTheDirectory) {
    ASSERT_TRUE(client_.register_account({.agree_to_terms = true}));
    auto order = client_.new_order({{Identifier::dns("site.test")}, std::string("tlsserver"), {}});
    ASSERT_FALSE(order);
    EXPECT_EQ(order.error().category(), ErrorCategory::kUsage);
    EXPECT_NE(order.error().message().find("it offers: shortlived"), std::string::npos);
    EXPECT_EQ(server_.count("POST /new-order"), 0);
}

TEST_F(ClientTest, SolverWithoutAMatchingChallengeTypeIsNamed) {
    class DnsOnly final : public challenge::Solver {
    public:
        challenge::ChallengeType type() const override { return challenge::ChallengeType::kDns01; }
        Status present(const challenge::ChallengeTask&) override { return {}; }
        Status cleanup(const challenge::ChallengeTask&) override { return {}; }
    } dns_only;
    ASSERT_TRUE(client_.register_account({.agree_to_terms = true}));
    auto key = must(crypto::PrivateKey::generate(crypto::KeySpec::ecdsa(crypto::Curve::kP256)));
    auto csr = must(crypto::Csr::create(key, {.dns_names = {"site.test"}}));
    auto issued = issue_certificate(client_, {{Identifier::dns("site.test")}, csr.der()},
                                    {&dns_only}, clock_);
    ASSERT_FALSE(issued);
    EXPECT_NE(
        issued.error().message().find("the CA offers http-01 for dns:site.test, but only dns-01"),
        std::string::npos)
        << issued.error().message();
}

TEST_F(ClientTest, FetchesRenewalInfoByCertificateId) {
    auto pki = must(test::make_test_pki({"site.test"}));
    std::optional<Clock::Duration> retry_after;
    auto info = client_.renewal_info(pki.leaf.certificate, &retry_after);
    ASSERT_TRUE(info) << info.error().describe();
    EXPECT_EQ(format_rfc3339(info->window_start), "2027-02-01T00:00:00Z");
    EXPECT_EQ(format_rfc3339(info->window_end), "2027-02-03T00:00:00Z");
    EXPECT_EQ(info->explanation_url, "https://ca.test/why");
    EXPECT_EQ(retry_after, std::chrono::hours(6));
    ASSERT_EQ(server_.ari_requests().size(), 1U);
    EXPECT_EQ(server_.ari_requests()[0], must(crypto::ari_cert_id(pki.leaf.certificate)));
}

TEST(RetryAfter, ParsesBothForms) {
    auto now = std::chrono::system_clock::from_time_t(1'800'000'000);  // 2027-01-15T08:00:00Z
    EXPECT_EQ(parse_retry_after("120", now), seconds(120));
    EXPECT_EQ(parse_retry_after(" 0 ", now), seconds(0));
    EXPECT_EQ(parse_retry_after("Fri, 15 Jan 2027 08:01:00 GMT", now), seconds(60));
    EXPECT_EQ(parse_retry_after("Fri, 15 Jan 2027 07:00:00 GMT", now), Clock::Duration::zero());
    EXPECT_EQ(parse_retry_after("soon", now), std::nullopt);
    EXPECT_EQ(parse_retry_after("-5", now), std::nullopt);
    EXPECT_EQ(parse_retry_after("", now), std::nullopt);
}

TEST(HttpResponse, ReadsLinksAndHeadersWithoutCase) {
    HttpResponse response{200,
                          {{"link", "<https://ca.test/dir>;rel=\"index\""},
                           {"Link",
                            "<https://ca.test/alt/1>;rel=\"alternate\", "
                            "<https://ca.test/alt/2>; rel=alternate"},
                           {"REPLAY-NONCE", "abc"}},
                          ""};
    EXPECT_EQ(response.header("Replay-Nonce"), "abc");
    EXPECT_EQ(response.links("alternate"),
              (std::vector<std::string>{"https://ca.test/alt/1", "https://ca.test/alt/2"}));
    EXPECT_EQ(response.links("index"), std::vector<std::string>{"https://ca.test/dir"});
}

TEST(Problems, TableRoundTripsAndParses) {
    EXPECT_EQ(problem_urn(ProblemType::kBadNonce), "urn:ietf:params:acme:error:badNonce");
    EXPECT_EQ(problem_type_from_urn("urn:ietf:params:acme:error:rateLimited"),
              ProblemType::kRateLimited);
    EXPECT_EQ(problem_status(ProblemType::kRateLimited), 429);
    auto parsed = parse_problem(
        R"({"type":"urn:ietf:params:acme:error:compound","detail":"two problems",
            "subproblems":[{"type":"urn:ietf:params:acme:error:rejectedIdentifier",
            "detail":"no","identifier":{"type":"dns","value":"x.test"}}]})",
        403);
    ASSERT_TRUE(parsed);
    EXPECT_EQ(parsed->status, 403);
    ASSERT_EQ(parsed->subproblems.size(), 1U);
    EXPECT_EQ(parsed->subproblems[0].identifier, "dns:x.test");
    EXPECT_FALSE(parse_problem("<html>", 500));
}

}  // namespace
}  // namespace certdock::acme
