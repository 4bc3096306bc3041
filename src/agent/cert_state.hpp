#pragma once

// What the agent remembers about each certificate across restarts: what is served, when it
// renews next and why, how the last attempt went, the order in flight and the ARI poll. One
// JSON file per certificate, written atomically, so a kill -9 leaves the old or the new state
// and never half of one.

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"
#include "base/time.hpp"

namespace certdock::agent {

enum class AttemptResult { kNone, kSuccess, kFailure };
std::string_view attempt_result_name(AttemptResult result);  // "none", "success", "failure"

// A challenge response put in place (a TXT record, a map entry) and not yet taken away. Kept
// in the state while it is out there, so a restart after a kill takes it away.
struct PresentedChallenge {
    std::string type{};                   // "dns-01", "http-01", "tls-alpn-01"
    std::string identifier_type = "dns";  // or "ip"
    std::string identifier{};
    bool wildcard = false;
    std::string token{};
    std::string key_authorization{};  // public: the CA and anyone validating see it

    bool operator==(const PresentedChallenge&) const = default;
};

struct CertState {
    // The certificate being served (empty serial: none yet).
    std::string serial{};  // hex, as `openssl x509 -serial` prints it
    std::optional<SystemTime> not_before{};
    std::optional<SystemTime> not_after{};
    std::string key_pin{};  // pin-sha256 of the certificate's key

    std::optional<SystemTime> next_renewal{};
    std::string next_renewal_reason{};

    std::optional<SystemTime> last_attempt{};
    AttemptResult last_result = AttemptResult::kNone;
    std::string last_error{};  // the last failure's text; kept after a success for `status`
    std::optional<SystemTime> last_success{};
    int consecutive_failures = 0;
    std::optional<SystemTime> next_retry{};  // set while consecutive_failures > 0
    std::string next_retry_reason{};

    // An order created but not finalized and downloaded: a restart resumes it.
    std::string pending_order_url{};
    std::vector<PresentedChallenge> presented{};

    std::string ari_cert_id{};  // RFC 9773 certID of the served certificate
    std::optional<SystemTime> ari_window_start{};
    std::optional<SystemTime> ari_window_end{};
    std::string ari_explanation_url{};
    std::optional<SystemTime> next_ari_poll{};

    bool operator==(const CertState&) const = default;
};

// JSON with times as RFC 3339 (whole seconds) and a "version". `origin` names the source in
// errors (a file path). Unknown fields are ignored so an older certdock can read a newer
// file's known part; a newer "version" is refused.
std::string serialize_cert_state(const CertState& state);
Result<CertState> parse_cert_state(std::string_view text, std::string_view origin);

// Where states live. Contract: `load` of a certificate never saved returns a fresh
// CertState{}; a state that exists but cannot be read is an error (never a fresh state: the
// agent must not forget a failure or an order). `save` replaces the whole state atomically.
// Names are certificate names from the configuration: letters, digits, '.', '_', '-', not
// starting with '.'. Implementations are not thread-safe; one agent owns a store.
class StateStore {
public:
    virtual ~StateStore() = default;
    virtual Result<CertState> load(std::string_view name) = 0;
    virtual Status save(std::string_view name, const CertState& state) = 0;
    virtual Status remove(std::string_view name) = 0;
    // Names with a saved state, sorted.
    virtual Result<std::vector<std::string>> names() = 0;
};
using StateStorePtr = std::unique_ptr<StateStore>;

// Fails with a usage error naming the rule when `name` cannot be a state name.
Status check_state_name(std::string_view name);

// "<directory>/<name>.json"; the directory is created (0700) on the first save.
class DirectoryStateStore final : public StateStore {
public:
    explicit DirectoryStateStore(std::filesystem::path directory);

    Result<CertState> load(std::string_view name) override;
    Status save(std::string_view name, const CertState& state) override;
    Status remove(std::string_view name) override;
    Result<std::vector<std::string>> names() override;

    std::filesystem::path path_of(std::string_view name) const;

private:
    std::filesystem::path directory_;
};

// Keeps the serialized JSON, so tests exercise the same encoding as the directory.
class InMemoryStateStore final : public StateStore {
public:
    Result<CertState> load(std::string_view name) override;
    Status save(std::string_view name, const CertState& state) override;
    Status remove(std::string_view name) override;
    Result<std::vector<std::string>> names() override;

    // Stores raw text, e.g. a corrupt document, for tests of the error path.
    void put_raw(std::string name, std::string text) { texts_[std::move(name)] = std::move(text); }
    int saves() const { return saves_; }

private:
    std::map<std::string, std::string, std::less<>> texts_;
    int saves_ = 0;
};

}  // namespace certdock::agent
