#include "dns/update.hpp"

#include <algorithm>
#include <vector>

#include "dns/message.hpp"
#include "dns/resolver.hpp"

namespace certdock::dns {
namespace {

// RFC 1035 §3.3: a character-string holds at most 255 octets.
constexpr size_t kMaxCharacterString = 255;

// TSIG error codes a server puts in its reply's TSIG record (RFC 8945 §3).
constexpr std::uint16_t kTsigBadSig = 16;
constexpr std::uint16_t kTsigBadKey = 17;
constexpr std::uint16_t kTsigBadTime = 18;

// A TXT record with `value` split into character-strings. RFC 2136 §2.5: class IN adds it,
// class NONE with TTL 0 deletes exactly this record from the RRset.
Result<RrPtr> make_txt_rr(const ldns_rdf* owner, std::string_view value, ldns_rr_class klass,
                          std::uint32_t ttl) {
    RrPtr rr(ldns_rr_new());
    if (!rr) return fail(ErrorCategory::kInternal, "cannot allocate a DNS record");
    ldns_rr_set_owner(rr.get(), ldns_rdf_clone(owner));
    ldns_rr_set_type(rr.get(), LDNS_RR_TYPE_TXT);
    ldns_rr_set_class(rr.get(), klass);
    ldns_rr_set_ttl(rr.get(), ttl);
    do {
        size_t length = std::min(value.size(), kMaxCharacterString);
        std::vector<std::uint8_t> wire;
        wire.reserve(length + 1);
        wire.push_back(static_cast<std::uint8_t>(length));
        wire.insert(wire.end(), value.data(), value.data() + length);
        RdfPtr string(ldns_rdf_new_frm_data(LDNS_RDF_TYPE_STR, wire.size(), wire.data()));
        if (!string || !ldns_rr_push_rdf(rr.get(), string.get())) {
            return fail(ErrorCategory::kInternal, "cannot build a TXT record");
        }
        static_cast<void>(string.release());  // the record owns it now
        value.remove_prefix(length);
    } while (!value.empty());
    return rr;
}

std::string tsig_error_name(std::uint16_t error) {
    switch (error) {
        case kTsigBadSig:
            return "BADSIG";
        case kTsigBadKey:
            return "BADKEY";
        case kTsigBadTime:
            return "BADTIME";
        default:
            return "TSIG error " + std::to_string(error);
    }
}

// Why the server said no, in terms of what the operator has to change.
std::string explain_rejection(int rcode, std::uint16_t tsig_error, const TsigKey* key,
                              const std::string& zone, const std::string& name,
                              const std::string& server) {
    std::string key_name = key ? key->name : "";
    if (tsig_error == kTsigBadSig) {
        return "TSIG key " + key_name + " not accepted for zone " + zone +
               ": the signature does not verify, so the secret differs from the server's";
    }
    if (tsig_error == kTsigBadKey) {
        return "TSIG key " + key_name + " not accepted for zone " + zone + ": " + server +
               " does not know a key of that name and algorithm (" +
               std::string(tsig_algorithm_name(key ? key->algorithm : TsigAlgorithm::kHmacSha256)) +
               "), or does not allow it to update the zone";
    }
    if (tsig_error == kTsigBadTime) {
        return "TSIG key " + key_name + " not accepted for zone " + zone +
               ": the clocks of this host and " + server + " differ by more than 5 minutes";
    }
    switch (rcode) {
        case LDNS_RCODE_NOTAUTH:
            return key ? server + " is not authoritative for zone " + zone +
                             " (check the zone name and that this is its primary)"
                       : server + " is not authoritative for zone " + zone +
                             ", or requires a TSIG key for updates";
        case LDNS_RCODE_REFUSED:
            return key ? "update refused: allow the key " + key_name + " to update zone " + zone
                       : "update refused: allow this host to update zone " + zone +
                             ", or configure a TSIG key";
        case LDNS_RCODE_NOTZONE:
            return name + " is not inside zone " + zone;
        case LDNS_RCODE_SERVFAIL:
            return server + " failed to apply the update to zone " + zone;
        case LDNS_RCODE_NOTIMPL:
            return server + " does not implement dynamic updates";
        case LDNS_RCODE_FORMERR:
            return server + " could not parse the update";
        default:
            return "update of zone " + zone + " rejected";
    }
}

}  // namespace

Result<UpdateClient> UpdateClient::create(UpdateConfig config) {
    CERTDOCK_TRY(ServerAddress server, parse_server_address(config.server));
    if (config.timeout.count() <= 0) {
        return fail(ErrorCategory::kUsage, "the DNS update timeout must be positive");
    }
    return UpdateClient(std::move(config), std::move(server));
}

Status UpdateClient::add_txt(std::string_view zone, std::string_view name, std::string_view value,
                             std::uint32_t ttl) const {
    return update_txt(Operation::kAdd, zone, name, value, ttl);
}

Status UpdateClient::delete_txt(std::string_view zone, std::string_view name,
                                std::string_view value) const {
    return update_txt(Operation::kDelete, zone, name, value, 0);
}

Result<std::string> UpdateClient::find_zone(std::string_view name) const {
    return dns::find_zone(name, config_.server, config_.timeout);
}

Status UpdateClient::update_txt(Operation operation, std::string_view zone_text,
                                std::string_view name_text, std::string_view value,
                                std::uint32_t ttl) const {
    bool add = operation == Operation::kAdd;
    CERTDOCK_TRY(RdfPtr owner, make_dname(name_text));
    std::string name = dname_to_string(owner.get());
    std::string server = server_.to_string();
    std::string what = std::string(add ? "adding" : "deleting") + " TXT " + name;
    std::string zone_name(zone_text);
    if (zone_name.empty()) {
        auto found = find_zone(name);
        if (!found) {
            ErrorCategory category = found.error().category();
            return Error(category, what + " at " + server).caused_by(std::move(found).error());
        }
        zone_name = *std::move(found);
    }
    CERTDOCK_TRY(RdfPtr zone, make_dname(zone_name));
    zone_name = dname_to_string(zone.get());
    what += " in zone " + zone_name + " at " + server;
    if (!in_zone(owner.get(), zone.get())) {
        return fail(ErrorCategory::kUsage, what + ": the name is not inside the zone");
    }

    CERTDOCK_TRY(RrPtr record,
                 make_txt_rr(owner.get(), value, add ? LDNS_RR_CLASS_IN : LDNS_RR_CLASS_NONE, ttl));
    RrListPtr updates(ldns_rr_list_new());
    if (!updates || !ldns_rr_list_push_rr(updates.get(), record.get())) {
        return fail(ErrorCategory::kInternal, what + ": cannot build the update");
    }
    static_cast<void>(record.release());  // the list owns it now
    // The zone section names the zone with type SOA (RFC 2136 §2.3); no prerequisites.
    PktPtr packet(ldns_update_pkt_new(ldns_rdf_clone(zone.get()), LDNS_RR_CLASS_IN, nullptr,
                                      updates.get(), nullptr));
    if (!packet) return fail(ErrorCategory::kInternal, what + ": cannot build the update");
    ldns_pkt_set_random_id(packet.get());
    ldns_pkt_set_rd(packet.get(), false);  // RFC 2136 §2.2: not used in updates

    const TsigKey* key = config_.key ? &*config_.key : nullptr;
    auto reply = exchange(server_, packet.get(), config_.timeout, key);
    if (!reply) {
        ErrorCategory category = reply.error().category();
        return Error(category, what).caused_by(std::move(reply).error());
    }

    int rcode = ldns_pkt_get_rcode(reply->packet.get());
    if (rcode == LDNS_RCODE_NOERROR && (key == nullptr || reply->tsig_verified)) return {};
    if (rcode == LDNS_RCODE_NOERROR) {
        return fail(ErrorCategory::kProtocol, what + ": the NOERROR reply is not signed with key " +
                                                  key->name + "; not trusting it");
    }
    std::string code = rcode_name(rcode);
    if (reply->tsig_error != 0) code += ", " + tsig_error_name(reply->tsig_error);
    return fail(ErrorCategory::kProtocol,
                what + ": " + code + ": " +
                    explain_rejection(rcode, reply->tsig_error, key, zone_name, name, server));
}

}  // namespace certdock::dns
