#include "base/result.hpp"

#include <gtest/gtest.h>

namespace certdock {
namespace {

Result<int> parse_positive(int n) {
    if (n <= 0) return fail(ErrorCategory::kInput, "not positive: " + std::to_string(n));
    return n;
}

Result<int> doubled(int n) {
    CERTDOCK_TRY(int value, parse_positive(n));
    return value * 2;
}

TEST(Result, CarriesValueOrError) {
    auto ok = parse_positive(3);
    ASSERT_TRUE(ok.has_value());
    EXPECT_EQ(*ok, 3);
    auto bad = parse_positive(-1);
    ASSERT_FALSE(bad.has_value());
    EXPECT_EQ(bad.error().category(), ErrorCategory::kInput);
    EXPECT_EQ(bad.value_or(7), 7);
}

TEST(Result, TryPropagatesTheFirstError) {
    EXPECT_EQ(*doubled(4), 8);
    auto bad = doubled(0);
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().message(), "not positive: 0");
}

TEST(Result, AndThenChains) {
    auto chained = parse_positive(5).and_then([](int n) { return parse_positive(n - 10); });
    ASSERT_FALSE(chained);
    EXPECT_EQ(chained.error().message(), "not positive: -5");
}

TEST(Error, DescribeJoinsTheCauseChain) {
    Error error = Error(ErrorCategory::kIo, "cannot deploy site.pem")
                      .caused_by(Error(ErrorCategory::kNetwork, "connection refused"));
    EXPECT_EQ(error.describe(), "cannot deploy site.pem: connection refused");
    ASSERT_NE(error.cause(), nullptr);
    EXPECT_EQ(error.cause()->category(), ErrorCategory::kNetwork);
}

TEST(Error, DescribeIncludesTheAcmeProblem) {
    Error error = Error(ErrorCategory::kAcme, "finalize failed")
                      .with_problem({"urn:ietf:params:acme:error:badCSR", "key mismatch", 400, {}});
    EXPECT_EQ(error.describe(),
              "finalize failed (urn:ietf:params:acme:error:badCSR: key mismatch)");
}

TEST(ResultDeathTest, ValueOnErrorAborts) {
    auto bad = parse_positive(0);
    EXPECT_DEATH((void)bad.value(), "not positive");
}

}  // namespace
}  // namespace certdock
