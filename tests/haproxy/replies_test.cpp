#include "haproxy/replies.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace certdock::haproxy {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(SanitizePayload, DropsBlankLinesAndCarriageReturns) {
    auto clean = sanitize_payload("-----BEGIN A-----\r\nabc\r\n\r\n  \n\t\n-----END A-----");
    ASSERT_TRUE(clean) << clean.error().describe();
    EXPECT_EQ(*clean, "-----BEGIN A-----\nabc\n-----END A-----\n");
}

TEST(SanitizePayload, KeepsAPayloadThatIsAlreadyClean) {
    auto clean = sanitize_payload("key value\n");
    ASSERT_TRUE(clean);
    EXPECT_EQ(*clean, "key value\n");
}

TEST(SanitizePayload, RefusesWhatIsEmptyAfterStripping) {
    for (const char* payload : {"", "\n", "\r\n\r\n", " \t\n\n"}) {
        auto clean = sanitize_payload(payload);
        ASSERT_FALSE(clean) << "payload: " << payload;
        EXPECT_EQ(clean.error().category(), ErrorCategory::kUsage);
        EXPECT_THAT(clean.error().message(), HasSubstr("empty"));
    }
}

TEST(ParseCertList, ReadsNamesAndTheOpenTransaction) {
    auto list = parse_cert_list(
        "# transaction\n*/etc/haproxy/site.pem\n# filename\n/etc/haproxy/other.pem\n"
        "/etc/haproxy/site.pem\n\n");
    ASSERT_TRUE(list) << list.error().describe();
    EXPECT_EQ(list->transaction, "/etc/haproxy/site.pem");
    EXPECT_THAT(list->names, ElementsAre("/etc/haproxy/other.pem", "/etc/haproxy/site.pem"));
}

TEST(ParseCertList, NoTransaction) {
    auto list = parse_cert_list("# filename\n/a.pem\n\n");
    ASSERT_TRUE(list);
    EXPECT_FALSE(list->transaction);
    EXPECT_THAT(list->names, ElementsAre("/a.pem"));
}

TEST(ParseCertList, AnErrorMessageIsNotAList) {
    auto list = parse_cert_list("Can't allocate memory!\n\n");
    ASSERT_FALSE(list);
    EXPECT_THAT(list.error().message(), HasSubstr("Can't allocate memory!"));
}

TEST(ParseCertInfo, ReadsHaproxy26Fields) {
    auto info = parse_cert_info(
        "Filename: */tmp/hx/site.pem\nStatus: Unused\n"
        "Serial: 3514CD7935C2EAAE154C35AF80C294DD1B69DAB6\n"
        "notBefore: Nov 24 22:05:55 2026 GMT\nnotAfter: Dec  4 22:05:55 2026 GMT\n"
        "Subject Alternative Name: DNS:a.test, DNS:b.test, \nAlgorithm: EC256\n"
        "SHA1 FingerPrint: 6A0BCF215C60695DB5F016B980AAE9C0A49327A3\nSubject: /CN=a.test\n"
        "Issuer: /CN=Test CA\nChain Subject: /CN=Test CA\nChain Issuer: /CN=Root\n"
        "OCSP Response Key: \n\n");
    ASSERT_TRUE(info) << info.error().describe();
    EXPECT_EQ(info->filename, "*/tmp/hx/site.pem");
    EXPECT_EQ(info->status, "Unused");
    EXPECT_EQ(info->serial, "3514CD7935C2EAAE154C35AF80C294DD1B69DAB6");
    EXPECT_EQ(info->subject, "/CN=a.test");
    EXPECT_EQ(info->issuer, "/CN=Test CA");
    EXPECT_EQ(info->algorithm, "EC256");
    EXPECT_EQ(info->sha1_fingerprint, "6A0BCF215C60695DB5F016B980AAE9C0A49327A3");
    EXPECT_THAT(info->dns_names, ElementsAre("a.test", "b.test"));
    ASSERT_TRUE(info->not_after_time);
    EXPECT_EQ(*info->not_after_time,
              std::chrono::sys_days(std::chrono::year(2026) / std::chrono::December / 4) +
                  std::chrono::hours(22) + std::chrono::minutes(5) + std::chrono::seconds(55));
    ASSERT_EQ(info->fields.size(), 13u);
    EXPECT_EQ(info->fields.back(), std::make_pair(std::string("OCSP Response Key"), std::string()));
}

TEST(ParseCertInfo, QuotesAnUnexpectedReply) {
    auto info = parse_cert_info(
        "Can't display the certificate: Not found or the certificate is a bundle!\n\n");
    ASSERT_FALSE(info);
    EXPECT_THAT(info.error().message(), HasSubstr("Not found or the certificate is a bundle!"));
}

