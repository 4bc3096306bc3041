#include "dns/resolver.hpp"

#include "dns/message.hpp"

namespace certdock::dns {
namespace {

// More hops than any sane CNAME chain inside one answer; stops loops.
constexpr int kMaxCnameHops = 8;

std::string join(const std::vector<std::string>& parts, std::string_view separator) {
    std::string text;
    for (const std::string& part : parts) {
        if (!text.empty()) text += separator;
        text += part;
    }
    return text;
}

std::vector<std::string> txt_records(const ldns_pkt* reply, const ldns_rdf* name) {
    const ldns_rr_list* answer = ldns_pkt_answer(reply);
    const ldns_rdf* current = name;
    std::vector<std::string> values;
    for (int hop = 0; hop <= kMaxCnameHops && current != nullptr; ++hop) {
        const ldns_rdf* next = nullptr;
        for (size_t i = 0; i < ldns_rr_list_rr_count(answer); ++i) {
            const ldns_rr* rr = ldns_rr_list_rr(answer, i);
            if (!same_dname(ldns_rr_owner(rr), current)) continue;
            if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_TXT) values.push_back(txt_value(rr));
            if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_CNAME && ldns_rr_rd_count(rr) > 0) {
                next = ldns_rr_rdf(rr, 0);
            }
        }
        if (!values.empty()) break;
        current = next;
    }
    return values;
}

const ldns_rr* find_rr(const ldns_rr_list* list, ldns_rr_type type) {
    for (size_t i = 0; i < ldns_rr_list_rr_count(list); ++i) {
        const ldns_rr* rr = ldns_rr_list_rr(list, i);
        if (ldns_rr_get_type(rr) == type) return rr;
    }
    return nullptr;
}

std::vector<std::string> rdata_names(const ldns_rr_list* list, ldns_rr_type type,
                                     const ldns_rdf* owner) {
    std::vector<std::string> names;
    for (size_t i = 0; i < ldns_rr_list_rr_count(list); ++i) {
        const ldns_rr* rr = ldns_rr_list_rr(list, i);
        if (ldns_rr_get_type(rr) != type || ldns_rr_rd_count(rr) == 0) continue;
        if (owner != nullptr && !same_dname(ldns_rr_owner(rr), owner)) continue;
        names.push_back(dname_to_string(ldns_rr_rdf(rr, 0)));
    }
    return names;
}

}  // namespace

Result<std::vector<std::string>> query_txt(std::string_view name,
                                           const std::vector<std::string>& servers,
                                           std::chrono::milliseconds timeout) {
    CERTDOCK_TRY(RdfPtr qname, make_dname(name));
    std::string shown = dname_to_string(qname.get());
    if (servers.empty()) return fail(ErrorCategory::kUsage, "no DNS server to ask for " + shown);
    std::vector<std::string> failures;
    bool only_network_failures = true;
    for (const std::string& text : servers) {
        CERTDOCK_TRY(ServerAddress server, parse_server_address(text));
        CERTDOCK_TRY(PktPtr query, make_query(qname.get(), LDNS_RR_TYPE_TXT, true));
        auto reply = exchange(server, query.get(), timeout);
        if (!reply) {
            only_network_failures &= reply.error().category() == ErrorCategory::kNetwork;
            failures.push_back(reply.error().describe());
            continue;
        }
        int rcode = ldns_pkt_get_rcode(reply->packet.get());
        if (rcode == LDNS_RCODE_NXDOMAIN) return std::vector<std::string>{};
        if (rcode == LDNS_RCODE_NOERROR) return txt_records(reply->packet.get(), qname.get());
        only_network_failures = false;
        failures.push_back(server.to_string() + " answered " + rcode_name(rcode));
    }
    return fail(only_network_failures ? ErrorCategory::kNetwork : ErrorCategory::kProtocol,
                "TXT lookup of " + shown + " failed: " + join(failures, "; "));
}

