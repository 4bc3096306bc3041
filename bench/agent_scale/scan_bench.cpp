// The agent's scheduling scan at scale, in one process: loads the configuration, composes a
// Renewer over the state directory as `certdock agent run` does, then times consecutive scans
// (Renewer::run for every certificate, as agent_run.cpp's scan()). Nothing may be due: the
// ACME clients and solvers handed to the Renewer count their calls, and any call, or any
// certificate found due, makes the run fail.
//
// Usage: agent_scale_bench --config FILE [--scans N] [--no-state-cache] [--agent-log]
//   --no-state-cache  the directory store alone, each load reading and parsing the JSON file
//   --agent-log       write agent_run's line per certificate ("<time> cert=<name> not due;
//                     next renewal ...") to standard error the way it does (std::cerr,
//                     std::endl), so the scan includes the cost of the log
//
// Prints one "key=value" line per figure (milliseconds, KiB) for bench/agent_scale_bench.sh.

#include <algorithm>
#include <charconv>
#include <chrono>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "agent/cached_state_store.hpp"
#include "agent/cert_state.hpp"
#include "agent/config.hpp"
#include "agent/renewer.hpp"
#include "base/time.hpp"

namespace {

using namespace certdock;
using Steady = std::chrono::steady_clock;

struct Options {
    std::string config_file{};
    int scans = 20;
    bool state_cache = true;
    bool agent_log = false;
};

double ms_since(Steady::time_point start) {
    return std::chrono::duration<double, std::milli>(Steady::now() - start).count();
}

// "VmHWM:     12345 kB" from /proc/self/status: the peak resident set so far.
long status_kib(std::string_view field) {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line)) {
        if (!line.starts_with(field)) continue;
        const size_t digits = line.find_first_of("0123456789");
        if (digits == std::string::npos) return -1;
        long value = -1;
        std::from_chars(line.data() + digits, line.data() + line.size(), value);
        return value;
    }
    return -1;
}

// What agent_run.cpp's log_line writes for a certificate that is not due.
void agent_log_line(const std::string& name, const agent::DueCheck& check) {
    std::cerr << format_rfc3339(std::chrono::time_point_cast<std::chrono::seconds>(
                     std::chrono::system_clock::now()))
              << " "
              << "cert=" + name + " not due; next renewal " + format_rfc3339(check.next) + " (" +
                     check.reason + ")"
              << std::endl;
}

struct ScanCount {
    int not_due = 0;
    int other = 0;  // due, failed or an error: the fixture promised none
    std::string first_problem{};
};

ScanCount scan(const agent::Config& config, agent::Renewer& renewer, bool agent_log) {
    ScanCount count;
    for (const auto& certificate : config.certificates) {
        auto outcome = renewer.run(certificate);
        if (outcome && outcome->result == agent::RenewResult::kNotDue &&
            outcome->check.kind == agent::DueKind::kNotDue) {
            ++count.not_due;
            if (agent_log) agent_log_line(certificate.name, outcome->check);
            continue;
        }
        if (count.other++ == 0) {
            count.first_problem =
                certificate.name + ": " +
                (outcome ? std::string(agent::due_kind_name(outcome->check.kind)) + " (" +
                               outcome->check.reason + ")"
                         : outcome.error().describe());
        }
    }
    return count;
}

double percentile(std::vector<double> values, double share) {
    std::sort(values.begin(), values.end());
    const size_t index = static_cast<size_t>(share * static_cast<double>(values.size() - 1) + 0.5);
    return values[std::min(index, values.size() - 1)];
}

