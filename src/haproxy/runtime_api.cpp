#include "haproxy/runtime_api.hpp"

#include <algorithm>
#include <utility>

namespace certdock::haproxy {
namespace {

using namespace std::chrono_literals;

constexpr std::string_view kKeySuffix = ".key";
constexpr auto kFirstLockRetryDelay = 20ms;
constexpr auto kMaxLockRetryDelay = 640ms;

// A CLI argument is split on spaces and a newline ends the command: refuse both rather than
// send something HAProxy would read as a different command.
Status check_argument(std::string_view what, std::string_view value) {
    if (value.empty() || value.find_first_of(" \t\r\n") != std::string_view::npos) {
        return fail(ErrorCategory::kUsage,
                    "invalid " + std::string(what) + " for the Runtime API: \"" +
                        std::string(value) + "\" (must be non-empty, without spaces or newlines)");
    }
    return {};
}

Unexpected unexpected(const std::string& command, std::string_view reply) {
    std::string quoted = trim_reply(reply);
    if (quoted.empty()) quoted = "(nothing)";
    return fail(ErrorCategory::kProtocol, "HAProxy answered `" + command + "` with: " + quoted);
}

}  // namespace

RuntimeApi::RuntimeApi(RuntimeApiOptions options) : options_(std::move(options)) {}

Result<std::string> RuntimeApi::send(std::string_view command, std::string request) {
    if (!options_.target_prefix.empty()) request = options_.target_prefix + " " + request;
    CERTDOCK_TRY(std::string reply, exchange_when_unlocked(command, request));
    if (auto error = generic_reply_error(reply, command)) return Unexpected(std::move(*error));
    return reply;
}

Result<std::string> RuntimeApi::exchange_when_unlocked(std::string_view command,
                                                       const std::string& request) {
    Clock& clock = options_.transport.clock != nullptr ? *options_.transport.clock : system_clock();
    const Clock::TimePoint give_up = clock.now() + options_.lock_timeout;
    std::chrono::milliseconds delay = kFirstLockRetryDelay;
    while (true) {
        CERTDOCK_TRY(std::string reply, cli_exchange(options_.transport, request, command));
        if (!is_certificate_lock_reply(reply)) return reply;
        Clock::TimePoint now = clock.now();
        if (now >= give_up) {
            // kNetwork: like an unreachable socket, this passes if one waits longer.
            return fail(ErrorCategory::kNetwork,
                        "HAProxy refused `" + std::string(command) + "` for " +
                            std::to_string(options_.lock_timeout.count()) +
                            " ms: \"Operations on certificates are currently locked!\" (another "
                            "Runtime API client holds the certificate lock: a commit in progress "
                            "or a `show ssl cert` still being read); nothing was changed, try "
                            "again once that client is done");
        }
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(give_up - now);
        clock.sleep_for(std::min(delay, left));
        delay = std::min(delay * 2, kMaxLockRetryDelay);
    }
}

Result<ProcessList> RuntimeApi::show_proc() {
    CERTDOCK_TRY(std::string reply, cli_exchange(options_.transport, "show proc\n", "show proc"));
    auto list = parse_proc_list(reply);
    if (list) return list;
    // A worker's stats socket answers "Unknown command": say what is wrong, not "too old".
    return Unexpected(
        Error(ErrorCategory::kUsage,
              "`show proc` needs HAProxy's master CLI (started with -W -S <socket>); " +
                  options_.transport.address + " is not one")
            .caused_by(std::move(list).error()));
}

Result<std::string> RuntimeApi::execute(std::string_view command) {
    if (command.find_first_of("\r\n") != std::string_view::npos) {
        return fail(ErrorCategory::kUsage, "a Runtime API command cannot contain a newline");
    }
    return send(command, std::string(command) + "\n");
}

Result<std::string> RuntimeApi::execute_with_payload(std::string_view command,
                                                     std::string_view payload) {
    if (command.find_first_of("\r\n") != std::string_view::npos) {
        return fail(ErrorCategory::kUsage, "a Runtime API command cannot contain a newline");
    }
    CERTDOCK_TRY(std::string clean, sanitize_payload(payload));
    // The payload ends with '\n'; one more empty line closes it.
    return send(command, std::string(command) + " <<\n" + clean + "\n");
}

Result<std::vector<std::string>> RuntimeApi::show_ssl_cert_list() {
    CERTDOCK_TRY(std::string reply, execute("show ssl cert"));
    CERTDOCK_TRY(CertList list, parse_cert_list(reply));
    return std::move(list.names);
}

Result<std::optional<std::string>> RuntimeApi::open_transaction() {
    CERTDOCK_TRY(std::string reply, execute("show ssl cert"));
    CERTDOCK_TRY(CertList list, parse_cert_list(reply));
    return std::move(list.transaction);
}

Result<CertInfo> RuntimeApi::show_ssl_cert(std::string_view name) {
    CERTDOCK_TRY_STATUS(check_argument("certificate name", name));
    std::string command = "show ssl cert " + std::string(name);
    CERTDOCK_TRY(std::string reply, execute(command));
    // HAProxy 2.6 says this, not "Permission denied", below level admin.
    if (trim_reply(reply) == "Can't allocate memory!") {
        return fail(ErrorCategory::kUsage,
                    "HAProxy answered `" + command +
                        "` with \"Can't allocate memory!\", which HAProxy 2.6 says on a socket "
                        "below level admin; declare it with `stats socket <path> level admin`");
    }
    return parse_cert_info(reply);
}

Status RuntimeApi::set_ssl_cert(std::string_view name, std::string_view payload) {
    CERTDOCK_TRY_STATUS(check_argument("certificate name", name));
    CERTDOCK_TRY(std::string clean, sanitize_payload(payload));
    CERTDOCK_TRY(std::string reply,
                 execute_with_payload("set ssl cert " + std::string(name), clean));
    return check_set_reply(reply, name, clean.size());
}

Result<size_t> RuntimeApi::set_ssl_cert_split(std::string_view name,
                                              std::string_view cert_chain_pem,
                                              std::string_view key_pem) {
    CERTDOCK_TRY_STATUS(check_argument("certificate name", name));
    CERTDOCK_TRY(std::string chain, sanitize_payload(cert_chain_pem));
    CERTDOCK_TRY(std::string key, sanitize_payload(key_pem));
    CERTDOCK_TRY_STATUS(set_ssl_cert(name, chain));
    // HAProxy answers for the store, not for the ".key" part of it.
    std::string key_command = "set ssl cert " + std::string(name) + std::string(kKeySuffix);
    CERTDOCK_TRY(std::string reply, execute_with_payload(key_command, key));
    CERTDOCK_TRY_STATUS(check_set_reply(reply, name, key.size()));
    return chain.size() + key.size();
}

Status RuntimeApi::commit_ssl_cert(std::string_view name) {
    CERTDOCK_TRY_STATUS(check_argument("certificate name", name));
    CERTDOCK_TRY(std::string reply, execute("commit ssl cert " + std::string(name)));
    return check_commit_reply(reply, name);
}

Status RuntimeApi::abort_ssl_cert(std::string_view name) {
    CERTDOCK_TRY_STATUS(check_argument("certificate name", name));
    CERTDOCK_TRY(std::string reply, execute("abort ssl cert " + std::string(name)));
    return check_abort_reply(reply, name);
}

Status RuntimeApi::new_ssl_cert(std::string_view name) {
    CERTDOCK_TRY_STATUS(check_argument("certificate name", name));
    std::string command = "new ssl cert " + std::string(name);
    CERTDOCK_TRY(std::string reply, execute(command));
    if (trim_reply(reply) != "New empty certificate store '" + std::string(name) + "'!") {
        return unexpected(command, reply);
    }
    return {};
}

Status RuntimeApi::add_ssl_crt_list(std::string_view crtlist, std::string_view line) {
    CERTDOCK_TRY_STATUS(check_argument("crt-list name", crtlist));
    if (line.find_first_of("\r\n") != std::string_view::npos) {
        return fail(ErrorCategory::kUsage, "a crt-list line cannot contain a newline");
    }
    std::string command = "add ssl crt-list " + std::string(crtlist);
    CERTDOCK_TRY(std::string reply, execute_with_payload(command, line));
    std::vector<std::string> lines = reply_lines(reply);
    if (lines.empty() || lines.back() != "Success!") return unexpected(command, reply);
    return {};
}

Status RuntimeApi::add_map(std::string_view map, std::string_view key, std::string_view value) {
    CERTDOCK_TRY_STATUS(check_argument("map name", map));
    CERTDOCK_TRY_STATUS(check_argument("map key", key));
    if (value.empty() || value.find_first_of("\r\n") != std::string_view::npos) {
        return fail(ErrorCategory::kUsage, "a map value must be one non-empty line");
    }
    std::string command = "add map " + std::string(map);
    Result<std::string> reply = std::string();
    // Only the payload form keeps spaces inside the value.
    if (value.find_first_of(" \t") == std::string_view::npos) {
        reply = execute(command + " " + std::string(key) + " " + std::string(value));
    } else {
        reply = execute_with_payload(command, std::string(key) + " " + std::string(value));
    }
    if (!reply) return Unexpected(std::move(reply).error());
    // Success is silent.
    if (!trim_reply(*reply).empty()) return unexpected(command + " " + std::string(key), *reply);
    return {};
}

Status RuntimeApi::del_map(std::string_view map, std::string_view key) {
    CERTDOCK_TRY_STATUS(check_argument("map name", map));
    CERTDOCK_TRY_STATUS(check_argument("map key", key));
    std::string command = "del map " + std::string(map) + " " + std::string(key);
    CERTDOCK_TRY(std::string reply, execute(command));
    if (!trim_reply(reply).empty()) return unexpected(command, reply);
    return {};
}

Result<std::vector<MapEntry>> RuntimeApi::show_map(std::string_view map) {
    CERTDOCK_TRY_STATUS(check_argument("map name", map));
    std::string command = "show map " + std::string(map);
    CERTDOCK_TRY(std::string reply, execute(command));
    auto entries = parse_map_entries(reply);
    if (!entries) return unexpected(command, reply);
    return entries;
}

}  // namespace certdock::haproxy
