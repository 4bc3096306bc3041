#pragma once

// Internal to the dns component: building DNS messages with ldns and exchanging them with one
// server. resolver.cpp and update.cpp share it; nothing outside src/dns includes it.

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"
#include "dns/ldns_ptr.hpp"
#include "dns/server_address.hpp"
#include "dns/tsig_key.hpp"

namespace certdock::dns {

// An owner name in wire form; fails on names ldns cannot parse (empty labels, > 255 octets).
Result<RdfPtr> make_dname(std::string_view name);
std::string dname_to_string(const ldns_rdf* name);  // absolute: "example.com."
bool same_dname(const ldns_rdf* a, const ldns_rdf* b);
// True when `name` is `zone` or lies below it.
bool in_zone(const ldns_rdf* name, const ldns_rdf* zone);

std::string rcode_name(int rcode);  // "NOERROR", "NXDOMAIN", "NOTAUTH", "RCODE 12"
std::string rr_type_name(ldns_rr_type type);

// A TXT record's character-strings, concatenated (RFC 8555 §8.4 reads them as one value).
std::string txt_value(const ldns_rr* rr);

// A question with a random ID; advertises a 1232-byte EDNS buffer (DNS flag day 2020).
Result<PktPtr> make_query(const ldns_rdf* name, ldns_rr_type type, bool recursion_desired);

struct Reply {
    PktPtr packet;
    bool tsig_verified = false;    // the reply's TSIG checks out with our key (signed queries)
    std::uint16_t tsig_error = 0;  // the TSIG error field of the reply: 16 BADSIG, 17 BADKEY
};

// Sends `query` to one server: UDP first, the same message over TCP when the reply comes back
// truncated. With `key` the query is signed (RFC 8945) and the reply's TSIG checked. Fails
// when no matching reply arrives within `timeout` per transport; any rcode is a reply.
Result<Reply> exchange(const ServerAddress& server, ldns_pkt* query,
                       std::chrono::milliseconds timeout, const TsigKey* key = nullptr);

}  // namespace certdock::dns