Result<std::string> find_zone(std::string_view name, const std::string& server_text,
                              std::chrono::milliseconds timeout) {
    CERTDOCK_TRY(ServerAddress server, parse_server_address(server_text));
    CERTDOCK_TRY(RdfPtr start, make_dname(name));
    std::string shown = dname_to_string(start.get());
    std::string where = server.to_string();
    RdfPtr candidate(ldns_rdf_clone(start.get()));
    std::string last_answer = "nothing";
    // The root is never the answer: nobody updates it, and resolvers would happily claim it.
    while (ldns_dname_label_count(candidate.get()) > 0) {
        std::string asked = dname_to_string(candidate.get());
        CERTDOCK_TRY(PktPtr query, make_query(candidate.get(), LDNS_RR_TYPE_SOA, true));
        auto reply = exchange(server, query.get(), timeout);
        if (!reply) {
            ErrorCategory category = reply.error().category();
            return Error(category, "cannot find the zone of " + shown)
                .caused_by(std::move(reply).error());
        }
        const ldns_pkt* packet = reply->packet.get();
        int rcode = ldns_pkt_get_rcode(packet);
        if (rcode == LDNS_RCODE_NOERROR || rcode == LDNS_RCODE_NXDOMAIN) {
            const ldns_rr_list* answer = ldns_pkt_answer(packet);
            for (size_t i = 0; i < ldns_rr_list_rr_count(answer); ++i) {
                const ldns_rr* rr = ldns_rr_list_rr(answer, i);
                if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_SOA &&
                    same_dname(ldns_rr_owner(rr), candidate.get())) {
                    return asked;
                }
            }
            const ldns_rr_list* authority = ldns_pkt_authority(packet);
            // A negative answer carries the zone's SOA: one query instead of a walk.
            if (const ldns_rr* soa = find_rr(authority, LDNS_RR_TYPE_SOA);
                soa && in_zone(candidate.get(), ldns_rr_owner(soa))) {
                return dname_to_string(ldns_rr_owner(soa));
            }
            // A referral: the name lives in a child zone this server does not serve. Walking
            // further up would find the parent zone, where an update is rejected as NOTZONE.
            if (const ldns_rr* ns = find_rr(authority, LDNS_RR_TYPE_NS);
                ns && !ldns_pkt_aa(packet) && in_zone(candidate.get(), ldns_rr_owner(ns))) {
                std::string child = dname_to_string(ldns_rr_owner(ns));
                return fail(
                    ErrorCategory::kProtocol,
                    "cannot find the zone of " + shown + ": " + where + " delegates " + child +
                        " to " +
                        join(rdata_names(authority, LDNS_RR_TYPE_NS, ldns_rr_owner(ns)), ", ") +
                        "; configure the zone and its primary server explicitly");
            }
        } else if (rcode == LDNS_RCODE_SERVFAIL) {
            return fail(ErrorCategory::kProtocol, "cannot find the zone of " + shown + ": " +
                                                      where + " answered SERVFAIL for SOA " +
                                                      asked);
        }
        last_answer = rcode_name(rcode) + " for " + asked;
        candidate.reset(ldns_dname_left_chop(candidate.get()));
        if (!candidate) return fail(ErrorCategory::kInternal, "cannot shorten " + asked);
    }
    return fail(ErrorCategory::kProtocol, where + " serves no zone containing " + shown +
                                              " (last answer: " + last_answer + ")");
}

Result<Authority> find_authority(std::string_view name, const std::string& server_text,
                                 std::chrono::milliseconds timeout) {
    Authority authority;
    CERTDOCK_TRY(authority.zone, find_zone(name, server_text, timeout));
    CERTDOCK_TRY(ServerAddress server, parse_server_address(server_text));
    CERTDOCK_TRY(RdfPtr zone, make_dname(authority.zone));
    CERTDOCK_TRY(PktPtr query, make_query(zone.get(), LDNS_RR_TYPE_NS, true));
    CERTDOCK_TRY(Reply reply, exchange(server, query.get(), timeout));
    int rcode = ldns_pkt_get_rcode(reply.packet.get());
    if (rcode != LDNS_RCODE_NOERROR) {
        return fail(ErrorCategory::kProtocol, server.to_string() + " answered " +
                                                  rcode_name(rcode) + " for NS " + authority.zone);
    }
    authority.nameservers =
        rdata_names(ldns_pkt_answer(reply.packet.get()), LDNS_RR_TYPE_NS, zone.get());
    if (authority.nameservers.empty()) {
        return fail(ErrorCategory::kProtocol,
                    server.to_string() + " lists no NS records for " + authority.zone);
    }
    return authority;
}

}  // namespace certdock::dns
