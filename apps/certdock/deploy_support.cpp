#include "deploy_support.hpp"

#include <iostream>

#include "agent/deployer.hpp"
#include "base/file.hpp"
#include "cli_support.hpp"
#include "haproxy/endpoint.hpp"

namespace certdock::cli {
namespace {

Result<agent::DeployTargets> parse_deploy_flags(const DeployFlags& flags) {
    if (flags.retry_for_seconds < 0) {
        return fail(ErrorCategory::kUsage, "--retry-for must be 0 or more seconds");
    }
    if (!flags.sni.empty() && flags.crt_list.empty()) {
        return fail(ErrorCategory::kUsage,
                    "--sni sets crt-list filters: give --crt-list too (use --probe-sni to choose "
                    "the names probed)");
    }
    agent::DeployTargets targets;
    targets.cert_name = flags.cert_name;
    targets.crt_list = flags.crt_list;
    targets.sni = flags.sni;
    targets.probe_names = flags.probe_names;
    targets.retry_for = std::chrono::milliseconds(
        static_cast<std::chrono::milliseconds::rep>(flags.retry_for_seconds * 1000));
    for (const auto& socket : flags.haproxy_sockets) {
        CERTDOCK_TRY(auto api, haproxy::parse_runtime_api_endpoint(socket));
        // The deployer retries a socket that is down, without holding up the others.
        api.transport.startup_timeout =
            std::min<std::chrono::milliseconds>(targets.retry_for, std::chrono::seconds(1));
        targets.haproxies.push_back(std::move(api));
    }
    for (const auto& probe : flags.probes) {
        CERTDOCK_TRY(auto target, agent::parse_probe_address(probe, "--probe"));
        targets.probes.push_back(std::move(target));
    }
    return targets;
}

std::string attempts_text(const agent::HaproxyOutcome& outcome) {
    return std::to_string(outcome.attempts) +
           (outcome.attempts == 1 ? " attempt, " : " attempts, ") +
           std::to_string(outcome.elapsed.count()) + " ms";
}

}  // namespace

void print_delivery(const agent::DeployReport& report, const std::filesystem::path& file) {
    std::cout << file.string() << ": "
              << (!report.file_changed ? std::string("already holds this certificate")
                  : report.previous_kept
                      ? "written (previous kept as " + previous_file_of(file).string() + ")"
                      : std::string("written"))
              << ", serial " << report.serial << "\n";
    for (const auto& haproxy : report.haproxies) {
        std::cout << haproxy.address << ": " << agent::action_name(haproxy.action) << " ("
                  << attempts_text(haproxy) << ")";
        if (haproxy.error) std::cout << ": " << haproxy.error->describe();
        std::cout << "\n";
    }
    for (const auto& probe : report.probes) {
        std::cout << agent::describe(probe.target) << ": "
                  << (probe.serves_new ? "serves the new certificate"
                                       : "FAILED: " + (probe.error ? probe.error->describe()
                                                                   : std::string("unknown")))
                  << "\n";
    }
}

nlohmann::json delivery_json(const agent::DeployReport& report, const std::filesystem::path& file) {
    nlohmann::json haproxies = nlohmann::json::array();
    for (const auto& haproxy : report.haproxies) {
        haproxies.push_back({{"socket", haproxy.address},
                             {"action", agent::action_name(haproxy.action)},
                             {"attempts", haproxy.attempts},
                             {"elapsed_ms", haproxy.elapsed.count()},
                             {"error", haproxy.error ? nlohmann::json(haproxy.error->describe())
                                                     : nlohmann::json(nullptr)}});
    }
    nlohmann::json probes = nlohmann::json::array();
    for (const auto& probe : report.probes) {
        probes.push_back({{"host", probe.target.host},
                          {"port", probe.target.port},
                          {"sni", probe.target.sni},
                          {"serves_new", probe.serves_new},
                          {"served_serial", probe.served_serial},
                          {"error", probe.error ? nlohmann::json(probe.error->describe())
                                                : nlohmann::json(nullptr)}});
    }
    auto ms = [](std::chrono::microseconds time) {
        return static_cast<double>(time.count()) / 1000.0;
    };
    return {{"ok", report.ok()},
            {"file", file.string()},
            {"file_changed", report.file_changed},
            {"previous_kept", report.previous_kept},
            {"serial", report.serial},
            {"haproxies", haproxies},
            {"probes", probes},
            {"timings_ms",
             {{"disk", ms(report.timings.disk)},
              {"runtime_api", ms(report.timings.runtime_api)},
              {"probes", ms(report.timings.probes)}}}};
}

void add_deploy_flags(CLI::App& command, DeployFlags& flags) {
    command.add_option("--cert-name", flags.cert_name,
                       "Certificate name in HAProxy, as haproxy.cfg spells the crt path "
                       "(default: the file's path)");
    command.add_option("--crt-list", flags.crt_list,
                       "Add a certificate HAProxy does not serve yet to this crt-list (live and "
                       "on disk)");
    command.add_option("--sni", flags.sni, "crt-list SNI filter for an added certificate (repeat)");
    command.add_option("--probe", flags.probes,
                       "Frontend HOST:PORT that must then present the certificate (repeat)");
    command.add_option("--probe-sni", flags.probe_names,
                       "SNI names to probe with (default: --sni, else the certificate's names)");
    command
        .add_option("--retry-for", flags.retry_for_seconds,
                    "Seconds to keep retrying a HAProxy that cannot be reached")
        ->capture_default_str();
}

Status check_deploy_flags(const DeployFlags& flags) {
    CERTDOCK_TRY_STATUS(parse_deploy_flags(flags));
    return {};
}

bool uses_delivery_options(const DeployFlags& flags) {
    return !flags.cert_name.empty() || !flags.crt_list.empty() || !flags.sni.empty() ||
           !flags.probes.empty() || !flags.probe_names.empty();
}

Result<agent::DeployReport> deliver(const DeployFlags& flags, const crypto::BundleParts& bundle,
                                    const std::filesystem::path& file) {
    CERTDOCK_TRY(agent::DeployTargets targets, parse_deploy_flags(flags));
    return agent::deploy({.bundle = bundle, .file = file, .targets = std::move(targets)});
}

Status delivery_status(const agent::DeployReport& report, const std::filesystem::path& file) {
    if (report.ok()) return {};
    size_t failed = 0;
    for (const auto& haproxy : report.haproxies) {
        failed += haproxy.action == agent::HaproxyAction::kFailed ? 1 : 0;
    }
    for (const auto& probe : report.probes) failed += probe.serves_new ? 0 : 1;
    return fail(ErrorCategory::kIo,
                "delivery incomplete: " + std::to_string(failed) + " step(s) failed (see above); " +
                    file.string() +
                    " holds the new certificate, so a restart or another run serves it");
}

}  // namespace certdock::cli
