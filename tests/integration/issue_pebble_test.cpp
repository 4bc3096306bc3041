// `certdock issue`, `account` and `revoke` run as a user runs them, against the real Pebble
// and challtestsrv from Debian, every server on loopback ports picked at run time.

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>

#include "base/file.hpp"
#include "crypto/bundle.hpp"
#include "crypto/certificate.hpp"
#include "crypto/csr.hpp"
#include "support/command.hpp"
#include "support/must.hpp"
#include "support/pebble.hpp"
#include "support/temp_dir.hpp"

namespace certdock {
namespace {

using test::CommandResult;
using test::must;

class IssueAgainstPebble : public ::testing::Test {
protected:
    void start(test::PebbleOptions options = {}) {
        http_port_ = must(test::free_local_port());
        tls_port_ = must(test::free_local_port());
        options.http_port = http_port_;
        options.tls_port = tls_port_;
        pebble_ = must(test::PebbleServer::start(options));
    }

    std::filesystem::path path(const std::string& name) const { return dir_.path() / name; }

    // certdock <command> with the directory, trust and account flags filled in.
    CommandResult certdock(const std::string& command, std::vector<std::string> args,
                           const std::string& account_key = "account.key") {
        std::vector<std::string> argv = {test::certdock_binary().string()};
        size_t space = command.find(' ');
        argv.push_back(command.substr(0, space));
        if (space != std::string::npos) argv.push_back(command.substr(space + 1));
        for (const std::string& flag : std::vector<std::string>{
                 "--directory", pebble_->directory_url(), "--ca-file", pebble_->ca_file().string(),
                 "--account-key", path(account_key).string()}) {
            argv.push_back(flag);
        }
        argv.insert(argv.end(), args.begin(), args.end());
        return test::run_command(argv);
    }

    CommandResult issue_http01(const std::string& name, std::vector<std::string> extra) {
        std::vector<std::string> args = {"--agree-tos",
                                         "-d",
                                         name,
                                         "--challenge",
                                         "http-01",
                                         "--http-listen",
                                         "127.0.0.1:" + std::to_string(http_port_)};
        args.insert(args.end(), extra.begin(), extra.end());
        return certdock("issue", args);
    }

    // The bundle's leaf, after checking what an operator would: key matches, chain in order
    // and verifying against Pebble's current root.
    crypto::Certificate check_bundle(const std::filesystem::path& bundle_path) {
        auto bundle = must(crypto::parse_haproxy_bundle(must(read_file(bundle_path))));
        EXPECT_TRUE(bundle.key.has_value());
        if (bundle.key) {
            EXPECT_TRUE(crypto::check_key_matches(*bundle.key, bundle.leaf));
        }
        auto roots = must(crypto::parse_certificates(must(pebble_->root_pem())));
        auto verified = crypto::verify_chain(bundle.leaf, bundle.chain, roots);
        EXPECT_TRUE(verified) << verified.error().describe();
        struct stat st {};
        EXPECT_EQ(::stat(bundle_path.c_str(), &st), 0);
        EXPECT_EQ(st.st_mode & 0777, 0600U);
        return bundle.leaf;
    }

    void write_text(const std::string& name, const std::string& text, unsigned mode = 0600) {
        ASSERT_TRUE(write_file_atomic(path(name), text, {.mode = mode}));
    }

