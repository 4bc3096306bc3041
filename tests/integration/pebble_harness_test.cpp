// The Pebble harness itself: Pebble and challtestsrv come up on free ports, the directory is
// reachable over TLS with the harness's CA file, the management APIs answer, and a killed
// Pebble can be restarted. These tests fail (never skip) when pebble is not installed.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "acme/curl_transport.hpp"
#include "crypto/certificate.hpp"
#include "support/must.hpp"
#include "support/pebble.hpp"

namespace certdock::test {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;
using namespace std::chrono_literals;

acme::HttpTransportPtr transport_for(const PebbleServer& pebble) {
    acme::CurlTransportOptions options;
    options.ca_file = pebble.ca_file().string();
    return acme::make_curl_transport(options);
}

Result<nlohmann::json> get_directory(acme::HttpTransport& transport, const std::string& url) {
    acme::HttpRequest request;
    request.url = url;
    request.timeout = 5s;
    CERTDOCK_TRY(acme::HttpResponse response, transport.send(request));
    if (response.status != 200) {
        return fail(ErrorCategory::kProtocol,
                    "directory answered HTTP " + std::to_string(response.status));
    }
    return nlohmann::json::parse(response.body, nullptr, /*allow_exceptions=*/false);
}

::testing::AssertionResult succeeded(const Status& status) {
    if (status) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << status.error().describe();
}

TEST(PebbleHarness, ServesTheDirectoryOverTrustedTls) {
    PebbleServerPtr pebble = must(PebbleServer::start());
    auto transport = transport_for(*pebble);

    nlohmann::json directory = must(get_directory(*transport, pebble->directory_url()));

    ASSERT_TRUE(directory.is_object()) << directory.dump();
    std::string base = "https://127.0.0.1:";
    for (const char* resource : {"newNonce", "newAccount", "newOrder", "revokeCert", "keyChange"}) {
        ASSERT_TRUE(directory.contains(resource)) << resource << " in " << directory.dump();
        EXPECT_THAT(directory[resource].get<std::string>(), StartsWith(base)) << resource;
    }
    EXPECT_FALSE(directory["meta"].value("externalAccountRequired", true));
}

TEST(PebbleHarness, WfeCertificateIsNotTrustedWithoutTheCaFile) {
    PebbleServerPtr pebble = must(PebbleServer::start());
    auto transport = acme::make_curl_transport({});

    acme::HttpRequest request;
    request.url = pebble->directory_url();
    auto result = transport->send(request);

    ASSERT_FALSE(result);
    EXPECT_EQ(result.error().category(), ErrorCategory::kNetwork);
    EXPECT_THAT(result.error().describe(), HasSubstr(pebble->directory_url()));
}

TEST(PebbleHarness, ChalltestsrvManagementCallsSucceed) {
    PebbleServerPtr pebble = must(PebbleServer::start());

    EXPECT_TRUE(succeeded(pebble->set_txt("_acme-challenge.test1.example.com", "digest")));
    EXPECT_TRUE(succeeded(pebble->set_txt("_acme-challenge.test1.example.com.", "second")));
    EXPECT_TRUE(succeeded(pebble->clear_txt("_acme-challenge.test1.example.com")));
    EXPECT_TRUE(succeeded(pebble->add_a("test2.example.com", {"127.0.0.2"})));
    EXPECT_TRUE(succeeded(pebble->clear_a("test2.example.com")));
    EXPECT_THAT(pebble->dns_server(), StartsWith("127.0.0.1:"));
}

TEST(PebbleHarness, ExposesTheIssuingRootAndIntermediate) {
    PebbleOptions options;
    options.alternate_roots = 1;
    PebbleServerPtr pebble = must(PebbleServer::start(options));

    crypto::Certificate root = must(crypto::Certificate::from_pem(must(pebble->root_pem(0))));
    crypto::Certificate alternate = must(crypto::Certificate::from_pem(must(pebble->root_pem(1))));
    crypto::Certificate intermediate =
        must(crypto::Certificate::from_pem(must(pebble->intermediate_pem(0))));

    EXPECT_TRUE(root.is_ca());
    EXPECT_TRUE(root.is_self_signed());
    EXPECT_NE(root.sha256_fingerprint(), alternate.sha256_fingerprint());
    EXPECT_EQ(intermediate.issuer(), root.subject());
    EXPECT_FALSE(pebble->root_pem(7));  // no such chain
}

TEST(PebbleHarness, EabRequirementShowsInTheDirectory) {
    PebbleOptions options;
    options.eab_required = true;
    options.eab_mac_keys = {
        {"kid-1", "zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W"}};
    PebbleServerPtr pebble = must(PebbleServer::start(options));
    auto transport = transport_for(*pebble);

    nlohmann::json directory = must(get_directory(*transport, pebble->directory_url()));

    EXPECT_TRUE(directory["meta"].value("externalAccountRequired", false)) << directory.dump();
}

TEST(PebbleHarness, KillAndRestart) {
    PebbleServerPtr pebble = must(PebbleServer::start());
    auto transport = transport_for(*pebble);
    std::string first_root = must(pebble->root_pem());

    pebble->kill();
    EXPECT_FALSE(pebble->running());
    auto refused = get_directory(*transport, pebble->directory_url());
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().category(), ErrorCategory::kNetwork);

    ASSERT_TRUE(succeeded(pebble->restart())) << pebble->pebble_log();
    EXPECT_TRUE(pebble->running());
    EXPECT_TRUE(must(get_directory(*transport, pebble->directory_url())).contains("newOrder"));
    EXPECT_NE(must(pebble->root_pem()), first_root);  // a new CA at every start
}

TEST(PebbleHarness, ServersRunSideBySide) {
    PebbleServerPtr first = must(PebbleServer::start());
    PebbleServerPtr second = must(PebbleServer::start());

    EXPECT_NE(first->directory_url(), second->directory_url());
    EXPECT_NE(first->dns_server(), second->dns_server());
    EXPECT_TRUE(get_directory(*transport_for(*first), first->directory_url()));
    EXPECT_TRUE(get_directory(*transport_for(*second), second->directory_url()));
}

}  // namespace
}  // namespace certdock::test
