#include "haproxy/config.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdlib>

#include "base/file.hpp"

namespace certdock::haproxy {
namespace {

constexpr std::string_view kChallengePath = "/.well-known/acme-challenge";

constexpr std::array<std::string_view, 19> kSectionKeywords = {
    "global",   "defaults",    "frontend", "backend",     "listen",        "peers", "resolvers",
    "userlist", "mailers",     "program",  "http-errors", "ring",          "cache", "crt-store",
    "acme",     "log-forward", "traces",   "fcgi-app",    "dynamic-update"};

bool is_section_keyword(std::string_view word) {
    for (std::string_view keyword : kSectionKeywords) {
        if (word == keyword) return true;
    }
    return false;
}

bool is_name_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_';
}

// Expands "$NAME" or "${NAME}" at text[i] (text[i] == '$') into `out`; returns the index of
// the last character consumed.
size_t expand_variable(std::string_view text, size_t i, std::string& out, const Location& where,
                       std::vector<ConfigWarning>& warnings) {
    bool braced = i + 1 < text.size() && text[i + 1] == '{';
    size_t start = i + (braced ? 2 : 1);
    size_t end = start;
    while (end < text.size() && is_name_char(text[end])) ++end;
    if (end == start || (braced && (end >= text.size() || text[end] != '}'))) {
        out += '$';
        return i;
    }
    std::string name(text.substr(start, end - start));
    size_t last = braced ? end : end - 1;
    if (const char* value = std::getenv(name.c_str())) {
        out += value;
    } else {
        out += text.substr(i, last - i + 1);
        warnings.push_back(
            {where, "environment variable " + name +
                        " is not set here, so the text is checked as written; run the check "
                        "with the environment HAProxy runs with"});
    }
    return last;
}

// Index of the closing quote of a double-quoted part opening at text[open], copying its
// content (escapes and variables resolved) into `word`.
Result<size_t> read_double_quoted(std::string_view text, size_t open, std::string& word,
                                  const Location& where, std::vector<ConfigWarning>& warnings) {
    for (size_t i = open + 1; i < text.size(); ++i) {
        char c = text[i];
        if (c == '"') return i;
        if (c == '\\' && i + 1 < text.size()) {
            word += text[++i];
        } else if (c == '$') {
            i = expand_variable(text, i, word, where, warnings);
        } else {
            word += c;
        }
    }
    return fail(ErrorCategory::kInput,
                where.describe() + ": unterminated double quote (\"); close it on the same line");
}

bool mentions(const std::vector<std::string>& words, std::string_view needle) {
    for (const auto& word : words) {
        if (word.find(needle) != std::string::npos) return true;
    }
    return false;
}

// The value after `keyword` among `words` (from `from` on), if any.
std::optional<std::string> value_after(const std::vector<std::string>& words,
                                       std::string_view keyword, size_t from = 1) {
    for (size_t i = from; i + 1 < words.size(); ++i) {
        if (words[i] == keyword) return words[i + 1];
    }
    return std::nullopt;
}

std::vector<std::string> split_on(std::string_view text, char separator) {
    std::vector<std::string> parts;
    size_t start = 0;
    while (start <= text.size()) {
        size_t end = text.find(separator, start);
        if (end == std::string_view::npos) end = text.size();
        if (end > start) parts.emplace_back(text.substr(start, end - start));
        start = end + 1;
    }
    return parts;
}

class Parser {
public:
    explicit Parser(const std::string& file_name) { config_.file = file_name; }

    Status line(std::string_view text, int number) {
        Location where{config_.file, number};
        CERTDOCK_TRY(auto words, split_config_line(text, where, config_.warnings));
        if (words.empty()) return {};
        if (words[0].starts_with('.')) return {};  // .if/.endif/.notice: conditions not evaluated
        if (is_section_keyword(words[0])) {
            open_section(words, where);
            return {};
        }
        if (kind_ == "global") {
            global_line(words, where);
        } else if (kind_ == "frontend" || kind_ == "listen" || kind_ == "defaults") {
            proxy_line(words, where);
        } else if (kind_ == "crt-store") {
            crt_store_line(words, where);
        } else if (kind_ == "acme") {
            acme_line(words, where);
        }
        return {};
    }

