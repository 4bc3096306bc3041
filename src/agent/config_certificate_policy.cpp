// One [[certificate]]'s key policy (or CSR) and its challenge with the solver's settings.

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <set>

#include "agent/config_parse.hpp"
#include "agent/key_policy.hpp"
#include "base/file.hpp"
#include "crypto/csr.hpp"
#include "dns/server_address.hpp"
#include "dns/tsig_key.hpp"

namespace certdock::agent::config_detail {
namespace {

using challenge::ChallengeType;

std::string upper(std::string_view text) {
    std::string out;
    for (char c : text) out += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return out;
}

// "rsa4096" or "ecdsa-p256" (certdock's own tokens) rewritten as HAProxy's keywords.
std::string keytype_fix(const std::string& text) {
    auto spec = crypto::parse_key_spec(text);
    if (spec && spec->type == crypto::KeyType::kRsa) {
        return "write keytype = \"RSA\" and bits = " + std::to_string(spec->rsa_bits);
    }
    if (spec && spec->type == crypto::KeyType::kEcdsa && upper(text) != "EC") {
        return "write keytype = \"ECDSA\" and curves = \"" +
               std::string(crypto::curve_name(spec->curve)) + "\"";
    }
    if (spec && spec->type == crypto::KeyType::kEd25519) {
        return "CAs do not issue certificates for Ed25519 keys; write keytype = \"ECDSA\" or "
               "\"RSA\"";
    }
    return "write keytype = \"ECDSA\" or keytype = \"RSA\"";
}

std::optional<crypto::Curve> parse_curve(const std::string& text) {
    const std::string name = upper(text);
    if (name == "P-256" || name == "PRIME256V1" || name == "SECP256R1") return crypto::Curve::kP256;
    if (name == "P-384" || name == "SECP384R1") return crypto::Curve::kP384;
    return std::nullopt;
}

std::optional<crypto::KeySpec> read_key_spec(TableReader& reader) {
    const bool has_type = reader.has("keytype");
    auto type_text = reader.string("keytype");
    auto bits = reader.integer("bits");
    auto curves = reader.string("curves");
    if (!has_type) {
        if (reader.has("bits")) {
            reader.problem("bits",
                           "bits without keytype: write keytype = \"RSA\" with it "
                           "(bits sets the size of RSA keys only)");
        }
        if (reader.has("curves")) {
            reader.problem("curves", "curves without keytype: write keytype = \"ECDSA\" with it");
        }
        return std::nullopt;
    }
    if (!type_text) return std::nullopt;
    const std::string type = upper(*type_text);
    if (type == "RSA") {
        if (reader.has("curves")) {
            reader.problem("curves",
                           "curves applies to ECDSA keys, this one is RSA; remove "
                           "curves or write keytype = \"ECDSA\"");
        }
        int size = static_cast<int>(bits.value_or(2048));
        if (bits && *bits != 2048 && *bits != 3072 && *bits != 4096) {
            reader.problem("bits", "bits = " + std::to_string(*bits) +
                                       " is not an RSA size certdock generates; write bits = "
                                       "2048, 3072 or 4096");
            return std::nullopt;
        }
        return crypto::KeySpec::rsa(size);
    }
    if (type == "ECDSA") {
        if (reader.has("bits")) {
            std::string fix = "for ECDSA write curves = \"P-256\" or \"P-384\"";
            if (bits && (*bits == 256 || *bits == 384)) {
                fix = "write curves = \"P-" + std::to_string(*bits) + "\" instead";
            }
            reader.problem("bits", "bits applies to RSA keys, this one is ECDSA; " + fix);
        }
        if (!curves)
            return reader.has("curves")
                       ? std::nullopt
                       : std::optional(crypto::KeySpec::ecdsa(crypto::Curve::kP384));
        if (auto curve = parse_curve(*curves)) return crypto::KeySpec::ecdsa(*curve);
        reader.problem("curves", "curves " + quote(*curves) +
                                     " is not a curve certdock generates; write curves = "
                                     "\"P-256\" or \"P-384\"");
        return std::nullopt;
    }
    if (type == "EC") {
        reader.problem("keytype", "keytype " + quote(*type_text) +
                                      " is not a key type; HAProxy and certdock spell it ECDSA: "
                                      "write keytype = \"ECDSA\"");
    } else {
        reader.problem("keytype", "keytype " + quote(*type_text) + " is not a key type; " +
                                      keytype_fix(*type_text));
    }
    return std::nullopt;
}

std::optional<ReuseKey> read_reuse_key(TableReader& reader) {
    if (!reader.has("reuse-key")) return std::nullopt;
    auto text = reader.string("reuse-key");
    if (text == "on") return ReuseKey::kOn;
    if (text == "off") return ReuseKey::kOff;
    if (text == "rotate") return ReuseKey::kRotate;
    if (text) {
        reader.problem("reuse-key", "reuse-key " + quote(*text) +
                                        " is not a choice; write reuse-key = \"on\" (keep the "
                                        "key), \"off\" (new key each renewal) or \"rotate\"");
    }
    return std::nullopt;
}

// CSR mode: the CSR's key and names are the certificate's; `domains`, when given, must agree.
void read_csr(TableReader& reader, CertificateConfig& certificate,
              const std::filesystem::path& csr) {
    certificate.csr = csr;
    for (const char* key : {"keytype", "bits", "curves", "reuse-key", "rotate-ahead", "key-file"}) {
        if (reader.has(key)) {
            reader.problem(key, std::string("csr and ") + key +
                                    " conflict: a CSR brings its own key; remove " + key +
                                    " (or csr, to let certdock manage the key)");
        }
    }
    if (!require_file(reader, "csr", csr) || !reader.context().options.check_files) return;
    auto parsed =
        read_file(csr).and_then([](const std::string& pem) { return crypto::Csr::from_pem(pem); });
    if (!parsed) {
        reader.problem("csr", "csr " + quote(csr.native()) + " is not a PEM CSR (" +
                                  parsed.error().describe() + "); name the CSR file");
        return;
    }
    if (!parsed->signature_valid()) {
        reader.problem("csr", "csr " + quote(csr.native()) +
                                  " has a signature that does not verify; create it again");
    }
    std::vector<std::string> names = parsed->dns_names();
    for (const auto& ip : parsed->ip_addresses()) names.push_back(ip);
    for (auto& name : names) {
        std::transform(name.begin(), name.end(), name.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    }
    if (certificate.domains.empty()) {
        certificate.domains = names;
        return;
    }
    if (std::set(names.begin(), names.end()) !=
        std::set(certificate.domains.begin(), certificate.domains.end())) {
        std::string list;
        for (const auto& name : names) list += (list.empty() ? "" : ", ") + name;
        reader.problem("domains", "domains differ from the names in csr " + quote(csr.native()) +
                                      " (" + list +
                                      "); remove domains to use the CSR's names, or make a new "
                                      "CSR");
    }
}

void require_program(TableReader& reader, const std::string& key,
                     const std::filesystem::path& program) {
    if (require_file(reader, key, program) && reader.context().options.check_files &&
        ::access(program.c_str(), X_OK) != 0) {
        reader.problem(key,
                       key + " " + quote(program.native()) + " is not executable; chmod +x it");
    }
}

void read_dns01(TableReader& reader, ChallengeConfig& challenge) {
    auto hook = reader.path("dns-hook");
    auto server = reader.string("rfc2136-server");
    if (reader.has("dns-hook") && reader.has("rfc2136-server")) {
        reader.problem("rfc2136-server",
                       "dns-hook and rfc2136-server are two ways to publish "
                       "the TXT record; keep one of them");
    } else if (!reader.has("dns-hook") && !reader.has("rfc2136-server")) {
        reader.missing("dns-hook",
                       "dns-01 needs a way to publish the TXT record: dns-hook = "
                       "\"/path/to/hook\" or rfc2136-server = \"ns1.example.com\" "
                       "with tsig-key-file");
    }
    if (hook) {
        challenge.dns_hook = *hook;
        require_program(reader, "dns-hook", *hook);
        for (const char* key : {"tsig-key-file", "dns-zone"}) {
            if (reader.has(key)) {
                reader.problem(key, std::string(key) +
                                        " belongs to RFC 2136 updates, not to dns-hook; remove it");
            }
        }
    }
    if (!server) return;
    if (auto address = dns::parse_server_address(*server); !address) {
        reader.problem("rfc2136-server", "rfc2136-server " + quote(*server) +
                                             " is not a server address (" +
                                             address.error().message() +
                                             "); write rfc2136-server = \"192.0.2.53\" or "
                                             "\"ns1.example.com:53\"");
    }
    challenge.rfc2136_server = *server;
    if (auto key_file = reader.path("tsig-key-file")) {
        challenge.tsig_key_file = *key_file;
        if (require_file(reader, "tsig-key-file", *key_file) &&
            reader.context().options.check_files) {
            if (auto key = dns::load_tsig_key(*key_file); !key) {
                reader.problem("tsig-key-file", "tsig-key-file: " + key.error().describe());
            }
        }
    } else if (!reader.has("tsig-key-file")) {
        reader.missing("tsig-key-file",
                       "RFC 2136 updates are signed: write tsig-key-file = "
                       "\"/etc/certdock/tsig.key\" (tsig-keygen's output)");
    }
    if (auto zone = reader.string("dns-zone")) {
        if (auto why = dns_name_problem(*zone)) {
            reader.problem("dns-zone", "dns-zone " + quote(*zone) + " is not a zone name: " + *why);
        }
        challenge.dns_zone = *zone;
    }
}

}  // namespace

void read_key_policy(TableReader& reader, CertificateConfig& certificate,
                     const AgentSettings& agent) {
    if (auto csr = reader.path("csr")) {
        read_csr(reader, certificate, *csr);
        return;
    }
    if (reader.has("csr")) return;  // its value was wrong, and said so
    KeyPolicy& key = certificate.key;
    key.spec = read_key_spec(reader);
    key.reuse = read_reuse_key(reader).value_or(ReuseKey::kOn);
    auto ahead = reader.duration("rotate-ahead");
    if (reader.has("rotate-ahead") && key.reuse != ReuseKey::kRotate) {
        reader.problem("rotate-ahead",
                       "rotate-ahead applies to reuse-key = \"rotate\"; remove "
                       "it or write reuse-key = \"rotate\"");
    } else if (ahead && ahead->count() <= 0) {
        reader.problem("rotate-ahead",
                       "rotate-ahead must be longer than zero, as "
                       "rotate-ahead = \"30d\"");
    }
    if (key.reuse == ReuseKey::kRotate)
        key.rotate_ahead = ahead.value_or(std::chrono::hours(24 * 30));
    key.key_file =
        reader.path("key-file").value_or(agent.state_dir / "keys" / (certificate.name + ".key"));
    // A key already there must be usable and, when kept, of the configured type.
    if (reader.context().options.check_files) {
        if (auto detected = detect_key_policy(key); !detected) {
            reader.problem(reader.has("key-file") ? "key-file" : "keytype",
                           detected.error().describe());
        }
    }
}

void read_challenge(TableReader& reader, CertificateConfig& certificate) {
    ChallengeConfig& challenge = certificate.challenge;
    if (auto text = reader.string("challenge")) {
        std::string lower = *text;
        std::transform(lower.begin(), lower.end(), lower.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        if (auto type = challenge::parse_challenge_type(lower)) {
            challenge.type = *type;
        } else {
            std::string message =
                "challenge " + quote(*text) + " is not a challenge certdock answers; ";
            auto close = closest_match(*text, {"http-01", "dns-01", "tls-alpn-01"});
            message += close ? "did you mean challenge = " + quote(*close) + "?"
                             : "write challenge = \"http-01\", \"dns-01\" or \"tls-alpn-01\"";
            reader.problem("challenge", message);
            return;
        }
    }
    const std::string chosen(challenge::challenge_type_name(challenge.type));
    auto not_for = [&](const char* key, const char* type) {
        if (reader.has(key) && chosen != type) {
            reader.problem(key, std::string(key) + " applies to challenge = \"" + type +
                                    "\", this certificate uses " + quote(chosen) +
                                    "; remove it or change challenge");
        }
    };
    for (const char* key : {"dns-hook", "rfc2136-server", "tsig-key-file", "dns-zone"}) {
        not_for(key, "dns-01");
    }
    not_for("tls-alpn-listen", "tls-alpn-01");
    if (challenge.type == ChallengeType::kDns01) read_dns01(reader, challenge);
    if (challenge.type == ChallengeType::kTlsAlpn01) {
        if (auto listen = reader.string("tls-alpn-listen")) {
            if (auto address = parse_probe_address(*listen, "tls-alpn-listen"); !address) {
                reader.problem("tls-alpn-listen", address.error().message() +
                                                      "; write tls-alpn-listen = "
                                                      "\"127.0.0.1:8443\"");
            }
            challenge.tls_alpn_listen = *listen;
        } else if (!reader.has("tls-alpn-listen")) {
            reader.missing("tls-alpn-listen",
                           "write the address certdock answers acme-tls/1 on, as "
                           "tls-alpn-listen = \"127.0.0.1:8443\", and route that ALPN there "
                           "from HAProxy");
        }
    }
    for (const std::string& domain : certificate.domains) {
        if (domain.starts_with("*.") && challenge.type != ChallengeType::kDns01) {
            reader.problem("challenge", "the wildcard " + quote(domain) +
                                            " can only be validated with dns-01; write "
                                            "challenge = \"dns-01\" or list the names one by one");
        }
        if (is_ip_address(domain) && challenge.type == ChallengeType::kDns01) {
            reader.problem("challenge", "the IP address " + quote(domain) +
                                            " cannot be validated with dns-01 (RFC 8738); "
                                            "write challenge = \"http-01\" or \"tls-alpn-01\"");
        }
    }
}

}  // namespace certdock::agent::config_detail
