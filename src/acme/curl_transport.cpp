#include "acme/curl_transport.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstring>
#include <mutex>
#include <string_view>
#include <utility>

namespace certdock::acme {
namespace {

struct CurlEasyDeleter {
    void operator()(CURL* handle) const { curl_easy_cleanup(handle); }
};
using CurlEasyPtr = std::unique_ptr<CURL, CurlEasyDeleter>;

struct CurlSlistDeleter {
    void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
using CurlSlistPtr = std::unique_ptr<curl_slist, CurlSlistDeleter>;

// curl_global_init is not thread-safe and must run once per process, before any handle.
CURLcode global_init() {
    static std::once_flag once;
    static CURLcode result = CURLE_OK;
    std::call_once(once, [] { result = curl_global_init(CURL_GLOBAL_DEFAULT); });
    return result;
}

std::string_view trim(std::string_view text) {
    auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
    while (!text.empty() && blank(text.front())) text.remove_prefix(1);
    while (!text.empty() && blank(text.back())) text.remove_suffix(1);
    return text;
}

bool has_line_break(std::string_view text) {
    return text.find_first_of("\r\n") != std::string_view::npos;
}

bool equal_ignoring_case(std::string_view a, std::string_view b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
        return std::tolower(static_cast<unsigned char>(x)) ==
               std::tolower(static_cast<unsigned char>(y));
    });
}

bool has_header(const HttpHeaders& headers, std::string_view name) {
    return std::any_of(headers.begin(), headers.end(),
                       [&](const auto& header) { return equal_ignoring_case(header.first, name); });
}

size_t on_body(char* data, size_t size, size_t count, void* user) {
    static_cast<std::string*>(user)->append(data, size * count);
    return size * count;
}

// Called once per header line, status lines and the blank line ending each response included.
size_t on_header(char* data, size_t size, size_t count, void* user) {
    auto* headers = static_cast<HttpHeaders*>(user);
    std::string_view line(data, size * count);
    if (line.starts_with("HTTP/")) {
        // A new response begins (after a 1xx or a redirect): keep only the final one's headers.
        headers->clear();
    } else if (!line.empty() && (line.front() == ' ' || line.front() == '\t')) {
        // Obsolete line folding (RFC 9110 §5.5): continues the previous header's value.
        if (!headers->empty() && !trim(line).empty()) {
            headers->back().second += " ";
            headers->back().second += trim(line);
        }
    } else if (size_t colon = line.find(':'); colon != std::string_view::npos) {
        headers->emplace_back(std::string(trim(line.substr(0, colon))),
                              std::string(trim(line.substr(colon + 1))));
    }
    return size * count;
}

class CurlTransport final : public HttpTransport {
public:
    explicit CurlTransport(CurlTransportOptions options) : options_(std::move(options)) {
        if (global_init() == CURLE_OK) handle_.reset(curl_easy_init());
    }

    Result<HttpResponse> send(const HttpRequest& request) override {
        std::string what = request.method + " " + request.url;
        if (request.method != "GET" && request.method != "HEAD" && request.method != "POST") {
            return fail(ErrorCategory::kUsage, what + ": unsupported method");
        }
        if (!handle_) {
            return fail(ErrorCategory::kInternal, what + " failed: cannot initialise libcurl");
        }
        CERTDOCK_TRY(CurlSlistPtr header_list, build_header_list(request, what));

        HttpResponse response;
        CURL* curl = handle_.get();
        // Reset per request so no option leaks from the previous one; the connection cache
        // and TLS session cache survive the reset.
        curl_easy_reset(curl);
        error_text_.fill('\0');
        CURLcode code = configure(curl, request, header_list.get());
        if (code == CURLE_OK) {
            curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &on_body);
            curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response.body);
            curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, &on_header);
            curl_easy_setopt(curl, CURLOPT_HEADERDATA, &response.headers);
            code = curl_easy_perform(curl);
        }
        if (code != CURLE_OK) return Unexpected(transfer_error(what, code));

        long status = 0;
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
        response.status = static_cast<int>(status);
        return response;
    }

