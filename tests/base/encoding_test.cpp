#include "base/encoding.hpp"

#include <gtest/gtest.h>

namespace certdock {
namespace {

// RFC 4648 §10 test vectors.
TEST(Base64, Rfc4648Vectors) {
    const std::pair<std::string, std::string> vectors[] = {{"", ""},
                                                           {"f", "Zg=="},
                                                           {"fo", "Zm8="},
                                                           {"foo", "Zm9v"},
                                                           {"foob", "Zm9vYg=="},
                                                           {"fooba", "Zm9vYmE="},
                                                           {"foobar", "Zm9vYmFy"}};
    for (const auto& [plain, encoded] : vectors) {
        EXPECT_EQ(base64_encode(to_bytes(plain)), encoded);
        auto decoded = base64_decode(encoded);
        ASSERT_TRUE(decoded) << encoded;
        EXPECT_EQ(to_string(*decoded), plain);
    }
}

TEST(Base64Url, UsesUrlAlphabetWithoutPadding) {
    const Bytes data = {0xfb, 0xff, 0xbf};
    EXPECT_EQ(base64_encode(data), "+/+/");
    EXPECT_EQ(base64url_encode(data), "-_-_");
    EXPECT_EQ(base64url_encode(std::string_view("f")), "Zg");
}

TEST(Base64Url, RoundTripsEveryLength) {
    Bytes data;
    for (int i = 0; i < 64; ++i) {
        auto decoded = base64url_decode(base64url_encode(data));
        ASSERT_TRUE(decoded);
        EXPECT_EQ(*decoded, data);
        data.push_back(static_cast<std::uint8_t>(i * 37));
    }
}

TEST(Base64Url, RejectsPaddingAndForeignCharacters) {
    auto padded = base64url_decode("Zg==");
    ASSERT_FALSE(padded);
    EXPECT_NE(padded.error().message().find("padded"), std::string::npos);
    EXPECT_FALSE(base64url_decode("Zm9v+g"));
    EXPECT_FALSE(base64url_decode("Zm9v/g"));
    EXPECT_FALSE(base64url_decode("Z"));  // impossible length
}

TEST(Base64Url, RejectsNonCanonicalTrailingBits) {
    EXPECT_TRUE(base64url_decode("Zg"));
    EXPECT_FALSE(base64url_decode("Zh"));  // same byte, stray low bits
}

TEST(Hex, EncodesAndDecodes) {
    const Bytes data = {0x00, 0xab, 0xff};
    EXPECT_EQ(hex_encode(data), "00abff");
    EXPECT_EQ(hex_colon_encode(data), "00:AB:FF");
    EXPECT_EQ(*hex_decode("00:AB:ff"), data);
    EXPECT_FALSE(hex_decode("abc"));
    EXPECT_FALSE(hex_decode("zz"));
}

}  // namespace
}  // namespace certdock
