// The agent's configuration file: what an operator writes, what certdock makes of it, and
// the message for each kind of mistake (file, line, key and the fix).

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "agent/config.hpp"
#include "agent/config_values.hpp"
#include "agent/key_policy.hpp"
#include "base/file.hpp"
#include "crypto/csr.hpp"
#include "crypto/key.hpp"
#include "support/must.hpp"
#include "support/temp_dir.hpp"

namespace certdock::agent {
namespace {

using test::must;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// One CA, one HAProxy with a map, one certificate; tests append keys to the certificate.
constexpr std::string_view kBase = R"([acme.le]
directory = "https://ca.example/directory"

[haproxy.edge]
sockets = ["/run/haproxy/admin.sock"]
map = "/etc/haproxy/acme.map"

[[certificate]]
name = "site"
domains = ["example.com"]
file = "/etc/haproxy/certs/site.pem"
)";
constexpr std::uint32_t kFirstAddedLine = 12;  // the line after kBase

ConfigCheck check_text(std::string_view text, bool check_files = false) {
    return check_config_text(text, "certdock.toml", LoadOptions{.check_files = check_files});
}

ConfigCheck check_certificate_with(std::string_view extra) {
    return check_text(std::string(kBase) + std::string(extra));
}

std::vector<std::string> messages(const ConfigCheck& check) {
    std::vector<std::string> out;
    for (const auto& issue : check.issues) out.push_back(issue.to_string());
    return out;
}

// The single issue of a check, as a user reads it.
std::string only_issue(const ConfigCheck& check) {
    EXPECT_EQ(check.issues.size(), 1u) << ::testing::PrintToString(messages(check));
    EXPECT_FALSE(check.config);
    return check.issues.empty() ? "" : check.issues.front().to_string();
}

void write(const std::filesystem::path& path, std::string_view text, unsigned mode = 0644) {
    std::filesystem::create_directories(path.parent_path());
    must(write_file_atomic(path, text, WriteOptions{.mode = mode}));
}

TEST(AgentConfig, DocumentedExampleLoads) {
    auto config =
        must(load_config(std::filesystem::path(CERTDOCK_SOURCE_DIR) / "docs/examples/certdock.toml",
                         LoadOptions{.check_files = false}));
    EXPECT_EQ(summarize(*config), "3 certificates, 1 CA, 2 HAProxy targets");
    EXPECT_EQ(config->agent.metrics_listen, "127.0.0.1:9732");
    EXPECT_EQ(config->agent.log_format, LogFormat::kText);

    const AcmeAccount& account = config->accounts.at(0);
    EXPECT_EQ(account.name, "letsencrypt");
    EXPECT_THAT(account.contact, ElementsAre("mailto:ops@example.com"));
    EXPECT_EQ(account.account_key, "/etc/certdock/accounts/letsencrypt.key");

    const HaproxyTarget* internal = config->find_haproxy("internal");
    ASSERT_NE(internal, nullptr);
    ASSERT_EQ(internal->sockets.size(), 1u);
    EXPECT_EQ(internal->sockets[0].target_prefix, "@1");

    const auto& site = config->certificates.at(0);
    EXPECT_EQ(site.name, "site");
    EXPECT_EQ(site.key.spec, crypto::KeySpec::ecdsa(crypto::Curve::kP256));
    EXPECT_EQ(site.key.reuse, ReuseKey::kOn);
    EXPECT_EQ(site.challenge.type, challenge::ChallengeType::kHttp01);
    EXPECT_EQ(site.placement.probes.at(0).port, 443);
    EXPECT_THAT(site.deploy_hooks, ElementsAre("notify"));

    const auto& wildcard = config->certificates.at(1);
    EXPECT_EQ(wildcard.key.spec, crypto::KeySpec::rsa(3072));
    EXPECT_EQ(wildcard.key.reuse, ReuseKey::kRotate);
    EXPECT_EQ(wildcard.key.rotate_ahead, std::chrono::hours(24 * 45));
    EXPECT_EQ(wildcard.challenge.type, challenge::ChallengeType::kDns01);
    EXPECT_EQ(wildcard.challenge.rfc2136_server, "192.0.2.53");
    EXPECT_EQ(wildcard.renew_before, std::chrono::hours(24 * 30));
    EXPECT_THAT(wildcard.placement.sni, ElementsAre("*.example.com"));

    const auto& api = config->certificates.at(2);
    EXPECT_EQ(api.acme, "letsencrypt") << "the only CA is the default";
    EXPECT_EQ(api.key.spec, crypto::KeySpec::ecdsa(crypto::Curve::kP384)) << "HAProxy's default";
    EXPECT_EQ(api.key.reuse, ReuseKey::kOff);
    EXPECT_THAT(api.domains, ElementsAre("api.internal.example.com", "192.0.2.10"));
    EXPECT_EQ(api.challenge.tls_alpn_listen, "127.0.0.1:8443");
    EXPECT_EQ(api.placement.runtime_name, "certs/api.pem");
    EXPECT_EQ(api.key.key_file, "/var/lib/certdock/keys/api.key");
}

TEST(AgentConfig, MinimalFileGetsDefaults) {
    ConfigCheck check = check_text(kBase);
    ASSERT_TRUE(check.config) << ::testing::PrintToString(messages(check));
    const auto& certificate = check.config->certificates.at(0);
    EXPECT_EQ(certificate.acme, "le");
    EXPECT_THAT(certificate.placement.haproxy, ElementsAre("edge"));
    EXPECT_FALSE(certificate.key.spec) << "type left to the existing key or HAProxy's default";
    EXPECT_EQ(certificate.key.reuse, ReuseKey::kOn) << "stable keys unless told otherwise";
    EXPECT_EQ(certificate.key.key_file, "/var/lib/certdock/keys/site.key");
    EXPECT_EQ(check.config->accounts.at(0).account_key,
              "/var/lib/certdock/accounts/le.account.key");
    EXPECT_FALSE(certificate.renew_before);
}

TEST(AgentConfig, EcKeytypeIsRejectedWithTheSpellingToUse) {
    EXPECT_EQ(only_issue(check_certificate_with("keytype = \"EC\"\n")),
              "certdock.toml:12: certificate \"site\": keytype \"EC\" is not a key type; HAProxy "
              "and certdock spell it ECDSA: write keytype = \"ECDSA\"");
    EXPECT_THAT(only_issue(check_certificate_with("keytype = \"rsa4096\"\n")),
                HasSubstr("write keytype = \"RSA\" and bits = 4096"));
}

TEST(AgentConfig, UnknownKeysSuggestTheClosestKnownOne) {
    EXPECT_EQ(only_issue(check_certificate_with("keytpye = \"RSA\"\n")),
              "certdock.toml:12: certificate \"site\": unknown key \"keytpye\"; did you mean "
              "\"keytype\"?");
    EXPECT_THAT(only_issue(check_certificate_with("key_type = \"RSA\"\n")),
                HasSubstr("did you mean \"keytype\"?"));
    EXPECT_THAT(only_issue(check_certificate_with("colour = \"blue\"\n")),
                HasSubstr("unknown key \"colour\" (known keys: acme, bits,"));
    // Other tools' spellings lead to ours.
    auto eab = check_text(std::string(kBase) +
                          "\n[acme.other]\ndirectory = \"https://x/d\"\n"
                          "eab-kid = \"kid.txt\"\n");
    EXPECT_THAT(messages(eab), Contains(HasSubstr("acme \"other\": unknown key \"eab-kid\"; did "
                                                  "you mean \"eab-key-id\"?")));
    EXPECT_THAT(only_issue(check_text(std::string(kBase) + "[certificates]\nname = \"x\"\n")),
                HasSubstr("unknown key \"certificates\"; did you mean \"certificate\"?"));
}

TEST(AgentConfig, EveryIssueIsReportedInFileOrder) {
    ConfigCheck check = check_certificate_with(
        "keytype = \"RSA\"\ncurves = \"P-256\"\nchallenge = \"http01\"\nrenew-before = \"30 "
        "days\"\n");
    EXPECT_FALSE(check.config);
    ASSERT_EQ(check.issues.size(), 3u) << ::testing::PrintToString(messages(check));
    EXPECT_EQ(check.issues[0].line, kFirstAddedLine + 1);
    EXPECT_EQ(check.issues[0].key, "curves");
    EXPECT_THAT(check.issues[0].message, HasSubstr("curves applies to ECDSA keys"));
    EXPECT_EQ(check.issues[1].key, "challenge");
    EXPECT_THAT(check.issues[1].message, HasSubstr("did you mean challenge = \"http-01\"?"));
    EXPECT_EQ(check.issues[2].key, "renew-before");
    EXPECT_THAT(check.issues[2].message, HasSubstr("\"30 days\" is not a duration"));
}

TEST(AgentConfig, LoadErrorListsEveryIssueOnItsOwnLine) {
    test::TempDir dir;
    write(dir.path() / "certdock.toml",
          std::string(kBase) + "keytype = \"EC\"\nbits = 1024\nreuse-key = \"sometimes\"\n");
    auto loaded = load_config(dir.path() / "certdock.toml", LoadOptions{.check_files = false});
    ASSERT_FALSE(loaded);
    EXPECT_EQ(loaded.error().category(), ErrorCategory::kInput);
    const std::string& text = loaded.error().message();
    EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 1) << text;
    EXPECT_THAT(text, HasSubstr("certdock.toml:12: certificate \"site\": keytype \"EC\""));
    EXPECT_THAT(text, HasSubstr("certdock.toml:14: certificate \"site\": reuse-key "
                                "\"sometimes\" is not a choice"));
}

