#include "crypto/pem.hpp"

#include <gtest/gtest.h>

namespace certdock::crypto {
namespace {

constexpr std::string_view kTwoBlocks =
    "junk before\n"
    "-----BEGIN CERTIFICATE-----\r\n"
    "QUJD\r\n"
    "\n"
    "-----END CERTIFICATE-----\r\n"
    "between\n"
    "-----BEGIN PRIVATE KEY-----\n"
    "REVG\n"
    "-----END PRIVATE KEY-----\n";

TEST(SplitPem, FindsBlocksAndNormalisesLineEndings) {
    auto blocks = split_pem(kTwoBlocks);
    ASSERT_TRUE(blocks) << blocks.error().describe();
    ASSERT_EQ(blocks->size(), 2U);
    EXPECT_EQ((*blocks)[0].label, "CERTIFICATE");
    EXPECT_EQ((*blocks)[0].text, "-----BEGIN CERTIFICATE-----\nQUJD\n-----END CERTIFICATE-----\n");
    EXPECT_EQ((*blocks)[1].label, "PRIVATE KEY");
}

TEST(SplitPem, ReportsATruncatedBlockWithItsLine) {
    auto blocks = split_pem("\n\n-----BEGIN CERTIFICATE-----\nQUJD\n");
    ASSERT_FALSE(blocks);
    EXPECT_EQ(blocks.error().message(),
              "PEM block 'CERTIFICATE' opened on line 3 is truncated: the file ends before its "
              "END line");
}

TEST(SplitPem, ReportsABlockCutByAnother) {
    auto blocks = split_pem(
        "-----BEGIN CERTIFICATE-----\nQUJD\n-----BEGIN PRIVATE KEY-----\nQUJD\n"
        "-----END PRIVATE KEY-----\n");
    ASSERT_FALSE(blocks);
    EXPECT_NE(blocks.error().message().find("truncated"), std::string::npos);
}

TEST(SplitPem, ReportsMismatchedEnd) {
    auto blocks = split_pem("-----BEGIN CERTIFICATE-----\nQUJD\n-----END PRIVATE KEY-----\n");
    ASSERT_FALSE(blocks);
    EXPECT_NE(blocks.error().message().find("closed by 'END PRIVATE KEY'"), std::string::npos);
}

TEST(SplitPem, EmptyInputHasNoBlocks) {
    auto blocks = split_pem("");
    ASSERT_TRUE(blocks);
    EXPECT_TRUE(blocks->empty());
}

TEST(DescribePemLabel, NamesWhatTheBlockHolds) {
    EXPECT_EQ(describe_pem_label("CERTIFICATE"), "a certificate");
    EXPECT_EQ(describe_pem_label("EC PRIVATE KEY"), "a private key");
    EXPECT_EQ(describe_pem_label("CERTIFICATE REQUEST"), "a certificate signing request (CSR)");
    EXPECT_EQ(describe_pem_label("FOO"), "a PEM block labelled 'FOO'");
}

}  // namespace
}  // namespace certdock::crypto
