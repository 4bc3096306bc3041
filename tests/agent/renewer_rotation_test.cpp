// reuse-key = "rotate" through the Renewer, against an in-memory CA on a fake clock, delivering
// to disk only: the served certificate keeps the current key until the next key is
// rotate-ahead old, then carries the next key, which becomes key-file while a fresh next key
// takes its place; deploy hooks learn the pins to publish and never the key.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <sstream>

#include "acme/fake_acme_server.hpp"
#include "agent/fake_ca_seams.hpp"
#include "agent/key_rotation.hpp"
#include "agent/renewer.hpp"
#include "base/file.hpp"
#include "crypto/bundle.hpp"
#include "support/fake_clock.hpp"
#include "support/must.hpp"
#include "support/temp_dir.hpp"

namespace certdock::agent {
namespace {

namespace fs = std::filesystem;
using std::chrono::days;
using test::must;
using ::testing::HasSubstr;
using ::testing::Not;

std::string pin_of(const fs::path& file) {
    return must(crypto::PrivateKey::from_pem(must(read_file(file)))).public_key().pin_sha256();
}

class RenewerRotation : public ::testing::Test {
protected:
    RenewerRotation() : client_(server_, {.directory_url = server_.directory_url()}, clock_) {
        client_.set_account_key(
            must(crypto::PrivateKey::generate(crypto::KeySpec::ecdsa(crypto::Curve::kP256))));
        auto config = std::make_shared<Config>();
        config->accounts.push_back({.name = "fake", .directory = server_.directory_url()});
        config->hooks.push_back(
            {.name = "pins", .program = "/bin/sh", .args = {"-c", "env > " + hook_out().string()}});
        config_ = config;
        certificate_ = {
            .name = "site",
            .domains = {"site.test"},
            .acme = "fake",
            .key = {.spec = crypto::KeySpec::ecdsa(crypto::Curve::kP256),
                    .reuse = ReuseKey::kRotate,
                    .rotate_ahead = days(30),
                    .key_file = dir_.path() / "keys" / "site.key"},
            .placement = {.file = dir_.path() / "site.pem"},
            .deploy_hooks = {"pins"},
        };
        renewer_ = std::make_unique<Renewer>(config_, deps());
    }

    RenewerDeps deps() {
        return {.clients = test::fake_ca_clients(client_),
                .solvers = [](const CertificateConfig&) -> Result<challenge::SolverPtr> {
                    return challenge::SolverPtr(std::make_unique<test::AnsweringSolver>());
                },
                .states = &states_,
                .clock = &clock_,
                .random = [] { return 0.5; },
                .log = [this](std::string_view line) { log_ += std::string(line) + "\n"; },
                .deploy_retry_for = std::chrono::milliseconds(0)};
    }

    // A renewal at `days_after` the first issuance. The bundle is moved away first, which
    // makes the certificate due at once whatever the CA's validity says.
    void renew_at(int days_after) {
        clock_.advance(start_ + days(days_after) - clock_.now());
        fs::remove(certificate_.placement.file);
        fs::remove(hook_out());
        auto outcome = must(renewer_->run(certificate_));
        ASSERT_EQ(outcome.result, RenewResult::kDelivered) << outcome.error << "\n" << log_;
        ASSERT_FALSE(outcome.hooks_failed) << log_;
    }
    std::string served_pin() {
        auto parts =
            must(crypto::parse_haproxy_bundle(must(read_file(certificate_.placement.file))));
        return parts.leaf.public_key().pin_sha256();
    }
    std::map<std::string, std::string> hook_environment() {
        std::map<std::string, std::string> env;
        std::istringstream lines(must(read_file(hook_out())));
        for (std::string line; std::getline(lines, line);) {
            const auto equals = line.find('=');
            if (equals != std::string::npos) env[line.substr(0, equals)] = line.substr(equals + 1);
        }
        return env;
    }
    fs::path hook_out() const { return dir_.path() / "hook.env"; }
    fs::path key_file() const { return certificate_.key.key_file; }
    fs::path next_file() const { return next_key_file(certificate_.key); }

    test::TempDir dir_;
    test::FakeAcmeServer server_;
    const SystemTime start_ = std::chrono::system_clock::from_time_t(1'800'000'000);
    test::FakeClock clock_{start_};
    acme::Client client_;
    InMemoryStateStore states_;
    std::string log_;
    ConfigPtr config_;
    CertificateConfig certificate_;
    std::unique_ptr<Renewer> renewer_;
};

TEST_F(RenewerRotation, TheNextKeyIsServedOnlyOnceRotateAheadHasPassed) {
    renew_at(0);
    const std::string first = pin_of(key_file());
    const std::string next = pin_of(next_file());
    EXPECT_EQ(served_pin(), first);
    EXPECT_THAT(log_, HasSubstr("next key created in " + next_file().string()));
    EXPECT_EQ(hook_environment()["CERTDOCK_KEY_PIN_SHA256"], first);
    EXPECT_EQ(hook_environment()["CERTDOCK_NEXT_KEY_PIN_SHA256"], next);
    EXPECT_EQ(hook_environment()["CERTDOCK_NEXT_KEY_USABLE_AFTER"], "2027-02-14T08:00:00Z");

    renew_at(20);
    EXPECT_EQ(served_pin(), first);
    EXPECT_EQ(pin_of(next_file()), next);
    EXPECT_THAT(log_, HasSubstr("keeping the current key"));

    renew_at(31);
    EXPECT_EQ(served_pin(), next);
    EXPECT_EQ(pin_of(key_file()), next);
    EXPECT_EQ(pin_of(key_file().string() + ".previous"), first);
    const std::string fresh = pin_of(next_file());
    EXPECT_NE(fresh, next);
    EXPECT_NE(fresh, first);
    EXPECT_THAT(log_, HasSubstr("rotated: the next key"));
    auto env = hook_environment();
    EXPECT_EQ(env["CERTDOCK_KEY_PIN_SHA256"], next);
    EXPECT_EQ(env["CERTDOCK_NEXT_KEY_PIN_SHA256"], fresh);
    EXPECT_EQ(env["CERTDOCK_NEXT_KEY_TLSA"],
              "3 1 1 " + must(crypto::PrivateKey::from_pem(must(read_file(next_file()))))
                             .public_key()
                             .tlsa_311());
    EXPECT_EQ(env["CERTDOCK_NEXT_KEY_USABLE_AFTER"], "2027-03-17T08:00:00Z");
    EXPECT_THAT(must(read_file(hook_out())), Not(HasSubstr("PRIVATE KEY")));
}

}  // namespace
}  // namespace certdock::agent
