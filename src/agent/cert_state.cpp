#include "agent/cert_state.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <system_error>

#include "base/file.hpp"

namespace certdock::agent {

namespace {

using nlohmann::json;

constexpr int kStateVersion = 1;
constexpr std::string_view kSuffix = ".json";

std::string what_to_do(std::string_view origin) {
    return "; certdock will not guess a certificate's state (it could forget a failure or an "
           "order in flight): fix " +
           std::string(origin) +
           " or move it aside, then start again (the certificate is then "
           "checked from scratch)";
}

Error corrupt(std::string_view origin, const std::string& what) {
    return Error(ErrorCategory::kInput,
                 "state file " + std::string(origin) + " is corrupt: " + what + what_to_do(origin));
}

void put_time(json& out, const char* key, const std::optional<SystemTime>& time) {
    if (time) out[key] = format_rfc3339(*time);
}
void put_text(json& out, const char* key, const std::string& text) {
    if (!text.empty()) out[key] = text;
}

// Reads typed fields out of the document, naming the field and the file on every error.
class Reader {
public:
    Reader(const json& doc, std::string_view origin) : doc_(doc), origin_(origin) {}

    Status text(const char* key, std::string& out) const {
        auto it = doc_.find(key);
        if (it == doc_.end() || it->is_null()) return {};
        if (!it->is_string()) return wrong(key, "a string");
        out = it->get<std::string>();
        return {};
    }
    Status time(const char* key, std::optional<SystemTime>& out) const {
        std::string value;
        CERTDOCK_TRY_STATUS(text(key, value));
        if (value.empty()) return {};
        auto parsed = parse_rfc3339(value);
        if (!parsed)
            return corrupt(origin_, "\"" + std::string(key) + "\": " + parsed.error().describe());
        out = *parsed;
        return {};
    }
    Status count(const char* key, int& out) const {
        auto it = doc_.find(key);
        if (it == doc_.end() || it->is_null()) return {};
        if (!it->is_number_integer() || it->get<long long>() < 0 ||
            it->get<long long>() > 1'000'000) {
            return wrong(key, "a whole number from 0");
        }
        out = it->get<int>();
        return {};
    }

private:
    Error wrong(const char* key, const char* expected) const {
        return corrupt(origin_, "\"" + std::string(key) + "\" must be " + expected + ", not " +
                                    doc_.at(key).dump());
    }

