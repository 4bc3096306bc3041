#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "base/result.hpp"
#include "dns/server_address.hpp"
#include "dns/tsig_key.hpp"

namespace certdock::dns {

struct UpdateConfig {
    std::string server;          // the zone's primary: "192.0.2.53", "127.0.0.1:5353"
    std::optional<TsigKey> key;  // unset: unsigned updates, for servers that allow by address
    std::chrono::milliseconds timeout{5000};  // per message and transport
};

// RFC 2136 dynamic updates of TXT records at one server, signed with TSIG (RFC 8945).
//
// A `zone` argument may be empty: the zone is then found by SOA queries at the same server
// (find_zone). Every reply is checked: its rcode, and for signed updates its TSIG, so a
// forged "NOERROR" is not taken for success. Errors name the server, zone and rcode and say
// what to fix. Holds no state between calls.
class UpdateClient {
public:
    // Fails when the server address is malformed.
    static Result<UpdateClient> create(UpdateConfig config);

    // Adds one TXT record; other records at `name`, other values included, stay. A value
    // longer than 255 bytes is split into several character-strings of one record.
    Status add_txt(std::string_view zone, std::string_view name, std::string_view value,
                   std::uint32_t ttl) const;
    // Deletes the TXT record with exactly this value and nothing else (RFC 2136 §2.5.4).
    // Deleting a value that is not there succeeds, as the server treats it.
    Status delete_txt(std::string_view zone, std::string_view name, std::string_view value) const;

    // The zone `name` belongs to at the update server.
    Result<std::string> find_zone(std::string_view name) const;

    const ServerAddress& server() const { return server_; }
    const UpdateConfig& config() const { return config_; }

private:
    UpdateClient(UpdateConfig config, ServerAddress server)
        : config_(std::move(config)), server_(std::move(server)) {}

    enum class Operation { kAdd, kDelete };
    Status update_txt(Operation operation, std::string_view zone, std::string_view name,
                      std::string_view value, std::uint32_t ttl) const;

    UpdateConfig config_;
    ServerAddress server_;
};

}  // namespace certdock::dns
