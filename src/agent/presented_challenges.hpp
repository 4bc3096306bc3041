#pragma once

// Challenge responses the agent has put in place, remembered in the certificate's state until
// they are taken away: a kill -9 between present() and cleanup() would otherwise leave a TXT
// record or a HAProxy map entry behind for good. The next renewal takes them away first.

#include <functional>
#include <string>
#include <vector>

#include "agent/cert_state.hpp"
#include "base/result.hpp"
#include "challenge/solver.hpp"

namespace certdock::agent {

// The solver of one renewal: every response is written into `state` (and `save`d) before the
// inner solver puts it in place, and leaves the state once the inner solver took it away.
class RecordingSolver final : public challenge::Solver {
public:
    RecordingSolver(challenge::Solver& inner, CertState& state, std::function<Status()> save);

    challenge::ChallengeType type() const override { return inner_.type(); }
    Status present(const challenge::ChallengeTask& task) override;
    Status wait_ready(const challenge::ChallengeTask& task) override {
        return inner_.wait_ready(task);
    }
    Status cleanup(const challenge::ChallengeTask& task) override;

private:
    challenge::Solver& inner_;
    CertState& state_;
    std::function<Status()> save_;
};

// Takes away, with `solver`, every response a run cut short left in `state.presented`, and
// forgets them. One of another challenge type (the configuration changed since) cannot be
// taken away by this solver: it is forgotten with a line saying what to remove by hand.
// Returns one line per response, for the log.
std::vector<std::string> clean_up_presented(challenge::Solver& solver, CertState& state);

}  // namespace certdock::agent
