// The checks that need a running HAProxy: its stats sockets and what it serves over TLS.

#include <algorithm>
#include <map>
#include <set>

#include "agent/doctor_checks.hpp"
#include "agent/tls_probe.hpp"
#include "base/encoding.hpp"
#include "haproxy/endpoint.hpp"
#include "haproxy/replies.hpp"
#include "haproxy/runtime_api.hpp"

namespace certdock::agent::doctor {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// A name no configuration uses, so aborting its transaction never touches a real one; only
// level admin may run `abort ssl cert`, which is what the check needs to know.
constexpr std::string_view kLevelProbe = "abort ssl cert certdock-doctor-level-check.pem";
constexpr std::string_view kWildcardLabel = "certdock-doctor-probe";

const std::string kNeedsRunning =
    "start HAProxy with this configuration, or pass --offline where it does not run";

struct SocketToCheck {
    std::string written;
    std::optional<std::string> level;  // as declared, if known
    std::string subject;
    std::string target_prefix;  // "@1" for a master CLI given with --socket
};

// What CliTransportOptions takes: a unix path or host:port; nothing for abns@, fd@ and such.
std::optional<std::string> transport_address(const Context& context, const std::string& written) {
    std::string address = written;
    for (std::string_view prefix : {"unix@", "ipv4@", "ipv6@", "tcp@", "tcp4@", "tcp6@"}) {
        if (address.starts_with(prefix)) address.erase(0, prefix.size());
    }
    if (address.find('@') != std::string::npos) return std::nullopt;
    bool has_port = address.find(':') != std::string::npos && !address.starts_with('/') &&
                    !address.starts_with('.');
    if (has_port) return address;
    return context.resolve(address).string();
}

std::string version_of(std::string_view info) {
    for (const auto& line : haproxy::reply_lines(info)) {
        if (line.starts_with("Version: ")) return "HAProxy " + line.substr(9);
    }
    return "HAProxy";
}

// Severity of a socket that answers below level admin: a failure unless another one is admin.
struct SocketOutcome {
    bool admin = false;
    std::optional<Finding> below_admin;
};

SocketOutcome check_socket(const Context& context, const SocketToCheck& socket) {
    SocketOutcome outcome;
    auto address = transport_address(context, socket.written);
    if (!address) {
        context.add(Severity::kWarning, "socket", socket.subject,
                    "stats socket " + socket.written + " cannot be reached from here",
                    "declare a unix or TCP stats socket for certdock (`stats socket "
                    "/run/haproxy/admin.sock mode 660 level admin`)");
        return outcome;
    }
    std::error_code ec;
    if (address->starts_with('/') && !fs::exists(*address, ec)) {
        context.add(Severity::kFailure, "socket", socket.subject,
                    "stats socket " + *address +
                        " does not exist: HAProxy is not running, or runs with another "
                        "configuration",
                    kNeedsRunning);
        return outcome;
    }
    haproxy::RuntimeApiOptions api_options;
    api_options.transport.address = *address;
    api_options.target_prefix = socket.target_prefix;
    api_options.transport.io_timeout = context.options.timeout;
    api_options.transport.startup_timeout = 0ms;
    haproxy::RuntimeApi api(api_options);
    auto info = api.execute("show info");
    if (!info) {
        context.add(Severity::kFailure, "socket", socket.subject,
                    "stats socket " + *address + " does not answer: " + info.error().describe(),
                    kNeedsRunning);
        return outcome;
    }
    auto level = api.execute(kLevelProbe);
    if (!level && level.error().message().find("Permission denied") != std::string::npos) {
        std::string declared = socket.level ? "`level " + *socket.level + "`" : "no `level`";
        outcome.below_admin =
            Finding{Severity::kFailure, "socket", socket.subject,
                    "stats socket " + *address + " answers below level admin (declared with " +
                        declared + "): certdock cannot set or commit certificates through it",
                    "declare it `stats socket " + socket.written +
                        " level admin` in the global section (keep it mode 600/660)"};
        return outcome;
    }
    if (!level) {
        context.add(Severity::kFailure, "socket", socket.subject,
                    "stats socket " + *address + ": " + level.error().describe(), kNeedsRunning);
        return outcome;
    }
    outcome.admin = true;
    context.add(Severity::kOk, "socket", socket.subject,
                "stats socket " + *address + " answers at level admin (" + version_of(*info) + ")");
    return outcome;
}

// Declared levels only, for when HAProxy is not asked.
void check_declared_levels(const Context& context) {
    const auto& sockets = context.config.stats_sockets;
    bool admin = std::any_of(sockets.begin(), sockets.end(), [](const auto& socket) {
        return !socket.level || *socket.level == "admin";
    });
    if (admin) return;
    for (const auto& socket : sockets) {
        context.add(Severity::kFailure, "socket", socket.where.describe(),
                    "stats socket " + socket.address + " is `level " + socket.level.value_or("") +
                        "` and no socket is level admin: certdock cannot hot-load certificates",
                    "declare it `stats socket " + socket.address + " level admin`");
    }
}

struct ProbeAddress {
    std::string host;
    std::uint16_t port = 0;
};

// A bind address as a client reaches it: ":443", "*:443", "0.0.0.0:443" and "[::]:443" on the
// loopback; "ipv4@" and friends stripped; port ranges probed at their first port.
Result<ProbeAddress> probe_address(std::string text) {
    for (std::string_view prefix : {"ipv4@", "ipv6@", "tcp@", "tcp4@", "tcp6@"}) {
        if (text.starts_with(prefix)) text.erase(0, prefix.size());
    }
    if (text.find('@') != std::string::npos || text.starts_with('/')) {
        return fail(ErrorCategory::kUsage, "not a TCP address");
    }
    size_t colon = text.rfind(':');
    if (colon == std::string::npos) return fail(ErrorCategory::kUsage, "no port");
    std::string host = text.substr(0, colon);
    std::string port = text.substr(colon + 1);
    port = port.substr(0, port.find('-'));
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
    }
    if (host.empty() || host == "*" || host == "0.0.0.0") host = "127.0.0.1";
    if (host == "::") host = "::1";
    if (port.empty() || port.size() > 5 ||
        port.find_first_not_of("0123456789") != std::string::npos || std::stoi(port) == 0 ||
        std::stoi(port) > 65535) {
        return fail(ErrorCategory::kUsage, "no usable port");
    }
    return ProbeAddress{host, static_cast<std::uint16_t>(std::stoi(port))};
}

