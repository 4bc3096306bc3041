// `certdock agent import`: a haproxy.cfg using HAProxy's own ACME client becomes an agent
// configuration that certdock accepts, keeps HAProxy's behaviour, and says what it could not
// carry over, line by line.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "agent/config.hpp"
#include "agent/config_import.hpp"
#include "support/must.hpp"

namespace certdock::agent {
namespace {

using test::must;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// A HAProxy 3.2 setup as its documentation shows it: one CA, http-01 through a virtual map,
// a crt-store with two ACME certificates served by one bind.
constexpr std::string_view kHaproxyCfg = R"(global
    expose-experimental-directives
    crt-base /etc/haproxy/certs
    stats socket /run/haproxy/admin.sock mode 600 level admin
    stats socket ipv4@127.0.0.1:9999 level admin

acme LE
    directory https://acme-v02.api.letsencrypt.org/directory
    account-key /etc/haproxy/le.account.key
    contact ops@example.com
    challenge http-01
    keytype RSA
    bits 3072
    map virt@acme

acme LE-ec
    directory https://acme-v02.api.letsencrypt.org/directory
    reuse-key on
    map virt@acme

crt-store web
    load crt "site.pem" acme LE domains "example.com,www.example.com" alias "site"
    load crt "api.pem" acme LE-ec domains "api.example.com"

frontend fe
    bind :443 ssl crt "@web/site" crt "@web/api.pem"
    http-request return status 200 content-type text/plain lf-string "%[path,field(-1,/)].%[path,field(-1,/),map(virt@acme)]\n" if { path_beg /.well-known/acme-challenge/ }
)";

ImportResult import(std::string_view text) {
    return must(import_haproxy_config(text, "haproxy.cfg"));
}

// The generated text, validated as `certdock agent check --skip-file-checks` would.
ConfigPtr accepted(const ImportResult& result) {
    ConfigCheck check =
        check_config_text(result.toml, "certdock.toml", LoadOptions{.check_files = false});
    for (const auto& issue : check.issues)
        ADD_FAILURE() << issue.to_string() << "\n" << result.toml;
    return check.config;
}

std::vector<std::string> notes(const ImportResult& result) {
    std::vector<std::string> out;
    for (const auto& note : result.notes) out.push_back(note.to_string());
    return out;
}

TEST(AgentImport, HaproxyAcmeSetupBecomesAConfigurationCertdockAccepts) {
    ImportResult result = import(kHaproxyCfg);
    EXPECT_THAT(notes(result), IsEmpty());
    ASSERT_EQ(result.certificates, 2);
    ConfigPtr config = accepted(result);
    ASSERT_TRUE(config);

    ASSERT_EQ(config->accounts.size(), 2u);
    const AcmeAccount* le = config->find_account("LE");
    ASSERT_TRUE(le);
    EXPECT_EQ(le->directory, "https://acme-v02.api.letsencrypt.org/directory");
    EXPECT_EQ(le->account_key, "/etc/haproxy/le.account.key");
    EXPECT_THAT(le->contact, ElementsAre("mailto:ops@example.com"));
    // HAProxy's default account key name, under crt-base, keeps the account it registered.
    EXPECT_EQ(config->find_account("LE-ec")->account_key, "/etc/haproxy/certs/LE-ec.account.key");

    const HaproxyTarget* target = config->find_haproxy("haproxy");
    ASSERT_TRUE(target);
    ASSERT_EQ(target->sockets.size(), 2u);
    EXPECT_EQ(target->map, "virt@acme");

    ASSERT_EQ(config->certificates.size(), 2u);
    const CertificateConfig& site = config->certificates[0];
    EXPECT_EQ(site.name, "site");
    EXPECT_THAT(site.domains, ElementsAre("example.com", "www.example.com"));
    EXPECT_EQ(site.acme, "LE");
    ASSERT_TRUE(site.key.spec);
    EXPECT_EQ(site.key.spec->describe(), "RSA 3072");
    EXPECT_EQ(site.key.reuse, ReuseKey::kOff);  // HAProxy's default, not certdock's
    EXPECT_EQ(site.challenge.type, challenge::ChallengeType::kHttp01);
    EXPECT_EQ(site.placement.file, "/etc/haproxy/certs/site.pem");
    EXPECT_EQ(site.placement.runtime_name, "@web/site");
    ASSERT_EQ(site.placement.probes.size(), 1u);

    const CertificateConfig& api = config->certificates[1];
    EXPECT_EQ(api.name, "api");
    EXPECT_EQ(api.acme, "LE-ec");
    ASSERT_TRUE(api.key.spec);
    EXPECT_EQ(api.key.spec->describe(), "ECDSA P-384");  // HAProxy's default key
    EXPECT_EQ(api.key.reuse, ReuseKey::kOn);
    EXPECT_EQ(api.placement.runtime_name, "@web/api.pem");  // no alias: the file as written
}

TEST(AgentImport, HaproxyDefaultsAreWrittenOutNotLeftToCertdocksDefaults) {
    ImportResult result = import(kHaproxyCfg);
    EXPECT_THAT(result.toml, HasSubstr("keytype = \"ECDSA\"\ncurves = \"P-384\"\n"));
    EXPECT_THAT(result.toml, HasSubstr("keytype = \"RSA\"\nbits = 3072\nreuse-key = \"off\"\n"));
}

TEST(AgentImport, Dns01NeedsAHookOrRfc2136) {
    ImportResult result = import(R"(acme LE
    directory https://ca.example/dir
    challenge dns-01
    provider-name gandi
    acme-vars "apikey=secret"
crt-store
    load crt "/etc/haproxy/wild.pem" acme LE domains "*.example.com,example.com"
)");
    EXPECT_THAT(notes(result),
                ElementsAre(HasSubstr("no stats socket with level admin"),
                            HasSubstr("haproxy.cfg:1: account key \"LE.account.key\" is "
                                      "relative"),
                            HasSubstr("haproxy.cfg:4: provider-name configures HAProxy's DNS"),
                            HasSubstr("haproxy.cfg:5: acme-vars"),
                            HasSubstr("haproxy.cfg:7: dns-01: HAProxy's DNS provider settings "
                                      "cannot be carried over; configure dns-hook or "
                                      "rfc2136-server")));
    ConfigPtr config = accepted(result);
    ASSERT_TRUE(config);
    EXPECT_EQ(config->certificates[0].challenge.type, challenge::ChallengeType::kDns01);
    // The provider's secret is not copied anywhere.
    EXPECT_THAT(result.toml, ::testing::Not(HasSubstr("secret")));
}

TEST(AgentImport, UnusedAcmeSectionIsNamed) {
    std::string cfg(kHaproxyCfg);
    cfg += "acme spare\n    directory https://ca.example/dir\n";
    ImportResult result = import(cfg);
    EXPECT_THAT(notes(result),
                ElementsAre(HasSubstr("haproxy.cfg:28: acme section \"spare\" is not used")));
    ConfigPtr config = accepted(result);
    ASSERT_TRUE(config);
    EXPECT_EQ(config->accounts.size(), 2u);
}

TEST(AgentImport, KeytypeEcIsWrittenAsEcdsaWithANote) {
    ImportResult result = import(R"(global
    crt-base /etc/haproxy
    stats socket /run/haproxy/admin.sock level admin
acme LE
    directory https://ca.example/dir
    keytype EC
    curves prime256v1
    map /etc/haproxy/acme.map
crt-store
    load crt "/etc/haproxy/site.pem" acme LE domains "example.com"
)");
    EXPECT_THAT(notes(result), ElementsAre(HasSubstr("haproxy.cfg:6: keytype EC is written "
                                                     "keytype = \"ECDSA\"")));
    ConfigPtr config = accepted(result);
    ASSERT_TRUE(config);
    EXPECT_EQ(config->certificates[0].key.spec->describe(), "ECDSA P-256");
    EXPECT_EQ(config->haproxies[0].map, "/etc/haproxy/acme.map");
}

TEST(AgentImport, WhatCannotBeCarriedOverIsNotedByLine) {
    ImportResult result = import(R"(global
    stats socket /run/haproxy/user.sock level user
acme LE
    directory https://ca.example/dir
    bits 1024
    keytype RSA
    challenge-ready dns
acme nodir
    contact a@example.com
crt-store
    load crt "/etc/haproxy/a.pem" acme LE domains "a.example.com"
    load crt "/etc/haproxy/b.pem" acme missing domains "b.example.com"
    load crt "/etc/haproxy/c.pem" acme nodir domains "c.example.com"
    load crt "/etc/haproxy/d.pem" acme LE
)");
    EXPECT_THAT(notes(result),
                ElementsAre(HasSubstr("haproxy.cfg: no stats socket with level admin"),
                            HasSubstr("haproxy.cfg: http-01 needs a map"),
                            HasSubstr("haproxy.cfg:2: stats socket /run/haproxy/user.sock has "
                                      "level user"),
                            HasSubstr("haproxy.cfg:3: account key \"LE.account.key\" is "
                                      "relative"),
                            HasSubstr("haproxy.cfg:5: bits 1024"),
                            HasSubstr("haproxy.cfg:7: challenge-ready configures HAProxy's DNS"),
                            HasSubstr("haproxy.cfg:8: acme section \"nodir\" has no directory"),
                            HasSubstr("haproxy.cfg:12: acme section \"missing\" is not defined"),
                            HasSubstr("haproxy.cfg:14: no domains on this line")));
    EXPECT_EQ(result.certificates, 1);
    ConfigPtr config = accepted(result);
    ASSERT_TRUE(config);
    EXPECT_EQ(config->certificates[0].key.spec->describe(), "RSA 2048");
}

// HAProxy 3.2's ssl-f-use names the certificate in the frontend; the map comes from the
// http-request rule when the acme section names none.
TEST(AgentImport, SslFUseCertificateWithTheMapOfTheResponderRule) {
    ImportResult result = import(R"(global
    stats socket /run/haproxy/admin.sock
acme LE
    directory https://ca.example/dir
frontend fe
    bind 192.0.2.1:8443 ssl
    ssl-f-use crt /etc/haproxy/site.pem acme LE domains "example.com"
    http-request return status 200 lf-string "%[path,field(-1,/),map(/etc/haproxy/acme.map)]" if { path_beg /.well-known/acme-challenge/ }
)");
    EXPECT_THAT(notes(result), ElementsAre(HasSubstr("haproxy.cfg:3: account key")));
    ConfigPtr config = accepted(result);
    ASSERT_TRUE(config);
    EXPECT_EQ(config->haproxies[0].map, "/etc/haproxy/acme.map");
    const CertificateConfig& site = config->certificates[0];
    EXPECT_EQ(site.placement.file, "/etc/haproxy/site.pem");
    EXPECT_EQ(site.placement.runtime_name, "");  // HAProxy names it by its file
    ASSERT_EQ(site.placement.probes.size(), 1u);
}

TEST(AgentImport, WildcardWithHttp01IsWrittenAsDns01) {
    ImportResult result = import(R"(global
    crt-base /etc/haproxy
    stats socket /run/haproxy/admin.sock level admin
acme LE
    directory https://ca.example/dir
    map virt@acme
crt-store
    load crt "wild.pem" acme LE domains "*.example.com"
)");
    EXPECT_THAT(notes(result),
                ElementsAre(HasSubstr("haproxy.cfg:8: a wildcard can only be validated with "
                                      "dns-01"),
                            HasSubstr("haproxy.cfg:8: dns-01: HAProxy's DNS provider settings")));
    ConfigPtr config = accepted(result);
    ASSERT_TRUE(config);
    EXPECT_EQ(config->certificates[0].challenge.type, challenge::ChallengeType::kDns01);
    EXPECT_EQ(config->certificates[0].placement.file, "/etc/haproxy/wild.pem");
}

TEST(AgentImport, NoAcmeCertificateMeansNothingToImport) {
    ImportResult result = import("frontend fe\n    bind :443 ssl crt /etc/haproxy/site.pem\n");
    EXPECT_EQ(result.certificates, 0);
    EXPECT_THAT(notes(result), ElementsAre(HasSubstr("nothing to import")));
}

TEST(AgentImport, UnreadableConfigurationIsAnError) {
    auto result = import_haproxy_config("acme LE\n    directory \"https://ca\n", "haproxy.cfg");
    ASSERT_FALSE(result);
    EXPECT_THAT(result.error().message(), HasSubstr("haproxy.cfg:2"));
}

}  // namespace
}  // namespace certdock::agent
