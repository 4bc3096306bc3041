#include "agent/config_drift.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <vector>

#include "acme/wire.hpp"
#include "base/file.hpp"
#include "crypto/csr.hpp"
#include "crypto/key.hpp"

namespace certdock::agent {
namespace {

std::string lower(std::string text) {
    std::transform(text.begin(), text.end(), text.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return text;
}

// One spelling per address, so "2001:DB8:0::1" in the configuration is the certificate's
// "2001:db8::1".
std::string canonical_ip(const std::string& text) {
    std::array<unsigned char, 16> address{};
    std::array<char, INET6_ADDRSTRLEN> out{};
    for (int family : {AF_INET, AF_INET6}) {
        if (inet_pton(family, text.c_str(), address.data()) == 1 &&
            inet_ntop(family, address.data(), out.data(), out.size()) != nullptr) {
            return out.data();
        }
    }
    return lower(text);
}

struct Names {
    std::vector<std::string> dns{};
    std::vector<std::string> ips{};
};

std::optional<Names> wanted_names(const CertificateConfig& certificate) {
    Names names;
    if (certificate.csr_mode()) {
        auto csr = read_file(certificate.csr).and_then([](const std::string& pem) {
            return crypto::Csr::from_pem(pem);
        });
        if (!csr) return std::nullopt;
        names.dns = csr->dns_names();
        names.ips = csr->ip_addresses();
        return names;
    }
    for (const auto& name : certificate.domains) {
        const acme::Identifier id = acme::identifier_for(name);
        (id.type == "ip" ? names.ips : names.dns).push_back(id.value);
    }
    return names;
}

// "a", "a and b", "a, b and c".
std::string listed(const std::vector<std::string>& items) {
    std::string text;
    for (size_t i = 0; i < items.size(); ++i) {
        if (i > 0) text += i + 1 == items.size() ? " and " : ", ";
        text += items[i];
    }
    return text;
}

std::vector<std::string> missing_names(const Names& wanted, const crypto::Certificate& served) {
    std::vector<std::string> dns;
    for (const auto& name : served.dns_names()) dns.push_back(lower(name));
    std::vector<std::string> ips;
    for (const auto& ip : served.ip_addresses()) ips.push_back(canonical_ip(ip));
    std::vector<std::string> missing;
    for (const auto& name : wanted.dns) {
        if (std::find(dns.begin(), dns.end(), lower(name)) == dns.end()) missing.push_back(name);
    }
    for (const auto& ip : wanted.ips) {
        if (std::find(ips.begin(), ips.end(), canonical_ip(ip)) == ips.end()) {
            missing.push_back(ip);
        }
    }
    return missing;
}

}  // namespace

std::optional<std::string> config_drift(const CertificateConfig& certificate,
                                        const crypto::Certificate& served) {
    const std::string serial = served.serial_hex();
    if (auto wanted = wanted_names(certificate)) {
        std::vector<std::string> missing = missing_names(*wanted, served);
        if (!missing.empty()) {
            return std::string(certificate.csr_mode() ? "the CSR " + certificate.csr.string()
                                                      : std::string("the configuration")) +
                   " lists " + listed(missing) + ", which serial " + serial + " lacks";
        }
    }
    // An explicit keytype (bits, curves) that differs from the served key means a new key of
    // that type; with reuse-key = "on" the old key in key-file must be moved away first, as
    // the configuration check and the renewal's error say.
    const std::optional<crypto::KeySpec>& configured = certificate.key.spec;
    if (!certificate.csr_mode() && configured) {
        const crypto::KeySpec served_spec = served.public_key().spec();
        if (served_spec != *configured) {
            return "keytype: the configuration asks for an " + configured->describe() +
                   " key, serial " + serial + " has an " + served_spec.describe() +
                   " key; renewing with a new " + configured->describe() + " key";
        }
    }
    return std::nullopt;
}

}  // namespace certdock::agent