// The names to ask for: the crt-list filters, else the certificate's DNS names; a wildcard
// is probed through a label under it.
std::vector<std::string> probe_names(const DiskCertificate& certificate) {
    std::vector<std::string> names;
    for (const auto& filter : certificate.use.sni_filters) {
        if (!filter.starts_with('!')) names.push_back(filter);
    }
    if (names.empty()) names = certificate.leaf->dns_names();
    for (auto& name : names) {
        if (name.starts_with("*.")) name = std::string(kWildcardLabel) + name.substr(1);
    }
    return names;
}

std::string describe_certificate(const crypto::Certificate& cert) {
    return cert.subject() + " serial " + cert.serial_hex();
}

// False when nothing listens at the address, so the caller stops asking it for more names.
bool probe_one(const Context& context, const haproxy::Bind& bind, const ProbeTarget& target,
               const std::vector<const DiskCertificate*>& expected, size_t names_left) {
    const std::string subject = bind.where.describe();
    auto chain = probe_served_chain(target, {.timeout = context.options.timeout});
    if (!chain) {
        bool unreachable = chain.error().message().starts_with("cannot connect");
        std::string skipped =
            unreachable && names_left > 0
                ? " (" + std::to_string(names_left) + " more names on this address not probed)"
                : "";
        context.add(Severity::kFailure, "served", subject,
                    "cannot get the served certificate: " + chain.error().describe() + skipped,
                    kNeedsRunning + " (or --no-probe)");
        return !unreachable;
    }
    const crypto::Certificate& served = chain->front();
    Bytes fingerprint = served.sha256_fingerprint();
    for (const DiskCertificate* disk : expected) {
        if (disk->leaf->sha256_fingerprint() == fingerprint) {
            context.add(Severity::kOk, "served", subject,
                        describe(target) + " serves " + disk->use.path.string() + " (serial " +
                            served.serial_hex() + ")");
            return true;
        }
    }
    const DiskCertificate& wanted = *expected.front();
    context.add(Severity::kFailure, "served", subject,
                describe(target) + " serves " + describe_certificate(served) + ", but " +
                    wanted.use.path.string() + " holds " + describe_certificate(*wanted.leaf) +
                    ": HAProxy runs with another certificate than the file",
                "load the file into HAProxy: `set ssl cert " + wanted.use.path.string() +
                    " <<` with its content, then `commit ssl cert " + wanted.use.path.string() +
                    "` on the stats socket (or reload HAProxy)");
    return true;
}

}  // namespace

