#include "agent/presented_challenges.hpp"

#include <algorithm>
#include <string_view>
#include <utility>

namespace certdock::agent {
namespace {

PresentedChallenge record_of(const challenge::ChallengeTask& task) {
    return {.type = std::string(challenge::challenge_type_name(task.type)),
            .identifier_type = task.identifier_type,
            .identifier = task.identifier,
            .wildcard = task.wildcard,
            .token = task.token,
            .key_authorization = task.key_authorization};
}

challenge::ChallengeTask task_of(const PresentedChallenge& record, challenge::ChallengeType type) {
    challenge::ChallengeTask task;
    task.type = type;
    task.identifier_type = record.identifier_type;
    task.identifier = record.identifier;
    task.wildcard = record.wildcard;
    task.token = record.token;
    task.key_authorization = record.key_authorization;
    return task;
}

std::string describe(const PresentedChallenge& record) {
    return record.type + " for " + (record.wildcard ? "*." : "") + record.identifier;
}

}  // namespace

RecordingSolver::RecordingSolver(challenge::Solver& inner, CertState& state,
                                 std::function<Status()> save)
    : inner_(inner), state_(state), save_(std::move(save)) {}

Status RecordingSolver::present(const challenge::ChallengeTask& task) {
    state_.presented.push_back(record_of(task));
    CERTDOCK_TRY_STATUS(save_());
    return inner_.present(task);
}

Status RecordingSolver::cleanup(const challenge::ChallengeTask& task) {
    CERTDOCK_TRY_STATUS(inner_.cleanup(task));
    std::erase(state_.presented, record_of(task));
    return save_();
}

std::vector<std::string> clean_up_presented(challenge::Solver& solver, CertState& state) {
    std::vector<std::string> lines;
    for (const auto& record : std::exchange(state.presented, {})) {
        auto type = challenge::parse_challenge_type(record.type);
        if (!type || *type != solver.type()) {
            std::string line = "left over from an interrupted renewal: " + describe(record) +
                               ", which the " +
                               std::string(challenge::challenge_type_name(solver.type())) +
                               " solver cannot take away; remove it by hand";
            if (record.type == "dns-01") {
                const auto task = task_of(record, challenge::ChallengeType::kDns01);
                line += " (TXT " + challenge::dns01_record_name(task) + " \"" +
                        challenge::dns01_record_value(task) + "\")";
            }
            lines.push_back(std::move(line));
            continue;
        }
        auto cleaned = solver.cleanup(task_of(record, *type));
        lines.push_back(
            cleaned ? "took away the " + describe(record) + " left over from an interrupted renewal"
                    : "could not take away the " + describe(record) +
                          " left over from an interrupted renewal: " + cleaned.error().describe());
    }
    return lines;
}

}  // namespace certdock::agent
