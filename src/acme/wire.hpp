#pragma once

// RFC 8555 resources as the client reads them: one struct per JSON object, parsed strictly
// enough to act on, leniently enough to accept what real CAs send (unknown members are
// ignored, as §7.1 asks).

#include <nlohmann/json.hpp>

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"
#include "base/result.hpp"
#include "base/time.hpp"

namespace certdock::acme {

// Every status of accounts, orders, authorizations and challenges (RFC 8555 §7.1.6).
enum class AcmeStatus {
    kPending,
    kReady,
    kProcessing,
    kValid,
    kInvalid,
    kDeactivated,
    kExpired,
    kRevoked,
};

std::string_view status_name(AcmeStatus status);
Result<AcmeStatus> parse_status(std::string_view text);

struct Identifier {
    std::string type;  // "dns" or "ip"
    std::string value;

    static Identifier dns(std::string name) { return {"dns", std::move(name)}; }
    static Identifier ip(std::string address) { return {"ip", std::move(address)}; }
    std::string to_string() const { return type + ":" + value; }
    bool operator==(const Identifier&) const = default;
};

// "192.0.2.1" and "2001:db8::1" become ip identifiers (RFC 8738); everything else dns.
Identifier identifier_for(std::string_view name);

struct DirectoryMeta {
    std::optional<std::string> terms_of_service;
    std::optional<std::string> website;
    std::vector<std::string> caa_identities;
    bool external_account_required = false;
    std::map<std::string, std::string> profiles;  // name -> description
};

struct Directory {
    std::string new_nonce;
    std::string new_account;
    std::string new_order;
    std::string revoke_cert;
    std::string key_change;
    std::optional<std::string> new_authz;
    std::optional<std::string> renewal_info;
    DirectoryMeta meta;
};

struct Account {
    std::string url;  // the "kid", from the Location header
    AcmeStatus status = AcmeStatus::kValid;
    std::vector<std::string> contact;
    std::optional<std::string> orders;
};

struct Challenge {
    std::string type;
    std::string url;
    AcmeStatus status = AcmeStatus::kPending;
    std::string token;
    std::optional<AcmeProblem> error;
};

struct Authorization {
    std::string url;
    Identifier identifier;
    AcmeStatus status = AcmeStatus::kPending;
    std::optional<SystemTime> expires;
    std::vector<Challenge> challenges;
    bool wildcard = false;

    const Challenge* challenge_of_type(std::string_view type) const;
};

struct Order {
    std::string url;
    AcmeStatus status = AcmeStatus::kPending;
    std::optional<SystemTime> expires;
    std::vector<Identifier> identifiers;
    std::vector<std::string> authorizations;
    std::string finalize;
    std::optional<std::string> certificate;
    std::optional<std::string> profile;
    std::optional<std::string> replaces;
    std::optional<AcmeProblem> error;
};

// RFC 9773 renewalInfo.
struct RenewalInfo {
    SystemTime window_start;
    SystemTime window_end;
    std::optional<std::string> explanation_url;
};

// Parsers take the JSON body and, where the resource's URL is not in it, that URL.
Result<Directory> parse_directory(const nlohmann::json& body);
Result<Account> parse_account(const nlohmann::json& body, std::string url);
Result<Order> parse_order(const nlohmann::json& body, std::string url);
Result<Authorization> parse_authorization(const nlohmann::json& body, std::string url);
Result<Challenge> parse_challenge(const nlohmann::json& body);
Result<RenewalInfo> parse_renewal_info(const nlohmann::json& body);

nlohmann::json identifier_json(const Identifier& identifier);

}  // namespace certdock::acme
