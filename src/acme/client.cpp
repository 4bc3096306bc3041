#include "acme/client.hpp"

#include "acme/jose/eab.hpp"
#include "acme/jose/jwk.hpp"
#include "acme/jose/jws.hpp"
#include "acme/problem.hpp"

namespace certdock::acme {
namespace {

using nlohmann::json;

constexpr std::string_view kJoseContentType = "application/jose+json";

bool is_json_response(const HttpResponse& response) {
    auto type = response.header("Content-Type").value_or("");
    return type.find("json") != std::string::npos;
}

std::string short_type(std::string_view urn) {
    return std::string(urn.starts_with(kProblemUrnPrefix) ? urn.substr(kProblemUrnPrefix.size())
                                                          : urn);
}

std::string describe_problem(const AcmeProblem& problem) {
    std::string text = short_type(problem.type);
    if (!problem.detail.empty()) text += ": " + problem.detail;
    for (const auto& sub : problem.subproblems) {
        text += "; " + (sub.identifier.empty() ? "" : sub.identifier + " ") + short_type(sub.type) +
                ": " + sub.detail;
    }
    return text;
}

}  // namespace

Client::Client(HttpTransport& transport, ClientOptions options, Clock& clock)
    : transport_(transport),
      options_(std::move(options)),
      clock_(clock),
      rng_(std::random_device{}()) {}

void Client::set_account_key(crypto::PrivateKey key, std::optional<std::string> account_url) {
    account_key_ = std::move(key);
    account_url_ = std::move(account_url);
}

std::string Client::thumbprint() const {
    return account_key_ ? jose::jwk_thumbprint(account_key_->public_key()) : "";
}

std::string Client::key_authorization(const std::string& token) const {
    return jose::key_authorization(token, thumbprint());
}

Result<HttpResponse> Client::send(HttpRequest request, std::string_view step) {
    request.timeout = options_.request_timeout;
    auto response = transport_.send(request);
    if (!response) {
        return Unexpected(Error(ErrorCategory::kNetwork, std::string(step) + " failed")
                              .caused_by(std::move(response).error()));
    }
    return response;
}

void Client::remember_nonce(const HttpResponse& response) {
    if (auto nonce = response.header("Replay-Nonce"); nonce && !nonce->empty()) {
        nonces_.push_back(*nonce);
        // Old nonces expire at the server; a short queue of fresh ones is all that helps.
        while (nonces_.size() > 8) nonces_.pop_front();
    }
}

Result<std::string> Client::next_nonce(std::string_view step) {
    if (!nonces_.empty()) {
        std::string nonce = std::move(nonces_.front());
        nonces_.pop_front();
        return nonce;
    }
    CERTDOCK_TRY(Directory dir, directory());
    for (int attempt = 0;; ++attempt) {
        auto response = send({"HEAD", dir.new_nonce, {}, {}, {}}, step);
        if (response && response->status < 500) {
            auto nonce = response->header("Replay-Nonce");
            if (nonce && !nonce->empty()) return *nonce;
            return fail(ErrorCategory::kProtocol, std::string(step) + ": the CA's newNonce (" +
                                                      dir.new_nonce + ") answered HTTP " +
                                                      std::to_string(response->status) +
                                                      " without a Replay-Nonce header");
        }
        if (attempt >= options_.backoff.max_retries) {
            if (!response) return Unexpected(std::move(response).error());
            return fail(ErrorCategory::kNetwork, std::string(step) + ": newNonce answered HTTP " +
                                                     std::to_string(response->status));
        }
        clock_.sleep_for(options_.backoff.delay(attempt, rng_));
    }
}

Result<Directory> Client::directory() {
    if (directory_) return *directory_;
    for (int attempt = 0;; ++attempt) {
        auto response = send({"GET", options_.directory_url, {}, {}, {}}, "directory");
        bool transient = !response || response->status >= 500;
        if (transient && attempt < options_.backoff.max_retries) {
            clock_.sleep_for(options_.backoff.delay(attempt, rng_));
            continue;
        }
        if (!response) return Unexpected(std::move(response).error());
        remember_nonce(*response);
        if (response->status != 200) {
            return Unexpected(step_error("directory", options_.directory_url, *response));
        }
        auto body = json::parse(response->body, nullptr, false);
        if (body.is_discarded()) {
            return fail(ErrorCategory::kProtocol,
                        "directory: " + options_.directory_url +
                            " did not answer with JSON; is this an ACME directory URL?");
        }
        CERTDOCK_TRY(Directory parsed, parse_directory(body));
        directory_ = std::move(parsed);
        return *directory_;
    }
}

Error Client::step_error(std::string_view step, const std::string& url,
                         const HttpResponse& response) {
    std::string message =
        std::string(step) + " failed at " + url + ": HTTP " + std::to_string(response.status);
    auto problem = parse_problem(response.body, response.status);
    if (!problem) {
        std::string body = response.body.substr(0, 200);
        if (!body.empty()) message += ": " + body;
        return Error(ErrorCategory::kProtocol, message);
    }
    message += ": " + describe_problem(*problem);
    if (problem->type == problem_urn(ProblemType::kRateLimited)) {
        auto retry_after = response.header("Retry-After");
        auto wait = retry_after ? parse_retry_after(*retry_after, clock_.now()) : std::nullopt;
        if (wait) message += "; the CA asks to retry after " + format_rfc3339(clock_.now() + *wait);
    }
    if (auto hint = problem_hint(problem->type); !hint.empty()) {
        message += " (" + std::string(hint) + ")";
    }
    return Error(ErrorCategory::kAcme, message).with_problem(std::move(*problem));
}

Result<Client::Reply> Client::post_signed_body(
    std::string_view step, const std::string& url,
    const std::function<Result<std::string>(const std::string&)>& sign) {
    int bad_nonces = 0;
    int transient = 0;
    while (true) {
        CERTDOCK_TRY(std::string nonce, next_nonce(step));
        CERTDOCK_TRY(std::string body, sign(nonce));
        HttpRequest request{
            "POST", url, {{"Content-Type", std::string(kJoseContentType)}}, body, {}};
        auto response = send(std::move(request), step);
        if (!response) {
            if (transient++ < options_.backoff.max_retries) {
                clock_.sleep_for(options_.backoff.delay(transient - 1, rng_));
                continue;
            }
            return Unexpected(std::move(response).error());
        }
        remember_nonce(*response);
        if (response->status < 400) {
            Reply reply{std::move(*response), nullptr};
            if (is_json_response(reply.response) && !reply.response.body.empty()) {
                reply.body = json::parse(reply.response.body, nullptr, false);
                if (reply.body.is_discarded()) {
                    return fail(ErrorCategory::kProtocol,
                                std::string(step) + ": " + url + " answered invalid JSON");
                }
            }
            return reply;
        }
        Error error = step_error(step, url, *response);
        if (has_problem(error, ProblemType::kBadNonce) &&
            bad_nonces++ < options_.max_bad_nonce_retries) {
            continue;  // the error's own Replay-Nonce (or a fresh one) is used next
        }
        if (response->status >= 500 && transient++ < options_.backoff.max_retries) {
            Clock::Duration wait = options_.backoff.delay(transient - 1, rng_);
            if (auto header = response->header("Retry-After")) {
                if (auto asked = parse_retry_after(*header, clock_.now())) {
                    wait = std::min<Clock::Duration>(*asked, options_.backoff.cap);
                }
            }
            clock_.sleep_for(wait);
            continue;
        }
        return Unexpected(std::move(error));
    }
}

Result<Client::Reply> Client::post(std::string_view step, const std::string& url,
                                   const std::optional<json>& payload, Signer signer,
                                   const crypto::PrivateKey* key) {
    const crypto::PrivateKey* signing_key = key ? key : (account_key_ ? &*account_key_ : nullptr);
    if (signing_key == nullptr) {
        return fail(ErrorCategory::kUsage, std::string(step) + ": no account key is set");
    }
    if (signer == Signer::kKid && !account_url_) {
        return fail(ErrorCategory::kUsage,
                    std::string(step) +
                        ": the account URL is unknown; register or look up the "
                        "account first");
    }
    std::string payload_text = payload ? payload->dump() : "";
    return post_signed_body(step, url, [&](const std::string& nonce) -> Result<std::string> {
        json header = {{"nonce", nonce}, {"url", url}};
        if (signer == Signer::kKid) {
            header["kid"] = *account_url_;
        } else {
            header["jwk"] = jose::public_jwk(signing_key->public_key());
        }
        CERTDOCK_TRY(jose::FlattenedJws jws, jose::sign_jws(*signing_key, header, payload_text));
        return jws.serialize();
    });
}

Result<Account> Client::with_account(std::string_view step, Result<Reply> reply) {
    if (!reply) return Unexpected(std::move(reply).error());
    auto location = reply->response.header("Location");
    std::string url = location ? *location : account_url_.value_or("");
    if (url.empty()) {
        return fail(
            ErrorCategory::kProtocol,
            std::string(step) + ": the CA did not say the account URL (no Location header)");
    }
    CERTDOCK_TRY(Account account, parse_account(reply->body, url));
    account_url_ = account.url;
    return account;
}

Result<Account> Client::register_account(const NewAccountRequest& request) {
    CERTDOCK_TRY(Directory dir, directory());
    if (dir.meta.external_account_required && !request.eab) {
        return fail(ErrorCategory::kUsage,
                    "newAccount: " + options_.directory_url +
                        " requires External Account Binding; give the key id and MAC key files "
                        "the CA issued");
    }
    if (!account_key_) return fail(ErrorCategory::kUsage, "newAccount: no account key is set");
    json payload = {{"termsOfServiceAgreed", request.agree_to_terms}};
    if (!request.contact.empty()) payload["contact"] = request.contact;
    if (request.eab) {
        CERTDOCK_TRY(jose::FlattenedJws binding,
                     jose::sign_external_account_binding(
                         account_key_->public_key(), request.eab->key_id, dir.new_account,
                         request.eab->mac_key, request.eab->algorithm));
        payload["externalAccountBinding"] = binding.to_json();
    }
    return with_account("newAccount", post("newAccount", dir.new_account, payload, Signer::kJwk));
}

Result<Account> Client::find_account() {
    CERTDOCK_TRY(Directory dir, directory());
    json payload = {{"onlyReturnExisting", true}};
    return with_account("account lookup",
                        post("account lookup", dir.new_account, payload, Signer::kJwk));
}

Result<Account> Client::fetch_account() {
    if (!account_url_) CERTDOCK_TRY_STATUS(find_account());
    return with_account("account", post("account", *account_url_, std::nullopt, Signer::kKid));
}

Result<Account> Client::update_contact(const std::vector<std::string>& contact) {
    if (!account_url_) CERTDOCK_TRY_STATUS(find_account());
    json payload = {{"contact", contact}};
    return with_account("account update",
                        post("account update", *account_url_, payload, Signer::kKid));
}

Result<Account> Client::deactivate_account() {
    if (!account_url_) CERTDOCK_TRY_STATUS(find_account());
    json payload = {{"status", "deactivated"}};
    return with_account("account deactivation",
                        post("account deactivation", *account_url_, payload, Signer::kKid));
}

Status Client::change_key(const crypto::PrivateKey& new_key) {
    CERTDOCK_TRY(Directory dir, directory());
    if (dir.key_change.empty()) {
        return fail(ErrorCategory::kUsage, "keyChange: the CA's directory offers no keyChange");
    }
    if (!account_url_) CERTDOCK_TRY_STATUS(find_account());
    // The inner JWS proves possession of the new key; the outer one, of the old (§7.3.5).
    json inner_header = {{"jwk", jose::public_jwk(new_key.public_key())}, {"url", dir.key_change}};
    json inner_payload = {{"account", *account_url_},
                          {"oldKey", jose::public_jwk(account_key_->public_key())}};
    CERTDOCK_TRY(jose::FlattenedJws inner,
                 jose::sign_jws(new_key, inner_header, inner_payload.dump()));
    CERTDOCK_TRY_STATUS(post("keyChange", dir.key_change, inner.to_json(), Signer::kKid));
    account_key_ = new_key;
    return {};
}

Result<Order> Client::new_order(const NewOrderRequest& request) {
    CERTDOCK_TRY(Directory dir, directory());
    if (request.identifiers.empty()) {
        return fail(ErrorCategory::kUsage, "newOrder: no names to order a certificate for");
    }
    json payload = {{"identifiers", json::array()}};
    for (const auto& id : request.identifiers)
        payload["identifiers"].push_back(identifier_json(id));
    if (request.profile) {
        if (!dir.meta.profiles.contains(*request.profile)) {
            std::string offered;
            for (const auto& [name, _] : dir.meta.profiles)
                offered += (offered.empty() ? "" : ", ") + name;
            return fail(ErrorCategory::kUsage,
                        "newOrder: the CA offers no profile \"" + *request.profile + "\"" +
                            (offered.empty() ? " (its directory lists no profiles)"
                                             : "; it offers: " + offered));
        }
        payload["profile"] = *request.profile;
    }
    if (request.replaces) payload["replaces"] = *request.replaces;
    CERTDOCK_TRY(Reply reply, post("newOrder", dir.new_order, payload, Signer::kKid));
    auto location = reply.response.header("Location");
    if (!location) {
        return fail(ErrorCategory::kProtocol, "newOrder: the CA did not say the order URL");
    }
    return parse_order(reply.body, *location);
}

Result<Order> Client::fetch_order(const std::string& url) {
    CERTDOCK_TRY(Reply reply, post("order", url, std::nullopt, Signer::kKid));
    return parse_order(reply.body, url);
}

Result<Authorization> Client::fetch_authorization(const std::string& url) {
    CERTDOCK_TRY(Reply reply, post("authorization", url, std::nullopt, Signer::kKid));
    return parse_authorization(reply.body, url);
}

Result<Authorization> Client::deactivate_authorization(const std::string& url) {
    json payload = {{"status", "deactivated"}};
    CERTDOCK_TRY(Reply reply, post("authorization deactivation", url, payload, Signer::kKid));
    return parse_authorization(reply.body, url);
}

Result<Challenge> Client::respond_to_challenge(const std::string& url) {
    CERTDOCK_TRY(Reply reply, post("challenge", url, json::object(), Signer::kKid));
    return parse_challenge(reply.body);
}

Clock::Duration Client::poll_delay(int attempt, const HttpResponse& response) const {
    if (auto header = response.header("Retry-After")) {
        if (auto asked = parse_retry_after(*header, clock_.now())) return *asked;
    }
    return options_.poll.delay(attempt);
}

Result<Authorization> Client::wait_for_authorization(const std::string& url,
                                                     Clock::TimePoint deadline) {
    for (int attempt = 0;; ++attempt) {
        CERTDOCK_TRY(Reply reply, post("authorization", url, std::nullopt, Signer::kKid));
        CERTDOCK_TRY(Authorization authz, parse_authorization(reply.body, url));
        if (authz.status == AcmeStatus::kValid) return authz;
        if (authz.status != AcmeStatus::kPending) {
            std::string message = "authorization for " + authz.identifier.to_string() + " is " +
                                  std::string(status_name(authz.status));
            const AcmeProblem* first = nullptr;
            for (const auto& challenge : authz.challenges) {
                if (!challenge.error) continue;
                message += "; " + challenge.type + ": " + describe_problem(*challenge.error);
                if (first == nullptr) first = &*challenge.error;
            }
            if (first == nullptr) return fail(ErrorCategory::kAcme, message);
            if (auto hint = problem_hint(first->type); !hint.empty()) {
                message += " (" + std::string(hint) + ")";
            }
            return Unexpected(Error(ErrorCategory::kAcme, message).with_problem(*first));
        }
        Clock::Duration wait = poll_delay(attempt, reply.response);
        if (clock_.now() + wait > deadline) {
            return fail(ErrorCategory::kNetwork, "authorization for " +
                                                     authz.identifier.to_string() +
                                                     " still pending at the deadline; the CA has "
                                                     "not validated it yet");
        }
        clock_.sleep_for(wait);
    }
}

Result<Order> Client::finalize(const Order& order, const Bytes& csr_der) {
    json payload = {{"csr", base64url_encode(csr_der)}};
    CERTDOCK_TRY(Reply reply, post("finalize", order.finalize, payload, Signer::kKid));
    return parse_order(reply.body, order.url);
}

Result<Order> Client::wait_for_order(const std::string& url, Clock::TimePoint deadline) {
    for (int attempt = 0;; ++attempt) {
        CERTDOCK_TRY(Reply reply, post("order", url, std::nullopt, Signer::kKid));
        CERTDOCK_TRY(Order order, parse_order(reply.body, url));
        if (order.status == AcmeStatus::kValid) return order;
        if (order.status == AcmeStatus::kInvalid) {
            Error error(ErrorCategory::kAcme,
                        "order " + url + " became invalid" +
                            (order.error ? ": " + describe_problem(*order.error) : ""));
            if (order.error) error = std::move(error).with_problem(*order.error);
            return Unexpected(std::move(error));
        }
        if (order.status == AcmeStatus::kPending || order.status == AcmeStatus::kReady) {
            return fail(ErrorCategory::kProtocol,
                        "order " + url + " is " + std::string(status_name(order.status)) +
                            "; it cannot become valid without further steps");
        }
        Clock::Duration wait = poll_delay(attempt, reply.response);
        if (clock_.now() + wait > deadline) {
            return fail(ErrorCategory::kNetwork,
                        "order " + url + " still processing at the deadline");
        }
        clock_.sleep_for(wait);
    }
}

Result<std::vector<CertificateChain>> Client::download_certificate(const std::string& url,
                                                                   bool with_alternates) {
    std::vector<CertificateChain> chains;
    std::vector<std::string> urls = {url};
    for (size_t i = 0; i < urls.size(); ++i) {
        CERTDOCK_TRY(Reply reply,
                     post("certificate download", urls[i], std::nullopt, Signer::kKid));
        auto certs = crypto::parse_certificates(reply.response.body);
        if (!certs || certs->empty()) {
            return fail(ErrorCategory::kProtocol,
                        "certificate download: " + urls[i] + " did not answer a PEM chain" +
                            (certs ? "" : ": " + certs.error().message()));
        }
        CertificateChain chain;
        chain.pem = reply.response.body;
        chain.root_issuer = certs->back().issuer();
        chain.certificates = std::move(*certs);
        chains.push_back(std::move(chain));
        if (with_alternates && i == 0) {
            for (auto& alternate : reply.response.links("alternate")) urls.push_back(alternate);
        }
    }
    return chains;
}

Status Client::revoke(const crypto::Certificate& certificate, RevocationReason reason,
                      const std::optional<crypto::PrivateKey>& certificate_key) {
    CERTDOCK_TRY(Directory dir, directory());
    json payload = {{"certificate", base64url_encode(certificate.der())},
                    {"reason", static_cast<int>(reason)}};
    if (certificate_key) {
        CERTDOCK_TRY_STATUS(
            post("revokeCert", dir.revoke_cert, payload, Signer::kJwk, &*certificate_key));
    } else {
        CERTDOCK_TRY_STATUS(post("revokeCert", dir.revoke_cert, payload, Signer::kKid));
    }
    return {};
}

Result<RenewalInfo> Client::renewal_info(const crypto::Certificate& certificate,
                                         std::optional<Clock::Duration>* retry_after) {
    CERTDOCK_TRY(Directory dir, directory());
    if (!dir.renewal_info) {
        return fail(ErrorCategory::kUsage, "renewalInfo: the CA does not offer ARI (RFC 9773)");
    }
    CERTDOCK_TRY(std::string cert_id, crypto::ari_cert_id(certificate));
    std::string url = *dir.renewal_info + (dir.renewal_info->ends_with('/') ? "" : "/") + cert_id;
    CERTDOCK_TRY(HttpResponse response, send({"GET", url, {}, {}, {}}, "renewalInfo"));
    remember_nonce(response);
    if (response.status != 200) return Unexpected(step_error("renewalInfo", url, response));
    if (retry_after) {
        auto header = response.header("Retry-After");
        *retry_after = header ? parse_retry_after(*header, clock_.now()) : std::nullopt;
    }
    auto body = json::parse(response.body, nullptr, false);
    if (body.is_discarded()) {
        return fail(ErrorCategory::kProtocol, "renewalInfo: " + url + " answered invalid JSON");
    }
    return parse_renewal_info(body);
}

}  // namespace certdock::acme
