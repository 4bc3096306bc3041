#include "dns/update.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "base/file.hpp"
#include "dns/resolver.hpp"
#include "knot_fixture.hpp"

namespace certdock::dns {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

using UpdateTest = KnotTest;

constexpr const char* kName = "_acme-challenge.www.example.test.";

TEST_F(UpdateTest, AddedRecordsCanBeQueried) {
    UpdateClient updates = client();
    ASSERT_TRUE(updates.add_txt("example.test.", kName, "first-value", 60));
    auto values = query_txt(kName, {knot_->address()}, kTimeout);
    ASSERT_TRUE(values) << values.error().describe();
    EXPECT_THAT(*values, UnorderedElementsAre("first-value"));
}

TEST_F(UpdateTest, DeletesOnlyTheGivenValue) {
    UpdateClient updates = client();
    auto first = updates.add_txt("example.test", kName, "wildcard-value", 60);
    ASSERT_TRUE(first) << first.error().describe();
    auto second = updates.add_txt("example.test", kName, "base-value", 60);
    ASSERT_TRUE(second) << second.error().describe();

    auto deleted = updates.delete_txt("example.test", kName, "wildcard-value");
    ASSERT_TRUE(deleted) << deleted.error().describe();
    auto values = query_txt(kName, {knot_->address()}, kTimeout);
    ASSERT_TRUE(values) << values.error().describe();
    EXPECT_THAT(*values, UnorderedElementsAre("base-value"));

    // Deleting what is not there is no error; deleting the last value removes the name.
    EXPECT_TRUE(updates.delete_txt("example.test", kName, "wildcard-value"));
    EXPECT_TRUE(updates.delete_txt("example.test", kName, "base-value"));
    auto gone = query_txt(kName, {knot_->address()}, kTimeout);
    ASSERT_TRUE(gone) << gone.error().describe();
    EXPECT_THAT(*gone, IsEmpty());
}

TEST_F(UpdateTest, LongValuesTravelAsSeveralStringsAndComeBackWhole) {
    std::string value(300, 'v');
    value += "-tail";
    UpdateClient updates = client();
    auto added = updates.add_txt("example.test.", kName, value, 60);
    ASSERT_TRUE(added) << added.error().describe();
    auto values = query_txt(kName, {knot_->address()}, kTimeout);
    ASSERT_TRUE(values) << values.error().describe();
    EXPECT_THAT(*values, UnorderedElementsAre(value));
    EXPECT_TRUE(updates.delete_txt("example.test.", kName, value));
    EXPECT_THAT(*query_txt(kName, {knot_->address()}, kTimeout), IsEmpty());
}

TEST_F(UpdateTest, SignsWithEachSupportedAlgorithm) {
    for (const test::KnotKey& key : knot_->keys()) {
        SCOPED_TRACE(key.algorithm);
        UpdateClient updates = client(to_tsig_key(key));
        auto added = updates.add_txt("example.test.", kName, key.algorithm, 60);
        ASSERT_TRUE(added) << added.error().describe();
    }
    auto values = query_txt(kName, {knot_->address()}, kTimeout);
    ASSERT_TRUE(values) << values.error().describe();
    EXPECT_THAT(*values, UnorderedElementsAre("hmac-sha256", "hmac-sha512", "hmac-sha1"));
}

TEST_F(UpdateTest, DetectsTheZoneWhenNoneIsConfigured) {
    UpdateClient updates = client();
    auto parent = updates.add_txt("", kName, "in-parent", 60);
    ASSERT_TRUE(parent) << parent.error().describe();
    auto child = updates.add_txt("", "_acme-challenge.child.example.test", "in-child", 60);
    ASSERT_TRUE(child) << child.error().describe();

    EXPECT_THAT(*query_txt(kName, {knot_->address()}, kTimeout), UnorderedElementsAre("in-parent"));
    EXPECT_THAT(*query_txt("_acme-challenge.child.example.test", {knot_->address()}, kTimeout),
                UnorderedElementsAre("in-child"));
}

TEST_F(UpdateTest, UsesAKeyReadFromAKeyFile) {
    const test::KnotKey& knot_key = knot_->key();
    std::filesystem::path file = knot_->directory() / "certdock.key";
    WriteOptions private_file;
    private_file.mode = 0600;
    ASSERT_TRUE(write_file_atomic(file,
                                  "key \"" + knot_key.name + "\" {\n    algorithm " +
                                      knot_key.algorithm + ";\n    secret \"" + knot_key.secret +
                                      "\";\n};\n",
                                  private_file));
    auto key = load_tsig_key(file);
    ASSERT_TRUE(key) << key.error().describe();
    auto added = client(*key).add_txt("example.test.", kName, "from-file", 60);
    ASSERT_TRUE(added) << added.error().describe();
}

TEST_F(UpdateTest, AWrongSecretIsRejectedWithAClearError) {
    TsigKey key = to_tsig_key(knot_->key());
    key.secret = "d3Jvbmctc2VjcmV0LXdyb25nLXNlY3JldC13cm9uZyE=";
    auto added = client(key).add_txt("example.test.", kName, "never", 60);
    ASSERT_FALSE(added);
    std::string message = added.error().describe();
    EXPECT_THAT(message, HasSubstr(knot_->address()));
    EXPECT_THAT(message, HasSubstr("NOTAUTH, BADSIG"));
    EXPECT_THAT(message, HasSubstr("TSIG key certdock-test. not accepted for zone example.test."));
    EXPECT_THAT(message, HasSubstr("the secret differs"));
    EXPECT_THAT(message, ::testing::Not(HasSubstr(key.secret)));
    EXPECT_THAT(*query_txt(kName, {knot_->address()}, kTimeout), IsEmpty());
}

TEST_F(UpdateTest, AnUnknownKeyIsRejectedWithAClearError) {
    TsigKey key = to_tsig_key(knot_->key());
    key.name = "nobody-knows-me.";
    auto added = client(key).add_txt("example.test.", kName, "never", 60);
    ASSERT_FALSE(added);
    std::string message = added.error().describe();
    EXPECT_THAT(message, HasSubstr("NOTAUTH, BADKEY"));
    EXPECT_THAT(message,
                HasSubstr("TSIG key nobody-knows-me. not accepted for zone example.test."));
    EXPECT_THAT(message, HasSubstr(knot_->address() + " does not know a key of that name"));
}

TEST_F(UpdateTest, AnUpdateToAZoneNotServedSaysSo) {
    auto added = client().add_txt("not-served.test.", "_acme-challenge.not-served.test.", "x", 60);
    ASSERT_FALSE(added);
    std::string message = added.error().describe();
    EXPECT_THAT(message, HasSubstr("in zone not-served.test. at " + knot_->address()));
    EXPECT_THAT(message, HasSubstr("NOTAUTH"));
    EXPECT_THAT(message, HasSubstr("is not authoritative for zone not-served.test."));

    auto detected = client().add_txt("", "_acme-challenge.not-served.test.", "x", 60);
    ASSERT_FALSE(detected);
    EXPECT_THAT(detected.error().describe(), HasSubstr("serves no zone containing"));
}

TEST_F(UpdateTest, RefusesNamesOutsideTheZoneBeforeSending) {
    auto added = client().add_txt("child.example.test.", kName, "x", 60);
    ASSERT_FALSE(added);
    EXPECT_EQ(added.error().category(), ErrorCategory::kUsage);
    EXPECT_THAT(added.error().describe(), HasSubstr("not inside the zone"));
}

TEST(Update, ATimeoutNamesTheServerAndZone) {
    SilentServer silent;
    auto updates =
        UpdateClient::create({silent.address(), std::nullopt, std::chrono::milliseconds(300)});
    ASSERT_TRUE(updates) << updates.error().describe();
    auto added = updates->add_txt("example.test.", kName, "x", 60);
    ASSERT_FALSE(added);
    EXPECT_EQ(added.error().category(), ErrorCategory::kNetwork);
    EXPECT_THAT(added.error().describe(),
                HasSubstr("in zone example.test. at " + silent.address() + ": " + silent.address() +
                          " did not answer within 300 ms"));
}

}  // namespace
}  // namespace certdock::dns
