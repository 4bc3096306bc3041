#include "challenge/http01_haproxy_map.hpp"

#include <algorithm>
#include <utility>

#include "challenge/task_check.hpp"
#include "haproxy/endpoint.hpp"
#include "haproxy/replies.hpp"

namespace certdock::challenge {
namespace {

using haproxy::MapEntry;
using haproxy::RuntimeApi;
using haproxy::RuntimeApiOptions;

constexpr std::string_view kUnknownMap = "Unknown map identifier";
constexpr std::string_view kVirtualPrefix = "virt@";

std::string where(const RuntimeApiOptions& endpoint) {
    return "HAProxy at " + haproxy::describe_endpoint(endpoint);
}

// `error` with the endpoint in front, keeping its category (it decides the exit status).
Error at(const RuntimeApiOptions& endpoint, const std::string& doing, Error error) {
    ErrorCategory category = error.category();
    return Error(category, where(endpoint) + ": " + doing).caused_by(std::move(error));
}

// The maps a bare `show map` lists, one per line: "0 (/etc/haproxy/acme.map) pattern ...".
std::vector<std::string> loaded_maps(std::string_view reply) {
    std::vector<std::string> names;
    for (const std::string& line : haproxy::reply_lines(reply)) {
        size_t open = line.find(" (");
        size_t close = line.find(") ", open == std::string::npos ? 0 : open);
        if (line.front() == '#' || open == std::string::npos || close == std::string::npos) {
            continue;
        }
        names.push_back(line.substr(open + 2, close - open - 2));
    }
    return names;
}

// HAProxy creates a map only while parsing its configuration; say how to get it there.
Error unknown_map(RuntimeApi& api, const std::string& map) {
    std::string fix =
        map.starts_with(kVirtualPrefix)
            ? "add `http-request return ... map(" + map +
                  ")` to the port-80 frontend (virtual maps need HAProxy 3.0 or later; 2.6 "
                  "knows only maps loaded from a file) and reload HAProxy"
            : "add `http-request return ... map(" + map +
                  ")` to the port-80 frontend and create the empty file before HAProxy starts; "
                  "the name must be the path exactly as written in map(...)";
    std::string known;
    if (auto list = api.execute("show map")) {
        std::vector<std::string> names = loaded_maps(*list);
        known = names.empty() ? "; it has loaded no map" : "; it has loaded:";
        for (const std::string& name : names) known += " " + name;
    }
    return Error(ErrorCategory::kUsage, where(api.options()) + " does not know the map " + map +
                                            " (\"" + std::string(kUnknownMap) +
                                            "\"): HAProxy only fills maps it loaded at "
                                            "start-up; " +
                                            fix + " (see docs/haproxy.md)" + known);
}

Result<std::vector<MapEntry>> read_map(RuntimeApi& api, const std::string& map) {
    auto reply = api.execute("show map " + map);
    if (!reply) return Unexpected(at(api.options(), "cannot read map " + map, reply.error()));
    if (haproxy::trim_reply(*reply).starts_with(kUnknownMap)) {
        return Unexpected(unknown_map(api, map));
    }
    auto entries = haproxy::parse_map_entries(*reply);
    if (!entries) return Unexpected(at(api.options(), "cannot read map " + map, entries.error()));
    return entries;
}

// Removes every entry for `token`, one by one: `add map` keeps duplicates.
Status remove_token(RuntimeApi& api, const std::string& map, const std::string& token) {
    CERTDOCK_TRY(std::vector<MapEntry> entries, read_map(api, map));
    for (const MapEntry& entry : entries) {
        if (entry.key != token) continue;
        Status removed = api.del_map(map, "#" + entry.ref);
        if (!removed) {
            return Unexpected(at(api.options(),
                                 "cannot remove the http-01 token " + token + " from map " + map,
                                 removed.error()));
        }
    }
    return {};
}

// One error for several endpoints, each named.
Status combine(std::vector<Error> errors, const std::string& what) {
    if (errors.empty()) return {};
    if (errors.size() == 1) {
        ErrorCategory category = errors.front().category();
        return Unexpected(Error(category, what).caused_by(std::move(errors.front())));
    }
    std::string message = what + " on " + std::to_string(errors.size()) + " HAProxy endpoints";
    for (const Error& error : errors) message += "; " + error.describe();
    return fail(errors.front().category(), std::move(message));
}

}  // namespace

Http01HaproxyMap::Http01HaproxyMap(Http01HaproxyMapOptions options)
    : options_(std::move(options)) {}

Result<std::unique_ptr<Http01HaproxyMap>> Http01HaproxyMap::create(
    Http01HaproxyMapOptions options) {
    if (options.endpoints.empty()) {
        return fail(ErrorCategory::kUsage,
                    "http-01 through an HAProxy map needs at least one Runtime API socket");
    }
    if (options.map.empty() || options.map.find_first_of(" \t\r\n") != std::string::npos) {
        return fail(ErrorCategory::kUsage,
                    "HAProxy map name \"" + options.map +
                        "\": give the map's file path as written in map(...), or virt@<name>, "
                        "without spaces");
    }
    return std::unique_ptr<Http01HaproxyMap>(new Http01HaproxyMap(std::move(options)));
}

Status Http01HaproxyMap::check_ready() {
    std::vector<Error> errors;
    for (const RuntimeApiOptions& endpoint : options_.endpoints) {
        RuntimeApi api(endpoint);
        auto entries = read_map(api, options_.map);
        if (!entries) errors.push_back(std::move(entries).error());
    }
    return combine(std::move(errors), "HAProxy cannot answer http-01 from map " + options_.map);
}

Status Http01HaproxyMap::present(const ChallengeTask& task) {
    CERTDOCK_TRY_STATUS(check_task(task, ChallengeType::kHttp01));
    const std::string& map = options_.map;
    for (const RuntimeApiOptions& endpoint : options_.endpoints) {
        RuntimeApi api(endpoint);
        CERTDOCK_TRY_STATUS(remove_token(api, map, task.token));
        Status added = api.add_map(map, task.token, task.key_authorization);
        if (!added) {
            return Unexpected(at(endpoint,
                                 "cannot add the http-01 token " + task.token + " to map " + map,
                                 std::move(added).error()));
        }
        CERTDOCK_TRY(std::vector<MapEntry> entries, read_map(api, map));
        auto matches = std::count_if(entries.begin(), entries.end(), [&](const MapEntry& entry) {
            return entry.key == task.token;
        });
        bool exact =
            matches == 1 && std::any_of(entries.begin(), entries.end(), [&](const MapEntry& entry) {
                return entry.key == task.token && entry.value == task.key_authorization;
            });
        if (!exact) {
            return fail(ErrorCategory::kProtocol,
                        where(endpoint) + ": after `add map`, map " + map + " holds " +
                            std::to_string(matches) + " entries for token " + task.token +
                            " instead of one with the key authorization; is another program "
                            "writing to this map?");
        }
    }
    return {};
}

Status Http01HaproxyMap::cleanup(const ChallengeTask& task) {
    // A token that failed the check in present() was never added.
    CERTDOCK_TRY_STATUS(check_token(task.token));
    std::vector<Error> errors;
    for (const RuntimeApiOptions& endpoint : options_.endpoints) {
        RuntimeApi api(endpoint);
        Status removed = remove_token(api, options_.map, task.token);
        if (!removed) errors.push_back(std::move(removed).error());
    }
    return combine(std::move(errors),
                   "the http-01 token " + task.token + " may still be in map " + options_.map);
}

}  // namespace certdock::challenge
