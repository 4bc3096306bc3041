#pragma once

#include <nlohmann/json.hpp>

#include <deque>
#include <functional>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "acme/http.hpp"
#include "acme/jose/jwa.hpp"
#include "acme/retry.hpp"
#include "acme/wire.hpp"
#include "base/clock.hpp"
#include "crypto/certificate.hpp"
#include "crypto/key.hpp"

namespace certdock::acme {

struct ClientOptions {
    std::string directory_url{};
    milliseconds request_timeout{30'000};
    // badNonce answers are retried with a fresh nonce this many times per request. Servers
    // may reject any share of good nonces (Pebble's NONCEREJECT), so this is generous.
    int max_bad_nonce_retries = 20;
    BackoffPolicy backoff{};
    PollSchedule poll{};
};

struct EabCredentials {
    std::string key_id{};
    Bytes mac_key{};
    jose::Algorithm algorithm = jose::Algorithm::kHs256;
};

struct NewAccountRequest {
    std::vector<std::string> contact{};  // "mailto:ops@example.com"
    bool agree_to_terms = false;
    std::optional<EabCredentials> eab{};
};

struct NewOrderRequest {
    std::vector<Identifier> identifiers{};
    std::optional<std::string> profile{};
    std::optional<std::string> replaces{};  // ARI certificate id of the certificate being renewed
};

struct CertificateChain {
    std::string pem{};  // leaf first
    std::vector<crypto::Certificate> certificates{};
    std::string root_issuer{};  // issuer of the last certificate: how "preferred chain" is chosen
};

// RFC 5280 §5.3.1 reasons a client may give.
enum class RevocationReason {
    kUnspecified = 0,
    kKeyCompromise = 1,
    kSuperseded = 4,
    kCessationOfOperation = 5,
};

// An RFC 8555 client over an HttpTransport. Holds the directory, a nonce pool and the
// account key; not thread-safe (one per thread of work).
//
// Every failure says which ACME step failed ("newOrder", "finalize", ...), carries the
// server's problem document when there was one, and adds a hint on what to try.
class Client {
public:
    Client(HttpTransport& transport, ClientOptions options, Clock& clock = system_clock());

    // The account key signs every request. `account_url` skips the lookup when known.
    void set_account_key(crypto::PrivateKey key, std::optional<std::string> account_url = {});
    const std::optional<std::string>& account_url() const { return account_url_; }
    // Drops a cached account URL the CA no longer knows, so the next lookup asks again.
    void forget_account_url() { account_url_.reset(); }
    std::string thumbprint() const;
    std::string key_authorization(const std::string& token) const;

    Result<Directory> directory();

    Result<Account> register_account(const NewAccountRequest& request);
    // onlyReturnExisting: the account of this key, or accountDoesNotExist.
    Result<Account> find_account();
    Result<Account> fetch_account();
    Result<Account> update_contact(const std::vector<std::string>& contact);
    Result<Account> deactivate_account();
    // RFC 8555 §7.3.5: on success the client signs with `new_key` from then on.
    Status change_key(const crypto::PrivateKey& new_key);

    Result<Order> new_order(const NewOrderRequest& request);
    Result<Order> fetch_order(const std::string& url);
    Result<Authorization> fetch_authorization(const std::string& url);
    Result<Authorization> deactivate_authorization(const std::string& url);
    Result<Challenge> respond_to_challenge(const std::string& url);
    // Polls until the authorization leaves "pending"; an invalid one is an error naming the
    // challenge's problem.
    Result<Authorization> wait_for_authorization(const std::string& url, Clock::TimePoint deadline);
    Result<Order> finalize(const Order& order, const Bytes& csr_der);
    // Polls until the order is valid (or fails: invalid, deadline).
    Result<Order> wait_for_order(const std::string& url, Clock::TimePoint deadline);
    // The default chain and every alternate the server links (RFC 8555 §7.4.2).
    Result<std::vector<CertificateChain>> download_certificate(const std::string& url,
                                                               bool with_alternates);

    // Revocation signed by the account key, or with `certificate_key` when given (§7.6).
    Status revoke(const crypto::Certificate& certificate, RevocationReason reason,
                  const std::optional<crypto::PrivateKey>& certificate_key = {});
    // RFC 9773; fails with a usage error when the directory has no renewalInfo.
    Result<RenewalInfo> renewal_info(const crypto::Certificate& certificate,
                                     std::optional<Clock::Duration>* retry_after = nullptr);

private:
    enum class Signer { kKid, kJwk };
    struct Reply {
        HttpResponse response{};
        nlohmann::json body;  // null when the body is not JSON (certificates)
    };

    Result<HttpResponse> send(HttpRequest request, std::string_view step);
    Result<std::string> next_nonce(std::string_view step);
    void remember_nonce(const HttpResponse& response);
    // Signs and POSTs, retrying badNonce with a fresh nonce and transient failures with
    // backoff. `payload` nullopt means POST-as-GET.
    Result<Reply> post(std::string_view step, const std::string& url,
                       const std::optional<nlohmann::json>& payload, Signer signer,
                       const crypto::PrivateKey* key = nullptr);
    Result<Reply> post_signed_body(
        std::string_view step, const std::string& url,
        const std::function<Result<std::string>(const std::string&)>& sign);
    Error step_error(std::string_view step, const std::string& url, const HttpResponse& response);
    // The server's Retry-After when it sent one, else the poll schedule's next step.
    Clock::Duration poll_delay(int attempt, const HttpResponse& response) const;
    Result<Account> account_request(std::string_view step, const std::string& url,
                                    const nlohmann::json& payload, Signer signer);
    Result<Account> with_account(std::string_view step, Result<Reply> reply);

    HttpTransport& transport_;
    ClientOptions options_;
    Clock& clock_;
    std::mt19937_64 rng_;
    std::optional<Directory> directory_;
    std::deque<std::string> nonces_;
    std::optional<crypto::PrivateKey> account_key_;
    std::optional<std::string> account_url_;
};

}  // namespace certdock::acme
