#include "solver_factory.hpp"

#include <iostream>

#include "challenge/dns01_hook.hpp"
#include "challenge/dns01_rfc2136.hpp"
#include "challenge/http01_haproxy_map.hpp"
#include "challenge/http01_standalone.hpp"
#include "challenge/http01_webroot.hpp"
#include "challenge/tls_alpn01_standalone.hpp"
#include "dns/tsig_key.hpp"

namespace certdock::cli {
namespace {

// The issuance flow cannot act on a failed cleanup, but the operator can: say which HAProxy
// may still hold the token.
class WarnOnFailedCleanup final : public challenge::Solver {
public:
    explicit WarnOnFailedCleanup(challenge::SolverPtr inner) : inner_(std::move(inner)) {}
    challenge::ChallengeType type() const override { return inner_->type(); }
    Status present(const challenge::ChallengeTask& task) override { return inner_->present(task); }
    Status wait_ready(const challenge::ChallengeTask& task) override {
        return inner_->wait_ready(task);
    }
    Status cleanup(const challenge::ChallengeTask& task) override {
        Status cleaned = inner_->cleanup(task);
        if (!cleaned) std::cerr << "certdock: warning: " << cleaned.error().describe() << "\n";
        return cleaned;
    }

private:
    challenge::SolverPtr inner_;
};

Result<challenge::SolverPtr> make_haproxy_map_solver(const SolverSpec& spec) {
    challenge::Http01HaproxyMapOptions map_options;
    map_options.map = spec.haproxy_map;
    map_options.endpoints = spec.haproxy_endpoints;
    CERTDOCK_TRY(auto solver, challenge::Http01HaproxyMap::create(std::move(map_options)));
    CERTDOCK_TRY_STATUS(solver->check_ready());
    return challenge::SolverPtr(std::make_unique<WarnOnFailedCleanup>(std::move(solver)));
}

}  // namespace

Result<std::pair<std::string, std::uint16_t>> parse_listen(const std::string& text,
                                                           const std::string& flag) {
    size_t colon = text.rfind(':');
    if (colon == std::string::npos) {
        return fail(ErrorCategory::kUsage,
                    flag + " '" + text + "': expected ADDRESS:PORT or :PORT");
    }
    std::string host = text.substr(0, colon);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
    }
    int port = 0;
    try {
        port = std::stoi(text.substr(colon + 1));
    } catch (const std::exception&) {
        port = -1;
    }
    if (port < 0 || port > 65535) {
        return fail(ErrorCategory::kUsage, flag + " '" + text + "': the port must be 0 to 65535");
    }
    return std::pair<std::string, std::uint16_t>(host, static_cast<std::uint16_t>(port));
}

Result<challenge::SolverPtr> build_solver(const SolverSpec& spec) {
    if (!spec.haproxy_map.empty()) {
        if (spec.type != challenge::ChallengeType::kHttp01) {
            return fail(ErrorCategory::kUsage, "a HAProxy map answers http-01 only");
        }
        return make_haproxy_map_solver(spec);
    }
    switch (spec.type) {
        case challenge::ChallengeType::kHttp01: {
            if (!spec.webroot.empty()) {
                return challenge::SolverPtr(
                    std::make_unique<challenge::Http01Webroot>(spec.webroot));
            }
            CERTDOCK_TRY(auto listen, parse_listen(spec.http_listen, "--http-listen"));
            return challenge::SolverPtr(
                std::make_unique<challenge::Http01Standalone>(challenge::Http01StandaloneOptions{
                    .address = listen.first, .port = listen.second}));
        }
        case challenge::ChallengeType::kTlsAlpn01: {
            CERTDOCK_TRY(auto listen, parse_listen(spec.tls_alpn_listen, "--tls-alpn-listen"));
            return challenge::SolverPtr(std::make_unique<challenge::TlsAlpn01Standalone>(
                challenge::TlsAlpn01StandaloneOptions{.address = listen.first,
                                                      .port = listen.second}));
        }
        case challenge::ChallengeType::kDns01: {
            if (!spec.dns_hook.empty()) {
                return challenge::SolverPtr(std::make_unique<challenge::Dns01Hook>(
                    challenge::HookOptions{.executable = spec.dns_hook}));
            }
            if (spec.rfc2136_server.empty()) {
                return fail(ErrorCategory::kUsage,
                            "dns-01 needs --dns-hook PROGRAM or --rfc2136-server ADDRESS");
            }
            challenge::Rfc2136Options rfc2136;
            rfc2136.update.server = spec.rfc2136_server;
            if (!spec.tsig_key_file.empty()) {
                CERTDOCK_TRY(rfc2136.update.key, dns::load_tsig_key(spec.tsig_key_file));
            }
            rfc2136.zone = spec.dns_zone;
            rfc2136.check_servers = spec.dns_check_servers;
            return challenge::Dns01Rfc2136::create(std::move(rfc2136));
        }
    }
    return fail(ErrorCategory::kUsage, "unknown challenge type");
}

}  // namespace certdock::cli