TEST(AgentConfig, ReferencesToUndefinedSectionsAreNamed) {
    auto config = check_text(std::string(kBase) +
                             "acme = \"lets\"\nhaproxy = \"edg\"\n"
                             "deploy-hooks = [\"notify\"]\n");
    EXPECT_THAT(messages(config),
                ElementsAre("certdock.toml:12: certificate \"site\": acme \"lets\" is not "
                            "defined; define [acme.lets] or use one of: le",
                            "certdock.toml:13: certificate \"site\": haproxy \"edg\" is not "
                            "defined; did you mean \"edge\"?",
                            "certdock.toml:14: certificate \"site\": deploy-hooks \"notify\" is "
                            "not defined; add a [deploy-hook.notify] section"));
}

TEST(AgentConfig, SeveralSectionsMustBeNamedExplicitly) {
    auto config = check_text(std::string(kBase) +
                             "\n[acme.other]\ndirectory = \"https://other.example/dir\"\n");
    EXPECT_EQ(only_issue(config),
              "certdock.toml:8: certificate \"site\": acme is missing; name the CA to use: acme "
              "= one of le, other");
}

TEST(AgentConfig, DuplicateCertificateNamesAndFiles) {
    auto config = check_text(std::string(kBase) +
                             "\n[[certificate]]\nname = \"site\"\ndomains = [\"b.example\"]\n"
                             "file = \"/etc/haproxy/certs/site.pem\"\n");
    EXPECT_THAT(messages(config),
                ElementsAre(HasSubstr("certdock.toml:13: certificate \"site\": name is already "
                                      "used by the certificate on line 8"),
                            HasSubstr("file \"/etc/haproxy/certs/site.pem\" is also written by "
                                      "certificate \"site\"")));
}

