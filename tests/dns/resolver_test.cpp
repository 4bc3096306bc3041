#include "dns/resolver.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "knot_fixture.hpp"

namespace certdock::dns {
namespace {

using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

using ResolverTest = KnotTest;

TEST_F(ResolverTest, JoinsTheStringsOfAMultiStringTxtRecord) {
    auto values = query_txt("multi.example.test", {knot_->address()}, kTimeout);
    ASSERT_TRUE(values) << values.error().describe();
    EXPECT_THAT(*values, UnorderedElementsAre("abcdefghi"));
}

TEST_F(ResolverTest, ReturnsEveryRecordOfTheRrsetAndFollowsCnames) {
    auto values = query_txt("two.example.test.", {knot_->address()}, kTimeout);
    ASSERT_TRUE(values) << values.error().describe();
    EXPECT_THAT(*values, UnorderedElementsAre("one", "two"));

    auto aliased = query_txt("alias.example.test.", {knot_->address()}, kTimeout);
    ASSERT_TRUE(aliased) << aliased.error().describe();
    EXPECT_THAT(*aliased, UnorderedElementsAre("one", "two"));
}

TEST_F(ResolverTest, FallsBackToTcpWhenTheUdpReplyIsTruncated) {
    // 40 records of 63 bytes do not fit the 1232-byte EDNS buffer.
    auto values = query_txt("big.example.test", {knot_->address()}, kTimeout);
    ASSERT_TRUE(values) << values.error().describe();
    EXPECT_EQ(values->size(), 40u);
}

TEST_F(ResolverTest, NxdomainAndNodataAreEmptyAnswersNotErrors) {
    auto nxdomain = query_txt("nothing-here.example.test", {knot_->address()}, kTimeout);
    ASSERT_TRUE(nxdomain) << nxdomain.error().describe();
    EXPECT_TRUE(nxdomain->empty());

    auto nodata = query_txt("ns1.example.test", {knot_->address()}, kTimeout);  // only an A
    ASSERT_TRUE(nodata) << nodata.error().describe();
    EXPECT_TRUE(nodata->empty());
}

TEST_F(ResolverTest, RefusedNamesTheServerAndTheRcode) {
    auto refused = query_txt("www.not-served.test", {knot_->address()}, kTimeout);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().category(), ErrorCategory::kProtocol);
    EXPECT_THAT(refused.error().describe(), HasSubstr(knot_->address() + " answered REFUSED"));
}

TEST(Resolver, ATimeoutIsAnErrorNamingTheServer) {
    SilentServer silent;
    auto started = std::chrono::steady_clock::now();
    auto values = query_txt("example.test", {silent.address()}, std::chrono::milliseconds(300));
    auto took = std::chrono::steady_clock::now() - started;
    ASSERT_FALSE(values);
    EXPECT_EQ(values.error().category(), ErrorCategory::kNetwork);
    EXPECT_THAT(values.error().describe(),
                HasSubstr(silent.address() + " did not answer within 300 ms"));
    EXPECT_LT(took, std::chrono::seconds(2));
}

TEST_F(ResolverTest, AsksTheNextServerWhenOneDoesNotAnswer) {
    SilentServer silent;
    auto values = query_txt("two.example.test", {silent.address(), knot_->address()},
                            std::chrono::milliseconds(300));
    ASSERT_TRUE(values) << values.error().describe();
    EXPECT_EQ(values->size(), 2u);
}

TEST_F(ResolverTest, FindsTheZoneByWalkingUpFromTheName) {
    auto zone = find_zone("_acme-challenge.www.example.test", knot_->address(), kTimeout);
    ASSERT_TRUE(zone) << zone.error().describe();
    EXPECT_EQ(*zone, "example.test.");

    auto apex = find_zone("example.test.", knot_->address(), kTimeout);
    ASSERT_TRUE(apex) << apex.error().describe();
    EXPECT_EQ(*apex, "example.test.");

    auto child = find_zone("_acme-challenge.a.child.example.test", knot_->address(), kTimeout);
    ASSERT_TRUE(child) << child.error().describe();
    EXPECT_EQ(*child, "child.example.test.");
}

TEST_F(ResolverTest, ZoneDetectionReportsDelegationsAndUnservedNames) {
    auto delegated =
        find_zone("_acme-challenge.elsewhere.example.test", knot_->address(), kTimeout);
    ASSERT_FALSE(delegated);
    EXPECT_THAT(delegated.error().describe(),
                HasSubstr("delegates elsewhere.example.test. to ns.elsewhere.invalid."));

    auto unserved = find_zone("www.not-served.test", knot_->address(), kTimeout);
    ASSERT_FALSE(unserved);
    EXPECT_THAT(unserved.error().describe(),
                HasSubstr(knot_->address() + " serves no zone containing www.not-served.test."));
}

TEST_F(ResolverTest, FindsTheAuthoritativeNameServers) {
    auto authority = find_authority("_acme-challenge.www.example.test", knot_->address(), kTimeout);
    ASSERT_TRUE(authority) << authority.error().describe();
    EXPECT_EQ(authority->zone, "example.test.");
    EXPECT_THAT(authority->nameservers, UnorderedElementsAre("ns1.example.test."));
}

}  // namespace
}  // namespace certdock::dns
