#include "agent/cached_state_store.hpp"

#include <utility>

namespace certdock::agent {

CachedStateStore::CachedStateStore(StateStorePtr backing) : backing_(std::move(backing)) {}

Result<CertState> CachedStateStore::load(std::string_view name) {
    if (auto found = states_.find(std::string(name)); found != states_.end()) {
        return found->second;
    }
    CERTDOCK_TRY(CertState state, backing_->load(name));
    // A fresh state means "none saved": not remembered, so one appearing later is read.
    if (state != CertState{}) states_.emplace(std::string(name), state);
    return state;
}

Status CachedStateStore::save(std::string_view name, const CertState& state) {
    auto saved = backing_->save(name, state);
    if (!saved) {
        forget(name);
        return saved;
    }
    if (auto found = states_.find(std::string(name)); found != states_.end()) {
        found->second = state;
    } else {
        states_.emplace(std::string(name), state);
    }
    return saved;
}

Status CachedStateStore::remove(std::string_view name) {
    forget(name);
    return backing_->remove(name);
}

Result<std::vector<std::string>> CachedStateStore::names() {
    return backing_->names();
}

void CachedStateStore::forget(std::string_view name) {
    states_.erase(std::string(name));
}

}  // namespace certdock::agent