TEST(AgentConfig, CertificateNamesCanNameFiles) {
    std::string text(kBase);
    text.replace(text.find("name = \"site\""), 13, "name = \"../site\"");
    EXPECT_THAT(only_issue(check_text(text)),
                HasSubstr("certdock.toml:9: certificate \"../site\": name \"../site\" may hold "
                          "letters, digits"));
}

TEST(AgentConfig, DomainsMustBeNamesOrAddresses) {
    std::string without_domains(kBase);
    without_domains.replace(without_domains.find("domains = [\"example.com\"]\n"), 26, "");
    EXPECT_THAT(only_issue(check_text(without_domains)),
                HasSubstr("certificate \"site\": domains is missing; list the names"));
    auto replace_domains = [](const std::string& value) {
        std::string text(kBase);
        text.replace(text.find("[\"example.com\"]"), 15, value);
        return check_text(text);
    };
    EXPECT_THAT(only_issue(replace_domains("[]")),
                HasSubstr("certdock.toml:10: certificate \"site\": domains is empty"));
    EXPECT_THAT(only_issue(replace_domains("[\"exa mple.com\"]")),
                HasSubstr("\"exa mple.com\" is neither an IP address nor a DNS name"));
    EXPECT_THAT(only_issue(replace_domains("[\"a.example\", \"A.example\"]")),
                HasSubstr("domains lists \"A.example\" twice"));
    auto mixed = replace_domains("[\"WWW.Example.com\", \"2001:db8::1\"]");
    ASSERT_TRUE(mixed.config) << ::testing::PrintToString(messages(mixed));
    EXPECT_THAT(mixed.config->certificates[0].domains,
                ElementsAre("www.example.com", "2001:db8::1"));
}

