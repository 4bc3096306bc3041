#pragma once

// The flags and the report of a delivery to HAProxy, shared by `certdock deploy` and
// `certdock issue` (which delivers what it obtained).

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>
#include <vector>

#include "agent/deployer.hpp"
#include "base/result.hpp"
#include "crypto/bundle.hpp"

namespace certdock::cli {

struct DeployFlags {
    std::vector<std::string> haproxy_sockets;
    std::string cert_name;
    std::string crt_list;
    std::vector<std::string> sni;
    std::vector<std::string> probes;
    std::vector<std::string> probe_names;
    double retry_for_seconds = 30;
};

// --haproxy-socket is added by the caller (issue also uses it for http-01).
void add_deploy_flags(CLI::App& command, DeployFlags& flags);

// Checks the flags alone, so `issue` can refuse a typo before it orders a certificate.
Status check_deploy_flags(const DeployFlags& flags);

// Whether any flag beyond the sockets was given (they mean nothing without a delivery).
bool uses_delivery_options(const DeployFlags& flags);

// Writes `bundle` to `file`, hot-loads it into every socket and probes the frontends.
// Fails, touching nothing, when the flags are wrong or the bundle is not deliverable.
Result<agent::DeployReport> deliver(const DeployFlags& flags, const crypto::BundleParts& bundle,
                                    const std::filesystem::path& file);

// One line per step, for people.
void print_delivery(const agent::DeployReport& report, const std::filesystem::path& file);
nlohmann::json delivery_json(const agent::DeployReport& report, const std::filesystem::path& file);
// An error naming how many steps failed, or success when the new certificate is served.
Status delivery_status(const agent::DeployReport& report, const std::filesystem::path& file);

}  // namespace certdock::cli
