// Reading haproxy.cfg and crt-list files into the typed model (unit).

#include "haproxy/config.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>

#include "haproxy/crt_list.hpp"
#include "support/must.hpp"

namespace certdock::haproxy {
namespace {

using test::must;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::vector<std::string> words(std::string_view line, std::vector<ConfigWarning>* out = nullptr) {
    std::vector<ConfigWarning> warnings;
    auto result = must(split_config_line(line, {"t.cfg", 1}, warnings));
    if (out != nullptr) *out = warnings;
    return result;
}

TEST(ConfigWords, QuotesEscapesAndComments) {
    EXPECT_THAT(words("  bind :443 ssl crt \"/etc/my certs/site.pem\"  # served"),
                ElementsAre("bind", ":443", "ssl", "crt", "/etc/my certs/site.pem"));
    EXPECT_THAT(words("lf-string '%[path] # not a comment' x\\ y"),
                ElementsAre("lf-string", "%[path] # not a comment", "x y"));
    EXPECT_THAT(words("a\"b c\"d \"\""), ElementsAre("ab cd", ""));
    EXPECT_THAT(words("# only a comment"), ElementsAre());
    EXPECT_THAT(words("value \"with \\\" quote\"\r"), ElementsAre("value", "with \" quote"));
}

TEST(ConfigWords, EnvironmentVariablesInDoubleQuotes) {
    ::setenv("CERTDOCK_TEST_CERT_DIR", "/srv/certs", 1);
    ::unsetenv("CERTDOCK_TEST_UNSET");
    std::vector<ConfigWarning> warnings;
    EXPECT_THAT(
        words("crt \"${CERTDOCK_TEST_CERT_DIR}/a.pem\" \"$CERTDOCK_TEST_CERT_DIR\"", &warnings),
        ElementsAre("crt", "/srv/certs/a.pem", "/srv/certs"));
    EXPECT_TRUE(warnings.empty());

    EXPECT_THAT(words("crt \"${CERTDOCK_TEST_UNSET}/a.pem\"", &warnings),
                ElementsAre("crt", "${CERTDOCK_TEST_UNSET}/a.pem"));
    ASSERT_EQ(warnings.size(), 1u);
    EXPECT_THAT(warnings[0].message, HasSubstr("CERTDOCK_TEST_UNSET is not set"));
    EXPECT_EQ(warnings[0].where.describe(), "t.cfg:1");

    // Outside double quotes HAProxy takes the text literally: say so.
    EXPECT_THAT(words("crt ${CERTDOCK_TEST_CERT_DIR}/a.pem", &warnings),
                ElementsAre("crt", "${CERTDOCK_TEST_CERT_DIR}/a.pem"));
    ASSERT_EQ(warnings.size(), 1u);
    EXPECT_THAT(warnings[0].message, HasSubstr("only inside double quotes"));
}

TEST(ConfigWords, UnterminatedQuoteNamesTheLine) {
    std::vector<ConfigWarning> warnings;
    auto result = split_config_line("bind :443 crt \"/etc/x.pem", {"haproxy.cfg", 7}, warnings);
    ASSERT_FALSE(result);
    EXPECT_THAT(result.error().describe(), HasSubstr("haproxy.cfg:7"));
    EXPECT_THAT(result.error().describe(), HasSubstr("unterminated double quote"));
    auto single = parse_config("global\n  crt-base '/etc\n", "haproxy.cfg");
    ASSERT_FALSE(single);
    EXPECT_THAT(single.error().describe(), HasSubstr("haproxy.cfg:2"));
}

constexpr std::string_view kConfig = R"(# certdock test
global
    stats socket /run/haproxy/admin.sock mode 660 level admin
    stats socket ipv4@127.0.0.1:9999 level user
    crt-base /etc/haproxy/certs
    key-base /etc/haproxy/keys
    expose-experimental-directives

defaults
    mode http

frontend www
    bind :80
    bind :443,[::1]:8443 ssl crt site.pem crt "other dir/" alpn h2
    bind ipv4@127.0.0.1:8444 ssl crt-list /etc/haproxy/list.crtlist
    acl is_acme path_beg /.well-known/acme-challenge/
    http-request return status 200 content-type text/plain lf-string "%[path,field(-1,/)].%[path,field(-1,/),map(virt@acme)]\n" if { path_beg '/.well-known/acme-challenge/' }
    http-request return status 200 lf-string "%[path,field(4,/),map_str(/etc/haproxy/http01.map)]" if is_acme
    http-request return status 200 lf-string "%[req.hdr(host),map(/etc/haproxy/hosts.map)]"
    ssl-f-use crt "@web/site" acme LE domains "a.example,b.example"
    ssl-f-use alpn h2

backend app
    server s1 127.0.0.1:8080

crt-store web
    crt-base /var/lib/certs
    load crt "site.pem" key site.key alias "site" acme LE domains "a.example, b.example"
    load alias empty

acme LE
    directory https://acme.example/directory
    keytype EC
    bits 384
    map virt@acme
    reuse-key
)";

TEST(Config, ReadsTheModel) {
    Config config = must(parse_config(kConfig, "haproxy.cfg"));
    ASSERT_EQ(config.stats_sockets.size(), 2u);
    EXPECT_EQ(config.stats_sockets[0].address, "/run/haproxy/admin.sock");
    EXPECT_EQ(config.stats_sockets[0].level, "admin");
    EXPECT_EQ(config.stats_sockets[0].where.describe(), "haproxy.cfg:3");
    EXPECT_EQ(config.stats_sockets[1].address, "ipv4@127.0.0.1:9999");
    EXPECT_EQ(config.stats_sockets[1].level, "user");
    ASSERT_TRUE(config.crt_base);
    EXPECT_EQ(config.crt_base->value, "/etc/haproxy/certs");
    EXPECT_EQ(config.key_base->value, "/etc/haproxy/keys");
    EXPECT_TRUE(config.experimental_directives);

    ASSERT_EQ(config.binds.size(), 3u);
    EXPECT_FALSE(config.binds[0].ssl);
    EXPECT_TRUE(config.binds[0].crts.empty());
    EXPECT_THAT(config.binds[1].addresses, ElementsAre(":443", "[::1]:8443"));
    EXPECT_TRUE(config.binds[1].ssl);
    EXPECT_THAT(config.binds[1].crts, ElementsAre("site.pem", "other dir/"));
    EXPECT_EQ(config.binds[1].section, "frontend www");
    EXPECT_EQ(config.binds[1].where.line, 14);
    EXPECT_THAT(config.binds[2].crt_lists, ElementsAre("/etc/haproxy/list.crtlist"));

    // Only the rules that answer http-01, whether the path is on the line or in an ACL.
    ASSERT_EQ(config.map_responders.size(), 2u);
    EXPECT_EQ(config.map_responders[0].map, "virt@acme");
    EXPECT_EQ(config.map_responders[0].where.line, 17);
    EXPECT_EQ(config.map_responders[1].map, "/etc/haproxy/http01.map");

    ASSERT_EQ(config.ssl_f_uses.size(), 2u);
    EXPECT_EQ(config.ssl_f_uses[0].crt, "@web/site");
    EXPECT_EQ(config.ssl_f_uses[0].acme, "LE");
    EXPECT_THAT(config.ssl_f_uses[0].domains, ElementsAre("a.example", "b.example"));
    EXPECT_FALSE(config.ssl_f_uses[1].crt);

    ASSERT_EQ(config.crt_stores.size(), 1u);
    const CrtStore& store = config.crt_stores[0];
    EXPECT_EQ(store.name, "web");
    EXPECT_EQ(store.crt_base, "/var/lib/certs");
    ASSERT_EQ(store.loads.size(), 2u);
    EXPECT_EQ(store.loads[0].crt, "site.pem");
    EXPECT_EQ(store.loads[0].key, "site.key");
    EXPECT_EQ(store.loads[0].alias, "site");
    EXPECT_EQ(store.loads[0].acme, "LE");
    EXPECT_THAT(store.loads[0].domains, ElementsAre("a.example", "b.example"));
    EXPECT_TRUE(store.loads[1].crt.empty());
    EXPECT_EQ(store.loads[1].where.describe(), "haproxy.cfg:29");

    const AcmeSection* acme = config.find_acme("LE");
    ASSERT_NE(acme, nullptr);
    EXPECT_EQ(acme->directory->value, "https://acme.example/directory");
    EXPECT_EQ(acme->keytype->value, "EC");
    EXPECT_EQ(acme->keytype->where.line, 33);
    EXPECT_EQ(acme->bits->value, "384");
    EXPECT_EQ(acme->map->value, "virt@acme");
    ASSERT_TRUE(acme->reuse_key);
    EXPECT_EQ(acme->reuse_key->value, "");
    EXPECT_EQ(config.find_acme("other"), nullptr);
    EXPECT_TRUE(config.warnings.empty());
}

TEST(Config, MapNamesInExpressions) {
    EXPECT_THAT(maps_in_expression("%[path,field(-1,/),map(virt@acme)]"), ElementsAre("virt@acme"));
    EXPECT_THAT(maps_in_expression("%[path,map_str(/a.map,default)] %[x,map_beg(/b.map)]"),
                ElementsAre("/a.map", "/b.map"));
    EXPECT_THAT(maps_in_expression("bitmap(x) map_reg"), ElementsAre());

    // Read in the answer and in the condition, it is still one responder.
    Config config = must(
        parse_config("frontend fe\n"
                     "    http-request return lf-string \"%[path,map(/m.map)]\" if "
                     "{ path_beg /.well-known/acme-challenge/ } { path,map(/m.map) -m found }\n",
                     "haproxy.cfg"));
    ASSERT_EQ(config.map_responders.size(), 1u);
    EXPECT_EQ(config.map_responders[0].map, "/m.map");
}

TEST(Config, UnreadableFileIsAnError) {
    auto result = load_config("/nonexistent/certdock/haproxy.cfg");
    ASSERT_FALSE(result);
    EXPECT_THAT(result.error().describe(), HasSubstr("/nonexistent/certdock/haproxy.cfg"));
}

TEST(CrtList, EntriesOptionsAndFilters) {
    std::vector<ConfigWarning> warnings;
    auto entries = must(parse_crt_list(
        "# comment\n"
        "\n"
        "site.pem\n"
        "other.pem [alpn h2 ssl-min-ver TLSv1.2] example.com *.example.com !old.example.com\n"
        "\"my cert.pem\" [ acme LE domains \"a.example,b.example\" ] a.example\n",
        "list.crtlist", warnings));
    ASSERT_EQ(entries.size(), 3u);
    EXPECT_EQ(entries[0].crt, "site.pem");
    EXPECT_EQ(entries[0].where.describe(), "list.crtlist:3");
    EXPECT_THAT(entries[1].options, ElementsAre("alpn", "h2", "ssl-min-ver", "TLSv1.2"));
    EXPECT_THAT(entries[1].sni_filters,
                ElementsAre("example.com", "*.example.com", "!old.example.com"));
    EXPECT_EQ(entries[2].crt, "my cert.pem");
    EXPECT_EQ(entries[2].acme, "LE");
    EXPECT_THAT(entries[2].domains, ElementsAre("a.example", "b.example"));
    EXPECT_THAT(entries[2].sni_filters, ElementsAre("a.example"));

    auto unclosed = parse_crt_list("a.pem [alpn h2 example.com\n", "list.crtlist", warnings);
    ASSERT_FALSE(unclosed);
    EXPECT_THAT(unclosed.error().describe(), HasSubstr("list.crtlist:1"));
}

}  // namespace
}  // namespace certdock::haproxy
