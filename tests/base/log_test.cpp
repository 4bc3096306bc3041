#include "base/log.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "support/fake_clock.hpp"

namespace certdock {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// 1'800'000'000 is 2027-01-15T08:00:00Z.
class LoggerTest : public ::testing::Test {
protected:
    test::FakeClock clock_;
    std::ostringstream out_;
};

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
}

TEST_F(LoggerTest, TextKeepsTimeThenCertificateThenWords) {
    Logger logger(LogFormat::kText, out_, clock_);
    logger.info("delivered serial 0a1b", {{"cert", "site"}});
    EXPECT_EQ(out_.str(), "2027-01-15T08:00:00Z info cert=site delivered serial 0a1b\n");
    // What existing tests and operators grep for.
    EXPECT_THAT(out_.str(), HasSubstr("cert=site delivered serial"));
}

TEST_F(LoggerTest, TextQuotesValuesThatAreNotOneWord) {
    Logger logger(LogFormat::kText, out_, clock_);
    logger.error("deploy failed",
                 {{"cert", "site"}, {"haproxy", "edge 1"}, {"note", "say \"hi\""}, {"empty", ""}});
    EXPECT_EQ(out_.str(),
              "2027-01-15T08:00:00Z error cert=site haproxy=\"edge 1\" note=\"say \\\"hi\\\"\" "
              "empty=\"\" deploy failed\n");
}

TEST_F(LoggerTest, TextEscapesLineBreaksSoOneEventIsOneLine) {
    Logger logger(LogFormat::kText, out_, clock_);
    logger.warn("peer said: bad\n2027-01-15T08:00:00Z info cert=site delivered\x01",
                {{"acme", "pebble"}});
    const auto lines = lines_of(out_.str());
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_EQ(lines[0],
              "2027-01-15T08:00:00Z warn acme=pebble peer said: bad\\n2027-01-15T08:00:00Z info "
              "cert=site delivered\\x01");
}

TEST_F(LoggerTest, JsonLineParsesBackWithFieldsInOrder) {
    Logger logger(LogFormat::kJson, out_, clock_);
    logger.info("delivered serial 0a1b", {{"cert", "site"}, {"haproxy", "edge"}});
    const auto lines = lines_of(out_.str());
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_EQ(lines[0],
              R"({"time":"2027-01-15T08:00:00Z","level":"info","cert":"site","haproxy":"edge",)"
              R"("msg":"delivered serial 0a1b"})");
    const auto parsed = nlohmann::json::parse(lines[0]);
    EXPECT_EQ(parsed["cert"], "site");
    EXPECT_EQ(parsed["msg"], "delivered serial 0a1b");
}

TEST_F(LoggerTest, JsonEscapesQuotesControlsAndBadUtf8) {
    Logger logger(LogFormat::kJson, out_, clock_);
    logger.error("failed: \"quoted\" \\ back\nnext line \xff end", {{"cert", "a\"b"}});
    const auto lines = lines_of(out_.str());
    ASSERT_EQ(lines.size(), 1u);
    const auto parsed = nlohmann::json::parse(lines[0]);
    EXPECT_EQ(parsed["level"], "error");
    EXPECT_EQ(parsed["cert"], "a\"b");
    EXPECT_THAT(parsed["msg"].get<std::string>(),
                StartsWith("failed: \"quoted\" \\ back\nnext line "));
    EXPECT_THAT(parsed["msg"].get<std::string>(), HasSubstr(" end"));
}

TEST_F(LoggerTest, UsesTheInjectedClock) {
    Logger logger(LogFormat::kText, out_, clock_);
    clock_.advance(std::chrono::hours(24) + std::chrono::milliseconds(999));
    logger.info("tick");
    EXPECT_EQ(out_.str(), "2027-01-16T08:00:00Z info tick\n");
}

