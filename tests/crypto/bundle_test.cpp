#include "crypto/bundle.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/pem.h>

#include "crypto/pem.hpp"
#include "support/must.hpp"
#include "support/test_pki.hpp"

namespace certdock::crypto {
namespace {

using test::must;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

const test::TestPki& pki() {
    static const test::TestPki instance = must(test::make_test_pki());
    return instance;
}

BundleParts leaf_parts() {
    return BundleParts{
        pki().leaf.certificate, {pki().intermediate.certificate()}, pki().leaf.key, std::nullopt};
}

// RFC 7919 ffdhe2048 as PKCS#3 "DH PARAMETERS": a named group, so no slow prime search.
std::string dhparam_pem() {
    PKeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "DH", nullptr));
    EVP_PKEY* raw = nullptr;
    if (!ctx || EVP_PKEY_paramgen_init(ctx.get()) != 1 ||
        EVP_PKEY_CTX_set_group_name(ctx.get(), "ffdhe2048") != 1 ||
        EVP_PKEY_paramgen(ctx.get(), &raw) != 1) {
        throw std::runtime_error("cannot make DH parameters");
    }
    PKeyPtr params(raw);
    BioPtr bio(BIO_new(BIO_s_mem()));
    PEM_write_bio_Parameters(bio.get(), params.get());
    char* data = nullptr;
    long size = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<size_t>(size));
}

std::vector<std::string> labels(const std::string& pem) {
    std::vector<std::string> out;
    for (const auto& block : must(split_pem(pem))) out.push_back(block.label);
    return out;
}

void expect_no_blank_line(const std::string& bundle) {
    EXPECT_EQ(bundle.find("\n\n"), std::string::npos);
    EXPECT_EQ(bundle.find('\r'), std::string::npos);
    EXPECT_NE(bundle.front(), '\n');
    EXPECT_TRUE(bundle.ends_with("-----\n"));  // exactly one newline after the last END line
}

TEST(HaproxyBundle, LeafChainKeyInOrderWithoutBlankLines) {
    std::string bundle = must(build_haproxy_bundle(leaf_parts()));
    expect_no_blank_line(bundle);
    EXPECT_THAT(labels(bundle), ElementsAre("CERTIFICATE", "CERTIFICATE", "PRIVATE KEY"));
}

TEST(HaproxyBundle, RoundTrips) {
    std::string bundle = must(build_haproxy_bundle(leaf_parts()));
    auto parts = must(parse_haproxy_bundle(bundle));
    EXPECT_EQ(parts.leaf.der(), pki().leaf.certificate.der());
    ASSERT_EQ(parts.chain.size(), 1u);
    EXPECT_EQ(parts.chain[0].der(), pki().intermediate.certificate().der());
    ASSERT_TRUE(parts.key);
    EXPECT_TRUE(parts.key->public_key().same_key(pki().leaf.key.public_key()));
    EXPECT_EQ(parts.dhparam_pem, std::nullopt);
    EXPECT_EQ(must(build_haproxy_bundle(parts)), bundle);
}

TEST(HaproxyBundle, DhParamsWithCrlfAndBlankLinesAreNormalised) {
    std::string dh = dhparam_pem();
    std::string messy;
    for (char c : dh) {
        if (c == '\n')
            messy += "\r\n";
        else
            messy += c;
    }
    messy.insert(messy.find("\r\n") + 2, "\r\n\r\n");  // blank lines inside the block
    BundleParts parts = leaf_parts();
    parts.dhparam_pem = "\n" + messy + "\n\n";

    std::string bundle = must(build_haproxy_bundle(parts));
    expect_no_blank_line(bundle);
    EXPECT_THAT(labels(bundle),
                ElementsAre("CERTIFICATE", "CERTIFICATE", "PRIVATE KEY", "DH PARAMETERS"));
    auto parsed = must(parse_haproxy_bundle(bundle));
    ASSERT_TRUE(parsed.dhparam_pem);
    EXPECT_EQ(*parsed.dhparam_pem, dh);
}

TEST(HaproxyBundle, WithoutKeyHasOnlyCertificates) {
    BundleParts parts = leaf_parts();
    parts.key.reset();
    std::string bundle = must(build_haproxy_bundle(parts));
    EXPECT_THAT(labels(bundle), ElementsAre("CERTIFICATE", "CERTIFICATE"));
    EXPECT_EQ(must(parse_haproxy_bundle(bundle)).key, std::nullopt);
}

TEST(HaproxyBundle, RefusesAMismatchedKey) {
    BundleParts parts = leaf_parts();
    parts.key = must(PrivateKey::generate(KeySpec::ecdsa(Curve::kP256)));
    auto bundle = build_haproxy_bundle(parts);
    ASSERT_FALSE(bundle);
    EXPECT_EQ(bundle.error().category(), ErrorCategory::kInput);
    EXPECT_THAT(bundle.error().describe(), HasSubstr("CN=example.com"));
    EXPECT_THAT(bundle.error().describe(), HasSubstr("does not match the certificate's key"));
}

TEST(HaproxyBundle, RefusesAChainOutOfOrder) {
    BundleParts parts = leaf_parts();
    parts.chain = {pki().root.certificate(), pki().intermediate.certificate()};
    auto bundle = build_haproxy_bundle(parts);
    ASSERT_FALSE(bundle);
    EXPECT_THAT(bundle.error().describe(),
                HasSubstr("certificate 1 of 3 (subject CN=example.com, issuer CN=certdock Test "
                          "Intermediate) is not issued by certificate 2 of 3 (subject "
                          "CN=certdock Test Root"));
}

TEST(HaproxyBundle, RefusesSomethingElseAsDhParams) {
    BundleParts parts = leaf_parts();
    parts.dhparam_pem = pki().root.certificate().to_pem();
    auto bundle = build_haproxy_bundle(parts);
    ASSERT_FALSE(bundle);
    EXPECT_THAT(bundle.error().describe(),
                HasSubstr("\"DH PARAMETERS\" block, found a certificate"));
}

TEST(ParseHaproxyBundle, NeedsACertificate) {
    auto only_key = parse_haproxy_bundle(must(pki().leaf.key.to_pem()));
    ASSERT_FALSE(only_key);
    EXPECT_THAT(only_key.error().describe(), HasSubstr("no certificate, only a private key"));
    auto empty = parse_haproxy_bundle("");
    ASSERT_FALSE(empty);
    EXPECT_THAT(empty.error().describe(), HasSubstr("no PEM data"));
}

TEST(ParseHaproxyBundle, TruncatedBundleIsAnError) {
    std::string bundle = must(build_haproxy_bundle(leaf_parts()));
    bundle.resize(bundle.size() - 30);  // the key loses its END line
    auto parts = parse_haproxy_bundle(bundle);
    ASSERT_FALSE(parts);
    EXPECT_THAT(parts.error().describe(), HasSubstr("'PRIVATE KEY'"));
    EXPECT_THAT(parts.error().describe(), HasSubstr("truncated"));
}

TEST(ParseHaproxyBundle, EncryptedKeyNeedsItsPassphrase) {
    std::string bundle =
        pki().leaf.certificate.to_pem() + must(pki().leaf.key.to_pem(PemFormat::kPkcs8, "s3cret"));
    EXPECT_FALSE(parse_haproxy_bundle(bundle));
    auto parts = must(parse_haproxy_bundle(bundle, "s3cret"));
    ASSERT_TRUE(parts.key);
    EXPECT_TRUE(parts.key->public_key().same_key(pki().leaf.key.public_key()));
}

}  // namespace
}  // namespace certdock::crypto
