#include "challenge/dns01_rfc2136.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "dns/resolver.hpp"
#include "knot_fixture.hpp"

namespace certdock::challenge {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::UnorderedElementsAre;

ChallengeTask dns01_task(std::string identifier, std::string token, bool wildcard = false) {
    ChallengeTask task;
    task.type = ChallengeType::kDns01;
    task.identifier = std::move(identifier);
    task.wildcard = wildcard;
    task.token = std::move(token);
    task.key_authorization = task.token + ".IhEpJWl2fDdmkNEQ5Vw2NInWLXgWmnYsbJiy5X4c6G8";
    return task;
}

class Dns01Rfc2136Test : public dns::KnotTest {
protected:
    Rfc2136Options options() const {
        Rfc2136Options options;
        options.update = {knot_->address(), dns::to_tsig_key(knot_->key()), kTimeout};
        options.query_timeout = std::chrono::milliseconds(500);
        options.propagation_timeout = std::chrono::milliseconds(5'000);
        options.poll_interval = std::chrono::milliseconds(50);
        return options;
    }

    std::vector<std::string> txt(const std::string& name) const {
        return test::must(dns::query_txt(name, {knot_->address()}, kTimeout));
    }
};

TEST_F(Dns01Rfc2136Test, PresentsWaitsAndCleansUp) {
    SolverPtr solver = test::must(Dns01Rfc2136::create(options()));  // zone detected
    EXPECT_EQ(solver->type(), ChallengeType::kDns01);
    ChallengeTask task = dns01_task("www.example.test", "token-1");

    auto presented = solver->present(task);
    ASSERT_TRUE(presented) << presented.error().describe();
    EXPECT_THAT(txt("_acme-challenge.www.example.test"),
                UnorderedElementsAre(dns01_record_value(task)));
    auto ready = solver->wait_ready(task);
    ASSERT_TRUE(ready) << ready.error().describe();

    auto cleaned = solver->cleanup(task);
    ASSERT_TRUE(cleaned) << cleaned.error().describe();
    EXPECT_THAT(txt("_acme-challenge.www.example.test"), IsEmpty());
}

TEST_F(Dns01Rfc2136Test, AWildcardAndItsBaseNameShareTheRecordName) {
    Rfc2136Options configured = options();
    configured.zone = "example.test.";
    configured.check_servers = {knot_->address()};
    SolverPtr solver = test::must(Dns01Rfc2136::create(configured));
    ChallengeTask base = dns01_task("example.test", "token-base");
    ChallengeTask wildcard = dns01_task("example.test", "token-wild", true);

    ASSERT_TRUE(solver->present(base));
    ASSERT_TRUE(solver->present(wildcard));
    EXPECT_THAT(txt("_acme-challenge.example.test"),
                UnorderedElementsAre(dns01_record_value(base), dns01_record_value(wildcard)));
    EXPECT_TRUE(solver->wait_ready(base));
    EXPECT_TRUE(solver->wait_ready(wildcard));

    ASSERT_TRUE(solver->cleanup(wildcard));
    EXPECT_THAT(txt("_acme-challenge.example.test"),
                UnorderedElementsAre(dns01_record_value(base)));
    ASSERT_TRUE(solver->cleanup(base));
    EXPECT_THAT(txt("_acme-challenge.example.test"), IsEmpty());
}

TEST_F(Dns01Rfc2136Test, WaitReadyNamesTheServersStillLackingTheRecord) {
    dns::SilentServer silent;
    Rfc2136Options configured = options();
    configured.check_servers = {knot_->address(), silent.address()};
    configured.query_timeout = std::chrono::milliseconds(100);
    configured.propagation_timeout = std::chrono::milliseconds(400);
    SolverPtr solver = test::must(Dns01Rfc2136::create(configured));
    ChallengeTask task = dns01_task("www.example.test", "token-2");

    ASSERT_TRUE(solver->present(task));
    auto ready = solver->wait_ready(task);
    ASSERT_FALSE(ready);
    std::string message = ready.error().describe();
    EXPECT_THAT(message, HasSubstr("_acme-challenge.www.example.test for www.example.test is "
                                   "still missing after 400 ms: "));
    EXPECT_THAT(message, HasSubstr(silent.address() + " did not answer within 100 ms"));
    EXPECT_THAT(message, Not(HasSubstr(knot_->address())));  // that one has it
    EXPECT_TRUE(solver->cleanup(task));

    // Nothing presented: the primary itself lacks the record and says it has none.
    Rfc2136Options primary = options();
    primary.propagation_timeout = std::chrono::milliseconds(200);
    SolverPtr primary_only = test::must(Dns01Rfc2136::create(primary));
    auto missing = primary_only->wait_ready(dns01_task("other.example.test", "token-3"));
    ASSERT_FALSE(missing);
    EXPECT_THAT(missing.error().describe(),
                HasSubstr(knot_->address() + " has no TXT record there"));
}

TEST_F(Dns01Rfc2136Test, ReportsRejectedUpdatesAndImpossibleTasks) {
    Rfc2136Options configured = options();
    configured.update.key->secret = "d3Jvbmctc2VjcmV0LXdyb25nLXNlY3JldC13cm9uZyE=";
    SolverPtr solver = test::must(Dns01Rfc2136::create(configured));
    auto presented = solver->present(dns01_task("www.example.test", "token-4"));
    ASSERT_FALSE(presented);
    EXPECT_THAT(presented.error().describe(),
                HasSubstr("cannot publish the dns-01 record for www.example.test: adding TXT "
                          "_acme-challenge.www.example.test. in zone example.test. at " +
                          knot_->address() + ": NOTAUTH, BADSIG"));

    ChallengeTask ip = dns01_task("192.0.2.1", "token-5");
    ip.identifier_type = "ip";
    auto refused = solver->present(ip);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().category(), ErrorCategory::kUsage);
}

}  // namespace
}  // namespace certdock::challenge