TEST(AgentConfig, KeySizesAndCurvesFollowTheKeyType) {
    EXPECT_THAT(only_issue(check_certificate_with("keytype = \"ECDSA\"\nbits = 256\n")),
                HasSubstr("certdock.toml:13: certificate \"site\": bits applies to RSA keys, this "
                          "one is ECDSA; write curves = \"P-256\" instead"));
    EXPECT_THAT(only_issue(check_certificate_with("keytype = \"RSA\"\nbits = 1024\n")),
                HasSubstr("bits = 1024 is not an RSA size certdock generates"));
    EXPECT_THAT(only_issue(check_certificate_with("bits = 4096\n")),
                HasSubstr("bits without keytype: write keytype = \"RSA\""));
    EXPECT_THAT(only_issue(check_certificate_with("keytype = \"ECDSA\"\ncurves = \"P-521\"\n")),
                HasSubstr("curves \"P-521\" is not a curve certdock generates"));
    EXPECT_THAT(only_issue(check_certificate_with("keytype = \"RSA\"\nbits = \"4096\"\n")),
                HasSubstr("bits must be a whole number without quotes, as bits = 2048"));
    auto rsa = check_certificate_with("keytype = \"rsa\"\nbits = 4096\n");
    ASSERT_TRUE(rsa.config);
    EXPECT_EQ(rsa.config->certificates[0].key.spec, crypto::KeySpec::rsa(4096));
}

TEST(AgentConfig, ReuseKeyAndRotation) {
    auto rotate = check_certificate_with("reuse-key = \"rotate\"\n");
    ASSERT_TRUE(rotate.config);
    EXPECT_EQ(rotate.config->certificates[0].key.rotate_ahead, std::chrono::hours(24 * 30));
    EXPECT_THAT(only_issue(check_certificate_with("rotate-ahead = \"10d\"\n")),
                HasSubstr("rotate-ahead applies to reuse-key = \"rotate\""));
    EXPECT_THAT(only_issue(check_certificate_with("reuse-key = \"yes\"\n")),
                HasSubstr("write reuse-key = \"on\" (keep the key), \"off\""));
}

TEST(AgentConfig, CsrModeTakesNoKeyPolicy) {
    EXPECT_EQ(only_issue(check_certificate_with("csr = \"site.csr\"\nkeytype = \"RSA\"\n")),
              "certdock.toml:13: certificate \"site\": csr and keytype conflict: a CSR brings its "
              "own key; remove keytype (or csr, to let certdock manage the key)");
}

TEST(AgentConfig, CsrModeReadsNamesFromTheCsr) {
    test::TempDir dir;
    auto key = must(crypto::PrivateKey::generate(crypto::KeySpec::ecdsa(crypto::Curve::kP256)));
    auto csr = must(crypto::Csr::create(
        key, crypto::CsrOptions{.dns_names = {"csr.example.com"}, .ip_addresses = {"192.0.2.7"}}));
    write(dir.path() / "site.csr", csr.to_pem());
    std::string text = R"([acme.le]
directory = "https://ca.example/directory"
[[certificate]]
name = "site"
csr = "site.csr"
challenge = "tls-alpn-01"
tls-alpn-listen = "127.0.0.1:8443"
file = "site.pem"
)";
    write(dir.path() / "certdock.toml", text);
    auto check = check_config(dir.path() / "certdock.toml");
    ASSERT_TRUE(check.config) << ::testing::PrintToString(messages(check));
    const auto& certificate = check.config->certificates[0];
    EXPECT_TRUE(certificate.csr_mode());
    EXPECT_EQ(certificate.csr, dir.path() / "site.csr");
    EXPECT_THAT(certificate.domains, ElementsAre("csr.example.com", "192.0.2.7"));

    write(dir.path() / "certdock.toml", text + "domains = [\"other.example.com\"]\n");
    EXPECT_THAT(only_issue(check_config(dir.path() / "certdock.toml")),
                HasSubstr("domains differ from the names in csr"));
}

