#include "dns/tsig_key.hpp"

#include <algorithm>
#include <cctype>
#include <optional>
#include <vector>

#include "base/encoding.hpp"
#include "base/file.hpp"

namespace certdock::dns {
namespace {

constexpr std::string_view kBlanks = " \t\r\n";

std::string lower(std::string_view text) {
    std::string out(text);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

std::string_view trim(std::string_view text) {
    size_t begin = text.find_first_not_of(kBlanks);
    if (begin == std::string_view::npos) return {};
    size_t end = text.find_last_not_of(kBlanks);
    return text.substr(begin, end - begin + 1);
}

std::vector<std::string_view> lines_of(std::string_view text) {
    std::vector<std::string_view> lines;
    while (!text.empty()) {
        size_t end = text.find('\n');
        lines.push_back(text.substr(0, end));
        if (end == std::string_view::npos) break;
        text.remove_prefix(end + 1);
    }
    return lines;
}

Unexpected bad_key(std::string why) {
    return fail(ErrorCategory::kInput, "malformed TSIG key: " + std::move(why));
}

// The fields every form provides, checked and normalised the same way.
Result<TsigKey> make_key(std::string_view name, std::string_view algorithm,
                         std::string_view secret) {
    if (name.empty()) return bad_key("no key name");
    bool valid_name = std::all_of(name.begin(), name.end(), [](unsigned char c) {
        return std::isalnum(c) || c == '-' || c == '_' || c == '.';
    });
    if (!valid_name) return bad_key("key name \"" + std::string(name) + "\" is not a DNS name");
    TsigKey key;
    key.name = std::string(name);
    if (!key.name.ends_with('.')) key.name += '.';
    if (!algorithm.empty()) {
        CERTDOCK_TRY(key.algorithm, parse_tsig_algorithm(algorithm));
    }
    if (secret.empty()) return bad_key("key " + key.name + " has no secret");
    auto decoded = base64_decode(secret);
    if (!decoded || decoded->empty()) {
        return bad_key("the secret of key " + key.name + " is not base64");
    }
    key.secret = std::string(secret);
    return key;
}

// --- BIND / Knot conf form -------------------------------------------------------------------

struct Token {
    std::string text;
    bool quoted = false;
};

Result<std::vector<Token>> tokenize_conf(std::string_view text) {
    std::vector<Token> tokens;
    size_t i = 0;
    while (i < text.size()) {
        char c = text[i];
        if (kBlanks.find(c) != std::string_view::npos) {
            ++i;
        } else if (c == '#' || text.substr(i, 2) == "//") {
            i = text.find('\n', i);
            if (i == std::string_view::npos) break;
        } else if (text.substr(i, 2) == "/*") {
            size_t end = text.find("*/", i + 2);
            if (end == std::string_view::npos) return bad_key("unterminated /* comment");
            i = end + 2;
        } else if (c == '"') {
            size_t end = text.find('"', i + 1);
            if (end == std::string_view::npos) return bad_key("unterminated quoted string");
            tokens.push_back({std::string(text.substr(i + 1, end - i - 1)), true});
            i = end + 1;
        } else if (c == '{' || c == '}' || c == ';') {
            tokens.push_back({std::string(1, c), false});
            ++i;
        } else {
            size_t end = text.find_first_of(" \t\r\n{};\"#", i);
            if (end == std::string_view::npos) end = text.size();
            tokens.push_back({std::string(text.substr(i, end - i)), false});
            i = end;
        }
    }
    return tokens;
}

Result<TsigKey> parse_conf_form(std::string_view text) {
    CERTDOCK_TRY(std::vector<Token> tokens, tokenize_conf(text));
    auto is = [&](size_t at, std::string_view what) {
        return at < tokens.size() && !tokens[at].quoted && tokens[at].text == what;
    };
    std::optional<TsigKey> found;
    size_t i = 0;
    while (i < tokens.size()) {
        if (!is(i, "key") || i + 2 >= tokens.size() || !is(i + 2, "{")) {
            return bad_key("expected `key \"name\" { algorithm ...; secret \"...\"; };`");
        }
        std::string name = tokens[i + 1].text;
        std::string algorithm;
        std::string secret;
        i += 3;
        while (i < tokens.size() && !is(i, "}")) {
            if (i + 2 >= tokens.size() || !is(i + 2, ";")) {
                return bad_key("expected `<field> <value>;` inside key " + name);
            }
            const std::string& field = tokens[i].text;
            if (field == "algorithm") {
                algorithm = tokens[i + 1].text;
            } else if (field == "secret") {
                secret = tokens[i + 1].text;
            } else {
                return bad_key("unknown field \"" + field + "\" in key " + name);
            }
            i += 3;
        }
        if (!is(i, "}") || !is(i + 1, ";")) return bad_key("key " + name + " lacks its `};`");
        i += 2;
        if (found) return bad_key("the file holds several keys; give certdock a file with one");
        if (algorithm.empty()) return bad_key("key " + name + " has no algorithm");
        CERTDOCK_TRY(found, make_key(name, algorithm, secret));
    }
    if (!found) return bad_key("no key statement");
    return *std::move(found);
}

// --- Knot YAML form --------------------------------------------------------------------------

std::string_view unquote(std::string_view value) {
    if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') &&
        value.back() == value.front()) {
        return value.substr(1, value.size() - 2);
    }
    return value;
}

Result<TsigKey> parse_yaml_form(const std::vector<std::string_view>& lines) {
    std::string name;
    std::string algorithm;
    std::string secret;
    int ids = 0;
    for (std::string_view raw : lines) {
        std::string_view line = trim(raw);
        if (line.starts_with("- ")) line = trim(line.substr(2));
        size_t colon = line.find(':');
        if (colon == std::string_view::npos) continue;
        std::string_view field = trim(line.substr(0, colon));
        std::string_view value = unquote(trim(line.substr(colon + 1)));
        if (field == "id") {
            ++ids;
            name = std::string(value);
        } else if (field == "algorithm") {
            algorithm = std::string(value);
        } else if (field == "secret") {
            secret = std::string(value);
        }
    }
    if (ids == 0) return bad_key("no `id:` under `key:`");
    if (ids > 1) return bad_key("the file holds several keys; give certdock a file with one");
    if (algorithm.empty()) return bad_key("key " + name + " has no algorithm");
    return make_key(name, algorithm, secret);
}

// --- "[algorithm:]name:secret" ---------------------------------------------------------------

Result<TsigKey> parse_line_form(std::string_view line) {
    // Base64 has no ':', so the fields split unambiguously.
    std::vector<std::string_view> fields;
    while (true) {
        size_t colon = line.find(':');
        fields.push_back(trim(line.substr(0, colon)));
        if (colon == std::string_view::npos) break;
        line.remove_prefix(colon + 1);
    }
    if (fields.size() == 2) return make_key(fields[0], "", fields[1]);
    if (fields.size() == 3) return make_key(fields[1], fields[0], fields[2]);
    return bad_key("expected \"[algorithm:]name:secret\"");
}

}  // namespace

std::string_view tsig_algorithm_name(TsigAlgorithm algorithm) {
    switch (algorithm) {
        case TsigAlgorithm::kHmacSha256:
            return "hmac-sha256";
        case TsigAlgorithm::kHmacSha512:
            return "hmac-sha512";
        case TsigAlgorithm::kHmacSha1:
            return "hmac-sha1";
    }
    return "hmac-sha256";
}

Result<TsigAlgorithm> parse_tsig_algorithm(std::string_view name) {
    std::string wanted = lower(name);
    if (wanted.ends_with('.')) wanted.pop_back();
    for (TsigAlgorithm algorithm :
         {TsigAlgorithm::kHmacSha256, TsigAlgorithm::kHmacSha512, TsigAlgorithm::kHmacSha1}) {
        if (tsig_algorithm_name(algorithm) == wanted) return algorithm;
    }
    return fail(ErrorCategory::kInput, "unsupported TSIG algorithm \"" + std::string(name) +
                                           "\": use hmac-sha256, hmac-sha512 or hmac-sha1");
}

Result<TsigKey> parse_tsig_key(std::string_view text) {
    // Whole-line '#' comments are common to all forms (`keymgr -t` starts with one).
    std::vector<std::string_view> lines;
    for (std::string_view line : lines_of(text)) {
        std::string_view content = trim(line);
        if (!content.empty() && !content.starts_with('#')) lines.push_back(line);
    }
    if (lines.empty()) return bad_key("the file is empty");
    if (text.find('{') != std::string_view::npos) return parse_conf_form(text);
    if (trim(lines.front()) == "key:") return parse_yaml_form(lines);
    if (lines.size() == 1) return parse_line_form(lines.front());
    return bad_key("not a `key \"name\" {...};` block, Knot YAML or \"[algorithm:]name:secret\"");
}

Result<TsigKey> load_tsig_key(const std::filesystem::path& path) {
    CERTDOCK_TRY(std::string text, read_file(path));
    auto key = parse_tsig_key(text);
    if (!key) {
        return Error(ErrorCategory::kInput, "cannot use TSIG key file " + path.string())
            .caused_by(std::move(key).error());
    }
    return key;
}

}  // namespace certdock::dns
