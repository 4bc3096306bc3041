#include "acme/issuance.hpp"

#include <algorithm>

#include "acme/problem.hpp"
#include "base/time.hpp"

namespace certdock::acme {
namespace {

struct PresentedChallenge {
    challenge::Solver* solver;
    challenge::ChallengeTask task;
    std::string challenge_url;
    std::string authorization_url;
};

// Cleans up every presented challenge when the issuance ends, however it ends.
class CleanupGuard {
public:
    explicit CleanupGuard(std::vector<PresentedChallenge>& presented) : presented_(presented) {}
    CleanupGuard(const CleanupGuard&) = delete;
    CleanupGuard& operator=(const CleanupGuard&) = delete;
    ~CleanupGuard() {
        for (auto& item : presented_) (void)item.solver->cleanup(item.task);
    }

private:
    std::vector<PresentedChallenge>& presented_;
};

std::string offered_types(const Authorization& authz) {
    std::string text;
    for (const auto& c : authz.challenges) text += (text.empty() ? "" : ", ") + c.type;
    return text.empty() ? "none" : text;
}

Result<PresentedChallenge> present(Client& client, const Authorization& authz,
                                   const std::vector<challenge::Solver*>& solvers) {
    std::string configured;
    for (challenge::Solver* solver : solvers) {
        std::string_view type = challenge::challenge_type_name(solver->type());
        configured += (configured.empty() ? "" : ", ") + std::string(type);
        const Challenge* offered = authz.challenge_of_type(type);
        if (offered == nullptr) continue;
        challenge::ChallengeTask task{
            solver->type(), authz.identifier.type, authz.identifier.value,
            authz.wildcard, offered->token,        client.key_authorization(offered->token)};
        Status presented = solver->present(task);
        if (!presented) {
            (void)solver->cleanup(task);
            return Unexpected(Error(ErrorCategory::kIo, "cannot present the " + std::string(type) +
                                                            " response for " +
                                                            authz.identifier.to_string())
                                  .caused_by(presented.error()));
        }
        return PresentedChallenge{solver, std::move(task), offered->url, authz.url};
    }
    return fail(ErrorCategory::kUsage, "the CA offers " + offered_types(authz) + " for " +
                                           authz.identifier.to_string() + ", but only " +
                                           configured + " is configured");
}

const CertificateChain& choose_chain(const std::vector<CertificateChain>& chains,
                                     const std::optional<std::string>& preferred) {
    if (preferred) {
        for (const auto& chain : chains) {
            if (chain.root_issuer.find(*preferred) != std::string::npos) return chain;
        }
    }
    return chains.front();
}

}  // namespace

Result<IssuedCertificate> issue_certificate(Client& client, const IssueRequest& request,
                                            const std::vector<challenge::Solver*>& solvers,
                                            Clock& clock, const ProgressCallback& progress) {
    auto step = [&](std::string_view text) {
        if (progress) progress(text);
    };
    const Clock::TimePoint deadline = clock.now() + request.timeout;

    NewOrderRequest order_request{request.identifiers, request.profile, request.replaces};
    step("creating the order");
    auto created = client.new_order(order_request);
    if (!created && request.replaces &&
        has_problem(created.error(), ProblemType::kAlreadyReplaced)) {
        // Another client renewed this certificate already; a plain order still gets ours.
        step("the certificate was already replaced; ordering without replaces");
        order_request.replaces.reset();
        created = client.new_order(order_request);
    }
    if (!created) return Unexpected(std::move(created).error());
    Order order = std::move(*created);

    IssuedCertificate issued;
    issued.order_url = order.url;
    std::vector<PresentedChallenge> presented;
    {
        CleanupGuard cleanup(presented);
        for (const auto& url : order.authorizations) {
            CERTDOCK_TRY(Authorization authz, client.fetch_authorization(url));
            if (authz.status == AcmeStatus::kValid) continue;
            if (authz.status != AcmeStatus::kPending) {
                return fail(ErrorCategory::kAcme, "authorization for " +
                                                      authz.identifier.to_string() + " is " +
                                                      std::string(status_name(authz.status)));
            }
            step("presenting a response for " + authz.identifier.to_string());
            CERTDOCK_TRY(PresentedChallenge item, present(client, authz, solvers));
            presented.push_back(std::move(item));
        }
        for (auto& item : presented) {
            CERTDOCK_TRY_STATUS(item.solver->wait_ready(item.task));
        }
        for (auto& item : presented) {
            step("asking the CA to validate " + item.task.identifier + " (" +
                 std::string(challenge::challenge_type_name(item.task.type)) + ")");
            CERTDOCK_TRY_STATUS(client.respond_to_challenge(item.challenge_url));
        }
        for (auto& item : presented) {
            CERTDOCK_TRY_STATUS(client.wait_for_authorization(item.authorization_url, deadline));
            ++issued.authorizations_validated;
        }
    }

    step("finalizing with the CSR");
    CERTDOCK_TRY(Order current, client.fetch_order(order.url));
    if (current.status == AcmeStatus::kReady) {
        CERTDOCK_TRY(current, client.finalize(current, request.csr_der));
    }
    if (current.status != AcmeStatus::kValid) {
        CERTDOCK_TRY(current, client.wait_for_order(order.url, deadline));
    }
    if (!current.certificate) {
        return fail(ErrorCategory::kProtocol,
                    "order " + order.url + " is valid but names no certificate URL");
    }
    step("downloading the certificate");
    CERTDOCK_TRY(auto chains, client.download_certificate(*current.certificate,
                                                          request.preferred_chain.has_value()));
    issued.certificate_url = *current.certificate;
    issued.chains_offered = chains.size();
    issued.chain = choose_chain(chains, request.preferred_chain);
    return issued;
}

std::optional<Clock::Duration> requested_retry_after(const Error& error, SystemTime now) {
    constexpr std::string_view kAsked = "the CA asks to retry after ";
    const std::string text = error.describe();
    const size_t at = text.find(kAsked);
    if (at == std::string::npos) return std::nullopt;
    const std::string_view rest = std::string_view(text).substr(at + kAsked.size());
    auto when = parse_rfc3339(rest.substr(0, rest.find_first_of(" ;)")));
    if (!when) return std::nullopt;
    return std::max<Clock::Duration>(*when - now, Clock::Duration::zero());
}

}  // namespace certdock::acme