private:
    Result<CurlSlistPtr> build_header_list(const HttpRequest& request,
                                           const std::string& what) const {
        CurlSlistPtr list;
        auto append = [&list](const std::string& line) {
            curl_slist* grown = curl_slist_append(list.get(), line.c_str());
            if (grown == nullptr) return false;
            static_cast<void>(list.release());  // now owned by `grown`
            list.reset(grown);
            return true;
        };
        for (const auto& [name, value] : request.headers) {
            // A line break would let a value smuggle extra headers or a second request.
            if (name.empty() || has_line_break(name) || has_line_break(value)) {
                return fail(ErrorCategory::kUsage,
                            what + ": invalid request header \"" + name + "\"");
            }
            // "Name;" is curl's way to send a header with an empty value.
            std::string line = name;
            line += value.empty() ? ";" : ": ";
            line += value;
            if (!append(line)) {
                return fail(ErrorCategory::kInternal, what + ": out of memory");
            }
        }
        // "Name:" removes a header curl would add on its own. Expect: 100-continue costs a
        // round trip (or a 1 s stall) on large POSTs, and curl's default form Content-Type
        // would be wrong for anything we send.
        if (!has_header(request.headers, "Expect") && !append("Expect:")) {
            return fail(ErrorCategory::kInternal, what + ": out of memory");
        }
        if (!has_header(request.headers, "Content-Type") && !append("Content-Type:")) {
            return fail(ErrorCategory::kInternal, what + ": out of memory");
        }
        return list;
    }

    CURLcode configure(CURL* curl, const HttpRequest& request, curl_slist* header_list) {
        // A zero timeout means "none" to curl; never let a request hang forever.
        long timeout_ms = std::max<long>(1, static_cast<long>(request.timeout.count()));
        long connect_ms = std::max<long>(1, static_cast<long>(options_.connect_timeout.count()));
        CURLcode code = CURLE_OK;
        auto set = [&code](CURLcode result) {
            if (code == CURLE_OK) code = result;
        };
        set(curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error_text_.data()));
        set(curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str()));
        set(curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https"));
        set(curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L));
        // Signals do not mix with threads; timeouts then rely on the threaded resolver.
        set(curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L));
        set(curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout_ms));
        set(curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, connect_ms));
        set(curl_easy_setopt(curl, CURLOPT_USERAGENT, options_.user_agent.c_str()));
        set(curl_easy_setopt(curl, CURLOPT_HTTPHEADER, header_list));
        if (options_.ca_file) {
            set(curl_easy_setopt(curl, CURLOPT_CAINFO, options_.ca_file->c_str()));
            // Otherwise the system directory of roots would still be trusted next to the file.
            set(curl_easy_setopt(curl, CURLOPT_CAPATH, nullptr));
        }
        if (request.method == "HEAD") {
            set(curl_easy_setopt(curl, CURLOPT_NOBODY, 1L));
        } else if (request.method == "POST") {
            set(curl_easy_setopt(curl, CURLOPT_POST, 1L));
            set(curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                                 static_cast<curl_off_t>(request.body.size())));
            set(curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.data()));
        } else {
            set(curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L));
        }
        return code;
    }

    Error transfer_error(const std::string& what, CURLcode code) const {
        std::string message = what + " failed: ";
        std::string detail = error_text_.data();
        std::string summary = curl_easy_strerror(code);
        message += detail.empty() ? summary : detail;
        if (!detail.empty() && detail.find(summary) == std::string::npos) {
            message += " (" + summary + ")";
        }
        // curl says "Couldn't connect to server" for refused, unreachable and timed out
        // alike; the errno tells them apart. (It is stale after other failures.)
        long os_errno = 0;
        if (code == CURLE_COULDNT_CONNECT &&
            curl_easy_getinfo(handle_.get(), CURLINFO_OS_ERRNO, &os_errno) == CURLE_OK &&
            os_errno != 0) {
            message += " (" + std::string(std::strerror(static_cast<int>(os_errno))) + ")";
        }
        // A bad URL or method is the caller's mistake, not the network's; do not retry it.
        bool usage = code == CURLE_URL_MALFORMAT || code == CURLE_UNSUPPORTED_PROTOCOL;
        return Error(usage ? ErrorCategory::kUsage : ErrorCategory::kNetwork, message);
    }

    CurlTransportOptions options_;
    // Outlives the handle, which keeps a pointer to it between requests.
    std::array<char, CURL_ERROR_SIZE> error_text_{};
    CurlEasyPtr handle_;
};

}  // namespace

HttpTransportPtr make_curl_transport(const CurlTransportOptions& options) {
    return std::make_unique<CurlTransport>(options);
}

}  // namespace certdock::acme