    Config take() && { return std::move(config_); }

private:
    void open_section(const std::vector<std::string>& words, const Location& where) {
        kind_ = words[0];
        name_ = words.size() > 1 ? words[1] : "";
        acme_acls_.clear();
        if (kind_ == "crt-store") config_.crt_stores.push_back({.name = name_, .where = where});
        if (kind_ == "acme") config_.acme_sections.push_back({.name = name_, .where = where});
    }

    std::string section_label() const { return name_.empty() ? kind_ : kind_ + " " + name_; }

    void global_line(const std::vector<std::string>& words, const Location& where) {
        const std::string& keyword = words[0];
        if (keyword == "stats" && words.size() > 2 && words[1] == "socket") {
            config_.stats_sockets.push_back({words[2], value_after(words, "level", 3), where});
        } else if (keyword == "crt-base" && words.size() > 1) {
            config_.crt_base = Setting{words[1], where};
        } else if (keyword == "key-base" && words.size() > 1) {
            config_.key_base = Setting{words[1], where};
        } else if (keyword == "expose-experimental-directives") {
            config_.experimental_directives = true;
        } else if (keyword == "ssl-load-extra-del-ext") {
            config_.load_extra_del_ext = true;
        }
    }

    void proxy_line(const std::vector<std::string>& words, const Location& where) {
        const std::string& keyword = words[0];
        if (keyword == "bind" && words.size() > 1) {
            Bind bind{
                .section = section_label(), .addresses = split_on(words[1], ','), .where = where};
            for (size_t i = 2; i < words.size(); ++i) {
                if (words[i] == "ssl") bind.ssl = true;
                bool takes_value = i + 1 < words.size();
                if (words[i] == "crt" && takes_value) bind.crts.push_back(words[++i]);
                if (words[i] == "crt-list" && takes_value) bind.crt_lists.push_back(words[++i]);
            }
            config_.binds.push_back(std::move(bind));
        } else if (keyword == "acl" && words.size() > 1 && mentions(words, kChallengePath)) {
            acme_acls_.push_back(words[1]);
        } else if (keyword == "http-request" && words.size() > 1 && words[1] == "return") {
            bool answers_http01 = mentions(words, kChallengePath);
            for (const auto& acl : acme_acls_) {
                for (const auto& word : words) answers_http01 |= word == acl || word == "!" + acl;
            }
            if (!answers_http01) return;
            std::vector<std::string> maps;
            for (const auto& word : words) {
                for (auto& map : maps_in_expression(word)) {
                    // A rule often reads the map twice: in its answer and in its condition.
                    if (std::find(maps.begin(), maps.end(), map) != maps.end()) continue;
                    maps.push_back(map);
                    config_.map_responders.push_back({section_label(), std::move(map), where});
                }
            }
        } else if (keyword == "ssl-f-use") {
            SslFUse use{.section = section_label(), .where = where};
            use.crt = value_after(words, "crt");
            use.key = value_after(words, "key");
            use.acme = value_after(words, "acme");
            if (auto domains = value_after(words, "domains")) use.domains = split_domains(*domains);
            config_.ssl_f_uses.push_back(std::move(use));
        }
    }

    void crt_store_line(const std::vector<std::string>& words, const Location& where) {
        CrtStore& store = config_.crt_stores.back();
        const std::string& keyword = words[0];
        if (keyword == "crt-base" && words.size() > 1) store.crt_base = words[1];
        if (keyword == "key-base" && words.size() > 1) store.key_base = words[1];
        if (keyword != "load") return;
        CrtLoad load{.where = where};
        load.crt = value_after(words, "crt").value_or("");
        load.key = value_after(words, "key");
        load.alias = value_after(words, "alias");
        load.acme = value_after(words, "acme");
        if (auto domains = value_after(words, "domains")) load.domains = split_domains(*domains);
        store.loads.push_back(std::move(load));
    }

