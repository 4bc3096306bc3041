#include "fake_acme_server.hpp"

#include <algorithm>

#include "acme/jose/jws.hpp"
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
    if (path == "/dir") {
        return acme::HttpResponse{200,
                                  {{"Content-Type", "application/json"}},
                                  json{{"newNonce", url("/nonce")},
                                       {"newAccount", url("/new-account")},
                                       {"newOrder", url("/new-order")},
                                       {"revokeCert", url("/revoke")},
                                       {"keyChange", url("/key-change")},
                                       {"renewalInfo", url("/ari")},
                                       {"meta", {{"profiles", {{"shortlived", "6 days"}}}}}}
                                      .dump()};
    }
    if (path == "/nonce") return acme::HttpResponse{200, {{"Replay-Nonce", fresh_nonce()}}, ""};
    if (path.starts_with("/ari/") && request.method == "GET") {
        ari_requests_.push_back(path.substr(5));
        return acme::HttpResponse{
            200,
            {{"Content-Type", "application/json"}, {"Retry-After", "21600"}},
            json{{"suggestedWindow",
                  {{"start", "2027-02-01T00:00:00Z"}, {"end", "2027-02-03T00:00:00Z"}}},
                 {"explanationURL", "https://ca.test/why"}}
                .dump()};
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
        json ids = json::array();
        for (const auto& name : identifiers_) ids.push_back({{"type", "dns"}, {"value", name}});
        json body = {{"status", status},
                     {"identifiers", ids},
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
        identifiers_.clear();
        for (const auto& id : payload["identifiers"]) identifiers_.push_back(id["value"]);
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
        auto response =
            json_response(200, {{"status", status},
                                {"identifier", {{"type", "dns"}, {"value", identifiers_.at(0)}}},
                                {"challenges", {challenge}}});
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
        auto cert = ca_.sign(csr->public_key(), {.dns_names = csr->dns_names()});
        if (!cert) return problem(500, "serverInternal", cert.error().message());
        chain_pem_ = cert->to_pem() + ca_.certificate().to_pem();
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