TEST(AgentConfig, ChallengesNeedTheirSolver) {
    std::string no_map(kBase);
    no_map.replace(no_map.find("map = "), 30, "");
    EXPECT_EQ(only_issue(check_text(no_map)),
              "certdock.toml:7: certificate \"site\": challenge = \"http-01\" needs a map on "
              "haproxy \"edge\": add map = \"/etc/haproxy/acme.map\" to [haproxy.edge] (HAProxy "
              "answers the challenge from it)");
    EXPECT_THAT(only_issue(check_certificate_with("challenge = \"dns-01\"\n")),
                HasSubstr("dns-hook is missing; dns-01 needs a way to publish the TXT record"));
    EXPECT_THAT(
        only_issue(check_certificate_with("challenge = \"dns-01\"\nrfc2136-server = \"ns1\"\n")),
        HasSubstr("tsig-key-file is missing"));
    EXPECT_THAT(messages(check_certificate_with(
                    "challenge = \"dns-01\"\ndns-hook = \"/bin/true\"\ntsig-key-file = \"k\"\n")),
                ElementsAre(HasSubstr("tsig-key-file belongs to RFC 2136 updates, not to "
                                      "dns-hook")));
    EXPECT_THAT(only_issue(check_certificate_with("dns-hook = \"/bin/true\"\n")),
                HasSubstr("dns-hook applies to challenge = \"dns-01\", this certificate uses "
                          "\"http-01\""));
    EXPECT_THAT(only_issue(check_certificate_with("challenge = \"tls-alpn-01\"\n")),
                HasSubstr("tls-alpn-listen is missing"));
}

TEST(AgentConfig, WildcardsNeedDns01AndAddressesCannotUseIt) {
    std::string wildcard(kBase);
    wildcard.replace(wildcard.find("\"example.com\""), 13, "\"*.example.com\"");
    EXPECT_THAT(only_issue(check_text(wildcard)),
                HasSubstr("the wildcard \"*.example.com\" can only be validated with dns-01"));
    std::string address(kBase);
    address.replace(address.find("\"example.com\""), 13, "\"192.0.2.1\"");
    EXPECT_THAT(
        only_issue(check_text(address + "challenge = \"dns-01\"\ndns-hook = \"/bin/true\"\n")),
        HasSubstr("the IP address \"192.0.2.1\" cannot be validated with dns-01"));
}

TEST(AgentConfig, HaproxySocketsAndProbesAreChecked) {
    std::string text(kBase);
    text.replace(text.find("\"/run/haproxy/admin.sock\""), 25,
                 "\"/run/haproxy/master.sock@master\"");
    EXPECT_THAT(only_issue(check_text(text)),
                HasSubstr("certdock.toml:5: haproxy \"edge\": sockets: HAProxy Runtime API "
                          "endpoint \"/run/haproxy/master.sock@master\": the master process "
                          "holds no maps or certificates"));
    EXPECT_THAT(only_issue(check_certificate_with("probe = [\"localhost\"]\n")),
                HasSubstr("probe 'localhost': expected HOST:PORT"));
    EXPECT_THAT(only_issue(check_certificate_with("sni = [\"example.com\"]\n")),
                HasSubstr("sni filters a crt-list line"));
}

TEST(AgentConfig, AgentAndAcmeSettingsAreChecked) {
    auto check = check_text(std::string("[agent]\nlog-format = \"JSON\"\nmetrics-listen = "
                                        "\"9732\"\n\n") +
                            std::string(kBase) +
                            "\n[acme.plain]\ndirectory = \"http://ca.example/dir\"\ncontact = "
                            "\"ops\"\neab-key-id = \"kid\"\n");
    EXPECT_THAT(messages(check),
                ElementsAre(HasSubstr(":2: [agent]: log-format \"JSON\" is not a log format"),
                            HasSubstr(":3: [agent]: metrics-listen '9732': expected HOST:PORT"),
                            HasSubstr("acme = one of le, plain"),
                            HasSubstr(":18: acme \"plain\": directory \"http://ca.example/dir\" "
                                      "is not an https URL"),
                            HasSubstr(":19: acme \"plain\": contact \"ops\" is not an e-mail "
                                      "address"),
                            HasSubstr(":20: acme \"plain\": eab-key-id needs eab-mac-key")));
}