TEST(ParseOpensslTime, RejectsGarbage) {
    EXPECT_FALSE(parse_openssl_time(""));
    EXPECT_FALSE(parse_openssl_time("Foo 24 22:05:55 2026 GMT"));
    EXPECT_FALSE(parse_openssl_time("Feb 30 22:05:55 2026 GMT"));
    EXPECT_TRUE(parse_openssl_time("Feb 28 22:05:55 2026 GMT"));
}

TEST(SameSerial, IgnoresCaseAndLeadingZeros) {
    EXPECT_TRUE(same_serial("00AB12", "ab12"));
    EXPECT_TRUE(same_serial("AB:12", "ab12"));
    EXPECT_FALSE(same_serial("AB12", "AB13"));
}

TEST(CheckSetReply, AcceptsCreatedAndUpdatedForOurName) {
    EXPECT_TRUE(check_set_reply("Transaction created for certificate /a/site.pem!\n\n",
                                "/a/site.pem", 100));
    EXPECT_TRUE(check_set_reply("Transaction updated for certificate /a/site.pem!\n\n",
                                "/a/site.pem", 100));
}

// HAProxy 2.6.12: with A's transaction open, `set ssl cert B` updates A and says so.
TEST(CheckSetReply, DetectsThePayloadLandingInAnotherTransaction) {
    Status status =
        check_set_reply("Transaction updated for certificate /a/other.pem!\n\n", "/a/site.pem", 9);
    ASSERT_FALSE(status);
    EXPECT_EQ(status.error().category(), ErrorCategory::kProtocol);
    EXPECT_THAT(status.error().message(), HasSubstr("/a/other.pem"));
    EXPECT_THAT(status.error().message(), HasSubstr("/a/site.pem"));
    EXPECT_THAT(status.error().message(), HasSubstr("abort ssl cert /a/other.pem"));
}

TEST(CheckSetReply, ExplainsAnEmptyReplyWithThePayloadSize) {
    Status status = check_set_reply("", "/a/site.pem", 18600);
    ASSERT_FALSE(status);
    EXPECT_THAT(status.error().message(),
                HasSubstr("HAProxy closed the connection without answering"));
    EXPECT_THAT(status.error().message(), HasSubstr("18600 bytes"));
    EXPECT_THAT(status.error().message(), HasSubstr("tune.bufsize"));
}

TEST(CheckSetReply, QuotesAnyOtherReply) {
    Status status = check_set_reply(
        "Can't replace a certificate which is not referenced by the configuration!\n\n",
        "/a/site.pem", 10);
    ASSERT_FALSE(status);
    EXPECT_THAT(status.error().message(),
                HasSubstr("with: Can't replace a certificate which is not referenced"));
}

TEST(CheckCommitReply, NeedsCommittingOurNameAndSuccess) {
    EXPECT_TRUE(check_commit_reply("Committing /a/site.pem.\nSuccess!\n\n", "/a/site.pem"));
    EXPECT_TRUE(check_commit_reply("Committing /a/site.pem...\nSuccess!\n", "/a/site.pem"));
    Status refused = check_commit_reply(
        "inconsistencies between private key and certificate loaded '/a/site.pem'.\n"
        "Can't commit /a/site.pem!\n\n",
        "/a/site.pem");
    ASSERT_FALSE(refused);
    EXPECT_THAT(refused.error().message(), HasSubstr("Can't commit /a/site.pem!"));
    EXPECT_FALSE(check_commit_reply("Committing /a/site.pem.\nFailed!\n", "/a/site.pem"));
}

TEST(CheckAbortReply, NeedsOurName) {
    EXPECT_TRUE(
        check_abort_reply("Transaction aborted for certificate '/a/s.pem'!\n\n", "/a/s.pem"));
    EXPECT_FALSE(check_abort_reply("No ongoing transaction!\n\n", "/a/s.pem"));
}

TEST(GenericReplyError, PermissionDeniedAsksForLevelAdmin) {
    auto error = generic_reply_error("Permission denied\n\n", "set ssl cert /a/s.pem");
    ASSERT_TRUE(error);
    EXPECT_EQ(error->category(), ErrorCategory::kUsage);
    EXPECT_THAT(error->message(), HasSubstr("level admin"));
    EXPECT_FALSE(generic_reply_error("Transaction created for certificate x!\n", "set"));
}

TEST(GenericReplyError, MasterCliTargetThatIsGoneSaysToListProcesses) {
    auto error = generic_reply_error("Can't find the target PID matching the prefix '@!4242'\n",
                                     "show ssl cert");
    ASSERT_TRUE(error);
    EXPECT_EQ(error->category(), ErrorCategory::kUsage);
    EXPECT_THAT(error->message(), HasSubstr("'@!4242'"));
    EXPECT_THAT(error->message(), HasSubstr("show proc"));
}

