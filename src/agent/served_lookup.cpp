#include "agent/served_lookup.hpp"

#include <algorithm>
#include <filesystem>

#include "haproxy/runtime_api.hpp"

namespace certdock::agent {
namespace {

haproxy::RuntimeApiOptions quick(haproxy::RuntimeApiOptions socket,
                                 const ServedLookupOptions& options) {
    // A status answers now: a HAProxy that is down is reported, not waited for.
    socket.transport.io_timeout = options.io_timeout;
    socket.transport.startup_timeout = std::chrono::milliseconds(0);
    socket.lock_timeout = options.io_timeout;
    return socket;
}

// The name HAProxy lists for the certificate's file: the configured runtime name, the path
// as written, or an absolute name that is the same file (as the deployer decides).
std::optional<std::string> runtime_name(const std::vector<std::string>& names,
                                        const CertificateConfig& certificate) {
    const Placement& placement = certificate.placement;
    if (!placement.runtime_name.empty()) {
        if (std::find(names.begin(), names.end(), placement.runtime_name) != names.end()) {
            return placement.runtime_name;
        }
        return std::nullopt;
    }
    const std::string file = placement.file.string();
    if (std::find(names.begin(), names.end(), file) != names.end()) return file;
    std::error_code error;
    const auto ours = std::filesystem::weakly_canonical(placement.file, error);
    if (error) return std::nullopt;
    for (const std::string& name : names) {
        if (!name.starts_with('/')) continue;
        if (std::filesystem::weakly_canonical(name, error) == ours && !error) return name;
    }
    return std::nullopt;
}

}  // namespace

std::string describe_socket(const haproxy::RuntimeApiOptions& socket) {
    if (socket.target_prefix.empty()) return socket.transport.address;
    return socket.transport.address + " " + socket.target_prefix;
}

ServedLookup::ServedLookup(ConfigPtr config, ServedLookupOptions options)
    : config_(std::move(config)), options_(options) {}

const ServedLookup::SocketNames& ServedLookup::names_of(const haproxy::RuntimeApiOptions& socket) {
    const std::string key = describe_socket(socket);
    auto found = names_.find(key);
    if (found != names_.end()) return found->second;
    haproxy::RuntimeApi api(quick(socket, options_));
    SocketNames entry;
    auto names = api.show_ssl_cert_list();
    if (names) {
        entry.names = std::move(*names);
    } else {
        entry.error = "unreachable: " + names.error().describe();
    }
    return names_.emplace(key, std::move(entry)).first->second;
}

ServedBy ServedLookup::ask(const std::string& target, const haproxy::RuntimeApiOptions& socket,
                           const CertificateConfig& certificate) {
    ServedBy out{.haproxy = target, .socket = describe_socket(socket)};
    const SocketNames& names = names_of(socket);
    if (!names.error.empty()) {
        out.error = names.error;
        return out;
    }
    auto name = runtime_name(names.names, certificate);
    if (!name) {
        const std::string wanted = certificate.placement.runtime_name.empty()
                                       ? certificate.placement.file.string()
                                       : certificate.placement.runtime_name;
        out.error = "not loaded: HAProxy has no certificate named " + wanted;
        return out;
    }
    haproxy::RuntimeApi api(quick(socket, options_));
    auto info = api.show_ssl_cert(*name);
    if (!info) {
        out.error = "unreachable: " + info.error().describe();
        return out;
    }
    out.serial = info->serial;
    return out;
}

std::vector<ServedBy> ServedLookup::served(const CertificateConfig& certificate) {
    std::vector<ServedBy> out;
    for (const std::string& target_name : certificate.placement.haproxy) {
        const HaproxyTarget* target = config_->find_haproxy(target_name);
        if (target == nullptr) continue;
        for (const auto& socket : target->sockets)
            out.push_back(ask(target_name, socket, certificate));
    }
    return out;
}

}  // namespace certdock::agent