    void acme_line(const std::vector<std::string>& words, const Location& where) {
        AcmeSection& acme = config_.acme_sections.back();
        Setting setting{words.size() > 1 ? words[1] : "", where};
        const std::string& keyword = words[0];
        if (keyword == "directory") acme.directory = setting;
        if (keyword == "keytype") acme.keytype = setting;
        if (keyword == "bits") acme.bits = setting;
        if (keyword == "curves") acme.curves = setting;
        if (keyword == "map") acme.map = setting;
        if (keyword == "challenge") acme.challenge = setting;
        if (keyword == "reuse-key") acme.reuse_key = setting;
    }

    Config config_;
    std::string kind_;
    std::string name_;
    std::vector<std::string> acme_acls_;  // ACLs of this section matching the http-01 path
};

}  // namespace

std::string Location::describe() const {
    return file + ":" + std::to_string(line);
}

Result<std::vector<std::string>> split_config_line(std::string_view line, const Location& where,
                                                   std::vector<ConfigWarning>& warnings) {
    std::vector<std::string> words;
    std::string word;
    bool in_word = false;
    for (size_t i = 0; i < line.size(); ++i) {
        char c = line[i];
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
            if (in_word) words.push_back(std::move(word));
            word.clear();
            in_word = false;
            continue;
        }
        if (c == '#') break;
        in_word = true;
        if (c == '\\' && i + 1 < line.size()) {
            word += line[++i];
        } else if (c == '\'') {
            size_t close = line.find('\'', i + 1);
            if (close == std::string_view::npos) {
                return fail(ErrorCategory::kInput,
                            where.describe() +
                                ": unterminated single quote ('); close it on the same line");
            }
            word += line.substr(i + 1, close - i - 1);
            i = close;
        } else if (c == '"') {
            CERTDOCK_TRY(i, read_double_quoted(line, i, word, where, warnings));
        } else {
            if (c == '$' && i + 1 < line.size() && line[i + 1] == '{') {
                std::string variable(line.substr(i, line.find('}', i) - i + 1));
                warnings.push_back({where,
                                    "HAProxy expands environment variables only inside "
                                    "double quotes: write \"" +
                                        variable + "\""});
            }
            word += c;
        }
    }
    if (in_word) words.push_back(std::move(word));
    return words;
}

const AcmeSection* Config::find_acme(std::string_view name) const {
    for (const auto& section : acme_sections) {
        if (section.name == name) return &section;
    }
    return nullptr;
}

Result<Config> parse_config(std::string_view text, const std::string& file_name) {
    Parser parser(file_name);
    int number = 0;
    size_t start = 0;
    while (start < text.size()) {
        size_t end = text.find('\n', start);
        if (end == std::string_view::npos) end = text.size();
        CERTDOCK_TRY_STATUS(parser.line(text.substr(start, end - start), ++number));
        start = end + 1;
    }
    return std::move(parser).take();
}

Result<Config> load_config(const std::filesystem::path& path) {
    auto text = read_file(path);
    if (!text) {
        return Unexpected(
            Error(ErrorCategory::kInput, "cannot read the HAProxy configuration " + path.string())
                .caused_by(std::move(text).error()));
    }
    return parse_config(*text, path.string());
}

std::vector<std::string> maps_in_expression(std::string_view text) {
    std::vector<std::string> maps;
    for (size_t at = text.find("map"); at != std::string_view::npos;
         at = text.find("map", at + 3)) {
        if (at > 0 && (is_name_char(text[at - 1]) || text[at - 1] == '-')) continue;
        size_t open = at + 3;
        while (open < text.size() && (is_name_char(text[open]))) ++open;  // map_str, map_beg...
        if (open >= text.size() || text[open] != '(') continue;
        size_t end = text.find_first_of(",)", open + 1);
        if (end == std::string_view::npos || end == open + 1) continue;
        maps.emplace_back(text.substr(open + 1, end - open - 1));
    }
    return maps;
}

std::vector<std::string> split_domains(std::string_view text) {
    std::vector<std::string> domains;
    std::string current;
    for (char c : text) {
        if (c == ',' || c == ' ' || c == '\t') {
            if (!current.empty()) domains.push_back(std::move(current));
            current.clear();
        } else {
            current += c;
        }
    }
    if (!current.empty()) domains.push_back(std::move(current));
    return domains;
}

}  // namespace certdock::haproxy