TEST(ParseMapEntries, ValueIsTheRestOfTheLine) {
    auto entries = parse_map_entries("0x55d5c1430030 a b\n0x55d5c1430110 tok1 thumb 1\n\n");
    ASSERT_TRUE(entries) << entries.error().describe();
    EXPECT_THAT(*entries, ElementsAre(MapEntry{"0x55d5c1430030", "a", "b"},
                                      MapEntry{"0x55d5c1430110", "tok1", "thumb 1"}));
    EXPECT_TRUE(parse_map_entries("\n")->empty());
    EXPECT_FALSE(parse_map_entries("Unknown map identifier. Please use #<id> or <file>.\n"));
}

// The wordings of HAProxy's ssl_ckch.c / ssl_crtlist.c / acme.c when the trylock fails.
TEST(IsCertificateLockReply, RecognisesEveryWording) {
    EXPECT_TRUE(is_certificate_lock_reply(
        "Can't update the certificate!\nOperations on certificates are currently locked!\n\n"));
    EXPECT_TRUE(is_certificate_lock_reply(
        "Can't show!\nOperations on certificates are currently locked!\n\n"));
    EXPECT_TRUE(is_certificate_lock_reply("Operations on certificates are currently locked!\n"));
    EXPECT_TRUE(is_certificate_lock_reply(
        "Can't update: operations on certificates are currently locked!\n"));
    EXPECT_FALSE(is_certificate_lock_reply("Transaction created for certificate /a.pem!\n"));
    EXPECT_FALSE(is_certificate_lock_reply(""));
}

// Captured from Debian's HAProxy 2.6.12 started with -W -S.
constexpr std::string_view kShowProc26 =
    "#<PID>          <type>          <reloads>       <uptime>        <version>      \n"
    "28766           master          1 [failed: 0]   0d00h00m05s     2.6.12-1+deb12u4\n"
    "# workers\n"
    "28799           worker          0               0d00h00m00s     2.6.12-1+deb12u4\n"
    "# programs\n"
    "\n";

TEST(ParseProcList, ReadsMasterAndWorkerFromHaproxy26) {
    auto list = parse_proc_list(kShowProc26);
    ASSERT_TRUE(list) << list.error().describe();
    ASSERT_TRUE(list->master);
    EXPECT_EQ(list->master->pid, 28766);
    EXPECT_EQ(list->master->type, "master");
    EXPECT_EQ(list->master->reloads, 1);
    EXPECT_EQ(list->master->version, "2.6.12-1+deb12u4");
    ASSERT_EQ(list->workers.size(), 1u);
    EXPECT_EQ(list->workers[0].pid, 28799);
    EXPECT_EQ(list->workers[0].reloads, 0);
    EXPECT_TRUE(list->old_workers.empty());
}

TEST(ParseProcList, OldWorkersAndProgramsAreKeptApart) {
    auto list = parse_proc_list(
        "#<PID>          <type>          <reloads>       <uptime>        <version>\n"
        "100             master          2 [failed: 0]   0d00h01m00s     2.6.12\n"
        "# workers\n"
        "300             worker          0               0d00h00m02s     2.6.12\n"
        "301             worker          0               0d00h00m02s     2.6.12\n"
        "# old workers\n"
        "200             worker          1               0d00h00m30s     2.6.12\n"
        "# programs\n"
        "400             dataplane       0               0d00h01m00s     -\n");
    ASSERT_TRUE(list) << list.error().describe();
    ASSERT_EQ(list->workers.size(), 2u);
    EXPECT_EQ(list->workers[0].pid, 300);
    EXPECT_EQ(list->workers[1].pid, 301);
    ASSERT_EQ(list->old_workers.size(), 1u);
    EXPECT_EQ(list->old_workers[0].pid, 200);
    EXPECT_EQ(list->old_workers[0].reloads, 1);
}

TEST(ParseProcList, AnythingButAProcessTableIsAnError) {
    // What a worker's own stats socket says to `show proc`.
    auto worker = parse_proc_list("Unknown command: 'show proc'\n");
    ASSERT_FALSE(worker);
    EXPECT_THAT(worker.error().message(), HasSubstr("Unknown command"));
    EXPECT_FALSE(parse_proc_list(""));
    EXPECT_FALSE(parse_proc_list("#<PID> <type>\nabc master 0 0d 2.6\n"));
    EXPECT_FALSE(parse_proc_list("#<PID> <type>\n# workers\n12 worker 0 0d 2.6\n"))
        << "no master line";
}

}  // namespace
}  // namespace certdock::haproxy
