#include "haproxy/crt_list.hpp"

#include "base/file.hpp"

namespace certdock::haproxy {
namespace {

Result<CrtListEntry> parse_entry(std::vector<std::string> words, const Location& where) {
    CrtListEntry entry{.crt = std::move(words[0]), .where = where};
    size_t i = 1;
    if (i < words.size() && words[i].starts_with('[')) {
        // "[alpn h2]" or "[ alpn h2 ]": options run to the word that ends with ']'.
        bool closed = false;
        for (; i < words.size() && !closed; ++i) {
            std::string word = words[i];
            if (word.starts_with('[')) word.erase(0, 1);
            if (word.ends_with(']')) {
                word.pop_back();
                closed = true;
            }
            if (!word.empty()) entry.options.push_back(std::move(word));
        }
        if (!closed) {
            return fail(ErrorCategory::kInput,
                        where.describe() + ": '[' without ']': close the SSL options on the line");
        }
    }
    for (; i < words.size(); ++i) entry.sni_filters.push_back(std::move(words[i]));
    for (size_t k = 0; k + 1 < entry.options.size(); ++k) {
        if (entry.options[k] == "acme") entry.acme = entry.options[k + 1];
        if (entry.options[k] == "domains") entry.domains = split_domains(entry.options[k + 1]);
    }
    return entry;
}

}  // namespace

Result<std::vector<CrtListEntry>> parse_crt_list(std::string_view text,
                                                 const std::string& file_name,
                                                 std::vector<ConfigWarning>& warnings) {
    std::vector<CrtListEntry> entries;
    int number = 0;
    size_t start = 0;
    while (start < text.size()) {
        size_t end = text.find('\n', start);
        if (end == std::string_view::npos) end = text.size();
        Location where{file_name, ++number};
        CERTDOCK_TRY(auto words,
                     split_config_line(text.substr(start, end - start), where, warnings));
        start = end + 1;
        if (words.empty()) continue;
        CERTDOCK_TRY(CrtListEntry entry, parse_entry(std::move(words), where));
        entries.push_back(std::move(entry));
    }
    return entries;
}

Result<std::vector<CrtListEntry>> load_crt_list(const std::filesystem::path& path,
                                                std::vector<ConfigWarning>& warnings) {
    CERTDOCK_TRY(std::string text, read_file(path));
    return parse_crt_list(text, path.string(), warnings);
}

}  // namespace certdock::haproxy
