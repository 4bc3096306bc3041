#include "acme/http.hpp"

#include <algorithm>
#include <cctype>

namespace certdock::acme {
namespace {

bool equal_ignoring_case(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) ==
                      std::tolower(static_cast<unsigned char>(y));
           });
}

std::string_view trim(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
    return text;
}

}  // namespace

std::optional<std::string> HttpResponse::header(std::string_view name) const {
    for (const auto& [key, value] : headers) {
        if (equal_ignoring_case(key, name)) return value;
    }
    return std::nullopt;
}

std::vector<std::string> HttpResponse::headers_named(std::string_view name) const {
    std::vector<std::string> values;
    for (const auto& [key, value] : headers) {
        if (equal_ignoring_case(key, name)) values.push_back(value);
    }
    return values;
}

std::vector<std::string> HttpResponse::links(std::string_view rel) const {
    std::vector<std::string> urls;
    for (const std::string& value : headers_named("Link")) {
        // One header may carry several comma-separated links: <a>;rel="x", <b>;rel="y".
        std::string_view rest = value;
        while (!rest.empty()) {
            size_t open = rest.find('<');
            size_t close = rest.find('>', open);
            if (open == std::string_view::npos || close == std::string_view::npos) break;
            std::string_view url = rest.substr(open + 1, close - open - 1);
            size_t next = rest.find(",", close);
            std::string_view params =
                rest.substr(close + 1, next == std::string_view::npos ? std::string_view::npos
                                                                      : next - close - 1);
            while (!params.empty()) {
                size_t semi = params.find(';');
                std::string_view param = trim(params.substr(0, semi));
                params = semi == std::string_view::npos ? "" : params.substr(semi + 1);
                if (!param.starts_with("rel=")) continue;
                std::string_view name = param.substr(4);
                if (name.size() >= 2 && name.front() == '"' && name.back() == '"') {
                    name = name.substr(1, name.size() - 2);
                }
                if (equal_ignoring_case(name, rel)) urls.emplace_back(url);
            }
            rest = next == std::string_view::npos ? "" : rest.substr(next + 1);
        }
    }
    return urls;
}

}  // namespace certdock::acme
