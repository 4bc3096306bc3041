#pragma once

#include <nlohmann/json.hpp>

#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "acme/http.hpp"
#include "acme/wire.hpp"
#include "base/clock.hpp"
#include "crypto/certificate.hpp"
#include "support/test_pki.hpp"

namespace certdock::test {

// An in-memory ACME server behind the HttpTransport seam, for the error paths a real CA
// cannot be made to produce. It checks what a client must get right (nonces used once, the
// JWS url matching the request) and can misbehave on demand.
class FakeAcmeServer final : public acme::HttpTransport {
public:
    struct Knobs {
        bool unreachable = false;            // every request fails as if the CA were down
        bool nonce_on_errors = true;         // false: errors come without Replay-Nonce
        int reject_nonces = 0;               // answer the next N POSTs with badNonce
        int server_errors = 0;               // answer the next N POSTs with 503
        int authz_pending_polls = 0;         // authorizations stay pending this many polls
        std::string authz_retry_after;       // Retry-After sent while pending
        bool rate_limit_new_order = false;   // newOrder answers rateLimited
        std::string rate_limit_retry_after;  // ...with this Retry-After
        bool invalidate_challenge = false;   // validation fails (incorrectResponse)
        bool invalidate_order = false;       // finalize makes the order invalid
        int order_processing_polls = 0;      // order stays processing this many polls

        // ARI (RFC 9773).
        bool offer_renewal_info = true;                  // false: no renewalInfo in the directory
        std::string renewal_info_retry_after = "21600";  // Retry-After of renewalInfo answers
        bool renewal_info_fails = false;                 // renewalInfo answers 500
        bool already_replaced = false;                   // newOrder with replaces: alreadyReplaced
        // The window for a certificate this server issued (other ids: 404). Unset: the fixed
        // window 2027-02-01..2027-02-03 for any id.
        std::function<acme::RenewalInfo(const crypto::Certificate&)> renewal_window{};

        // Issued certificates start at this clock's now and last `lifetime`; unset: from an
        // hour ago (real time) for 90 days.
        const Clock* clock = nullptr;
        Clock::Duration lifetime = std::chrono::hours(24 * 90);
    };

    FakeAcmeServer();

    Result<acme::HttpResponse> send(const acme::HttpRequest& request) override;

    Knobs knobs;
    std::string directory_url() const { return "https://ca.test/dir"; }
    // Every request seen, in order, as "METHOD path".
    const std::vector<std::string>& log() const { return log_; }
    int count(const std::string& entry) const;
    // Certificate ids asked for at renewalInfo.
    const std::vector<std::string>& ari_requests() const { return ari_requests_; }
    // The payload of every newOrder, in order (identifiers, replaces, ...).
    const std::vector<nlohmann::json>& new_orders() const { return new_orders_; }
    // Every certificate issued, in order.
    const std::vector<crypto::Certificate>& issued() const { return issued_; }

private:
    acme::HttpResponse handle_post(const std::string& path, const nlohmann::json& header,
                                   const nlohmann::json& payload);
    acme::HttpResponse problem(int status, const std::string& type, const std::string& detail,
                               bool with_nonce = true);
    acme::HttpResponse json_response(int status, const nlohmann::json& body);
    acme::HttpResponse renewal_info(const std::string& cert_id);
    std::string fresh_nonce();

    std::vector<std::string> log_;
    std::vector<std::string> ari_requests_;
    std::vector<nlohmann::json> new_orders_;
    std::vector<crypto::Certificate> issued_;
    std::map<std::string, size_t> issued_by_ari_id_;  // index into issued_
    std::set<std::string> issued_nonces_;
    int nonce_counter_ = 0;
    int authz_polls_ = 0;
    int order_polls_ = 0;
    bool finalized_ = false;
    bool challenge_answered_ = false;
    nlohmann::json identifiers_ = nlohmann::json::array();  // of the current order
    TestCa ca_;
    std::string chain_pem_;
};

}  // namespace certdock::test
