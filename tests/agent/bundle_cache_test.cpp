#include "agent/bundle_cache.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include "base/file.hpp"
#include "support/fake_clock.hpp"
#include "support/must.hpp"
#include "support/temp_dir.hpp"
#include "support/test_pki.hpp"

namespace certdock::agent {
namespace {

using test::must;

std::optional<crypto::BundleParts> parse(std::string_view text, crypto::CertificateMemo& memo) {
    auto parts = crypto::parse_haproxy_bundle(text, std::nullopt, &memo);
    if (!parts) return std::nullopt;
    return std::move(*parts);
}

// Bundles of distinct certificates from one CA, and a clock late enough that every file
// written by the test has settled.
struct Bundles {
    test::TempDir dir;
    test::FakeClock clock{std::chrono::system_clock::now() + std::chrono::hours(1)};
    BundleCache cache{clock};
    test::TestCa ca = must(test::TestCa::create_root("bundle cache test CA"));

    // The bundle text of a new certificate, and its serial.
    std::pair<std::string, std::string> issue(const std::string& name) {
        test::Issued leaf = must(ca.issue({.dns_names = {name}}));
        std::string text = must(crypto::build_haproxy_bundle({leaf.certificate, {}, leaf.key, {}}));
        return {text, leaf.certificate.serial_hex()};
    }
    std::optional<std::string> serial_read(const std::filesystem::path& file) {
        auto bundle = cache.read(file, parse);
        if (!bundle) return std::nullopt;
        return bundle->leaf.serial_hex();
    }
};

// Writes in place: the same inode, as an editor or `cat >` would.
void overwrite(const std::filesystem::path& file, const std::string& text) {
    std::FILE* out = std::fopen(file.c_str(), "r+");
    ASSERT_NE(out, nullptr);
    ASSERT_EQ(std::fwrite(text.data(), 1, text.size(), out), text.size());
    std::fclose(out);
}

TEST(BundleCache, ParsesAnUnchangedFileOnce) {
    Bundles bundles;
    const auto file = bundles.dir.path() / "site.pem";
    const auto [text, serial] = bundles.issue("site.test");
    must(write_file_atomic(file, text));
    EXPECT_EQ(bundles.serial_read(file), serial);
    EXPECT_EQ(bundles.serial_read(file), serial);
    EXPECT_EQ(bundles.cache.parses(), 1U);
    EXPECT_EQ(bundles.cache.size(), 1U);
}

TEST(BundleCache, ReadsAFileReplacedByTheDeployerAgain) {
    Bundles bundles;
    const auto file = bundles.dir.path() / "site.pem";
    const auto [old_text, old_serial] = bundles.issue("site.test");
    const auto [new_text, new_serial] = bundles.issue("site.test");
    must(write_file_atomic(file, old_text));
    EXPECT_EQ(bundles.serial_read(file), old_serial);
    must(write_file_atomic(file, new_text));
    EXPECT_EQ(bundles.serial_read(file), new_serial);
}

TEST(BundleCache, ReadsAFileReplacedWithTheSameBytesAgain) {
    Bundles bundles;
    const auto file = bundles.dir.path() / "site.pem";
    const auto [text, serial] = bundles.issue("site.test");
    must(write_file_atomic(file, text));
    EXPECT_EQ(bundles.serial_read(file), serial);
    // Same size, same content, a new inode: the cache cannot know it is the same.
    must(write_file_atomic(file, text));
    EXPECT_EQ(bundles.serial_read(file), serial);
    EXPECT_EQ(bundles.cache.parses(), 2U);
}

TEST(BundleCache, NoticesARewriteInPlaceOfTheSameSizeWithItsTimeSetBack) {
    Bundles bundles;
    const auto file = bundles.dir.path() / "site.pem";
    const auto [text, serial] = bundles.issue("site.test");
    must(write_file_atomic(file, text));
    struct stat before {};
    ASSERT_EQ(::stat(file.c_str(), &before), 0);
    EXPECT_EQ(bundles.serial_read(file), serial);

    // Same inode, same size, the old mtime put back (as `cp -p` or `rsync -t` do): only the
    // ctime tells, and the content is now no bundle at all.
    overwrite(file, std::string(text.size(), '#'));
    const timespec times[2] = {before.st_atim, before.st_mtim};
    ASSERT_EQ(::utimensat(AT_FDCWD, file.c_str(), times, 0), 0);
    struct stat after {};
    ASSERT_EQ(::stat(file.c_str(), &after), 0);
    ASSERT_EQ(after.st_ino, before.st_ino);
    ASSERT_EQ(after.st_size, before.st_size);
    EXPECT_EQ(bundles.serial_read(file), std::nullopt);
}

TEST(BundleCache, NoticesADeletedFile) {
    Bundles bundles;
    const auto file = bundles.dir.path() / "site.pem";
    const auto [text, serial] = bundles.issue("site.test");
    must(write_file_atomic(file, text));
    EXPECT_EQ(bundles.serial_read(file), serial);
    std::filesystem::remove(file);
    EXPECT_EQ(bundles.serial_read(file), std::nullopt);
    EXPECT_EQ(bundles.cache.size(), 0U);
}

TEST(BundleCache, NeverHidesAnotherFile) {
    Bundles bundles;
    const auto first = bundles.dir.path() / "first.pem";
    const auto second = bundles.dir.path() / "second.pem";
    const auto [first_text, first_serial] = bundles.issue("first.test");
    must(write_file_atomic(first, first_text));
    EXPECT_EQ(bundles.serial_read(first), first_serial);
    EXPECT_EQ(bundles.serial_read(second), std::nullopt);
    // A certificate delivered for the first time after the scans began.
    const auto [second_text, second_serial] = bundles.issue("second.test");
    must(write_file_atomic(second, second_text));
    EXPECT_EQ(bundles.serial_read(second), second_serial);
    EXPECT_EQ(bundles.serial_read(first), first_serial);
}

TEST(BundleCache, RemembersAnUnusableFileUntilItChanges) {
    Bundles bundles;
    const auto file = bundles.dir.path() / "site.pem";
    must(write_file_atomic(file, "no certificate here\n"));
    EXPECT_EQ(bundles.serial_read(file), std::nullopt);
    EXPECT_EQ(bundles.serial_read(file), std::nullopt);
    EXPECT_EQ(bundles.cache.parses(), 1U);
    const auto [text, serial] = bundles.issue("site.test");
    must(write_file_atomic(file, text));
    EXPECT_EQ(bundles.serial_read(file), serial);
}

TEST(BundleCache, ParsesAFileChangedWithinTheSettleTimeEveryTime) {
    Bundles bundles;
    test::FakeClock now{std::chrono::system_clock::now()};
    BundleCache cache{now};
    const auto file = bundles.dir.path() / "site.pem";
    const auto [text, serial] = bundles.issue("site.test");
    must(write_file_atomic(file, text));
    EXPECT_TRUE(cache.read(file, parse).has_value());
    EXPECT_TRUE(cache.read(file, parse).has_value());
    EXPECT_EQ(cache.parses(), 2U);
    EXPECT_EQ(cache.size(), 0U);
    now.advance(BundleCache::kSettleTime + std::chrono::seconds(1));
    EXPECT_TRUE(cache.read(file, parse).has_value());
    EXPECT_TRUE(cache.read(file, parse).has_value());
    EXPECT_EQ(cache.parses(), 3U);
}

TEST(BundleCache, KeepsOneCopyOfAnIntermediateSharedByBundles) {
    Bundles bundles;
    test::TestCa intermediate = must(bundles.ca.create_intermediate("bundle cache test sub CA"));
    std::vector<std::filesystem::path> files;
    for (const char* name : {"a", "b"}) {
        test::Issued leaf = must(intermediate.issue({.dns_names = {std::string(name) + ".test"}}));
        files.push_back(bundles.dir.path() / (std::string(name) + ".pem"));
        must(write_file_atomic(
            files.back(), must(crypto::build_haproxy_bundle(
                              {leaf.certificate, {intermediate.certificate()}, leaf.key, {}}))));
    }
    auto a = bundles.cache.read(files[0], parse);
    auto b = bundles.cache.read(files[1], parse);
    ASSERT_TRUE(a && b);
    ASSERT_EQ(a->chain.size(), 1U);
    ASSERT_EQ(b->chain.size(), 1U);
    EXPECT_EQ(a->chain.front().der(), intermediate.certificate().der());
    EXPECT_EQ(a->chain.front().get(), b->chain.front().get());
    EXPECT_NE(a->leaf.serial_hex(), b->leaf.serial_hex());
}

TEST(BundleCache, StartsOverAtItsLimitAndStaysCorrect) {
    Bundles bundles;
    BundleCache cache{bundles.clock, 2};
    std::vector<std::pair<std::filesystem::path, std::string>> files;
    for (const char* name : {"a", "b", "c"}) {
        const auto [text, serial] = bundles.issue(std::string(name) + ".test");
        files.emplace_back(bundles.dir.path() / (std::string(name) + ".pem"), serial);
        must(write_file_atomic(files.back().first, text));
    }
    for (int round = 0; round < 2; ++round) {
        for (const auto& [file, serial] : files) {
            auto bundle = cache.read(file, parse);
            ASSERT_TRUE(bundle.has_value());
            EXPECT_EQ(bundle->leaf.serial_hex(), serial);
            EXPECT_LE(cache.size(), 2U);
        }
    }
}

}  // namespace
}  // namespace certdock::agent
