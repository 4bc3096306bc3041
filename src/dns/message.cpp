#include "dns/message.hpp"

#include <netdb.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <algorithm>
#include <cstring>

namespace certdock::dns {
namespace {

// Large enough for most answers, small enough to avoid IP fragmentation (DNS flag day 2020).
constexpr std::uint16_t kEdnsBufferSize = 1232;
// RFC 8945 §5.2.3: the usual allowance for clock differences.
constexpr std::uint16_t kTsigFudgeSeconds = 300;

struct AddrInfoDeleter {
    void operator()(addrinfo* info) const { freeaddrinfo(info); }
};
using AddrInfoPtr = std::unique_ptr<addrinfo, AddrInfoDeleter>;

// ldns wants the server as an A or AAAA rdata; a host name is resolved by the system here.
Result<RdfPtr> server_rdf(const ServerAddress& server) {
    if (RdfPtr v4(ldns_rdf_new_frm_str(LDNS_RDF_TYPE_A, server.host.c_str())); v4) return v4;
    if (RdfPtr v6(ldns_rdf_new_frm_str(LDNS_RDF_TYPE_AAAA, server.host.c_str())); v6) return v6;
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_DGRAM;
    addrinfo* raw = nullptr;
    int rc = getaddrinfo(server.host.c_str(), nullptr, &hints, &raw);
    AddrInfoPtr found(raw);
    if (rc != 0 || !found) {
        return fail(ErrorCategory::kNetwork,
                    "cannot resolve DNS server name " + server.host + ": " + gai_strerror(rc));
    }
    sockaddr_storage storage{};
    std::memcpy(&storage, found->ai_addr, found->ai_addrlen);
    std::uint16_t port = 0;
    RdfPtr address(ldns_sockaddr_storage2rdf(&storage, &port));
    if (!address) {
        return fail(ErrorCategory::kNetwork,
                    "DNS server name " + server.host + " resolves to an unusable address");
    }
    return address;
}

std::string_view wire_algorithm_name(TsigAlgorithm algorithm) {
    switch (algorithm) {
        case TsigAlgorithm::kHmacSha256:
            return "hmac-sha256.";
        case TsigAlgorithm::kHmacSha512:
            return "hmac-sha512.";
        case TsigAlgorithm::kHmacSha1:
            return "hmac-sha1.";
    }
    return "hmac-sha256.";
}

// ldns reads whatever datagram reaches its socket; make sure it answers our question.
bool answers(const ldns_pkt* reply, const ldns_pkt* query) {
    if (!ldns_pkt_qr(reply) || ldns_pkt_id(reply) != ldns_pkt_id(query)) return false;
    const ldns_rr_list* asked = ldns_pkt_question(query);
    const ldns_rr_list* echoed = ldns_pkt_question(reply);
    if (ldns_rr_list_rr_count(echoed) == 0) return true;  // FORMERR and friends may omit it
    if (ldns_rr_list_rr_count(asked) == 0) return false;
    const ldns_rr* a = ldns_rr_list_rr(asked, 0);
    const ldns_rr* e = ldns_rr_list_rr(echoed, 0);
    return ldns_rr_get_type(a) == ldns_rr_get_type(e) &&
           same_dname(ldns_rr_owner(a), ldns_rr_owner(e));
}

Error send_error(const ServerAddress& server, ldns_status status, bool tcp,
                 std::chrono::milliseconds timeout) {
    std::string transport = tcp ? "TCP" : "UDP";
    switch (status) {
        case LDNS_STATUS_NETWORK_ERR:
            return Error(ErrorCategory::kNetwork, server.to_string() + " did not answer within " +
                                                      std::to_string(timeout.count()) + " ms (" +
                                                      transport + ")");
        case LDNS_STATUS_SOCKET_ERROR:
            return Error(ErrorCategory::kNetwork,
                         "cannot reach " + server.to_string() + " over " + transport);
        default:
            return Error(ErrorCategory::kNetwork,
                         "exchange with " + server.to_string() + " over " + transport +
                             " failed: " + ldns_get_errorstr_by_id(status));
    }
}

}  // namespace

Result<RdfPtr> make_dname(std::string_view name) {
    if (name.empty()) return fail(ErrorCategory::kInput, "empty DNS name");
    RdfPtr rdf(ldns_dname_new_frm_str(std::string(name).c_str()));
    if (!rdf) return fail(ErrorCategory::kInput, "invalid DNS name \"" + std::string(name) + "\"");
    return rdf;
}

std::string dname_to_string(const ldns_rdf* name) {
    LdnsStringPtr text(ldns_rdf2str(name));
    return text ? std::string(text.get()) : std::string("?");
}

bool same_dname(const ldns_rdf* a, const ldns_rdf* b) {
    return ldns_dname_compare(a, b) == 0;
}

bool in_zone(const ldns_rdf* name, const ldns_rdf* zone) {
    return same_dname(name, zone) || ldns_dname_is_subdomain(name, zone);
}

std::string rcode_name(int rcode) {
    switch (rcode) {
        case LDNS_RCODE_NOERROR:
            return "NOERROR";
        case LDNS_RCODE_FORMERR:
            return "FORMERR";
        case LDNS_RCODE_SERVFAIL:
            return "SERVFAIL";
        case LDNS_RCODE_NXDOMAIN:
            return "NXDOMAIN";
        case LDNS_RCODE_NOTIMPL:
            return "NOTIMP";
        case LDNS_RCODE_REFUSED:
            return "REFUSED";
        case LDNS_RCODE_YXDOMAIN:
            return "YXDOMAIN";
        case LDNS_RCODE_YXRRSET:
            return "YXRRSET";
        case LDNS_RCODE_NXRRSET:
            return "NXRRSET";
        case LDNS_RCODE_NOTAUTH:
            return "NOTAUTH";
        case LDNS_RCODE_NOTZONE:
            return "NOTZONE";
        default:
            return "RCODE " + std::to_string(rcode);
    }
}

std::string rr_type_name(ldns_rr_type type) {
    LdnsStringPtr text(ldns_rr_type2str(type));
    return text ? std::string(text.get()) : "TYPE" + std::to_string(static_cast<int>(type));
}

std::string txt_value(const ldns_rr* rr) {
    std::string value;
    for (size_t i = 0; i < ldns_rr_rd_count(rr); ++i) {
        const ldns_rdf* field = ldns_rr_rdf(rr, i);
        size_t size = ldns_rdf_size(field);
        if (size == 0) continue;
        const std::uint8_t* data = ldns_rdf_data(field);
        // A character-string: one length octet, then the bytes.
        size_t length = std::min<size_t>(data[0], size - 1);
        value.append(reinterpret_cast<const char*>(data + 1), length);
    }
    return value;
}

Result<PktPtr> make_query(const ldns_rdf* name, ldns_rr_type type, bool recursion_desired) {
    PktPtr query(ldns_pkt_query_new(ldns_rdf_clone(name), type, LDNS_RR_CLASS_IN,
                                    recursion_desired ? LDNS_RD : 0));
    if (!query) return fail(ErrorCategory::kInternal, "cannot build a DNS query");
    ldns_pkt_set_random_id(query.get());
    ldns_pkt_set_edns_udp_size(query.get(), kEdnsBufferSize);
    return query;
}

Result<Reply> exchange(const ServerAddress& server, ldns_pkt* query,
                       std::chrono::milliseconds timeout, const TsigKey* key) {
    CERTDOCK_TRY(RdfPtr address, server_rdf(server));
    ResolverPtr resolver(ldns_resolver_new());
    if (!resolver) return fail(ErrorCategory::kInternal, "cannot create an ldns resolver");
    ldns_resolver_set_port(resolver.get(), server.port);
    // One try per transport: callers own the retry policy and the overall deadline.
    ldns_resolver_set_retry(resolver.get(), 1);
    ldns_resolver_set_random(resolver.get(), false);
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
    tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
    ldns_resolver_set_timeout(resolver.get(), tv);
    if (ldns_resolver_push_nameserver(resolver.get(), address.get()) != LDNS_STATUS_OK) {
        return fail(ErrorCategory::kInternal, "cannot configure DNS server " + server.to_string());
    }
    if (key) {
        std::string algorithm(wire_algorithm_name(key->algorithm));
        // ldns verifies the reply's TSIG with the resolver's copy of the key.
        ldns_resolver_set_tsig_keyname(resolver.get(), key->name.c_str());
        ldns_resolver_set_tsig_algorithm(resolver.get(), algorithm.c_str());
        ldns_resolver_set_tsig_keydata(resolver.get(), key->secret.c_str());
        ldns_status signed_status =
            ldns_pkt_tsig_sign(query, key->name.c_str(), key->secret.c_str(), kTsigFudgeSeconds,
                               algorithm.c_str(), nullptr);
        if (signed_status != LDNS_STATUS_OK) {
            return fail(ErrorCategory::kCrypto, "cannot sign a DNS message with TSIG key " +
                                                    key->name + ": " +
                                                    ldns_get_errorstr_by_id(signed_status));
        }
    }

    for (bool tcp : {false, true}) {
        ldns_resolver_set_usevc(resolver.get(), tcp);
        ldns_pkt* raw = nullptr;
        ldns_status status = ldns_send(&raw, resolver.get(), query);
        PktPtr packet(raw);
        // TSIG_BOGUS still hands over the reply: its rcode says why the server objected.
        bool bogus = status == LDNS_STATUS_CRYPTO_TSIG_BOGUS;
        if (!packet || (status != LDNS_STATUS_OK && !bogus)) {
            return send_error(server, status, tcp, timeout);
        }
        if (!answers(packet.get(), query)) {
            return fail(ErrorCategory::kProtocol,
                        server.to_string() + " sent a reply that does not match the query");
        }
        if (!tcp && ldns_pkt_tc(packet.get())) continue;
        Reply reply;
        reply.tsig_verified = key != nullptr && !bogus;
        if (const ldns_rr* tsig = ldns_pkt_tsig(packet.get()); tsig && ldns_rr_rd_count(tsig) > 5) {
            reply.tsig_error = ldns_rdf2native_int16(ldns_rr_rdf(tsig, 5));
        }
        reply.packet = std::move(packet);
        return reply;
    }
    return fail(ErrorCategory::kInternal, "unreachable: TCP replies are never retried");
}

}  // namespace certdock::dns
