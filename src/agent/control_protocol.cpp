#include "agent/control_protocol.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>

namespace certdock::agent {
namespace {

using nlohmann::json;

constexpr ControlCommand kCommands[] = {ControlCommand::kStatus, ControlCommand::kRenew,
                                        ControlCommand::kReload};

void put_time(json& out, const char* key, const std::optional<SystemTime>& time) {
    if (time) out[key] = format_rfc3339(*time);
}

void put_text(json& out, const char* key, const std::string& text) {
    if (!text.empty()) out[key] = text;
}

// Readers of a reply are lenient: a field missing or of another type is left at its
// default, so an older ctl reads a newer agent's reply.
std::string text_of(const json& object, const char* key) {
    auto found = object.find(key);
    return found != object.end() && found->is_string() ? found->get<std::string>() : std::string();
}

std::optional<SystemTime> time_of(const json& object, const char* key) {
    auto found = object.find(key);
    if (found == object.end() || !found->is_string()) return std::nullopt;
    auto parsed = parse_rfc3339(found->get<std::string>());
    return parsed ? std::optional<SystemTime>(*parsed) : std::nullopt;
}

long long number_of(const json& object, const char* key) {
    auto found = object.find(key);
    return found != object.end() && found->is_number_integer() ? found->get<long long>() : 0;
}

std::vector<std::string> texts_of(const json& object, const char* key) {
    std::vector<std::string> out;
    auto found = object.find(key);
    if (found == object.end() || !found->is_array()) return out;
    for (const auto& item : *found) {
        if (item.is_string()) out.push_back(item.get<std::string>());
    }
    return out;
}

json served_json(const ServedBy& served) {
    json out = {{"haproxy", served.haproxy}, {"socket", served.socket}};
    put_text(out, "serial", served.serial);
    put_text(out, "error", served.error);
    return out;
}

json certificate_json(const CertificateStatus& status) {
    json out = {{"name", status.name},
                {"domains", status.domains},
                {"decision", status.decision},
                {"last_result", status.last_result},
                {"consecutive_failures", status.consecutive_failures},
                {"healthy", status.healthy()},
                {"served_everywhere", status.served_everywhere()}};
    put_text(out, "serial", status.serial);
    put_time(out, "not_after", status.not_after);
    put_time(out, "next_renewal", status.next_renewal);
    put_text(out, "next_renewal_reason", status.next_renewal_reason);
    put_time(out, "last_attempt", status.last_attempt);
    put_text(out, "last_error", status.last_error);
    put_time(out, "next_retry", status.next_retry);
    put_text(out, "next_retry_reason", status.next_retry_reason);
    put_time(out, "renewing_since", status.renewing_since);
    put_text(out, "key_pin_sha256", status.key_pin);
    put_text(out, "next_key_pin_sha256", status.next_key_pin);
    put_text(out, "next_key_tlsa", status.next_key_tlsa);
    put_time(out, "next_key_usable_after", status.next_key_usable_after);
    json served = json::array();
    for (const auto& by : status.served) served.push_back(served_json(by));
    out["served"] = std::move(served);
    return out;
}

CertificateStatus certificate_of(const json& in) {
    CertificateStatus out{
        .name = text_of(in, "name"),
        .domains = texts_of(in, "domains"),
        .serial = text_of(in, "serial"),
        .not_after = time_of(in, "not_after"),
        .decision = text_of(in, "decision"),
        .next_renewal = time_of(in, "next_renewal"),
        .next_renewal_reason = text_of(in, "next_renewal_reason"),
        .last_attempt = time_of(in, "last_attempt"),
        .last_result = text_of(in, "last_result"),
        .last_error = text_of(in, "last_error"),
        .consecutive_failures = static_cast<int>(number_of(in, "consecutive_failures")),
        .next_retry = time_of(in, "next_retry"),
        .next_retry_reason = text_of(in, "next_retry_reason"),
        .renewing_since = time_of(in, "renewing_since"),
        .key_pin = text_of(in, "key_pin_sha256"),
        .next_key_pin = text_of(in, "next_key_pin_sha256"),
        .next_key_tlsa = text_of(in, "next_key_tlsa"),
        .next_key_usable_after = time_of(in, "next_key_usable_after")};
    if (auto served = in.find("served"); served != in.end() && served->is_array()) {
        for (const auto& by : *served) {
            if (!by.is_object()) continue;
            out.served.push_back({.haproxy = text_of(by, "haproxy"),
                                  .socket = text_of(by, "socket"),
                                  .serial = text_of(by, "serial"),
                                  .error = text_of(by, "error")});
        }
    }
    return out;
}

json status_json(const StatusReply& status) {
    json agent = {{"pid", status.agent.pid}, {"config", status.agent.config_file}};
    put_time(agent, "started", status.agent.started);
    put_time(agent, "last_scan", status.agent.last_scan);
    put_time(agent, "next_scan", status.agent.next_scan);
    json certificates = json::array();
    for (const auto& certificate : status.certificates) {
        certificates.push_back(certificate_json(certificate));
    }
    return {{"agent", std::move(agent)}, {"certificates", std::move(certificates)}};
}

StatusReply status_of(const json& in) {
    StatusReply out;
    if (auto agent = in.find("agent"); agent != in.end() && agent->is_object()) {
        out.agent = AgentInfo{.pid = static_cast<long>(number_of(*agent, "pid")),
                              .config_file = text_of(*agent, "config"),
                              .started = time_of(*agent, "started"),
                              .last_scan = time_of(*agent, "last_scan"),
                              .next_scan = time_of(*agent, "next_scan")};
    }
    if (auto certificates = in.find("certificates");
        certificates != in.end() && certificates->is_array()) {
        for (const auto& certificate : *certificates) {
            if (certificate.is_object()) out.certificates.push_back(certificate_of(certificate));
        }
    }
    return out;
}

Result<json> parse_object(std::string_view line, std::string_view what) {
    json parsed = json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (parsed.is_discarded()) {
        return fail(ErrorCategory::kProtocol,
                    std::string(what) +
                        " is not JSON; send one JSON object on one line, e.g. "
                        "{\"command\":\"status\"}");
    }
    if (!parsed.is_object()) {
        return fail(ErrorCategory::kProtocol, std::string(what) + " must be a JSON object");
    }
    return parsed;
}

}  // namespace

std::string_view control_command_name(ControlCommand command) {
    switch (command) {
        case ControlCommand::kStatus:
            return "status";
        case ControlCommand::kRenew:
            return "renew";
        case ControlCommand::kReload:
            return "reload";
    }
    return "status";
}

std::string encode_request(const ControlRequest& request) {
    json out = {{"command", control_command_name(request.command)}};
    if (request.command == ControlCommand::kRenew) {
        out["name"] = request.name;
        out["wait"] = request.wait;
    }
    if (request.command == ControlCommand::kStatus && !request.names.empty()) {
        out["names"] = request.names;
    }
    return out.dump();
}

Result<ControlRequest> parse_request(std::string_view line) {
    CERTDOCK_TRY(json in, parse_object(line, "the request"));
    auto command = in.find("command");
    if (command == in.end() || !command->is_string()) {
        return fail(ErrorCategory::kProtocol,
                    "the request has no \"command\"; use status, renew or reload");
    }
    const std::string name = command->get<std::string>();
    ControlRequest request;
    bool known = false;
    for (ControlCommand candidate : kCommands) {
        if (control_command_name(candidate) == name) {
            request.command = candidate;
            known = true;
        }
    }
    if (!known) {
        return fail(ErrorCategory::kProtocol,
                    "unknown command \"" + name + "\"; use status, renew or reload");
    }
    if (auto names = in.find("names");
        request.command == ControlCommand::kStatus && names != in.end()) {
        const bool texts =
            names->is_array() && std::all_of(names->begin(), names->end(),
                                             [](const json& item) { return item.is_string(); });
        if (!texts) {
            return fail(ErrorCategory::kProtocol,
                        "\"names\" must be a list of certificate names, e.g. [\"site\"]");
        }
        request.names = names->get<std::vector<std::string>>();
    }
    if (request.command == ControlCommand::kRenew) {
        auto certificate = in.find("name");
        if (certificate == in.end() || !certificate->is_string() ||
            certificate->get<std::string>().empty()) {
            return fail(ErrorCategory::kProtocol, "renew needs \"name\": the certificate to renew");
        }
        request.name = certificate->get<std::string>();
        if (auto wait = in.find("wait"); wait != in.end()) {
            if (!wait->is_boolean()) {
                return fail(ErrorCategory::kProtocol, "\"wait\" must be true or false");
            }
            request.wait = wait->get<bool>();
        }
    }
    return request;
}

std::string encode_reply(const ControlReply& reply) {
    json out = {{"ok", reply.ok}};
    put_text(out, "error", reply.error);
    if (reply.status) out["status"] = status_json(*reply.status);
    if (reply.renew) {
        json renew = {{"name", reply.renew->name}, {"outcome", reply.renew->outcome}};
        put_text(renew, "serial", reply.renew->serial);
        put_text(renew, "error", reply.renew->error);
        put_time(renew, "next_retry", reply.renew->next_retry);
        out["renew"] = std::move(renew);
    }
    if (reply.reload) {
        out["reload"] = {{"taken", reply.reload->taken},
                         {"summary", reply.reload->summary},
                         {"issues", reply.reload->issues},
                         {"notes", reply.reload->notes}};
    }
    // Invalid UTF-8 (a file name, a peer's text) is replaced rather than thrown on.
    return out.dump(-1, ' ', false, json::error_handler_t::replace);
}

Result<ControlReply> parse_reply(std::string_view line) {
    CERTDOCK_TRY(json in, parse_object(line, "the agent's reply"));
    auto ok = in.find("ok");
    if (ok == in.end() || !ok->is_boolean()) {
        return fail(ErrorCategory::kProtocol, "the agent's reply has no \"ok\"");
    }
    ControlReply reply{.ok = ok->get<bool>(), .error = text_of(in, "error")};
    if (auto status = in.find("status"); status != in.end() && status->is_object()) {
        reply.status = status_of(*status);
    }
    if (auto renew = in.find("renew"); renew != in.end() && renew->is_object()) {
        reply.renew = RenewReply{.name = text_of(*renew, "name"),
                                 .outcome = text_of(*renew, "outcome"),
                                 .serial = text_of(*renew, "serial"),
                                 .error = text_of(*renew, "error"),
                                 .next_retry = time_of(*renew, "next_retry")};
    }
    if (auto reload = in.find("reload"); reload != in.end() && reload->is_object()) {
        auto taken = reload->find("taken");
        reply.reload = ReloadReply{
            .taken = taken != reload->end() && taken->is_boolean() && taken->get<bool>(),
            .summary = text_of(*reload, "summary"),
            .issues = texts_of(*reload, "issues"),
            .notes = texts_of(*reload, "notes")};
    }
    return reply;
}

std::string encode_status_json(const StatusReply& status, int indent) {
    return status_json(status).dump(indent, ' ', false, json::error_handler_t::replace);
}

}  // namespace certdock::agent
