// certdock doctor: checks a HAProxy configuration, its certificates and the running HAProxy,
// and says how to fix each problem. Exit 0: no failure; 1: a check failed; 2: bad usage or a
// configuration that cannot be read.

#include <chrono>
#include <iostream>

#include "agent/doctor.hpp"
#include "cli_support.hpp"
#include "commands.hpp"
#include "crypto/key_spec.hpp"
#include "haproxy/endpoint.hpp"

namespace certdock::cli {
namespace {

struct DoctorCommandOptions {
    std::string config;
    std::vector<std::string> sockets;
    std::string key_type;
    bool no_probe = false;
    bool offline = false;
    double timeout_seconds = 3;
    int warn_days = 7;
    std::string base_dir;
    CommonOptions common;
};

std::string_view label(agent::Severity severity) {
    switch (severity) {
        case agent::Severity::kOk:
            return "ok  ";
        case agent::Severity::kWarning:
            return "warn";
        case agent::Severity::kFailure:
            return "FAIL";
    }
    return "FAIL";
}

void print_report(const agent::DoctorReport& report, long long elapsed_ms) {
    for (const auto& finding : report.findings) {
        std::cout << label(finding.severity) << "  " << finding.subject << "  " << finding.message
                  << "\n";
        if (!finding.fix.empty()) std::cout << "      fix: " << finding.fix << "\n";
    }
    std::cout << report.count(agent::Severity::kOk) << " ok, "
              << report.count(agent::Severity::kWarning) << " warnings, "
              << report.count(agent::Severity::kFailure) << " failed (" << elapsed_ms << " ms)\n";
}

void print_report_json(const agent::DoctorReport& report, long long elapsed_ms) {
    nlohmann::json findings = nlohmann::json::array();
    for (const auto& finding : report.findings) {
        findings.push_back({{"severity", agent::to_string(finding.severity)},
                            {"check", finding.check},
                            {"subject", finding.subject},
                            {"message", finding.message},
                            {"fix", finding.fix}});
    }
    print_json({{"ok", report.count(agent::Severity::kOk)},
                {"warnings", report.count(agent::Severity::kWarning)},
                {"failures", report.count(agent::Severity::kFailure)},
                {"elapsed_ms", elapsed_ms},
                {"findings", findings}});
}

Result<agent::DoctorOptions> doctor_options(const DoctorCommandOptions& options) {
    agent::DoctorOptions doctor;
    doctor.config = options.config;
    for (const auto& socket : options.sockets) {
        CERTDOCK_TRY_STATUS(haproxy::parse_runtime_api_endpoint(socket));
    }
    doctor.sockets = options.sockets;
    if (!options.key_type.empty()) {
        CERTDOCK_TRY(doctor.key_policy, crypto::parse_key_spec(options.key_type));
    }
    doctor.check_sockets = !options.offline;
    doctor.probe = !options.offline && !options.no_probe;
    if (options.timeout_seconds <= 0 || options.warn_days < 0) {
        return fail(ErrorCategory::kUsage, "--timeout must be positive and --warn-days at least 0");
    }
    doctor.timeout =
        std::chrono::milliseconds(static_cast<long long>(options.timeout_seconds * 1000));
    doctor.expiry_warning = std::chrono::hours(24LL * options.warn_days);
    if (!options.base_dir.empty()) doctor.base_dir = options.base_dir;
    return doctor;
}

int run_doctor_command(const DoctorCommandOptions& options) {
    auto doctor = doctor_options(options);
    if (!doctor) return report_error(doctor.error());
    auto started = std::chrono::steady_clock::now();
    auto report = agent::run_doctor(*doctor);
    if (!report) return report_error(report.error());
    long long elapsed_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::steady_clock::now() - started)
                               .count();
    if (options.common.json) {
        print_report_json(*report, elapsed_ms);
    } else {
        print_report(*report, elapsed_ms);
    }
    return report->failed() ? kExitFailed : kExitOk;
}

}  // namespace

void register_doctor_command(CLI::App& app, int& exit_code) {
    auto options = std::make_shared<DoctorCommandOptions>();
    CLI::App* doctor = app.add_subcommand(
        "doctor",
        "Check a HAProxy configuration's certificates, key policy, http-01 maps, stats socket "
        "and served certificates, with the fix for each problem");
    doctor->add_option("--haproxy-cfg", options->config, "The haproxy.cfg to check")->required();
    doctor->add_option("--socket", options->sockets,
                       "Runtime API to check instead of the `stats socket` lines (path, "
                       "HOST:PORT, PATH@1); repeatable");
    doctor->add_option("--key-type", options->key_type,
                       "Key every certificate must have: ecdsa-p256, rsa2048, ... or HAProxy's "
                       "ECDSA/RSA spelling");
    doctor->add_flag("--no-probe", options->no_probe,
                     "Skip the TLS handshakes comparing served certificates with the files");
    doctor->add_flag("--offline", options->offline,
                     "Skip everything that needs a running HAProxy (socket and TLS checks), as "
                     "in CI");
    doctor->add_option("--timeout", options->timeout_seconds,
                       "Seconds per socket exchange and per TLS handshake (default 3)");
    doctor->add_option("--warn-days", options->warn_days,
                       "Warn when a certificate expires within this many days (default 7)");
    doctor->add_option("--base-dir", options->base_dir,
                       "Directory relative paths are taken from, as HAProxy's working directory "
                       "(default: the configuration's directory)");
    add_json_flag(*doctor, options->common);
    doctor->callback([options, &exit_code] { exit_code = run_doctor_command(*options); });
}

}  // namespace certdock::cli
