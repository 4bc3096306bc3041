#pragma once

// One owning alias per ldns type, private to the dns component: every ldns object lives in one
// of these, and no raw ldns_*_free call appears outside this header.

#include <ldns/ldns.h>

#include <cstdlib>
#include <cstring>
#include <memory>

namespace certdock::dns {

template <auto FreeFn>
struct LdnsDeleter {
    template <typename T>
    void operator()(T* p) const {
        FreeFn(p);
    }
};

// Deep frees: a packet owns its records, a record its rdata, a list its records.
using PktPtr = std::unique_ptr<ldns_pkt, LdnsDeleter<ldns_pkt_free>>;
using RrPtr = std::unique_ptr<ldns_rr, LdnsDeleter<ldns_rr_free>>;
using RrListPtr = std::unique_ptr<ldns_rr_list, LdnsDeleter<ldns_rr_list_deep_free>>;
using RdfPtr = std::unique_ptr<ldns_rdf, LdnsDeleter<ldns_rdf_deep_free>>;

// The resolver holds a copy of the TSIG secret; wipe it before ldns frees the memory.
struct ResolverDeleter {
    void operator()(ldns_resolver* resolver) const {
        if (const char* secret = ldns_resolver_tsig_keydata(resolver)) {
            char* owned = const_cast<char*>(secret);      // ldns strdup'ed it; we own the bytes
            ::explicit_bzero(owned, std::strlen(owned));  // glibc, via <cstring>
        }
        ldns_resolver_deep_free(resolver);
    }
};
using ResolverPtr = std::unique_ptr<ldns_resolver, ResolverDeleter>;

// Strings ldns allocates with malloc (ldns_rdf2str and friends).
struct LdnsStringDeleter {
    void operator()(char* p) const { std::free(p); }
};
using LdnsStringPtr = std::unique_ptr<char, LdnsStringDeleter>;

}  // namespace certdock::dns