void check_sockets(const Context& context) {
    std::vector<SocketToCheck> sockets;
    for (const auto& written : context.options.sockets) {
        auto endpoint = haproxy::parse_runtime_api_endpoint(written);
        if (!endpoint) {
            context.add(Severity::kFailure, "socket", written, endpoint.error().describe(),
                        "give --socket as a unix path, HOST:PORT, or PATH@1 for a master CLI");
            continue;
        }
        sockets.push_back(
            {endpoint->transport.address, std::nullopt, written, endpoint->target_prefix});
    }
    if (context.options.sockets.empty()) {
        for (const auto& socket : context.config.stats_sockets) {
            sockets.push_back({socket.address, socket.level, socket.where.describe(), ""});
        }
    }
    if (sockets.empty() && context.options.sockets.empty()) {
        context.add(Severity::kFailure, "socket", context.config.file,
                    "no `stats socket` in the global section: certificates cannot be hot-loaded",
                    "add `stats socket /run/haproxy/admin.sock mode 660 level admin` to global");
        return;
    }
    if (!context.options.check_sockets) {
        check_declared_levels(context);
        return;
    }
    std::vector<Finding> below_admin;
    bool any_admin = false;
    for (const auto& socket : sockets) {
        SocketOutcome outcome = check_socket(context, socket);
        any_admin |= outcome.admin;
        if (outcome.below_admin) below_admin.push_back(std::move(*outcome.below_admin));
    }
    for (auto& finding : below_admin) {
        // Another socket serves certdock: this one is fine for monitoring.
        if (any_admin) finding.severity = Severity::kWarning;
        context.findings.push_back(std::move(finding));
    }
}

void check_served(const Context& context, const std::vector<DiskCertificate>& certificates) {
    for (size_t index = 0; index < context.config.binds.size(); ++index) {
        const haproxy::Bind& bind = context.config.binds[index];
        if (!bind.ssl) continue;
        // SNI name -> the certificates on disk this bind may present for it, in order.
        std::map<std::string, std::vector<const DiskCertificate*>> expected;
        for (const auto& certificate : certificates) {
            const auto& binds = certificate.use.binds;
            if (!certificate.leaf || std::find(binds.begin(), binds.end(), index) == binds.end()) {
                continue;
            }
            for (const auto& name : probe_names(certificate)) {
                expected[name].push_back(&certificate);
            }
        }
        if (expected.empty()) continue;
        for (const auto& written : bind.addresses) {
            auto address = probe_address(written);
            if (!address) {
                context.add(Severity::kWarning, "served", bind.where.describe(),
                            "bind address " + written + " is not probed (" +
                                address.error().message() + ")",
                            "");
                continue;
            }
            size_t names_left = expected.size();
            for (const auto& [name, disks] : expected) {
                --names_left;
                if (!probe_one(context, bind, {address->host, address->port, name}, disks,
                               names_left)) {
                    break;
                }
            }
        }
    }
}

}  // namespace certdock::agent::doctor
