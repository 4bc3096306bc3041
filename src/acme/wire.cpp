#include "acme/wire.hpp"

#include <arpa/inet.h>

#include <array>

#include "acme/problem.hpp"

namespace certdock::acme {
namespace {

using nlohmann::json;

Error bad_resource(std::string_view what, std::string_view why) {
    return Error(ErrorCategory::kProtocol,
                 "the server sent an unusable " + std::string(what) + ": " + std::string(why));
}

Result<std::string> required_string(const json& body, const char* name, std::string_view what) {
    if (!body.is_object() || !body.contains(name) || !body[name].is_string()) {
        return Unexpected(bad_resource(what, std::string("\"") + name + "\" is missing"));
    }
    return body[name].get<std::string>();
}

std::optional<std::string> optional_string(const json& body, const char* name) {
    if (body.is_object() && body.contains(name) && body[name].is_string()) {
        return body[name].get<std::string>();
    }
    return std::nullopt;
}

Result<AcmeStatus> required_status(const json& body, std::string_view what) {
    CERTDOCK_TRY(std::string text, required_string(body, "status", what));
    return parse_status(text);
}

Result<std::optional<SystemTime>> optional_time(const json& body, const char* name,
                                                std::string_view what) {
    auto text = optional_string(body, name);
    if (!text) return std::optional<SystemTime>();
    auto parsed = parse_rfc3339(*text);
    if (!parsed) return Unexpected(bad_resource(what, parsed.error().message()));
    return std::optional<SystemTime>(*parsed);
}

Result<Identifier> parse_identifier(const json& body, std::string_view what) {
    CERTDOCK_TRY(std::string type, required_string(body, "type", what));
    CERTDOCK_TRY(std::string value, required_string(body, "value", what));
    return Identifier{std::move(type), std::move(value)};
}

std::optional<AcmeProblem> optional_problem(const json& body, const char* name) {
    if (!body.contains(name)) return std::nullopt;
    return parse_problem(body[name].dump(), 0);
}

}  // namespace

std::string_view status_name(AcmeStatus status) {
    switch (status) {
        case AcmeStatus::kPending:
            return "pending";
        case AcmeStatus::kReady:
            return "ready";
        case AcmeStatus::kProcessing:
            return "processing";
        case AcmeStatus::kValid:
            return "valid";
        case AcmeStatus::kInvalid:
            return "invalid";
        case AcmeStatus::kDeactivated:
            return "deactivated";
        case AcmeStatus::kExpired:
            return "expired";
        case AcmeStatus::kRevoked:
            return "revoked";
    }
    return "unknown";
}

Result<AcmeStatus> parse_status(std::string_view text) {
    for (AcmeStatus status : {AcmeStatus::kPending, AcmeStatus::kReady, AcmeStatus::kProcessing,
                              AcmeStatus::kValid, AcmeStatus::kInvalid, AcmeStatus::kDeactivated,
                              AcmeStatus::kExpired, AcmeStatus::kRevoked}) {
        if (status_name(status) == text) return status;
    }
    return Unexpected(bad_resource("status", "unknown status \"" + std::string(text) + "\""));
}

Identifier identifier_for(std::string_view name) {
    std::string text(name);
    std::array<unsigned char, 16> buffer{};
    if (inet_pton(AF_INET, text.c_str(), buffer.data()) == 1 ||
        inet_pton(AF_INET6, text.c_str(), buffer.data()) == 1) {
        return Identifier::ip(text);
    }
    return Identifier::dns(text);
}

const Challenge* Authorization::challenge_of_type(std::string_view type) const {
    for (const auto& challenge : challenges) {
        if (challenge.type == type) return &challenge;
    }
    return nullptr;
}

Result<Directory> parse_directory(const json& body) {
    constexpr std::string_view kWhat = "directory";
    if (!body.is_object()) return Unexpected(bad_resource(kWhat, "it is not a JSON object"));
    Directory directory;
    CERTDOCK_TRY(directory.new_nonce, required_string(body, "newNonce", kWhat));
    CERTDOCK_TRY(directory.new_account, required_string(body, "newAccount", kWhat));
    CERTDOCK_TRY(directory.new_order, required_string(body, "newOrder", kWhat));
    directory.revoke_cert = optional_string(body, "revokeCert").value_or("");
    directory.key_change = optional_string(body, "keyChange").value_or("");
    directory.new_authz = optional_string(body, "newAuthz");
    directory.renewal_info = optional_string(body, "renewalInfo");
    if (body.contains("meta") && body["meta"].is_object()) {
        const json& meta = body["meta"];
        directory.meta.terms_of_service = optional_string(meta, "termsOfService");
        directory.meta.website = optional_string(meta, "website");
        directory.meta.external_account_required = meta.value("externalAccountRequired", false);
        if (meta.contains("caaIdentities") && meta["caaIdentities"].is_array()) {
            for (const auto& id : meta["caaIdentities"]) {
                if (id.is_string()) directory.meta.caa_identities.push_back(id.get<std::string>());
            }
        }
        if (meta.contains("profiles") && meta["profiles"].is_object()) {
            for (const auto& [name, description] : meta["profiles"].items()) {
                directory.meta.profiles[name] =
                    description.is_string() ? description.get<std::string>() : "";
            }
        }
    }
    return directory;
}

Result<Account> parse_account(const json& body, std::string url) {
    constexpr std::string_view kWhat = "account";
    Account account;
    account.url = std::move(url);
    CERTDOCK_TRY(account.status, required_status(body, kWhat));
    if (body.contains("contact") && body["contact"].is_array()) {
        for (const auto& contact : body["contact"]) {
            if (contact.is_string()) account.contact.push_back(contact.get<std::string>());
        }
    }
    account.orders = optional_string(body, "orders");
    return account;
}

Result<Challenge> parse_challenge(const json& body) {
    constexpr std::string_view kWhat = "challenge";
    Challenge challenge;
    CERTDOCK_TRY(challenge.type, required_string(body, "type", kWhat));
    CERTDOCK_TRY(challenge.url, required_string(body, "url", kWhat));
    CERTDOCK_TRY(challenge.status, required_status(body, kWhat));
    challenge.token = optional_string(body, "token").value_or("");
    challenge.error = optional_problem(body, "error");
    return challenge;
}

Result<Authorization> parse_authorization(const json& body, std::string url) {
    constexpr std::string_view kWhat = "authorization";
    Authorization authz;
    authz.url = std::move(url);
    if (!body.is_object() || !body.contains("identifier")) {
        return Unexpected(bad_resource(kWhat, "\"identifier\" is missing"));
    }
    CERTDOCK_TRY(authz.identifier, parse_identifier(body["identifier"], kWhat));
    CERTDOCK_TRY(authz.status, required_status(body, kWhat));
    CERTDOCK_TRY(authz.expires, optional_time(body, "expires", kWhat));
    authz.wildcard = body.value("wildcard", false);
    if (body.contains("challenges") && body["challenges"].is_array()) {
        for (const auto& item : body["challenges"]) {
            CERTDOCK_TRY(Challenge challenge, parse_challenge(item));
            authz.challenges.push_back(std::move(challenge));
        }
    }
    return authz;
}

Result<Order> parse_order(const json& body, std::string url) {
    constexpr std::string_view kWhat = "order";
    Order order;
    order.url = std::move(url);
    CERTDOCK_TRY(order.status, required_status(body, kWhat));
    CERTDOCK_TRY(order.expires, optional_time(body, "expires", kWhat));
    CERTDOCK_TRY(order.finalize, required_string(body, "finalize", kWhat));
    if (body.contains("identifiers") && body["identifiers"].is_array()) {
        for (const auto& item : body["identifiers"]) {
            CERTDOCK_TRY(Identifier id, parse_identifier(item, kWhat));
            order.identifiers.push_back(std::move(id));
        }
    }
    if (body.contains("authorizations") && body["authorizations"].is_array()) {
        for (const auto& item : body["authorizations"]) {
            if (!item.is_string())
                return Unexpected(bad_resource(kWhat, "an authorization URL is not a string"));
            order.authorizations.push_back(item.get<std::string>());
        }
    }
    order.certificate = optional_string(body, "certificate");
    order.profile = optional_string(body, "profile");
    order.replaces = optional_string(body, "replaces");
    order.error = optional_problem(body, "error");
    return order;
}

Result<RenewalInfo> parse_renewal_info(const json& body) {
    constexpr std::string_view kWhat = "renewalInfo";
    if (!body.is_object() || !body.contains("suggestedWindow")) {
        return Unexpected(bad_resource(kWhat, "\"suggestedWindow\" is missing"));
    }
    const json& window = body["suggestedWindow"];
    CERTDOCK_TRY(std::string start, required_string(window, "start", kWhat));
    CERTDOCK_TRY(std::string end, required_string(window, "end", kWhat));
    RenewalInfo info;
    CERTDOCK_TRY(info.window_start, parse_rfc3339(start));
    CERTDOCK_TRY(info.window_end, parse_rfc3339(end));
    if (info.window_end < info.window_start) {
        return Unexpected(bad_resource(kWhat, "the window ends before it starts"));
    }
    info.explanation_url = optional_string(body, "explanationURL");
    return info;
}

json identifier_json(const Identifier& identifier) {
    return {{"type", identifier.type}, {"value", identifier.value}};
}

}  // namespace certdock::acme