    const json& doc_;
    std::string_view origin_;
};

Result<AttemptResult> parse_result(std::string_view text, std::string_view origin) {
    for (AttemptResult result :
         {AttemptResult::kNone, AttemptResult::kSuccess, AttemptResult::kFailure}) {
        if (attempt_result_name(result) == text) return result;
    }
    return corrupt(origin, "\"last_result\" must be none, success or failure, not \"" +
                               std::string(text) + "\"");
}

Result<std::vector<PresentedChallenge>> parse_presented(const json& doc, std::string_view origin) {
    std::vector<PresentedChallenge> presented;
    auto list = doc.find("presented");
    if (list == doc.end() || list->is_null()) return presented;
    if (!list->is_array()) return corrupt(origin, "\"presented\" must be a list");
    for (const auto& entry : *list) {
        if (!entry.is_object()) return corrupt(origin, "\"presented\" holds " + entry.dump());
        PresentedChallenge challenge;
        Reader read(entry, origin);
        CERTDOCK_TRY_STATUS(read.text("type", challenge.type));
        CERTDOCK_TRY_STATUS(read.text("identifier_type", challenge.identifier_type));
        CERTDOCK_TRY_STATUS(read.text("identifier", challenge.identifier));
        CERTDOCK_TRY_STATUS(read.text("token", challenge.token));
        CERTDOCK_TRY_STATUS(read.text("key_authorization", challenge.key_authorization));
        auto wildcard = entry.find("wildcard");
        challenge.wildcard =
            wildcard != entry.end() && wildcard->is_boolean() && wildcard->get<bool>();
        if (challenge.type.empty() || challenge.identifier.empty() || challenge.token.empty()) {
            return corrupt(origin, "\"presented\" holds " + entry.dump() +
                                       ", which lacks its type, identifier or token");
        }
        presented.push_back(std::move(challenge));
    }
    return presented;
}

}  // namespace

std::string_view attempt_result_name(AttemptResult result) {
    switch (result) {
        case AttemptResult::kNone:
            return "none";
        case AttemptResult::kSuccess:
            return "success";
        case AttemptResult::kFailure:
            return "failure";
    }
    return "none";
}

std::string serialize_cert_state(const CertState& state) {
    json out = json::object();
    out["version"] = kStateVersion;
    put_text(out, "serial", state.serial);
    put_time(out, "not_before", state.not_before);
    put_time(out, "not_after", state.not_after);
    put_text(out, "key_pin", state.key_pin);
    put_time(out, "next_renewal", state.next_renewal);
    put_text(out, "next_renewal_reason", state.next_renewal_reason);
    put_time(out, "last_attempt", state.last_attempt);
    out["last_result"] = attempt_result_name(state.last_result);
    put_text(out, "last_error", state.last_error);
    put_time(out, "last_success", state.last_success);
    out["consecutive_failures"] = state.consecutive_failures;
    put_time(out, "next_retry", state.next_retry);
    put_text(out, "next_retry_reason", state.next_retry_reason);
    put_text(out, "pending_order_url", state.pending_order_url);
    put_text(out, "ari_cert_id", state.ari_cert_id);
    put_time(out, "ari_window_start", state.ari_window_start);
    put_time(out, "ari_window_end", state.ari_window_end);
    put_text(out, "ari_explanation_url", state.ari_explanation_url);
    put_time(out, "next_ari_poll", state.next_ari_poll);
    if (!state.presented.empty()) {
        json presented = json::array();
        for (const auto& challenge : state.presented) {
            presented.push_back({{"type", challenge.type},
                                 {"identifier_type", challenge.identifier_type},
                                 {"identifier", challenge.identifier},
                                 {"wildcard", challenge.wildcard},
                                 {"token", challenge.token},
                                 {"key_authorization", challenge.key_authorization}});
        }
        out["presented"] = std::move(presented);
    }
    return out.dump(2) + "\n";
}

Result<CertState> parse_cert_state(std::string_view text, std::string_view origin) {
    json doc;
    try {
        doc = json::parse(text);
    } catch (const json::exception& e) {
        return corrupt(origin, std::string("not JSON (") + e.what() + ")");
    }
    if (!doc.is_object()) return corrupt(origin, "expected a JSON object, found " + doc.dump());
    auto version = doc.find("version");
    if (version == doc.end() || !version->is_number_integer()) {
        return corrupt(origin, "no \"version\" number");
    }
    if (version->get<long long>() != kStateVersion) {
        return Error(ErrorCategory::kInput,
                     "state file " + std::string(origin) + " has version " + version->dump() +
                         ", this certdock reads version " + std::to_string(kStateVersion) +
                         ": run the certdock that wrote it, or move the file aside");
    }

    CertState state;
    Reader read(doc, origin);
    std::string result = "none";
    CERTDOCK_TRY_STATUS(read.text("serial", state.serial));
    CERTDOCK_TRY_STATUS(read.time("not_before", state.not_before));
    CERTDOCK_TRY_STATUS(read.time("not_after", state.not_after));
    CERTDOCK_TRY_STATUS(read.text("key_pin", state.key_pin));
    CERTDOCK_TRY_STATUS(read.time("next_renewal", state.next_renewal));
    CERTDOCK_TRY_STATUS(read.text("next_renewal_reason", state.next_renewal_reason));
    CERTDOCK_TRY_STATUS(read.time("last_attempt", state.last_attempt));
    CERTDOCK_TRY_STATUS(read.text("last_result", result));
    CERTDOCK_TRY(state.last_result, parse_result(result, origin));
    CERTDOCK_TRY_STATUS(read.text("last_error", state.last_error));
    CERTDOCK_TRY_STATUS(read.time("last_success", state.last_success));
    CERTDOCK_TRY_STATUS(read.count("consecutive_failures", state.consecutive_failures));
    CERTDOCK_TRY_STATUS(read.time("next_retry", state.next_retry));
    CERTDOCK_TRY_STATUS(read.text("next_retry_reason", state.next_retry_reason));
    CERTDOCK_TRY_STATUS(read.text("pending_order_url", state.pending_order_url));
    CERTDOCK_TRY_STATUS(read.text("ari_cert_id", state.ari_cert_id));
    CERTDOCK_TRY_STATUS(read.time("ari_window_start", state.ari_window_start));
    CERTDOCK_TRY_STATUS(read.time("ari_window_end", state.ari_window_end));
    CERTDOCK_TRY_STATUS(read.text("ari_explanation_url", state.ari_explanation_url));
    CERTDOCK_TRY_STATUS(read.time("next_ari_poll", state.next_ari_poll));
    CERTDOCK_TRY(state.presented, parse_presented(doc, origin));
    if (state.consecutive_failures > 0 && !state.next_retry) {
        return corrupt(origin, "\"consecutive_failures\" is " +
                                   std::to_string(state.consecutive_failures) +
                                   " but \"next_retry\" is missing");
    }
    return state;
}

Status check_state_name(std::string_view name) {
    bool valid = !name.empty() && name.size() <= 200 && name.front() != '.' &&
                 std::all_of(name.begin(), name.end(), [](char c) {
                     return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                            (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
                 });
    if (valid) return {};
    return fail(ErrorCategory::kUsage,
                "certificate name '" + std::string(name) +
                    "' cannot name a state file: use letters, digits, '.', '_' and '-' (not "
                    "starting with '.'), at most 200 characters");
}

// --- DirectoryStateStore ---

DirectoryStateStore::DirectoryStateStore(std::filesystem::path directory)
    : directory_(std::move(directory)) {}

std::filesystem::path DirectoryStateStore::path_of(std::string_view name) const {
    return directory_ / (std::string(name) + std::string(kSuffix));
}

Result<CertState> DirectoryStateStore::load(std::string_view name) {
    CERTDOCK_TRY_STATUS(check_state_name(name));
    std::filesystem::path path = path_of(name);
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) {
        if (ec && ec != std::errc::no_such_file_or_directory) {
            return fail(ErrorCategory::kIo,
                        "cannot look for state file " + path.string() + ": " + ec.message());
        }
        return CertState{};
    }
    CERTDOCK_TRY(std::string text, read_file(path));
    return parse_cert_state(text, path.string());
}

Status DirectoryStateStore::save(std::string_view name, const CertState& state) {
    CERTDOCK_TRY_STATUS(check_state_name(name));
    std::error_code ec;
    if (std::filesystem::create_directories(directory_, ec)) {
        std::filesystem::permissions(directory_, std::filesystem::perms::owner_all,
                                     std::filesystem::perm_options::replace, ec);
    }
    if (ec) {
        return fail(ErrorCategory::kIo,
                    "cannot create state directory " + directory_.string() + ": " + ec.message());
    }
    return write_file_atomic(path_of(name), serialize_cert_state(state), {.mode = 0600});
}

Status DirectoryStateStore::remove(std::string_view name) {
    CERTDOCK_TRY_STATUS(check_state_name(name));
    std::error_code ec;
    std::filesystem::remove(path_of(name), ec);
    if (ec) {
        return fail(ErrorCategory::kIo,
                    "cannot remove state file " + path_of(name).string() + ": " + ec.message());
    }
    return {};
}

Result<std::vector<std::string>> DirectoryStateStore::names() {
    std::vector<std::string> found;
    std::error_code ec;
    if (!std::filesystem::exists(directory_, ec)) return found;
    for (auto it = std::filesystem::directory_iterator(directory_, ec);
         !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
        std::string file = it->path().filename().string();
        if (!file.ends_with(kSuffix)) continue;
        std::string name = file.substr(0, file.size() - kSuffix.size());
        if (check_state_name(name)) found.push_back(std::move(name));
    }
    if (ec) {
        return fail(ErrorCategory::kIo,
                    "cannot list state directory " + directory_.string() + ": " + ec.message());
    }
    std::sort(found.begin(), found.end());
    return found;
}

// --- InMemoryStateStore ---

Result<CertState> InMemoryStateStore::load(std::string_view name) {
    CERTDOCK_TRY_STATUS(check_state_name(name));
    auto it = texts_.find(name);
    if (it == texts_.end()) return CertState{};
    return parse_cert_state(it->second, "memory:" + std::string(name));
}

Status InMemoryStateStore::save(std::string_view name, const CertState& state) {
    CERTDOCK_TRY_STATUS(check_state_name(name));
    texts_[std::string(name)] = serialize_cert_state(state);
    ++saves_;
    return {};
}

Status InMemoryStateStore::remove(std::string_view name) {
    CERTDOCK_TRY_STATUS(check_state_name(name));
    if (auto it = texts_.find(name); it != texts_.end()) texts_.erase(it);
    return {};
}

Result<std::vector<std::string>> InMemoryStateStore::names() {
    std::vector<std::string> found;
    for (const auto& entry : texts_) found.push_back(entry.first);
    return found;
}

}  // namespace certdock::agent