    test::TempDir dir_;
    test::PebbleServerPtr pebble_;
    std::uint16_t http_port_ = 0;
    std::uint16_t tls_port_ = 0;
};

TEST_F(IssueAgainstPebble, Http01StandaloneWithANewEcdsaKey) {
    start();
    auto run = issue_http01("web.test", {"--out", path("site.pem").string(), "--json"});
    ASSERT_EQ(run.exit_code, 0) << run.err;
    EXPECT_NE(run.out.find("\"issued\": true"), std::string::npos);
    auto leaf = check_bundle(path("site.pem"));
    EXPECT_EQ(leaf.dns_names(), std::vector<std::string>{"web.test"});
    EXPECT_EQ(leaf.public_key().describe(), "ECDSA P-256");
    // The account URL is cached beside the key, so the next run skips the lookup.
    EXPECT_TRUE(std::filesystem::exists(path("account.key.accounts.json")));
}

TEST_F(IssueAgainstPebble, IpAddressIdentifier) {
    start();
    // RFC 8738: Pebble validates an ip identifier over http-01 at that very address.
    auto run = issue_http01("127.0.0.1", {"--out", path("ip.pem").string()});
    ASSERT_EQ(run.exit_code, 0) << run.err;
    auto leaf = check_bundle(path("ip.pem"));
    EXPECT_EQ(leaf.ip_addresses(), std::vector<std::string>{"127.0.0.1"});
    EXPECT_TRUE(leaf.dns_names().empty());
}

TEST_F(IssueAgainstPebble, PreferredChainPicksTheAlternateByRootName) {
    test::PebbleOptions options;
    options.alternate_roots = 1;
    start(options);
    auto alternate_root = must(crypto::Certificate::from_pem(must(pebble_->root_pem(1))));
    const std::string wanted = alternate_root.subject().substr(3);  // after "CN="
    auto run = issue_http01("chain.test",
                            {"--out", path("site.pem").string(), "--preferred-chain", wanted});
    ASSERT_EQ(run.exit_code, 0) << run.err;
    auto bundle = must(crypto::parse_haproxy_bundle(must(read_file(path("site.pem")))));
    ASSERT_FALSE(bundle.chain.empty());
    EXPECT_EQ(bundle.chain.back().issuer(), alternate_root.subject());
    auto verified = crypto::verify_chain(bundle.leaf, bundle.chain, {alternate_root});
    EXPECT_TRUE(verified) << verified.error().describe();

    // Without a preference the default chain, under the other root, is kept.
    auto plain = issue_http01("chain.test", {"--out", path("default.pem").string()});
    ASSERT_EQ(plain.exit_code, 0) << plain.err;
    auto default_bundle = must(crypto::parse_haproxy_bundle(must(read_file(path("default.pem")))));
    EXPECT_NE(default_bundle.chain.back().issuer(), alternate_root.subject());
}

TEST_F(IssueAgainstPebble, Dns01ThroughAHookWithRsa) {
    start();
    // The hook publishes the TXT record in challtestsrv, whose DNS server Pebble asks.
    write_text("hook.sh",
               "#!/bin/sh\n"
               "[ \"$1\" = begin ] || exit 0\n"
               "exec curl -sf -X POST -d \"{\\\"host\\\":\\\"$CERTDOCK_CHALLENGE_RECORD_NAME.\\\","
               "\\\"value\\\":\\\"$5\\\"}\" " +
                   pebble_->challtestsrv_url() + "/set-txt\n",
               0755);
    auto run = certdock("issue", {"--agree-tos", "-d", "dns.test", "-d", "*.dns.test",
                                  "--challenge", "dns-01", "--dns-hook", path("hook.sh").string(),
                                  "--key-type", "rsa2048", "--out", path("site.pem").string()});
    ASSERT_EQ(run.exit_code, 0) << run.err;
    auto leaf = check_bundle(path("site.pem"));
    EXPECT_EQ(leaf.public_key().describe(), "RSA 2048");
    auto names = leaf.dns_names();
    std::sort(names.begin(), names.end());
    EXPECT_EQ(names, (std::vector<std::string>{"*.dns.test", "dns.test"}));
}

TEST_F(IssueAgainstPebble, TlsAlpn01WithAStableKey) {
    start();
    auto key = must(crypto::PrivateKey::generate(crypto::KeySpec::ecdsa(crypto::Curve::kP384)));
    write_text("stable.key", must(key.to_pem()));
    for (int round = 0; round < 2; ++round) {
        auto run = certdock("issue",
                            {"--agree-tos", "-d", "alpn.test", "--challenge", "tls-alpn-01",
                             "--tls-alpn-listen", "127.0.0.1:" + std::to_string(tls_port_), "--key",
                             path("stable.key").string(), "--out", path("site.pem").string()});
        ASSERT_EQ(run.exit_code, 0) << run.err;
        auto leaf = check_bundle(path("site.pem"));
        // Renewal keeps the key: the pin an operator published stays true.
        EXPECT_EQ(leaf.public_key().pin_sha256(), key.public_key().pin_sha256());
    }
    EXPECT_TRUE(std::filesystem::exists(path(".site.pem.previous")));
}

TEST_F(IssueAgainstPebble, CsrModeIssuesForTheCsrsKeyAndNames) {
    start();
    auto key = must(crypto::PrivateKey::generate(crypto::KeySpec::rsa(3072)));
    auto csr = must(crypto::Csr::create(key, {.dns_names = {"csr.test", "www.csr.test"}}));
    write_text("site.csr", csr.to_pem(), 0644);
    auto run =
        certdock("issue", {"--agree-tos", "--csr", path("site.csr").string(), "--challenge",
                           "http-01", "--http-listen", "127.0.0.1:" + std::to_string(http_port_),
                           "--fullchain-out", path("fullchain.pem").string()});
    ASSERT_EQ(run.exit_code, 0) << run.err;
    auto chain = must(crypto::parse_certificates(must(read_file(path("fullchain.pem")))));
    ASSERT_GE(chain.size(), 2U);
    EXPECT_TRUE(chain.front().public_key().same_key(key.public_key()));
    auto names = chain.front().dns_names();
    std::sort(names.begin(), names.end());
    EXPECT_EQ(names, (std::vector<std::string>{"csr.test", "www.csr.test"}));
}

TEST_F(IssueAgainstPebble, ExternalAccountBindingWhenTheCaRequiresIt) {
    test::PebbleOptions options;
    options.eab_required = true;
    options.eab_mac_keys["kid-1"] =
        "zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W";
    start(options);
    auto without = issue_http01("eab.test", {"--out", path("site.pem").string()});
    EXPECT_EQ(without.exit_code, 2);
    EXPECT_NE(without.err.find("requires External Account Binding"), std::string::npos)
        << without.err;
    EXPECT_FALSE(std::filesystem::exists(path("site.pem")));

    write_text("eab.kid", "kid-1\n");
    write_text("eab.key", options.eab_mac_keys["kid-1"] + "\n");
    auto with = issue_http01(
        "eab.test", {"--out", path("site.pem").string(), "--eab-kid-file", path("eab.kid").string(),
                     "--eab-key-file", path("eab.key").string()});
    ASSERT_EQ(with.exit_code, 0) << with.err;
    check_bundle(path("site.pem"));
}

TEST_F(IssueAgainstPebble, AccountKeyRolloverKeepsTheAccount) {
    start();
    auto registered = certdock("account register", {"--agree-tos", "--json"});
    ASSERT_EQ(registered.exit_code, 0) << registered.err;
    // Pebble accepts RS256 and ES256/384/512 only, so the new key is P-384 (not Ed25519).
    auto new_key = must(crypto::PrivateKey::generate(crypto::KeySpec::ecdsa(crypto::Curve::kP384)));
    write_text("new.key", must(new_key.to_pem()));
    auto rolled = certdock("account rollover", {"--new-key", path("new.key").string()});
    ASSERT_EQ(rolled.exit_code, 0) << rolled.err;
    // The account key file now holds the new key, and the account answers to it.
    auto current = must(crypto::PrivateKey::from_pem(must(read_file(path("account.key")))));
    EXPECT_TRUE(current.public_key().same_key(new_key.public_key()));
    std::filesystem::remove(path("account.key.accounts.json"));  // force a lookup by key
    auto shown = certdock("account show", {"--json"});
    ASSERT_EQ(shown.exit_code, 0) << shown.err;
    auto url_of = [](const std::string& json) {
        auto start = json.find("\"account_url\": \"") + 16;
        return json.substr(start, json.find('"', start) - start);
    };
    EXPECT_EQ(url_of(shown.out), url_of(registered.out));
    auto issued = issue_http01("rolled.test", {"--out", path("site.pem").string()});
    EXPECT_EQ(issued.exit_code, 0) << issued.err;
}

TEST_F(IssueAgainstPebble, ADeactivatedAccountCanNoLongerOrder) {
    start();
    ASSERT_EQ(certdock("account register", {"--agree-tos"}).exit_code, 0);
    auto deactivated = certdock("account deactivate", {});
    ASSERT_EQ(deactivated.exit_code, 0) << deactivated.err;
    EXPECT_NE(deactivated.out.find("deactivated"), std::string::npos) << deactivated.out;
    auto issued = issue_http01("gone.test", {"--out", path("site.pem").string()});
    EXPECT_EQ(issued.exit_code, 1);
    EXPECT_NE(issued.err.find("newOrder failed"), std::string::npos) << issued.err;
    EXPECT_NE(issued.err.find("unauthorized"), std::string::npos) << issued.err;
}

TEST_F(IssueAgainstPebble, RevocationByAccountAndByCertificateKey) {
    start();
    ASSERT_EQ(issue_http01("revoke1.test", {"--out", path("one.pem").string()}).exit_code, 0);
    ASSERT_EQ(issue_http01("revoke2.test", {"--out", path("two.pem").string()}).exit_code, 0);

    auto by_account =
        certdock("revoke", {"--cert", path("one.pem").string(), "--reason", "superseded"});
    ASSERT_EQ(by_account.exit_code, 0) << by_account.err;
    auto again = certdock("revoke", {"--cert", path("one.pem").string()});
    EXPECT_EQ(again.exit_code, 1);
    EXPECT_NE(again.err.find("alreadyRevoked"), std::string::npos) << again.err;

    // Someone holding only the certificate's key can revoke it too (RFC 8555 §7.6).
    auto by_key = certdock("revoke",
                           {"--cert", path("two.pem").string(), "--cert-key",
                            path("two.pem").string(), "--reason", "keyCompromise"},
                           "other-account.key");
    EXPECT_EQ(by_key.exit_code, 0) << by_key.err;
}

TEST_F(IssueAgainstPebble, HalfTheNoncesRejectedStillIssuesEveryTime) {
    test::PebbleOptions options;
    options.nonce_reject_percent = 50;
    start(options);
    for (int round = 0; round < 3; ++round) {
        auto run = issue_http01("nonce" + std::to_string(round) + ".test",
                                {"--out", path("site.pem").string()});
        ASSERT_EQ(run.exit_code, 0) << "round " << round << ": " << run.err;
    }
}

TEST_F(IssueAgainstPebble, ACaThatDiesGivesAClearErrorAndALaterRunSucceeds) {
    start();
    ASSERT_EQ(issue_http01("first.test", {"--out", path("site.pem").string()}).exit_code, 0);
    const std::string before = must(read_file(path("site.pem")));
    pebble_->kill();
    auto failed =
        issue_http01("second.test", {"--out", path("site.pem").string(), "--timeout", "5"});
    EXPECT_EQ(failed.exit_code, 1);
    EXPECT_NE(failed.err.find("not issued"), std::string::npos) << failed.err;
    EXPECT_NE(failed.err.find(pebble_->directory_url().substr(0, 20)), std::string::npos)
        << failed.err;
    EXPECT_EQ(must(read_file(path("site.pem"))), before)
        << "a failed run must not touch the bundle";

    ASSERT_TRUE(pebble_->restart());
    // The restarted CA forgot the cached account: certdock registers again by itself.
    auto later = issue_http01("second.test", {"--out", path("site.pem").string()});
    ASSERT_EQ(later.exit_code, 0) << later.err;
    EXPECT_EQ(check_bundle(path("site.pem")).dns_names(), std::vector<std::string>{"second.test"});
}

TEST_F(IssueAgainstPebble, BadInputIsRefusedBeforeTheCaIsAsked) {
    start();
    write_text("truncated.key", "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49\n");
    auto run = issue_http01(
        "bad.test", {"--key", path("truncated.key").string(), "--out", path("site.pem").string()});
    EXPECT_EQ(run.exit_code, 2);
    EXPECT_NE(run.err.find("truncated"), std::string::npos) << run.err;
    EXPECT_EQ(pebble_->pebble_log().find("POST"), std::string::npos)
        << "certdock contacted the CA despite bad input";
}

}  // namespace
}  // namespace certdock
