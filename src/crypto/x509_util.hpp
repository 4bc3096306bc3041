#pragma once

// Helpers shared by Certificate, Csr and the test PKI; not part of certdock's public API.

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"
#include "crypto/digest.hpp"
#include "crypto/key_spec.hpp"
#include "crypto/ossl_ptr.hpp"

namespace certdock::crypto::x509 {

// True for IPv4 dotted-quad and IPv6 text.
bool is_ip_address(const std::string& text);

// RFC 2253 one-line form, UTF-8 kept readable instead of \XX escapes.
std::string name_to_string(const X509_NAME* name);

// The last (most specific) commonName of `name`, as UTF-8.
std::optional<std::string> common_name_of(const X509_NAME* name);

struct AltNames {
    std::vector<std::string> dns_names;
    std::vector<std::string> ip_addresses;  // textual, IPv6 in RFC 5952 form
};

// DNS and IP entries of a subjectAltName; other entry types are ignored.
AltNames read_alt_names(const GENERAL_NAMES* names);

// A subjectAltName value with the given DNS and IP entries. Fails on an empty DNS name, on an
// IP address listed as a DNS name, and on text that is not an IPv4 or IPv6 address.
Result<GeneralNamesPtr> make_alt_names(const std::vector<std::string>& dns_names,
                                       const std::vector<std::string>& ip_addresses);

// The digest to sign a certificate or CSR with: none for Ed25519 (it hashes internally),
// otherwise `requested` or the key's natural digest.
const EVP_MD* signing_md(const KeySpec& spec, std::optional<DigestAlgorithm> requested);

// The text of the first PEM block in `pem` whose label is one of `labels`. Errors name what
// was expected (`expected`, e.g. "a certificate") and what was found instead.
Result<std::string> find_pem_block(std::string_view pem,
                                   std::initializer_list<std::string_view> labels,
                                   std::string_view expected);

BioPtr memory_bio(std::string_view data);
std::string bio_to_string(BIO* bio);

}  // namespace certdock::crypto::x509
