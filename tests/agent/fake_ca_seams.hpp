#pragma once

// The Renewer's seams over the in-memory CA (tests/acme/fake_acme_server.hpp): an account
// client that registers on first use, and a solver the fake CA does not look at.

#include <functional>
#include <string>
#include <vector>

#include "acme/client.hpp"
#include "agent/renewer.hpp"
#include "challenge/solver.hpp"

namespace certdock::test {

// Answers every http-01 task. With `calls`, notes "present <token>" and "cleanup <token>";
// with `on_present`, runs it while a response is in place.
class AnsweringSolver final : public challenge::Solver {
public:
    AnsweringSolver() = default;
    AnsweringSolver(std::vector<std::string>* calls, std::function<void()>* on_present)
        : calls_(calls), on_present_(on_present) {}
    challenge::ChallengeType type() const override { return challenge::ChallengeType::kHttp01; }
    Status present(const challenge::ChallengeTask& task) override {
        if (calls_ != nullptr) calls_->push_back("present " + task.token);
        if (on_present_ != nullptr && *on_present_) (*on_present_)();
        return {};
    }
    Status cleanup(const challenge::ChallengeTask& task) override {
        if (calls_ != nullptr) calls_->push_back("cleanup " + task.token);
        return {};
    }

private:
    std::vector<std::string>* calls_ = nullptr;
    std::function<void()>* on_present_ = nullptr;
};

// `client`, its account registered when it has none yet (again when asked for `fresh`).
inline agent::AccountClients fake_ca_clients(acme::Client& client) {
    return [&client](const agent::AcmeAccount&, bool fresh) -> Result<acme::Client*> {
        if (fresh) client.forget_account_url();
        if (!client.account_url()) {
            auto registered = client.register_account({.agree_to_terms = true});
            if (!registered) return Unexpected(std::move(registered).error());
        }
        return &client;
    };
}

}  // namespace certdock::test