int run(const Options& options) {
    const auto stop = [](const std::string& what) {
        std::cerr << "agent_scale_bench: " << what << "\n";
        return 1;
    };
    const long start_kib = status_kib("VmHWM:");
    auto started = Steady::now();
    agent::ConfigCheck check = agent::check_config(options.config_file);
    const double config_ms = ms_since(started);
    if (!check.config) {
        return stop(check.issues.empty() ? "configuration refused"
                                         : check.issues.front().to_string());
    }
    const agent::ConfigPtr config = check.config;
    const long config_kib = status_kib("VmHWM:");

    // The composition of agent_run.cpp's make_agent, with seams that count instead of
    // reaching a CA: nothing is due, so nothing may ask for a client or a solver.
    int client_calls = 0;
    int solver_calls = 0;
    agent::StateStorePtr states =
        std::make_unique<agent::DirectoryStateStore>(config->agent.state_dir / "state");
    if (options.state_cache) {
        states = std::make_unique<agent::CachedStateStore>(std::move(states));
    }
    agent::RenewerDeps deps{
        .clients = [&](const agent::AcmeAccount&, bool) -> Result<acme::Client*> {
            ++client_calls;
            return fail(ErrorCategory::kInternal, "the scale bench has no CA");
        },
        .solvers = [&](const agent::CertificateConfig&) -> Result<challenge::SolverPtr> {
            ++solver_calls;
            return fail(ErrorCategory::kInternal, "the scale bench has no solver");
        },
        .states = states.get()};
    agent::Renewer renewer(config, std::move(deps));

    std::vector<double> scan_ms;
    double first_scan_ms = 0;
    for (int i = 0; i <= options.scans; ++i) {
        started = Steady::now();
        const ScanCount count = scan(*config, renewer, options.agent_log);
        const double elapsed = ms_since(started);
        if (count.other > 0) {
            return stop(std::to_string(count.other) +
                        " certificates not in the expected not-due "
                        "state, first " +
                        count.first_problem);
        }
        // The first scan finds every file unread; the ones after it are the loop's steady
        // state.
        if (i == 0) {
            first_scan_ms = elapsed;
        } else {
            scan_ms.push_back(elapsed);
        }
    }
    if (client_calls != 0 || solver_calls != 0) {
        return stop("the CA seams were called (" + std::to_string(client_calls) + " clients, " +
                    std::to_string(solver_calls) + " solvers) while nothing was due");
    }

    std::cout << "certificates=" << config->certificates.size() << "\n"
              << "state_cache=" << (options.state_cache ? "on" : "off") << "\n"
              << "agent_log=" << (options.agent_log ? "on" : "off") << "\n"
              << "config_ms=" << config_ms << "\n"
              << "first_scan_ms=" << first_scan_ms << "\n"
              << "scans=" << scan_ms.size() << "\n";
    if (!scan_ms.empty()) {
        std::cout << "scan_median_ms=" << percentile(scan_ms, 0.5) << "\n"
                  << "scan_p95_ms=" << percentile(scan_ms, 0.95) << "\n"
                  << "scan_max_ms=" << percentile(scan_ms, 1.0) << "\n";
    }
    std::cout << "start_hwm_kib=" << start_kib << "\n"
              << "config_hwm_kib=" << config_kib << "\n"
              << "hwm_kib=" << status_kib("VmHWM:") << "\n"
              << "rss_kib=" << status_kib("VmRSS:") << "\n"
              << "ca_calls=" << client_calls + solver_calls << "\n";
    return 0;
}

bool parse_options(int argc, char** argv, Options& options) {
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg(argv[i]);
        const bool has_value = i + 1 < argc;
        if (arg == "--config" && has_value) {
            options.config_file = argv[++i];
        } else if (arg == "--scans" && has_value) {
            const std::string_view value(argv[++i]);
            auto [end, error] =
                std::from_chars(value.data(), value.data() + value.size(), options.scans);
            if (error != std::errc{} || end != value.data() + value.size() || options.scans < 0) {
                return false;
            }
        } else if (arg == "--no-state-cache") {
            options.state_cache = false;
        } else if (arg == "--agent-log") {
            options.agent_log = true;
        } else {
            return false;
        }
    }
    return !options.config_file.empty();
}

}  // namespace

int main(int argc, char** argv) {
    Options options;
    if (!parse_options(argc, argv, options)) {
        std::cerr << "usage: agent_scale_bench --config FILE [--scans N] [--no-state-cache] "
                     "[--agent-log]\n";
        return 2;
    }
    return run(options);
}
