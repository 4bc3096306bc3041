#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"

namespace certdock::dns {

// Queries go to the servers the caller names (an authoritative primary, or the resolvers the
// CA is likely to use), never to /etc/resolv.conf: dns-01 readiness depends on which server
// is asked. Servers are written "192.0.2.53", "127.0.0.1:5353", "[2001:db8::53]:5353" or a
// host name. `timeout` applies per server and transport (UDP, then TCP after truncation).

// The TXT records at `name`, one string per record with its character-strings joined
// (a 300-byte value spans two strings on the wire and comes back whole). A CNAME chain inside
// the answer is followed. Servers are asked in order until one answers NOERROR or NXDOMAIN;
// both "no such name" and "no TXT at that name" give an empty vector. Timeouts, SERVFAIL,
// REFUSED and other rcodes are errors naming each server and what it answered.
Result<std::vector<std::string>> query_txt(std::string_view name,
                                           const std::vector<std::string>& servers,
                                           std::chrono::milliseconds timeout);

// The zone `name` belongs to, as `server` sees it: SOA queries walking up from `name` until
// one is answered with a SOA at the queried name (or a negative answer names the zone in its
// authority section). Returns the absolute zone name ("example.com."). Fails when the server
// serves no zone above `name`, or delegates `name` to other servers.
Result<std::string> find_zone(std::string_view name, const std::string& server,
                              std::chrono::milliseconds timeout);

struct Authority {
    std::string zone;                      // "example.com."
    std::vector<std::string> nameservers;  // NS targets, "ns1.example.com."
};

// The zone holding `name` and the name servers its NS records list, as `server` sees them:
// where to check that a record has reached every authoritative server.
Result<Authority> find_authority(std::string_view name, const std::string& server,
                                 std::chrono::milliseconds timeout);

}  // namespace certdock::dns
