#pragma once

// HAProxy's Runtime API (the "stats socket" CLI) as typed calls. Each call opens its own
// connection. Replies are checked against what HAProxy says on success; anything else becomes
// an error quoting HAProxy. Thread-compatible: one object, one thread at a time (the object
// holds no connection, so several objects may talk to one HAProxy concurrently — but HAProxy
// has one certificate transaction per process, see hot_update.hpp).

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"
#include "haproxy/cli_transport.hpp"
#include "haproxy/replies.hpp"

namespace certdock::haproxy {

struct RuntimeApiOptions {
    CliTransportOptions transport;
    // Master CLI target ("@1", "@!<pid>") put before every command; empty for a worker's
    // own stats socket.
    std::string target_prefix;
    // How long a command HAProxy refuses with "Operations on certificates are currently
    // locked!" (another client holds the certificate lock) is sent again, waiting 20 ms,
    // 40 ms, ... in between on transport.clock.
    std::chrono::milliseconds lock_timeout{3'000};
};

class RuntimeApi {
public:
    explicit RuntimeApi(RuntimeApiOptions options);

    const RuntimeApiOptions& options() const { return options_; }

    // The raw reply to `command`, after the checks every command shares (permission,
    // unknown command).
    Result<std::string> execute(std::string_view command);
    // "<command> <<\n<payload>\n\n"; the payload is sanitized first (sanitize_payload).
    // Returns the raw reply, which may be empty when HAProxy dropped the connection.
    Result<std::string> execute_with_payload(std::string_view command, std::string_view payload);

    // `show ssl cert`: every certificate store's name, without the open transaction.
    Result<std::vector<std::string>> show_ssl_cert_list();
    // The file name of the open certificate transaction, if any.
    Result<std::optional<std::string>> open_transaction();
    // `show ssl cert <name>`; pass "*<name>" for the open transaction's content.
    Result<CertInfo> show_ssl_cert(std::string_view name);

    // `set ssl cert <name> <<`: opens or updates the transaction of `name`; fails if HAProxy
    // put the payload into another certificate's transaction (HAProxy 2.6) or dropped it.
    Status set_ssl_cert(std::string_view name, std::string_view payload);
    // The same in two requests, for bundles over tune.bufsize: the chain with
    // `set ssl cert <name>`, then the key with `set ssl cert <name>.key` (2.6 accepts both).
    // Returns the bytes sent in payloads.
    Result<size_t> set_ssl_cert_split(std::string_view name, std::string_view cert_chain_pem,
                                      std::string_view key_pem);
    Status commit_ssl_cert(std::string_view name);
    Status abort_ssl_cert(std::string_view name);
    // An empty, unused store; serve it with add_ssl_crt_list after set + commit.
    Status new_ssl_cert(std::string_view name);
    // `add ssl crt-list <crtlist> <<` with one line "<cert> [<sslopts>] [<sni> ...]".
    Status add_ssl_crt_list(std::string_view crtlist, std::string_view line);

    // `show proc`, for a RuntimeApi on the master CLI; sent without target_prefix. A worker's
    // pid from it makes a target that stays on that worker: "@!<pid>".
    Result<ProcessList> show_proc();

    // Maps: `<map>` is the file name as loaded at start-up or "#<id>".
    Status add_map(std::string_view map, std::string_view key, std::string_view value);
    Status del_map(std::string_view map, std::string_view key);
    Result<std::vector<MapEntry>> show_map(std::string_view map);

private:
    Result<std::string> send(std::string_view command, std::string request);
    // One exchange, sent again while HAProxy answers that the certificate lock is taken.
    Result<std::string> exchange_when_unlocked(std::string_view command,
                                               const std::string& request);

    RuntimeApiOptions options_;
};

}  // namespace certdock::haproxy
