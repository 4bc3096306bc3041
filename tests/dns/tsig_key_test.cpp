#include "dns/tsig_key.hpp"

#include <gtest/gtest.h>

#include "base/file.hpp"
#include "dns/server_address.hpp"
#include "support/temp_dir.hpp"

namespace certdock::dns {
namespace {

constexpr const char* kSecret = "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTMyYg==";

TEST(TsigKey, ReadsBindStyleKeyFiles) {
    auto key = parse_tsig_key(std::string(R"(// made by tsig-keygen
key "certdock-acme" {
	algorithm hmac-sha512;  # the strong one
	/* the secret */ secret ")") +
                              kSecret + R"(";
};
)");
    ASSERT_TRUE(key) << key.error().describe();
    EXPECT_EQ(key->name, "certdock-acme.");
    EXPECT_EQ(key->algorithm, TsigAlgorithm::kHmacSha512);
    EXPECT_EQ(key->secret, kSecret);
}

TEST(TsigKey, ReadsKnotYamlAsKeymgrPrintsIt) {
    auto key = parse_tsig_key(std::string("# hmac-sha1:k1:") + kSecret + "\nkey:\n  - id: k1\n" +
                              "    algorithm: hmac-sha1\n    secret: " + kSecret + "\n");
    ASSERT_TRUE(key) << key.error().describe();
    EXPECT_EQ(key->name, "k1.");
    EXPECT_EQ(key->algorithm, TsigAlgorithm::kHmacSha1);
    EXPECT_EQ(key->secret, kSecret);
}

TEST(TsigKey, ReadsTheNsupdateLineFormWithSha256AsDefault) {
    auto full = parse_tsig_key(std::string("hmac-sha512:k2.:") + kSecret + "\n");
    ASSERT_TRUE(full) << full.error().describe();
    EXPECT_EQ(full->name, "k2.");
    EXPECT_EQ(full->algorithm, TsigAlgorithm::kHmacSha512);

    auto short_form = parse_tsig_key(std::string("k3:") + kSecret);
    ASSERT_TRUE(short_form) << short_form.error().describe();
    EXPECT_EQ(short_form->algorithm, TsigAlgorithm::kHmacSha256);
}

TEST(TsigKey, RejectsBadKeysWithoutEchoingTheSecret) {
    auto md5 = parse_tsig_key(std::string("hmac-md5:k:") + kSecret);
    ASSERT_FALSE(md5);
    EXPECT_NE(md5.error().describe().find("hmac-sha256, hmac-sha512 or hmac-sha1"),
              std::string::npos);

    auto not_base64 = parse_tsig_key("key \"k\" { algorithm hmac-sha256; secret \"%%%%\"; };");
    ASSERT_FALSE(not_base64);
    EXPECT_NE(not_base64.error().describe().find("not base64"), std::string::npos);
    EXPECT_EQ(not_base64.error().describe().find("%%%%"), std::string::npos);

    std::string two_keys = std::string("key \"a\" { algorithm hmac-sha256; secret \"") + kSecret +
                           "\"; };\nkey \"b\" { algorithm hmac-sha256; secret \"" + kSecret +
                           "\"; };\n";
    auto several = parse_tsig_key(two_keys);
    ASSERT_FALSE(several);
    EXPECT_NE(several.error().describe().find("several keys"), std::string::npos);

    EXPECT_FALSE(parse_tsig_key(""));
    EXPECT_FALSE(parse_tsig_key("key \"a\" { algorithm hmac-sha256; "));
    EXPECT_FALSE(parse_tsig_key("a:b:c:d"));
}

TEST(TsigKey, LoadErrorsNameTheFile) {
    test::TempDir dir;
    auto missing = load_tsig_key(dir.path() / "none.key");
    ASSERT_FALSE(missing);
    EXPECT_NE(missing.error().describe().find("none.key"), std::string::npos);

    ASSERT_TRUE(write_file_atomic(dir.path() / "bad.key", "garbage\nmore garbage\n"));
    auto bad = load_tsig_key(dir.path() / "bad.key");
    ASSERT_FALSE(bad);
    EXPECT_NE(bad.error().describe().find("cannot use TSIG key file"), std::string::npos);
}

TEST(ServerAddress, ParsesHostsPortsAndIpv6) {
    auto plain = parse_server_address("192.0.2.53");
    ASSERT_TRUE(plain);
    EXPECT_EQ(plain->port, 53);
    EXPECT_EQ(plain->to_string(), "192.0.2.53");

    auto with_port = parse_server_address("127.0.0.1:5353");
    ASSERT_TRUE(with_port);
    EXPECT_EQ(with_port->host, "127.0.0.1");
    EXPECT_EQ(with_port->port, 5353);
    EXPECT_EQ(with_port->to_string(), "127.0.0.1:5353");

    auto v6 = parse_server_address("[2001:db8::53]:5353");
    ASSERT_TRUE(v6);
    EXPECT_EQ(v6->host, "2001:db8::53");
    EXPECT_EQ(v6->to_string(), "[2001:db8::53]:5353");

    auto bare_v6 = parse_server_address("::1");
    ASSERT_TRUE(bare_v6);
    EXPECT_EQ(bare_v6->host, "::1");
    EXPECT_EQ(bare_v6->port, 53);

    EXPECT_FALSE(parse_server_address(""));
    EXPECT_FALSE(parse_server_address("127.0.0.1:"));
    EXPECT_FALSE(parse_server_address("127.0.0.1:0"));
    EXPECT_FALSE(parse_server_address("127.0.0.1:70000"));
    EXPECT_FALSE(parse_server_address("[::1"));
}

}  // namespace
}  // namespace certdock::dns
