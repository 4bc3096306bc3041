#include "base/time.hpp"

#include <gtest/gtest.h>

namespace certdock {
namespace {

using std::chrono::seconds;

TEST(Rfc3339, FormatsUtcWithZ) {
    EXPECT_EQ(format_rfc3339(std::chrono::system_clock::from_time_t(0)), "1970-01-01T00:00:00Z");
    EXPECT_EQ(format_rfc3339(std::chrono::system_clock::from_time_t(1'800'000'000)),
              "2027-01-15T08:00:00Z");
}

TEST(Rfc3339, ParsesZuluOffsetsAndFractions) {
    auto base = std::chrono::system_clock::from_time_t(1'800'000'000);
    EXPECT_EQ(*parse_rfc3339("2027-01-15T08:00:00Z"), base);
    EXPECT_EQ(*parse_rfc3339("2027-01-15T10:00:00+02:00"), base);
    EXPECT_EQ(*parse_rfc3339("2027-01-15T07:30:00-00:30"), base);
    EXPECT_EQ(*parse_rfc3339("2027-01-15T08:00:00.5Z"), base + std::chrono::milliseconds(500));
}

TEST(Rfc3339, RejectsMalformedTimes) {
    for (const char* bad : {"", "2027-01-15", "2027-13-01T00:00:00Z", "2027-01-15T08:00:00",
                            "2027-01-15T08:00:00+0200", "yesterday"}) {
        auto parsed = parse_rfc3339(bad);
        EXPECT_FALSE(parsed) << bad;
    }
    EXPECT_NE(parse_rfc3339("soon").error().message().find("'soon'"), std::string::npos);
}

TEST(DescribeInterval, SaysDaysHoursAndDirection) {
    auto now = std::chrono::system_clock::from_time_t(1'000'000);
    EXPECT_EQ(describe_interval(now, now + seconds(89 * 86400 + 5)), "in 89 days");
    EXPECT_EQ(describe_interval(now, now - seconds(3 * 3600)), "3 hours ago");
    EXPECT_EQ(describe_interval(now, now + seconds(30)), "in 30 seconds");
}

}  // namespace
}  // namespace certdock
