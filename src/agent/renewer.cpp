#include "agent/renewer.hpp"

#include <algorithm>
#include <filesystem>
#include <system_error>
#include <utility>

#include "acme/issuance.hpp"
#include "acme/problem.hpp"
#include "agent/bundle_cache.hpp"
#include "agent/config_drift.hpp"
#include "agent/deployer.hpp"
#include "agent/key_policy.hpp"
#include "agent/key_rotation.hpp"
#include "agent/presented_challenges.hpp"
#include "agent/retry_schedule.hpp"
#include "base/file.hpp"
#include "challenge/subprocess.hpp"
#include "crypto/bundle.hpp"
#include "crypto/certificate.hpp"
#include "crypto/csr.hpp"
#include "crypto/key.hpp"

namespace certdock::agent {
namespace {

SystemTime whole_seconds(SystemTime time) {
    return std::chrono::time_point_cast<std::chrono::seconds>(time);
}

// The bundle HAProxy loads, when it holds a certificate, a chain and the certificate's key.
std::optional<crypto::BundleParts> parse_usable_bundle(std::string_view text,
                                                       crypto::CertificateMemo* chain_memo) {
    auto parts = crypto::parse_haproxy_bundle(text, std::nullopt, chain_memo);
    if (!parts || !parts->key || !crypto::check_key_matches(*parts->key, parts->leaf)) {
        return std::nullopt;
    }
    return std::move(*parts);
}

// What a scan needs of the bundle: the certificate and its chain, the key checked but not
// kept (it would be most of the cache's memory). Parsed once per version of the file
// (bundle_cache.hpp).
std::optional<crypto::BundleParts> read_bundle(const std::filesystem::path& file) {
    return shared_bundle_cache().read(
        file,
        [](std::string_view text,
           crypto::CertificateMemo& chain_memo) -> std::optional<crypto::BundleParts> {
            auto parts = parse_usable_bundle(text, &chain_memo);
            if (parts) parts->key.reset();
            return parts;
        });
}

// The whole bundle with its key, read now: for a delivery.
std::optional<crypto::BundleParts> read_bundle_with_key(const std::filesystem::path& file) {
    auto text = read_file(file);
    return text ? parse_usable_bundle(*text, nullptr) : std::nullopt;
}

SystemTime earliest(SystemTime time, const std::optional<SystemTime>& other) {
    return other ? std::min(time, *other) : time;
}

// The ARI window the state remembers, as schedule_renewal takes it.
std::optional<acme::RenewalInfo> ari_of(const CertState& state) {
    if (!state.ari_window_start || !state.ari_window_end) return std::nullopt;
    acme::RenewalInfo info{*state.ari_window_start, *state.ari_window_end, std::nullopt};
    if (!state.ari_explanation_url.empty()) info.explanation_url = state.ari_explanation_url;
    return info;
}

// What the state knows from ARI belongs to one certificate; another one starts afresh.
void forget_ari(CertState& state) {
    state.ari_cert_id.clear();
    state.ari_window_start.reset();
    state.ari_window_end.reset();
    state.ari_explanation_url.clear();
    state.next_ari_poll.reset();
}

bool ari_poll_due(const CertState& state, SystemTime now) {
    return !state.next_ari_poll || *state.next_ari_poll <= now;
}

// RFC 9773 `replaces`: the served certificate's certID, when this CA answered renewalInfo for
// it (so a certificate from another CA is never named) and the new order keeps one of its
// names (a replacement sharing none is refused).
std::optional<std::string> replaces_for(acme::Client& client, const CertState& state,
                                        const crypto::Certificate& served,
                                        const std::vector<acme::Identifier>& identifiers) {
    if (state.ari_cert_id.empty()) return std::nullopt;
    auto directory = client.directory();
    if (!directory || !directory->renewal_info) return std::nullopt;
    auto id = crypto::ari_cert_id(served);
    if (!id || *id != state.ari_cert_id) return std::nullopt;
    const std::vector<std::string> dns = served.dns_names();
    const std::vector<std::string> ips = served.ip_addresses();
    for (const auto& identifier : identifiers) {
        const auto& names = identifier.type == "ip" ? ips : dns;
        if (std::find(names.begin(), names.end(), identifier.value) != names.end()) return *id;
    }
    return std::nullopt;
}

Validity validity_of(const CertState& state) {
    return {state.not_before.value_or(SystemTime{}), state.not_after.value_or(SystemTime{})};
}

RenewalPolicy renewal_policy(const CertificateConfig& certificate) {
    RenewalPolicy policy;
    if (certificate.renew_before) policy.renew_before = *certificate.renew_before;
    return policy;
}

void record_certificate(CertState& state, const crypto::Certificate& leaf) {
    state.serial = leaf.serial_hex();
    state.not_before = leaf.not_before();
    state.not_after = leaf.not_after();
    state.key_pin = leaf.public_key().pin_sha256();
}

// reuse-key on: the key in key-file, made (0600) with the policy's type when missing.
Result<crypto::PrivateKey> stable_key(const KeyPolicy& policy, bool& created) {
    CERTDOCK_TRY(DetectedKeySpec detected, detect_key_policy(policy));
    if (std::filesystem::exists(policy.key_file)) {
        CERTDOCK_TRY(std::string pem, read_file(policy.key_file));
        auto key = crypto::PrivateKey::from_pem(pem);
        if (!key) {
            return Unexpected(Error(ErrorCategory::kInput, "key-file " + policy.key_file.string())
                                  .caused_by(std::move(key).error()));
        }
        return key;
    }
    CERTDOCK_TRY(crypto::PrivateKey key, crypto::PrivateKey::generate(detected.spec));
    CERTDOCK_TRY(std::string pem, key.to_pem());
    CERTDOCK_TRY_STATUS(create_parent_directories(policy.key_file));
    CERTDOCK_TRY_STATUS(
        write_file_atomic(policy.key_file, pem, {.mode = 0600, .overwrite = false}));
    created = true;
    return key;
}

struct KeyAndCsr {
    crypto::PrivateKey key;
    crypto::Csr csr;
};

// CSR mode: the CSR's key must already be in the bundle, since HAProxy needs it there and
// certdock never sees it otherwise.
Result<KeyAndCsr> csr_mode_material(const CertificateConfig& certificate) {
    CERTDOCK_TRY(std::string pem, read_file(certificate.csr));
    CERTDOCK_TRY(crypto::Csr csr, crypto::Csr::from_pem(pem));
    auto bundle = read_bundle_with_key(certificate.placement.file);
    if (!bundle || !bundle->key->public_key().same_key(csr.public_key())) {
        return fail(ErrorCategory::kInput,
                    "CSR mode: " + certificate.placement.file.string() +
                        " must hold the key of the CSR " + certificate.csr.string() + " (" +
                        csr.public_key().identify() +
                        "); write it there (with any certificate for it, e.g. certdock "
                        "bootstrap --key) before the first issuance");
    }
    return KeyAndCsr{std::move(*bundle->key), std::move(csr)};
}

// `key_events`: what the key policy made or decided, one log line each.
Result<KeyAndCsr> key_material(const CertificateConfig& certificate, SystemTime now,
                               bool& key_created, std::vector<std::string>& key_events) {
    if (certificate.csr_mode()) return csr_mode_material(certificate);
    const KeyPolicy& policy = certificate.key;
    std::optional<crypto::PrivateKey> key;
    switch (policy.reuse) {
        case ReuseKey::kOn: {
            CERTDOCK_TRY(key, stable_key(policy, key_created));
            break;
        }
        case ReuseKey::kOff: {
            crypto::KeySpec spec = policy.spec.value_or(kDefaultKeySpec);
            CERTDOCK_TRY(key, crypto::PrivateKey::generate(spec));
            break;
        }
        case ReuseKey::kRotate: {
            CERTDOCK_TRY(RotationPlan plan, plan_rotation(policy, now));
            key_events = std::move(plan.events);
            key_events.push_back(std::move(plan.reason));
            key = std::move(plan.key);
            break;
        }
    }
    crypto::CsrOptions options;
    for (const auto& name : certificate.domains) {
        const auto id = acme::identifier_for(name);
        (id.type == "ip" ? options.ip_addresses : options.dns_names).push_back(id.value);
    }
    CERTDOCK_TRY(crypto::Csr csr, crypto::Csr::create(*key, options));
    return KeyAndCsr{std::move(*key), std::move(csr)};
}

// "HAProxy /run/haproxy.sock: connection refused; probe 127.0.0.1:443 (SNI a.test): serves
// serial 0a, not the new one".
std::string delivery_failures(const DeployReport& report) {
    std::string text;
    auto add = [&](const std::string& part) { text += (text.empty() ? "" : "; ") + part; };
    for (const auto& haproxy : report.haproxies) {
        if (haproxy.action != HaproxyAction::kFailed) continue;
        add("HAProxy " + haproxy.address + ": " +
            (haproxy.error ? haproxy.error->describe() : std::string("failed")));
    }
    for (const auto& probe : report.probes) {
        if (probe.serves_new) continue;
        add("probe " + describe(probe.target) + ": " +
            (probe.error ? probe.error->describe()
                         : "serves serial " + probe.served_serial + ", not the new one"));
    }
    return "not delivered: " + text;
}

}  // namespace

std::string_view due_kind_name(DueKind kind) {
    switch (kind) {
        case DueKind::kNotDue:
            return "not-due";
        case DueKind::kWaitingRetry:
            return "waiting-retry";
        case DueKind::kFirstIssue:
            return "first-issue";
        case DueKind::kRenewal:
            return "renewal";
        case DueKind::kRetry:
            return "retry";
        case DueKind::kRedeliver:
            return "redeliver";
        case DueKind::kConfigChanged:
            return "config-changed";
    }
    return "unknown";
}

std::vector<std::string> deploy_hook_environment(const CertificateConfig& certificate,
                                                 std::string_view serial,
                                                 std::string_view not_after) {
    std::string domains;
    for (const auto& name : certificate.domains) domains += (domains.empty() ? "" : " ") + name;
    std::string haproxies;
    for (const auto& name : certificate.placement.haproxy) {
        haproxies += (haproxies.empty() ? "" : " ") + name;
    }
    const Placement& placement = certificate.placement;
    return {"CERTDOCK_CERT_NAME=" + certificate.name,
            "CERTDOCK_DOMAINS=" + domains,
            "CERTDOCK_CERT_FILE=" + placement.file.string(),
            "CERTDOCK_RUNTIME_NAME=" +
                (placement.runtime_name.empty() ? placement.file.string() : placement.runtime_name),
            "CERTDOCK_HAPROXY_TARGETS=" + haproxies,
            "CERTDOCK_SERIAL=" + std::string(serial),
            "CERTDOCK_NOT_AFTER=" + std::string(not_after),
            "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"};
}

Renewer::Renewer(ConfigPtr config, RenewerDeps deps)
    : config_(std::move(config)), deps_(std::move(deps)) {
    if (!deps_.random) deps_.random = make_uniform_random();
}

void Renewer::log(const CertificateConfig& certificate, std::string_view line) const {
    if (deps_.log) deps_.log("cert=" + certificate.name + " " + std::string(line));
}

RenewalDecision Renewer::decide_renewal(const CertificateConfig& certificate,
                                        const CertState& state, SystemTime now) const {
    return schedule_renewal(validity_of(state), ari_of(state), renewal_policy(certificate), now,
                            deps_.random);
}

bool Renewer::refresh_ari(const CertificateConfig& certificate, const crypto::Certificate& served,
                          CertState& state, SystemTime now) {
    const std::optional<acme::RenewalInfo> before = ari_of(state);
    // Whatever happens, the CA is not asked again before this (a failure included).
    state.next_ari_poll = next_ari_poll(now, std::nullopt);
    auto failed = [&](const Error& error) {
        log(certificate, "ARI: " + error.describe() + "; keeping the renewal time, asking again " +
                             format_rfc3339(*state.next_ari_poll));
        return false;
    };
    const AcmeAccount* account = config_->find_account(certificate.acme);
    if (account == nullptr || !deps_.clients) return false;
    auto client = deps_.clients(*account, false);
    if (!client) return failed(client.error());
    auto directory = (*client)->directory();
    if (!directory) return failed(directory.error());
    if (!directory->renewal_info) {
        // No ARI at this CA (or no longer): the lifetime rules decide.
        forget_ari(state);
        state.next_ari_poll = next_ari_poll(now, std::nullopt);
        return before.has_value();
    }
    std::optional<Clock::Duration> retry_after;
    auto info = (*client)->renewal_info(served, &retry_after);
    if (!info) return failed(info.error());
    auto cert_id = crypto::ari_cert_id(served);
    if (!cert_id) return failed(cert_id.error());

    // Whole seconds, as the state keeps them, so an unchanged window compares equal.
    state.ari_cert_id = *cert_id;
    state.ari_window_start = whole_seconds(info->window_start);
    state.ari_window_end = whole_seconds(info->window_end);
    state.ari_explanation_url = info->explanation_url.value_or("");
    state.next_ari_poll = next_ari_poll(now, retry_after);
    const bool moved = !before || before->window_start != *state.ari_window_start ||
                       before->window_end != *state.ari_window_end;
    if (moved) {
        log(certificate, "ARI window " + format_rfc3339(*state.ari_window_start) + ".." +
                             format_rfc3339(*state.ari_window_end) + (before ? " (moved)" : "") +
                             "; next poll " + format_rfc3339(*state.next_ari_poll));
    }
    return moved;
}

Result<DueCheck> Renewer::check_due(const CertificateConfig& certificate) {
    bool leftovers = false;
    auto check = decide_due(certificate, leftovers);
    if (check) check->leftovers = leftovers;
    return check;
}

Status Renewer::clean_up_leftovers(const CertificateConfig& certificate) {
    CERTDOCK_TRY(CertState state, deps_.states->load(certificate.name));
    CERTDOCK_TRY(challenge::SolverPtr solver, deps_.solvers(certificate));
    for (const auto& line : clean_up_presented(*solver, state)) log(certificate, line);
    return deps_.states->save(certificate.name, state);
}

Result<DueCheck> Renewer::decide_due(const CertificateConfig& certificate, bool& leftovers) {
    const SystemTime now = whole_seconds(deps_.clock->now());
    CERTDOCK_TRY(CertState state, deps_.states->load(certificate.name));
    leftovers = !state.presented.empty();
    const CertState loaded = state;
    auto saved = [&](DueCheck check) -> Result<DueCheck> {
        if (state != loaded) CERTDOCK_TRY_STATUS(deps_.states->save(certificate.name, state));
        return check;
    };
    const bool failing = state.consecutive_failures > 0;
    const bool retry_pending = failing && state.next_retry && *state.next_retry > now;
    const auto& file = certificate.placement.file;

    auto bundle = read_bundle(file);
    if (!bundle || bundle->leaf.is_self_signed()) {
        if (retry_pending) {
            return DueCheck{DueKind::kWaitingRetry, *state.next_retry, state.next_retry_reason};
        }
        return DueCheck{DueKind::kFirstIssue, now,
                        bundle ? file.string() + " holds a self-signed placeholder"
                               : file.string() + " holds no certificate with its key yet"};
    }
    const std::string serial = bundle->leaf.serial_hex();
    if (serial != state.serial) {
        if (failing) {
            return DueCheck{
                DueKind::kRedeliver, now,
                file.string() + " holds serial " + serial + ", issued but not yet proven served"};
        }
        // A delivery cut short (kill -9 between the disk and HAProxy), a state deleted, or a
        // certificate put there by hand: prove it served before trusting it. A HAProxy that
        // already serves it makes this a cheap check.
        const Placement& placement = certificate.placement;
        if (!placement.haproxy.empty() || !placement.probes.empty()) {
            return DueCheck{
                DueKind::kRedeliver, now,
                file.string() + " holds serial " + serial + ", which was never proven served"};
        }
        // Disk only: nothing to prove; schedule from what is on disk.
        record_certificate(state, bundle->leaf);
        state.next_renewal.reset();
        forget_ari(state);
    }
    if (failing) {
        if (retry_pending) {
            return saved({DueKind::kWaitingRetry, *state.next_retry, state.next_retry_reason});
        }
        return saved({DueKind::kRetry, now, state.next_retry_reason});
    }
    if (auto drift = config_drift(certificate, bundle->leaf)) {
        return saved({DueKind::kConfigChanged, now, *drift});
    }
    // The network only when a poll is due; a window that moved re-decides the renewal time,
    // an unchanged one keeps the time already picked.
    if (ari_poll_due(state, now) && refresh_ari(certificate, bundle->leaf, state, now)) {
        state.next_renewal.reset();
    }
    if (!state.next_renewal) {
        RenewalDecision decision = decide_renewal(certificate, state, now);
        state.next_renewal = decision.renew_at;
        state.next_renewal_reason = decision.reason;
    }
    // Only here is the next poll in the future and ARI's to make (not while a retry waits).
    if (*state.next_renewal <= now) {
        return saved({DueKind::kRenewal, now, state.next_renewal_reason, state.next_ari_poll});
    }
    return saved(
        {DueKind::kNotDue, *state.next_renewal, state.next_renewal_reason, state.next_ari_poll});
}

Result<crypto::Certificate> Renewer::renew(const CertificateConfig& certificate,
                                           const DueCheck& check, CertState& state,
                                           bool& hooks_failed) {
    std::optional<crypto::BundleParts> parts;
    if (check.kind == DueKind::kRedeliver) {
        parts = read_bundle_with_key(certificate.placement.file);
        if (!parts) return fail(ErrorCategory::kIo, "the bundle to redeliver is gone");
    } else {
        bool key_created = false;
        std::vector<std::string> key_events;
        CERTDOCK_TRY(
            KeyAndCsr material,
            key_material(certificate, whole_seconds(deps_.clock->now()), key_created, key_events));
        if (key_created) {
            log(certificate, "key created in " + certificate.key.key_file.string() + " (" +
                                 material.key.describe() + ")");
        }
        for (const auto& event : key_events) log(certificate, event);
        const AcmeAccount* account = config_->find_account(certificate.acme);
        if (account == nullptr) {
            return fail(ErrorCategory::kInternal, "no account named " + certificate.acme);
        }
        CERTDOCK_TRY(challenge::SolverPtr solver, deps_.solvers(certificate));
        // What a renewal cut short (kill -9) left in place goes first; every response from
        // here on is in the state while it is out there.
        auto save_state = [&] { return deps_.states->save(certificate.name, state); };
        if (!state.presented.empty()) {
            for (const auto& line : clean_up_presented(*solver, state)) log(certificate, line);
            CERTDOCK_TRY_STATUS(save_state());
        }
        RecordingSolver recording(*solver, state, save_state);
        CERTDOCK_TRY(acme::Client * client, deps_.clients(*account, false));

        acme::IssueRequest request;
        for (const auto& name : certificate.domains) {
            request.identifiers.push_back(acme::identifier_for(name));
        }
        if (certificate.csr_mode()) {
            request.identifiers.clear();
            for (const auto& name : material.csr.dns_names()) {
                request.identifiers.push_back(acme::Identifier::dns(name));
            }
            for (const auto& ip : material.csr.ip_addresses()) {
                request.identifiers.push_back(acme::Identifier::ip(ip));
            }
        }
        request.csr_der = material.csr.der();
        auto served = read_bundle(certificate.placement.file);
        if (served && !served->leaf.is_self_signed()) {
            request.replaces = replaces_for(*client, state, served->leaf, request.identifiers);
        }
        const std::string& profile =
            certificate.profile.empty() ? account->profile : certificate.profile;
        if (!profile.empty()) request.profile = profile;
        if (!certificate.preferred_chain.empty()) {
            request.preferred_chain = certificate.preferred_chain;
        }
        request.timeout = deps_.issue_timeout;
        auto progress = [&](std::string_view step) { log(certificate, step); };

        log(certificate,
            "ordering from " + account->directory + " (" + check.reason + ")" +
                (request.replaces ? "; replaces ARI certID " + *request.replaces : std::string()));
        auto issued =
            acme::issue_certificate(*client, request, {&recording}, *deps_.clock, progress);
        if (!issued && acme::has_problem(issued.error(), acme::ProblemType::kAccountDoesNotExist)) {
            log(certificate, "the CA does not know the cached account; looking it up again");
            CERTDOCK_TRY(client, deps_.clients(*account, true));
            issued =
                acme::issue_certificate(*client, request, {&recording}, *deps_.clock, progress);
        }
        if (!issued) {
            return Unexpected(
                Error(ErrorCategory::kAcme, "not issued").caused_by(std::move(issued).error()));
        }
        auto& certs = issued->chain.certificates;
        CERTDOCK_TRY_STATUS(crypto::check_chain_order(certs));
        CERTDOCK_TRY_STATUS(crypto::check_key_matches(material.key, certs.front()));
        log(certificate, "issued serial " + certs.front().serial_hex() + ", valid until " +
                             format_rfc3339(certs.front().not_after()));
        parts = crypto::BundleParts{
            certs.front(), {certs.begin() + 1, certs.end()}, std::move(material.key), {}};
    }

    const Placement& placement = certificate.placement;
    DeployRequest request{.bundle = *parts, .file = placement.file, .targets = {}};
    request.targets.cert_name = placement.runtime_name;
    for (const auto& name : placement.haproxy) {
        if (const HaproxyTarget* target = config_->find_haproxy(name)) {
            request.targets.haproxies.insert(request.targets.haproxies.end(),
                                             target->sockets.begin(), target->sockets.end());
        }
    }
    request.targets.crt_list = placement.crt_list.string();
    request.targets.sni = placement.sni;
    request.targets.probes = placement.probes;
    request.targets.retry_for = deps_.deploy_retry_for;
    CERTDOCK_TRY(DeployReport report, deploy(request, *deps_.clock));
    // Disk now holds the new certificate whatever HAProxy said: a restart serves it.
    if (!report.ok()) return fail(ErrorCategory::kNetwork, delivery_failures(report));
    for (const auto& haproxy : report.haproxies) {
        log(certificate,
            "HAProxy " + haproxy.address + ": " + std::string(action_name(haproxy.action)));
    }
    for (const auto& probe : report.probes) {
        log(certificate, "probe " + describe(probe.target) + ": serves the new certificate");
    }

    record_certificate(state, parts->leaf);
    const std::string not_after = format_rfc3339(parts->leaf.not_after());
    // reuse-key = "rotate": a delivered next key becomes the current one and a fresh next key
    // waits; hooks learn the pins to publish.
    std::vector<std::string> rotation_environment;
    if (!certificate.csr_mode() && certificate.key.reuse == ReuseKey::kRotate && parts->key) {
        auto rotated = complete_rotation(certificate.key, parts->key->public_key(),
                                         whole_seconds(deps_.clock->now()));
        if (!rotated) {
            state.last_error = "key rotation not completed: " + rotated.error().describe();
            log(certificate, state.last_error + "; the next renewal tries again");
        } else {
            for (const auto& event : *rotated) log(certificate, event);
            if (auto pins = rotation_pins(certificate.key)) {
                rotation_environment = rotation_hook_environment(*pins);
            }
        }
    }
    for (const auto& hook_name : certificate.deploy_hooks) {
        const DeployHook* hook = config_->find_hook(hook_name);
        if (hook == nullptr) continue;
        challenge::detail::ProcessRun run;
        run.argv.push_back(hook->program.string());
        run.argv.insert(run.argv.end(), hook->args.begin(), hook->args.end());
        run.env = deploy_hook_environment(certificate, report.serial, not_after);
        run.env.insert(run.env.end(), rotation_environment.begin(), rotation_environment.end());
        run.timeout = hook->timeout;
        auto outcome = challenge::detail::run_process(run);
        if (outcome && outcome->succeeded()) {
            log(certificate, "deploy hook " + hook_name + ": ok");
            continue;
        }
        hooks_failed = true;
        std::string why =
            !outcome ? outcome.error().describe()
                     : challenge::detail::describe_wait_status(outcome->wait_status) +
                           (outcome->stderr_tail.empty()
                                ? ""
                                : ": " + challenge::detail::last_lines(outcome->stderr_tail, 3));
        state.last_error = "deploy hook " + hook_name + " " + why;
        log(certificate, "deploy hook " + hook_name + " failed: " + why);
    }
    return parts->leaf;
}

Result<RenewOutcome> Renewer::run(const CertificateConfig& certificate) {
    CERTDOCK_TRY(DueCheck check, check_due(certificate));
    return run(certificate, check);
}

Result<RenewOutcome> Renewer::run(const CertificateConfig& certificate, const DueCheck& check) {
    RenewOutcome outcome{.check = check, .next = earliest(check.next, check.next_ari_poll)};
    if (!check.due()) {
        if (check.leftovers) {
            if (auto cleaned = clean_up_leftovers(certificate); !cleaned) {
                log(certificate, "left over from an interrupted renewal, not taken away: " +
                                     cleaned.error().describe());
            }
        }
        return outcome;
    }

    CERTDOCK_TRY(CertState state, deps_.states->load(certificate.name));
    const SystemTime started = whole_seconds(deps_.clock->now());
    state.last_attempt = started;
    auto renewed = renew(certificate, check, state, outcome.hooks_failed);
    const SystemTime now = whole_seconds(deps_.clock->now());
    if (renewed) {
        // The new certificate's own window, so the CA decides its renewal from the start.
        forget_ari(state);
        refresh_ari(certificate, *renewed, state, now);
        RenewalDecision decision = decide_renewal(certificate, state, now);
        state.next_renewal = decision.renew_at;
        state.next_renewal_reason = decision.reason;
        state.last_result = AttemptResult::kSuccess;
        state.last_success = now;
        state.consecutive_failures = 0;
        state.next_retry.reset();
        state.next_retry_reason.clear();
        outcome.result = RenewResult::kDelivered;
        outcome.serial = renewed->serial_hex();
        outcome.next = earliest(decision.renew_at, state.next_ari_poll);
        if (auto drift = config_drift(certificate, *renewed)) {
            log(certificate,
                "the CA's certificate still differs from the configuration: " + *drift);
        }
        log(certificate, "delivered serial " + outcome.serial + "; next renewal " +
                             format_rfc3339(decision.renew_at) + " (" + decision.reason + ")");
    } else {
        RetryInput input{.consecutive_failures = state.consecutive_failures + 1,
                         .last_failure = now,
                         .retry_after = acme::requested_retry_after(renewed.error(), now)};
        if (state.not_after) input.current = validity_of(state);
        RetryDecision retry = schedule_retry(input);
        state.last_result = AttemptResult::kFailure;
        state.last_error = renewed.error().describe();
        state.consecutive_failures = input.consecutive_failures;
        state.next_retry = retry.retry_at;
        state.next_retry_reason = retry.reason;
        outcome.result = RenewResult::kFailed;
        outcome.error = state.last_error;
        outcome.next = retry.retry_at;
        log(certificate, "failed: " + state.last_error + "; " + retry.reason);
    }
    CERTDOCK_TRY_STATUS(deps_.states->save(certificate.name, state));
    return outcome;
}

}  // namespace certdock::agent
