#pragma once

// The flags and the report of a delivery to HAProxy, shared by `certdock deploy` and
// `certdock issue` (which delivers what it obtained).

#include <CLI/CLI.hpp>

#include <filesystem>
#include <string>
#include <vector>

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

// Writes `bundle` to `file`, hot-loads it into every socket and probes the frontends. Prints
// one line per step (or JSON); fails when anything did not end with the new certificate
// served. Nothing is touched when the bundle is not deliverable.
Status deliver(const DeployFlags& flags, const crypto::BundleParts& bundle,
               const std::filesystem::path& file, bool json, bool quiet);

}  // namespace certdock::cli