TEST(AgentConfig, SyntaxErrorsNameTheLine) {
    auto check = check_text("[agent]\nstate-dir = \"/var/lib/certdock\n");
    ASSERT_EQ(check.issues.size(), 1u);
    EXPECT_EQ(check.issues[0].line, 2u);
    EXPECT_THAT(check.issues[0].to_string(), HasSubstr("certdock.toml:2: syntax error:"));
    EXPECT_THAT(only_issue(check_text("[certificate]\nname = \"x\"\n")),
                HasSubstr("write [[certificate]] (double brackets)"));
}

TEST(AgentConfig, RelativePathsStartAtTheConfigDirectory) {
    test::TempDir dir;
    write(dir.path() / "etc/roots.pem", "-----BEGIN CERTIFICATE-----\n");
    write(dir.path() / "etc/certdock.toml", std::string(R"([agent]
state-dir = "state"
[acme.le]
directory = "https://ca.example/directory"
ca-roots = "roots.pem"
[haproxy.edge]
sockets = ["/run/haproxy/admin.sock"]
map = "/etc/haproxy/acme.map"
[[certificate]]
name = "site"
domains = ["example.com"]
key-file = "../keys/site.key"
file = "certs/site.pem"
)"));
    auto config = must(load_config(dir.path() / "etc/certdock.toml"));
    EXPECT_EQ(config->agent.state_dir, dir.path() / "etc/state");
    EXPECT_EQ(config->accounts[0].ca_roots, dir.path() / "etc/roots.pem");
    EXPECT_EQ(config->accounts[0].account_key, dir.path() / "etc/state/accounts/le.account.key");
    EXPECT_EQ(config->certificates[0].key.key_file, dir.path() / "keys/site.key");
    EXPECT_EQ(config->certificates[0].placement.file, dir.path() / "etc/certs/site.pem");
}

TEST(AgentConfig, FilesTheAgentReadsMustExist) {
    test::TempDir dir;
    write(dir.path() / "not-roots.pem", "hello\n");
    write(dir.path() / "hook.sh", "#!/bin/sh\n", 0644);
    write(dir.path() / "bad.tsig", "nonsense\n");
    write(dir.path() / "certdock.toml", std::string(R"([acme.le]
directory = "https://ca.example/directory"
ca-roots = "not-roots.pem"
eab-key-id = "kid.txt"
eab-mac-key = "mac.txt"
[deploy-hook.notify]
program = "hook.sh"
[[certificate]]
name = "site"
domains = ["example.com"]
challenge = "dns-01"
rfc2136-server = "127.0.0.1:5353"
tsig-key-file = "bad.tsig"
file = "site.pem"
)"));
    auto check = check_config(dir.path() / "certdock.toml");
    EXPECT_THAT(
        messages(check),
        ElementsAre(
            HasSubstr(":3: acme \"le\": ca-roots \"" + (dir.path() / "not-roots.pem").string() +
                      "\" holds no PEM certificate"),
            HasSubstr(":4: acme \"le\": eab-key-id \"" + (dir.path() / "kid.txt").string() +
                      "\" does not exist"),
            HasSubstr(":5: acme \"le\": eab-mac-key"),
            HasSubstr(":7: deploy-hook \"notify\": program \"" + (dir.path() / "hook.sh").string() +
                      "\" is not executable; chmod +x it"),
            HasSubstr(":13: certificate \"site\": tsig-key-file:")));
}

TEST(AgentConfig, AKeptKeyMustMatchTheConfiguredType) {
    test::TempDir dir;
    auto key = must(crypto::PrivateKey::generate(crypto::KeySpec::ecdsa(crypto::Curve::kP256)));
    write(dir.path() / "site.key", must(key.to_pem()), 0600);
    write(
        dir.path() / "certdock.toml",
        std::string(kBase) + "keytype = \"ECDSA\"\ncurves = \"P-384\"\nkey-file = \"site.key\"\n");
    EXPECT_THAT(
        only_issue(check_config(dir.path() / "certdock.toml")),
        HasSubstr(":14: certificate \"site\": key-file \"" + (dir.path() / "site.key").string() +
                  "\" holds an ECDSA P-256 key but the configuration asks for ECDSA "
                  "P-384"));
}

TEST(ConfigValues, Durations) {
    EXPECT_EQ(must(parse_duration("30d")), std::chrono::hours(24 * 30));
    EXPECT_EQ(must(parse_duration("12h")), std::chrono::hours(12));
    EXPECT_EQ(must(parse_duration("90m")), std::chrono::minutes(90));
    EXPECT_EQ(must(parse_duration("1d12h30m5s")),
              std::chrono::hours(36) + std::chrono::minutes(30) + std::chrono::seconds(5));
    for (const char* bad : {"", "30", "d", "30 days", "12h1d", "1h1h", "-5m", "1.5h"}) {
        EXPECT_FALSE(parse_duration(bad)) << bad;
    }
    EXPECT_EQ(format_duration(std::chrono::hours(36)), "1d12h");
}

TEST(ConfigValues, DnsNames) {
    EXPECT_FALSE(dns_name_problem("www.example.com"));
    EXPECT_FALSE(dns_name_problem("*.example.com"));
    EXPECT_TRUE(dns_name_problem("localhost"));
    EXPECT_TRUE(dns_name_problem("a..example"));
    EXPECT_TRUE(dns_name_problem("-a.example"));
    EXPECT_TRUE(dns_name_problem("www.*.example"));
    EXPECT_TRUE(dns_name_problem(std::string(64, 'a') + ".example"));
}

class DetectKeyPolicy : public ::testing::Test {
protected:
    std::filesystem::path write_key(const crypto::KeySpec& spec) {
        auto key = must(crypto::PrivateKey::generate(spec));
        std::filesystem::path path = dir_.path() / "site.key";
        write(path, must(key.to_pem()), 0600);
        return path;
    }
    test::TempDir dir_;
};

TEST_F(DetectKeyPolicy, WithoutKeyOrTypeItIsHaproxysDefault) {
    auto detected = must(detect_key_policy(KeyPolicy{.key_file = dir_.path() / "none.key"}));
    EXPECT_EQ(detected.spec, crypto::KeySpec::ecdsa(crypto::Curve::kP384));
    EXPECT_EQ(detected.source, KeySpecSource::kDefault);
}

TEST_F(DetectKeyPolicy, TheExistingKeyDecidesWhenTheConfigDoesNotSay) {
    auto path = write_key(crypto::KeySpec::rsa(2048));
    auto detected = must(detect_key_policy(KeyPolicy{.key_file = path}));
    EXPECT_EQ(detected.spec, crypto::KeySpec::rsa(2048));
    EXPECT_EQ(detected.source, KeySpecSource::kExistingKey);
}

TEST_F(DetectKeyPolicy, AConfiguredTypeMustMatchAKeyThatIsKept) {
    auto path = write_key(crypto::KeySpec::ecdsa(crypto::Curve::kP256));
    KeyPolicy policy{.spec = crypto::KeySpec::rsa(2048), .key_file = path};
    auto conflict = detect_key_policy(policy);
    ASSERT_FALSE(conflict);
    EXPECT_THAT(conflict.error().message(),
                HasSubstr("holds an ECDSA P-256 key but the configuration asks for RSA 2048"));
    policy.reuse = ReuseKey::kOff;
    auto fresh = must(detect_key_policy(policy));
    EXPECT_EQ(fresh.spec, crypto::KeySpec::rsa(2048));
    EXPECT_EQ(fresh.source, KeySpecSource::kConfigured);
}

TEST_F(DetectKeyPolicy, AFileWithoutAKeyIsAnError) {
    write(dir_.path() / "site.key", "not a key\n", 0600);
    auto detected = detect_key_policy(KeyPolicy{.key_file = dir_.path() / "site.key"});
    ASSERT_FALSE(detected);
    EXPECT_THAT(detected.error().describe(), HasSubstr("holds no usable private key"));
}

}  // namespace
}  // namespace certdock::agent
