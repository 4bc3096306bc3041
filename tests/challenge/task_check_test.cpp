#include "challenge/task_check.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace certdock::challenge {
namespace {

using ::testing::HasSubstr;

ChallengeTask valid_task() {
    ChallengeTask task;
    task.type = ChallengeType::kHttp01;
    task.identifier = "www.example.com";
    task.token = "LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0";
    task.key_authorization = task.token + ".nP1qzpXGymHBrUEepNY9HCsQk7K8KhOypzEt62jcerQ";
    return task;
}

TEST(CheckToken, AcceptsOnlyBase64url) {
    EXPECT_TRUE(check_token("LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0"));
    EXPECT_TRUE(check_token("a-b_c"));
    EXPECT_FALSE(check_token(""));
    EXPECT_FALSE(check_token("../x"));
    EXPECT_FALSE(check_token("a/b"));
    EXPECT_FALSE(check_token("a b"));
    EXPECT_FALSE(check_token("abc="));
    EXPECT_FALSE(check_token(std::string(300, 'a')));
}

TEST(CheckTask, AcceptsAWellFormedTask) {
    EXPECT_TRUE(check_task(valid_task(), ChallengeType::kHttp01));
    ChallengeTask ip = valid_task();
    ip.identifier_type = "ip";
    ip.identifier = "2001:db8::1";
    EXPECT_TRUE(check_task(ip, ChallengeType::kHttp01));
}

TEST(CheckTask, RefusesMismatches) {
    EXPECT_THAT(check_task(valid_task(), ChallengeType::kDns01).error().describe(),
                HasSubstr("a dns-01 solver cannot answer a http-01 challenge"));

    ChallengeTask other_token = valid_task();
    other_token.key_authorization = "other.nP1qzpXGymHBrUEepNY9HCsQk7K8KhOypzEt62jcerQ";
    EXPECT_FALSE(check_task(other_token, ChallengeType::kHttp01));

    ChallengeTask no_thumbprint = valid_task();
    no_thumbprint.key_authorization = no_thumbprint.token + ".";
    EXPECT_FALSE(check_task(no_thumbprint, ChallengeType::kHttp01));

    ChallengeTask star = valid_task();
    star.identifier = "*.example.com";
    EXPECT_THAT(check_task(star, ChallengeType::kHttp01).error().describe(),
                HasSubstr("set wildcard"));

    ChallengeTask option_like = valid_task();
    option_like.identifier = "-rf";
    EXPECT_FALSE(check_task(option_like, ChallengeType::kHttp01));

    ChallengeTask spaces = valid_task();
    spaces.identifier = "example.com; rm -rf /";
    EXPECT_FALSE(check_task(spaces, ChallengeType::kHttp01));

    ChallengeTask bad_ip = valid_task();
    bad_ip.identifier_type = "ip";
    bad_ip.identifier = "example.com";
    EXPECT_FALSE(check_task(bad_ip, ChallengeType::kHttp01));
}

}  // namespace
}  // namespace certdock::challenge