TEST_F(LoggerTest, LinesFromManyThreadsNeverInterleave) {
    Logger logger(LogFormat::kJson, out_, clock_);
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&logger, t] {
            for (int i = 0; i < 200; ++i) {
                logger.info(std::string(100, static_cast<char>('a' + t)),
                            {{"cert", std::to_string(t)}});
            }
        });
    }
    for (auto& thread : threads) thread.join();
    const auto lines = lines_of(out_.str());
    ASSERT_EQ(lines.size(), 800u);
    for (const auto& line : lines) {
        const auto parsed = nlohmann::json::parse(line, nullptr, false);
        ASSERT_FALSE(parsed.is_discarded()) << line;
        const char letter = static_cast<char>('a' + std::stoi(parsed["cert"].get<std::string>()));
        EXPECT_EQ(parsed["msg"], std::string(100, letter));
    }
}

TEST(ParseLogLine, RenewerLinesBecomeCertificateEvents) {
    const LogEvent delivered =
        parse_log_line("cert=site delivered serial 0a; next renewal 2027-02-01T00:00:00Z (ARI)");
    ASSERT_EQ(delivered.fields.size(), 1u);
    EXPECT_EQ(delivered.fields[0].key, "cert");
    EXPECT_EQ(delivered.fields[0].value, "site");
    EXPECT_EQ(delivered.message, "delivered serial 0a; next renewal 2027-02-01T00:00:00Z (ARI)");
    EXPECT_EQ(delivered.level, LogLevel::kInfo);
}

TEST(ParseLogLine, LevelComesFromTheHeadOfTheText) {
    EXPECT_EQ(
        parse_log_line("cert=site failed: not delivered: HAProxy x: refused; retry in 5m").level,
        LogLevel::kError);
    EXPECT_EQ(parse_log_line("cert=site error: state unreadable").level, LogLevel::kError);
    EXPECT_EQ(parse_log_line("cert=site deploy hook notify failed: exit status 1").level,
              LogLevel::kError);
    EXPECT_EQ(parse_log_line("cert=site waiting to retry at 2027-01-15T09:00:00Z (attempt 2 "
                             "failed)")
                  .level,
              LogLevel::kWarn);
    EXPECT_EQ(parse_log_line("cert=site not due; next renewal 2027-02-01T00:00:00Z (last "
                             "attempt failed)")
                  .level,
              LogLevel::kInfo);
    EXPECT_EQ(parse_log_line("cert=site ordering from https://ca.test/dir (first issue)").level,
              LogLevel::kInfo);
    // A word containing "error" is not the word.
    EXPECT_EQ(parse_log_line("cert=errorpages issued serial 0b").level, LogLevel::kInfo);
}

TEST(ParseLogLine, LeadingNamesOfEveryKindBecomeFields) {
    const LogEvent event = parse_log_line("acme=pebble account key created in /k");
    ASSERT_EQ(event.fields.size(), 1u);
    EXPECT_EQ(event.fields[0].key, "acme");
    EXPECT_EQ(event.message, "account key created in /k");

    const LogEvent agent = parse_log_line("certdock agent: next scan at 2027-01-15T09:00:00Z");
    EXPECT_TRUE(agent.fields.empty());
    EXPECT_EQ(agent.message, "certdock agent: next scan at 2027-01-15T09:00:00Z");

    const LogEvent both = parse_log_line("cert=site haproxy=edge updated");
    ASSERT_EQ(both.fields.size(), 2u);
    EXPECT_EQ(both.fields[1].value, "edge");
    EXPECT_EQ(both.message, "updated");
}

TEST_F(LoggerTest, EventLogAdapterWritesTheSameTextAsBefore) {
    Logger logger(LogFormat::kText, out_, clock_);
    logger.line("cert=site delivered serial 0a1b; next renewal 2027-02-01T00:00:00Z (ARI)");
    EXPECT_EQ(out_.str(),
              "2027-01-15T08:00:00Z info cert=site delivered serial 0a1b; next renewal "
              "2027-02-01T00:00:00Z (ARI)\n");
    std::ostringstream json_out;
    Logger json(LogFormat::kJson, json_out, clock_);
    json.line("cert=site failed: not delivered");
    const auto parsed = nlohmann::json::parse(json_out.str());
    EXPECT_EQ(parsed["level"], "error");
    EXPECT_EQ(parsed["cert"], "site");
    EXPECT_EQ(parsed["msg"], "failed: not delivered");
}

}  // namespace
}  // namespace certdock
