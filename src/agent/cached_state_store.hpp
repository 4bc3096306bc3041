#pragma once

// A StateStore that remembers the states it loaded and saved, so that a scan over thousands
// of certificates reads each state file once per agent rather than once per scan.
//
// Contract: while a CachedStateStore is in use, nothing else writes the states of the store
// it wraps (the agent is the only writer of its states; a reload builds a new cache). Within
// that contract it answers as the wrapped store would:
// - a certificate it has not seen yet is looked up in the wrapped store, so a new
//   certificate is never hidden;
// - an absent state (a fresh CertState{}) and an error are not remembered: the next load asks
//   the wrapped store again, so a state file restored by hand or a corrupt one fixed is seen;
// - `save` and `remove` go to the wrapped store first; the cache follows only what they did
//   (a failed save forgets the name, so the next load reads what the store really holds).
// Not thread-safe, like the stores it wraps.

#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "agent/cert_state.hpp"

namespace certdock::agent {

class CachedStateStore final : public StateStore {
public:
    explicit CachedStateStore(StateStorePtr backing);

    Result<CertState> load(std::string_view name) override;
    Status save(std::string_view name, const CertState& state) override;
    Status remove(std::string_view name) override;
    Result<std::vector<std::string>> names() override;

    // States held in memory now.
    size_t cached() const { return states_.size(); }

private:
    void forget(std::string_view name);

    StateStorePtr backing_;
    std::unordered_map<std::string, CertState> states_;
};

}  // namespace certdock::agent
