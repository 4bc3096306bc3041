// reuse-key = "rotate" as an operator sees it on disk: a next key waits beside the current
// one, its pins are the ones `certdock key pin` prints, it is used only once rotate-ahead has
// passed, and whatever point a renewal is killed at, the served key is still there.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>

#include "agent/key_rotation.hpp"
#include "base/file.hpp"
#include "crypto/key.hpp"
#include "support/command.hpp"
#include "support/must.hpp"
#include "support/temp_dir.hpp"

namespace certdock::agent {
namespace {

namespace fs = std::filesystem;
using std::chrono::days;
using test::must;
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

const SystemTime kStart = std::chrono::system_clock::from_time_t(1'800'000'000);
constexpr std::chrono::seconds kAhead = days(30);

crypto::PrivateKey read_key(const fs::path& file) {
    return must(crypto::PrivateKey::from_pem(must(read_file(file))));
}

std::string pin_of(const fs::path& file) {
    return read_key(file).public_key().pin_sha256();
}

fs::perms mode_of(const fs::path& file) {
    return fs::status(file).permissions() & fs::perms::all;
}
constexpr fs::perms kOwnerOnly = fs::perms::owner_read | fs::perms::owner_write;

class KeyRotation : public ::testing::Test {
protected:
    KeyPolicy policy(
        std::optional<crypto::KeySpec> spec = crypto::KeySpec::ecdsa(crypto::Curve::kP256)) const {
        return KeyPolicy{.spec = spec,
                         .reuse = ReuseKey::kRotate,
                         .rotate_ahead = kAhead,
                         .key_file = dir_.path() / "keys" / "site.key"};
    }
    fs::path key_file() const { return dir_.path() / "keys" / "site.key"; }
    fs::path next_file() const { return dir_.path() / "keys" / "site.key.next"; }
    fs::path previous_file() const { return dir_.path() / "keys" / "site.key.previous"; }

    test::TempDir dir_;
};

TEST_F(KeyRotation, FirstRenewalMakesTheCurrentAndANextKeyBesideIt) {
    RotationPlan plan = must(plan_rotation(policy(), kStart));

    EXPECT_FALSE(plan.uses_next);
    ASSERT_TRUE(fs::exists(key_file()));
    ASSERT_TRUE(fs::exists(next_file()));
    EXPECT_EQ(next_key_file(policy()), next_file());
    EXPECT_EQ(plan.key.public_key().pin_sha256(), pin_of(key_file()));
    EXPECT_NE(pin_of(key_file()), pin_of(next_file()));
    EXPECT_EQ(read_key(next_file()).describe(), "ECDSA P-256");
    EXPECT_EQ(mode_of(key_file()), kOwnerOnly);
    EXPECT_EQ(mode_of(next_file()), kOwnerOnly);
    ASSERT_EQ(plan.events.size(), 2u);
    EXPECT_THAT(plan.events[0], HasSubstr("key created in " + key_file().string()));
    EXPECT_THAT(plan.events[1], HasSubstr("next key created in " + next_file().string()));
    // The log line carries what to publish, and from when it is used.
    EXPECT_THAT(plan.events[1], HasSubstr(pin_of(next_file())));
    EXPECT_THAT(plan.events[1], HasSubstr("used from 2027-02-14T08:00:00Z"));
}

TEST_F(KeyRotation, WithoutAConfiguredTypeTheNextKeyTakesTheCurrentKeysType) {
    fs::create_directories(key_file().parent_path());
    auto rsa = must(crypto::PrivateKey::generate(crypto::KeySpec::rsa(2048)));
    ASSERT_TRUE(write_file_atomic(key_file(), must(rsa.to_pem()), {.mode = 0600}));

    RotationPlan plan = must(plan_rotation(policy(std::nullopt), kStart));

    EXPECT_EQ(plan.key.public_key().pin_sha256(), rsa.public_key().pin_sha256());
    EXPECT_EQ(read_key(next_file()).describe(), "RSA 2048");
}

TEST_F(KeyRotation, ARenewalBeforeRotateAheadKeepsTheCurrentKeyAndSaysWhy) {
    must(plan_rotation(policy(), kStart));
    const std::string current = pin_of(key_file());
    const std::string next = pin_of(next_file());

    RotationPlan plan = must(plan_rotation(policy(), kStart + days(29)));

    EXPECT_FALSE(plan.uses_next);
    EXPECT_EQ(plan.key.public_key().pin_sha256(), current);
    EXPECT_THAT(plan.events, IsEmpty());
    EXPECT_THAT(plan.reason, HasSubstr("keeping the current key"));
    EXPECT_THAT(plan.reason, HasSubstr("used from 2027-02-14T08:00:00Z (rotate-ahead 30d)"));
    EXPECT_THAT(plan.reason, HasSubstr("may not be published long enough"));
    EXPECT_EQ(pin_of(next_file()), next);
    EXPECT_FALSE(fs::exists(previous_file()));
}

TEST_F(KeyRotation, AfterRotateAheadTheNextKeyIsUsedThenPromotedAndReplaced) {
    must(plan_rotation(policy(), kStart));
    const std::string old_current = pin_of(key_file());
    const std::string old_next = pin_of(next_file());

    const SystemTime renewal = kStart + days(30);
    RotationPlan plan = must(plan_rotation(policy(), renewal));
    EXPECT_TRUE(plan.uses_next);
    EXPECT_THAT(plan.reason, HasSubstr("using the next key " + next_file().string()));
    EXPECT_EQ(plan.key.public_key().pin_sha256(), old_next);
    // Nothing moves before the certificate is delivered.
    EXPECT_EQ(pin_of(key_file()), old_current);

    auto events = must(complete_rotation(policy(), plan.key.public_key(), renewal));

    EXPECT_EQ(pin_of(key_file()), old_next);
    EXPECT_EQ(pin_of(previous_file()), old_current);
    const std::string fresh = pin_of(next_file());
    EXPECT_NE(fresh, old_next);
    EXPECT_NE(fresh, old_current);
    for (const auto& file : {key_file(), next_file(), previous_file()}) {
        EXPECT_EQ(mode_of(file), kOwnerOnly) << file;
    }
    ASSERT_EQ(events.size(), 2u);
    EXPECT_THAT(events[0], HasSubstr("rotated"));
    EXPECT_THAT(events[0], HasSubstr(old_next));
    EXPECT_THAT(events[1], HasSubstr("next key created"));
    EXPECT_THAT(events[1], HasSubstr(fresh));

    // The fresh next key waits its own rotate-ahead; the promoted key keeps its age.
    RotationPins pins = must(rotation_pins(policy()));
    ASSERT_TRUE(pins.current && pins.next);
    EXPECT_EQ(pins.current->created, kStart);
    EXPECT_EQ(pins.next->created, renewal);
    EXPECT_EQ(pins.next_usable_after, renewal + kAhead);
    RotationPlan later = must(plan_rotation(policy(), renewal + days(29)));
    EXPECT_FALSE(later.uses_next);
    EXPECT_EQ(later.key.public_key().pin_sha256(), old_next);
}

TEST_F(KeyRotation, CompletionAfterARenewalWithTheCurrentKeyChangesNothing) {
    RotationPlan plan = must(plan_rotation(policy(), kStart));
    const std::string current = pin_of(key_file());
    const std::string next = pin_of(next_file());

    auto events = must(complete_rotation(policy(), plan.key.public_key(), kStart + days(1)));

    EXPECT_THAT(events, IsEmpty());
    EXPECT_EQ(pin_of(key_file()), current);
    EXPECT_EQ(pin_of(next_file()), next);
    EXPECT_FALSE(fs::exists(previous_file()));
}

TEST_F(KeyRotation, CompletionRefusesAKeyThatIsNeitherAndTouchesNothing) {
    must(plan_rotation(policy(), kStart));
    const std::string current = pin_of(key_file());
    const std::string next = pin_of(next_file());
    auto stranger =
        must(crypto::PrivateKey::generate(crypto::KeySpec::ecdsa(crypto::Curve::kP256)));

    auto done = complete_rotation(policy(), stranger.public_key(), kStart + days(40));

    ASSERT_FALSE(done);
    EXPECT_EQ(done.error().category(), ErrorCategory::kInput);
    EXPECT_THAT(done.error().describe(), HasSubstr("neither the key in " + key_file().string()));
    EXPECT_EQ(pin_of(key_file()), current);
    EXPECT_EQ(pin_of(next_file()), next);
}

TEST_F(KeyRotation, PinsAreTheOnesCertdockKeyPinPrints) {
    must(plan_rotation(policy(), kStart));
    RotationPins pins = must(rotation_pins(policy()));
    ASSERT_TRUE(pins.current && pins.next);

    for (const auto& [file, key] :
         {std::pair{key_file(), *pins.current}, std::pair{next_file(), *pins.next}}) {
        auto pin = test::run_command({test::certdock_binary(), "key", "pin", file.string()});
        ASSERT_EQ(pin.exit_code, 0) << pin.err;
        EXPECT_EQ(pin.out, key.pin_sha256 + "\n");
        auto tlsa =
            test::run_command({test::certdock_binary(), "key", "pin", "--tlsa", file.string()});
        ASSERT_EQ(tlsa.exit_code, 0) << tlsa.err;
        EXPECT_EQ(tlsa.out, "3 1 1 " + key.tlsa_311 + "\n");
        EXPECT_EQ(key.file, file);
        EXPECT_EQ(key.type, "ECDSA P-256");
    }
    EXPECT_EQ(pins.next->created, kStart);
    EXPECT_EQ(pins.next_usable_after, kStart + kAhead);
}

TEST_F(KeyRotation, HooksLearnThePinsAndWhenTheNextKeyIsUsedButNoKeyMaterial) {
    must(plan_rotation(policy(), kStart));
    RotationPins pins = must(rotation_pins(policy()));

    auto env = rotation_hook_environment(pins);

    EXPECT_THAT(env, Contains("CERTDOCK_KEY_PIN_SHA256=" + pin_of(key_file())));
    EXPECT_THAT(env, Contains("CERTDOCK_KEY_TLSA=3 1 1 " + pins.current->tlsa_311));
    EXPECT_THAT(env, Contains("CERTDOCK_NEXT_KEY_PIN_SHA256=" + pin_of(next_file())));
    EXPECT_THAT(env, Contains("CERTDOCK_NEXT_KEY_TLSA=3 1 1 " + pins.next->tlsa_311));
    EXPECT_THAT(env, Contains("CERTDOCK_NEXT_KEY_USABLE_AFTER=2027-02-14T08:00:00Z"));
    for (const auto& variable : env) EXPECT_THAT(variable, Not(HasSubstr("PRIVATE KEY")));
    EXPECT_THAT(rotation_hook_environment(RotationPins{}), IsEmpty());
}

TEST_F(KeyRotation, PinsOfAFreshDirectoryAreUnsetAndNothingIsMade) {
    RotationPins pins = must(rotation_pins(policy()));
    EXPECT_FALSE(pins.current);
    EXPECT_FALSE(pins.next);
    EXPECT_FALSE(fs::exists(key_file()));
}

// The files as a kill -9 leaves them after each promotion step, with the certificate for the
// next key N already delivered (the old current key is C).
class KeyRotationCrash : public KeyRotation {
protected:
    void SetUp() override {
        must(plan_rotation(policy(), kStart));
        old_current_ = pin_of(key_file());
        served_ = pin_of(next_file());
        served_key_ = read_key(next_file());
    }
    bool served_key_kept() const {
        return (fs::exists(key_file()) && pin_of(key_file()) == served_) ||
               (fs::exists(next_file()) && pin_of(next_file()) == served_);
    }

    const SystemTime renewal_ = kStart + days(31);
    std::string old_current_;
    std::string served_;
    std::optional<crypto::PrivateKey> served_key_;
};

TEST_F(KeyRotationCrash, KilledAfterCopyingThePreviousKeyTheNextRenewalFinishes) {
    fs::copy_file(key_file(), previous_file());  // step 1 done, step 2 not
    ASSERT_TRUE(served_key_kept());

    // The next renewal uses the served key again (it is old enough) and promotes it.
    RotationPlan plan = must(plan_rotation(policy(), renewal_ + days(60)));
    EXPECT_TRUE(plan.uses_next);
    EXPECT_EQ(plan.key.public_key().pin_sha256(), served_);
    must(complete_rotation(policy(), plan.key.public_key(), renewal_ + days(60)));
    EXPECT_EQ(pin_of(key_file()), served_);
    EXPECT_EQ(pin_of(previous_file()), old_current_);
}

TEST_F(KeyRotationCrash, KilledAfterTheRenameTheMissingNextKeyIsMade) {
    fs::copy_file(key_file(), previous_file());
    fs::rename(next_file(), key_file());  // step 2 done, step 3 not
    ASSERT_TRUE(served_key_kept());

    RotationPlan plan = must(plan_rotation(policy(), renewal_ + days(1)));

    EXPECT_FALSE(plan.uses_next);  // the new next key is a day old
    EXPECT_EQ(plan.key.public_key().pin_sha256(), served_);
    EXPECT_THAT(plan.events, Contains(HasSubstr("next key created")));
    EXPECT_TRUE(fs::exists(next_file()));
    EXPECT_NE(pin_of(next_file()), served_);
}

TEST_F(KeyRotationCrash, KilledAfterTheRenameCompletingAgainOnlyMakesTheNextKey) {
    fs::copy_file(key_file(), previous_file());
    fs::rename(next_file(), key_file());

    auto events = must(complete_rotation(policy(), served_key_->public_key(), renewal_));

    EXPECT_EQ(pin_of(key_file()), served_);
    EXPECT_EQ(pin_of(previous_file()), old_current_);
    ASSERT_EQ(events.size(), 1u);
    EXPECT_THAT(events[0], HasSubstr("next key created"));
}

TEST_F(KeyRotationCrash, KilledWhileWritingTheNextKeyLeavesOnlyATemporaryFile) {
    fs::copy_file(key_file(), previous_file());
    fs::rename(next_file(), key_file());
    // write_file_atomic's temporary file, never renamed into place.
    ASSERT_TRUE(write_file_atomic(dir_.path() / "keys" / ".site.key.next.tmp-1", "-----BEGIN",
                                  {.mode = 0600}));

    RotationPlan plan = must(plan_rotation(policy(), renewal_));

    EXPECT_EQ(plan.key.public_key().pin_sha256(), served_);
    EXPECT_TRUE(fs::exists(next_file()));
}

TEST_F(KeyRotationCrash, KilledBetweenMakingTheCurrentAndTheNextKeyAtFirstIssuance) {
    fs::remove(next_file());

    RotationPlan plan = must(plan_rotation(policy(), kStart));

    EXPECT_EQ(plan.key.public_key().pin_sha256(), old_current_);
    EXPECT_TRUE(fs::exists(next_file()));
}

TEST_F(KeyRotation, ANextKeyOfAnotherTypeIsReplacedAndSaidSo) {
    // Made under keytype P-384; then the key was moved away and the policy says P-256.
    must(plan_rotation(policy(crypto::KeySpec::ecdsa(crypto::Curve::kP384)), kStart));
    const std::string stale = pin_of(next_file());
    fs::remove(key_file());

    RotationPlan plan = must(plan_rotation(policy(), kStart + days(40)));

    EXPECT_FALSE(plan.uses_next);  // the replacement is new: its pins are not published yet
    EXPECT_EQ(read_key(key_file()).describe(), "ECDSA P-256");
    EXPECT_EQ(read_key(next_file()).describe(), "ECDSA P-256");
    EXPECT_NE(pin_of(next_file()), stale);
    EXPECT_EQ(mode_of(next_file()), kOwnerOnly);
    EXPECT_THAT(plan.events,
                Contains(HasSubstr("next key in " + next_file().string() +
                                   " was ECDSA P-384 but the policy asks for ECDSA P-256; "
                                   "replaced by a new ECDSA P-256 key")));
    EXPECT_EQ(must(rotation_pins(policy())).next->created, kStart + days(40));
}

TEST_F(KeyRotation, AnUnreadableNextKeyIsReplacedAndSaidSo) {
    must(plan_rotation(policy(), kStart));
    ASSERT_TRUE(write_file_atomic(next_file(), "not a key\n", {.mode = 0600}));

    RotationPlan plan = must(plan_rotation(policy(), kStart + days(40)));

    EXPECT_FALSE(plan.uses_next);
    EXPECT_THAT(plan.events, Contains(HasSubstr("was unusable")));
    EXPECT_EQ(read_key(next_file()).describe(), "ECDSA P-256");
}

TEST_F(KeyRotation, AnUnreadableCurrentKeyStopsTheRenewal) {
    fs::create_directories(key_file().parent_path());
    ASSERT_TRUE(write_file_atomic(key_file(), "not a key\n", {.mode = 0600}));

    auto plan = plan_rotation(policy(), kStart);

    ASSERT_FALSE(plan);
    EXPECT_THAT(plan.error().describe(), HasSubstr(key_file().string()));
    EXPECT_FALSE(fs::exists(next_file()));
}

}  // namespace
}  // namespace certdock::agent
