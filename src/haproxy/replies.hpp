#pragma once

// Pure functions over the Runtime API's text: what certdock sends as a payload and how it
// reads HAProxy's answers. No I/O, so every reply HAProxy 2.6 is known to give can be
// unit-tested from a string.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.hpp"

namespace certdock::haproxy {

// A payload as the CLI can carry it: '\r' removed, blank (or blank-looking) lines dropped,
// since an empty line ends the payload; ends with '\n'. Fails when nothing is left.
Result<std::string> sanitize_payload(std::string_view payload);

// The reply without trailing and leading whitespace, for quoting in errors.
std::string trim_reply(std::string_view reply);

// Non-empty lines of a reply, each without trailing whitespace.
std::vector<std::string> reply_lines(std::string_view reply);

// `show ssl cert` without an argument.
struct CertList {
    std::optional<std::string> transaction;  // the open transaction's file name, without '*'
    std::vector<std::string> names;          // every certificate store, in HAProxy's order
};
Result<CertList> parse_cert_list(std::string_view reply);

// `show ssl cert <name>` (or `*<name>` for the open transaction).
struct CertInfo {
    std::string filename;  // as printed, so "*<name>" for a transaction
    std::string status;    // "Used", "Unused", "Empty"
    std::string serial;    // upper-case hex as HAProxy prints it
    std::string not_before;
    std::string not_after;
    std::optional<std::chrono::system_clock::time_point> not_before_time;
    std::optional<std::chrono::system_clock::time_point> not_after_time;
    std::string subject;  // OpenSSL's "/CN=..." form
    std::string issuer;
    std::string algorithm;  // "EC256", "RSA4096"
    std::string sha1_fingerprint;
    std::vector<std::string> dns_names;  // from "Subject Alternative Name", without "DNS:"
    std::vector<std::pair<std::string, std::string>> fields;  // every "Key: value" line
};
Result<CertInfo> parse_cert_info(std::string_view reply);

// "Nov 24 22:04:47 2026 GMT" (OpenSSL's ASN1_TIME_print form) as a time point.
std::optional<std::chrono::system_clock::time_point> parse_openssl_time(std::string_view text);

// Serial numbers compared the way humans mean it: case and leading zeros ignored.
bool same_serial(std::string_view a, std::string_view b);

// Checks the answer to `set ssl cert <name>` (also `<name>.key`): "Transaction created for
// certificate <name>!" or "... updated ...". On HAProxy 2.6 a set for B while A's transaction
// is open answers "Transaction updated for certificate A!" and B's payload went into A: that
// is reported as an error naming both. `payload_bytes` explains an empty reply.
Status check_set_reply(std::string_view reply, std::string_view name, size_t payload_bytes);

// Checks the answer to `commit ssl cert <name>`: "Committing <name>" ... "Success!".
Status check_commit_reply(std::string_view reply, std::string_view name);

// Checks the answer to `abort ssl cert <name>`: "Transaction aborted for certificate '<name>'!".
Status check_abort_reply(std::string_view reply, std::string_view name);

// Replies HAProxy gives to any command when the socket or the request is the problem
// ("Permission denied", "Unknown command", the master CLI's "Can't find the target PID");
// nothing for other replies.
std::optional<Error> generic_reply_error(std::string_view reply, std::string_view command);

// True when HAProxy refused a certificate command because another Runtime API client holds
// its certificate lock (HAProxy takes it with a trylock: "Operations on certificates are
// currently locked!", sometimes after "Can't show!" or "Can't update the certificate!").
// Nothing was done, so the same command may simply be sent again.
bool is_certificate_lock_reply(std::string_view reply);

// One process of `show proc` on the master CLI.
struct ProcessEntry {
    int pid = 0;
    std::string type{};  // "master", "worker", "program"
    int reloads = 0;
    std::string version{};  // "2.6.12-1+deb12u4", the last column
};
// `show proc`: the master, then the workers serving now, then those still finishing the
// connections they had before a reload ("# old workers"). Programs are skipped.
struct ProcessList {
    std::optional<ProcessEntry> master{};
    std::vector<ProcessEntry> workers{};
    std::vector<ProcessEntry> old_workers{};
};
Result<ProcessList> parse_proc_list(std::string_view reply);

// One entry of `show map <map>`: "<ref> <key> <value>", the value being the rest of the line.
struct MapEntry {
    std::string ref;  // HAProxy's "0x55d5c1430030", usable as "#<ref>"
    std::string key;
    std::string value;
    bool operator==(const MapEntry&) const = default;
};
Result<std::vector<MapEntry>> parse_map_entries(std::string_view reply);

}  // namespace certdock::haproxy
