#include "fake_acme_server.hpp"

#include <algorithm>

#include "acme/jose/jws.hpp"
#include "base/time.hpp"
#include "crypto/csr.hpp"
#include "support/must.hpp"

namespace certdock::test {
namespace {

using nlohmann::json;

constexpr std::string_view kBase = "https://ca.test";

std::string path_of(const std::string& url) {
    return url.starts_with(kBase) ? url.substr(kBase.size()) : url;
}

std::string url(std::string_view path) {
    return std::string(kBase) + std::string(path);
}

}  // namespace

FakeAcmeServer::FakeAcmeServer() : ca_(must(TestCa::create_root("Fake ACME Root"))) {}

int FakeAcmeServer::count(const std::string& entry) const {
    return static_cast<int>(std::count(log_.begin(), log_.end(), entry));
}

std::string FakeAcmeServer::fresh_nonce() {
    std::string nonce = "nonce" + std::to_string(++nonce_counter_);
    issued_nonces_.insert(nonce);
    return nonce;
}

acme::HttpResponse FakeAcmeServer::json_response(int status, const json& body) {
    return {status,
            {{"Content-Type", "application/json"}, {"Replay-Nonce", fresh_nonce()}},
            body.dump()};
}

acme::HttpResponse FakeAcmeServer::problem(int status, const std::string& type,
                                           const std::string& detail, bool with_nonce) {
    acme::HttpResponse response{
        status,
        {{"Content-Type", "application/problem+json"}},
        json{{"type", "urn:ietf:params:acme:error:" + type}, {"detail", detail}}.dump()};
    if (with_nonce && knobs.nonce_on_errors) {
        response.headers.emplace_back("Replay-Nonce", fresh_nonce());
    }
    return response;
}

Result<acme::HttpResponse> FakeAcmeServer::send(const acme::HttpRequest& request) {
    const std::string path = path_of(request.url);
    log_.push_back(request.method + " " + path);
    if (knobs.unreachable) return fail(ErrorCategory::kNetwork, "connection refused (ca.test)");
    if (path == "/dir") {
        json directory = {{"newNonce", url("/nonce")},
                          {"newAccount", url("/new-account")},
                          {"newOrder", url("/new-order")},
                          {"revokeCert", url("/revoke")},
                          {"keyChange", url("/key-change")},
                          {"meta", {{"profiles", {{"shortlived", "6 days"}}}}}};
        if (knobs.offer_renewal_info) directory["renewalInfo"] = url("/ari");
        return acme::HttpResponse{200, {{"Content-Type", "application/json"}}, directory.dump()};
    }
    if (path == "/nonce") return acme::HttpResponse{200, {{"Replay-Nonce", fresh_nonce()}}, ""};
    if (path.starts_with("/ari/") && request.method == "GET" && knobs.offer_renewal_info) {
        ari_requests_.push_back(path.substr(5));
        return renewal_info(path.substr(5));
    }
    if (request.method != "POST") return problem(405, "malformed", "method not allowed");

    auto jws = acme::jose::parse_jws(request.body);
    if (!jws) return problem(400, "malformed", jws.error().message());
    const json& header = jws->header;
    if (header.value("url", "") != request.url) {
        return problem(400, "malformed", "JWS url does not match the request URL");
    }
    const std::string nonce = header.value("nonce", "");
    if (issued_nonces_.erase(nonce) == 0) return problem(400, "badNonce", "unknown nonce");
    if (knobs.reject_nonces > 0) {
        --knobs.reject_nonces;
        return problem(400, "badNonce", "nonce rejected on purpose");
    }
    if (knobs.server_errors > 0) {
        --knobs.server_errors;
        return problem(503, "serverInternal", "try again later");
    }
    json payload = jws->payload.empty() ? json() : json::parse(jws->payload, nullptr, false);
    return handle_post(path, header, payload);
}

acme::HttpResponse FakeAcmeServer::renewal_info(const std::string& cert_id) {
    if (knobs.renewal_info_fails) {
        return problem(500, "serverInternal", "renewalInfo is down", /*with_nonce=*/false);
    }
    json window = {{"start", "2027-02-01T00:00:00Z"}, {"end", "2027-02-03T00:00:00Z"}};
    std::optional<std::string> explanation = "https://ca.test/why";
    if (knobs.renewal_window) {
        auto found = issued_by_ari_id_.find(cert_id);
        if (found == issued_by_ari_id_.end()) {
            return problem(404, "malformed", "no certificate with this id", false);
        }
        acme::RenewalInfo info = knobs.renewal_window(issued_.at(found->second));
        window = {{"start", format_rfc3339(info.window_start)},
                  {"end", format_rfc3339(info.window_end)}};
        explanation = info.explanation_url;
    }
    json body = {{"suggestedWindow", window}};
    if (explanation) body["explanationURL"] = *explanation;
    acme::HttpResponse response{200, {{"Content-Type", "application/json"}}, body.dump()};
    if (!knobs.renewal_info_retry_after.empty()) {
        response.headers.emplace_back("Retry-After", knobs.renewal_info_retry_after);
    }
    return response;
}

acme::HttpResponse FakeAcmeServer::handle_post(const std::string& path, const json& header,
                                               const json& payload) {
    auto order_body = [&] {
        std::string status = "pending";
        if (challenge_answered_ && authz_polls_ > knobs.authz_pending_polls) status = "ready";
        if (finalized_) {
            status = knobs.invalidate_order
                         ? "invalid"
                         : (order_polls_ > knobs.order_processing_polls ? "valid" : "processing");
        }
        json body = {{"status", status},
                     {"identifiers", identifiers_},
                     {"authorizations", {url("/authz/1")}},
                     {"finalize", url("/finalize/1")}};
        if (status == "valid") body["certificate"] = url("/cert/1");
        if (status == "invalid") {
            body["error"] = {{"type", "urn:ietf:params:acme:error:badCSR"},
                             {"detail", "the CA refused the CSR"}};
        }
        return body;
    };

    if (path == "/new-account") {
        if (!header.contains("jwk")) return problem(400, "malformed", "newAccount needs jwk");
        auto response = json_response(201, {{"status", "valid"}, {"contact", json::array()}});
        response.headers.emplace_back("Location", url("/acct/1"));
        return response;
    }
    if (header.value("kid", "") != url("/acct/1")) {
        return problem(400, "accountDoesNotExist", "unknown kid");
    }
    if (path == "/new-order") {
        if (knobs.rate_limit_new_order) {
            auto response = problem(429, "rateLimited", "too many new orders recently");
            if (!knobs.rate_limit_retry_after.empty()) {
                response.headers.emplace_back("Retry-After", knobs.rate_limit_retry_after);
            }
            return response;
        }
        new_orders_.push_back(payload);
        if (knobs.already_replaced && payload.contains("replaces")) {
            return problem(409, "alreadyReplaced", "this certificate was already replaced");
        }
        // One order at a time: a new one starts its authorization and finalization afresh.
        identifiers_ = payload.value("identifiers", json::array());
        challenge_answered_ = false;
        finalized_ = false;
        authz_polls_ = 0;
        order_polls_ = 0;
        auto response = json_response(201, order_body());
        response.headers.emplace_back("Location", url("/order/1"));
        return response;
    }
    if (path == "/order/1") {
        if (finalized_) ++order_polls_;
        return json_response(200, order_body());
    }
    if (path == "/authz/1") {
        std::string status = "pending";
        json challenge = {{"type", "http-01"},
                          {"url", url("/chall/1")},
                          {"token", "tok1"},
                          {"status", "pending"}};
        if (challenge_answered_ && ++authz_polls_ > knobs.authz_pending_polls) {
            status = knobs.invalidate_challenge ? "invalid" : "valid";
            challenge["status"] = status;
            if (knobs.invalidate_challenge) {
                challenge["error"] = {{"type", "urn:ietf:params:acme:error:incorrectResponse"},
                                      {"detail", "the response did not match"}};
            }
        }
        auto response = json_response(
            200,
            {{"status", status}, {"identifier", identifiers_.at(0)}, {"challenges", {challenge}}});
        if (status == "pending" && !knobs.authz_retry_after.empty()) {
            response.headers.emplace_back("Retry-After", knobs.authz_retry_after);
        }
        return response;
    }
    if (path == "/chall/1") {
        challenge_answered_ = true;
        return json_response(200, {{"type", "http-01"},
                                   {"url", url("/chall/1")},
                                   {"token", "tok1"},
                                   {"status", "processing"}});
    }
    if (path == "/finalize/1") {
        auto der = base64url_decode(payload.value("csr", ""));
        if (!der) return problem(400, "badCSR", "CSR is not base64url");
        auto csr = crypto::Csr::from_der(*der);
        if (!csr) return problem(400, "badCSR", csr.error().message());
        CertSpec spec{.dns_names = csr->dns_names(), .ip_addresses = csr->ip_addresses()};
        if (knobs.clock != nullptr) {
            spec.not_before = knobs.clock->now();
            spec.not_after = *spec.not_before + knobs.lifetime;
        }
        auto cert = ca_.sign(csr->public_key(), spec);
        if (!cert) return problem(500, "serverInternal", cert.error().message());
        chain_pem_ = cert->to_pem() + ca_.certificate().to_pem();
        if (auto id = crypto::ari_cert_id(*cert)) issued_by_ari_id_[*id] = issued_.size();
        issued_.push_back(*cert);
        finalized_ = true;
        return json_response(200, order_body());
    }
    if (path == "/cert/1") {
        return {200,
                {{"Content-Type", "application/pem-certificate-chain"},
                 {"Replay-Nonce", fresh_nonce()}},
                chain_pem_};
    }
    return problem(404, "malformed", "no such resource");
}

}  // namespace certdock::test
