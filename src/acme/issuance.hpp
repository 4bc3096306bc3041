#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "acme/client.hpp"
#include "challenge/solver.hpp"

namespace certdock::acme {

struct IssueRequest {
    std::vector<Identifier> identifiers{};
    Bytes csr_der{};
    std::optional<std::string> profile{};
    std::optional<std::string> replaces{};  // ARI id of the certificate this one renews
    // Prefer the chain whose root issuer contains this text (certbot's --preferred-chain).
    std::optional<std::string> preferred_chain{};
    std::chrono::seconds timeout{300};  // for the whole issuance, polling included
};

struct IssuedCertificate {
    CertificateChain chain{};
    std::string order_url{};
    std::string certificate_url{};
    size_t chains_offered = 1;
    size_t authorizations_validated = 0;  // the rest were already valid
};

// A step of the issuance as it happens, for a progress line on a terminal.
using ProgressCallback = std::function<void(std::string_view step)>;

// The whole RFC 8555 issuance: new order, each pending authorization answered with the
// first solver (in the given order) whose challenge type the CA offers, finalize, download.
// Every response presented is cleaned up, whether the order succeeds or not.
Result<IssuedCertificate> issue_certificate(Client& client, const IssueRequest& request,
                                            const std::vector<challenge::Solver*>& solvers,
                                            Clock& clock, const ProgressCallback& progress = {});

// How long the CA asked to wait (its Retry-After) before trying again after the failure
// `error` describes, counted from `now`; nullopt when it asked nothing. The client records the
// time in a rateLimited failure's message ("the CA asks to retry after <RFC 3339>").
std::optional<Clock::Duration> requested_retry_after(const Error& error, SystemTime now);

}  // namespace certdock::acme
