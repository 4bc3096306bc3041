#include "support/pebble.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <thread>

#include <nlohmann/json.hpp>

#include "acme/curl_transport.hpp"
#include "base/file.hpp"
#include "base/unique_fd.hpp"
#include "support/child_process.hpp"
#include "support/test_pki.hpp"

extern char** environ;  // NOLINT: POSIX declares it nowhere else

namespace certdock::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr int kStartAttempts = 3;
constexpr auto kPollInterval = 25ms;
constexpr const char* kInstallHint =
    "install the Debian package `pebble` (bash scripts/install-deps.sh)";

Error io_error(const std::string& what) {
    return Error(ErrorCategory::kIo, what + ": " + std::strerror(errno));
}

sockaddr_in loopback(std::uint16_t port) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(port);
    return address;
}

// Binds a socket of `type` to 127.0.0.1:`port` (0: any) and returns the port it got.
Result<std::uint16_t> bind_port(int type, std::uint16_t port, const UniqueFd& fd) {
    sockaddr_in address = loopback(port);
    socklen_t length = sizeof address;
    if (fd.get() < 0 || ::bind(fd.get(), reinterpret_cast<sockaddr*>(&address), length) != 0 ||
        ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&address), &length) != 0) {
        return Unexpected(io_error(std::string("cannot bind a ") +
                                   (type == SOCK_DGRAM ? "UDP" : "TCP") + " port on 127.0.0.1"));
    }
    return static_cast<std::uint16_t>(ntohs(address.sin_port));
}

// A port free for both UDP and TCP, as a DNS server needs.
Result<std::uint16_t> free_dns_port() {
    for (int attempt = 0; attempt < 50; ++attempt) {
        UniqueFd udp(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
        CERTDOCK_TRY(std::uint16_t port, bind_port(SOCK_DGRAM, 0, udp));
        UniqueFd tcp(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
        if (bind_port(SOCK_STREAM, port, tcp)) return port;
    }
    return fail(ErrorCategory::kIo, "cannot find a port free for both UDP and TCP");
}

bool accepts_connections(std::uint16_t port) {
    UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in address = loopback(port);
    return fd.get() >= 0 &&
           ::connect(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
}

// The executable `name` from $PATH, then /usr/bin (ctest may run with a minimal PATH).
Result<fs::path> find_binary(const std::string& name) {
    const char* path_env = std::getenv("PATH");
    std::string search = std::string(path_env != nullptr ? path_env : "") + ":/usr/bin";
    size_t start = 0;
    while (start <= search.size()) {
        size_t end = search.find(':', start);
        if (end == std::string::npos) end = search.size();
        if (end > start) {
            fs::path candidate = fs::path(search.substr(start, end - start)) / name;
            if (::access(candidate.c_str(), X_OK) == 0) return candidate;
        }
        start = end + 1;
    }
    return fail(ErrorCategory::kIo,
                name + " is not installed (not found in PATH or /usr/bin): " + kInstallHint);
}

// The end of a log file, starting at a line boundary.
std::string tail_of(const fs::path& path, size_t max_bytes) {
    auto text = read_file(path);
    if (!text) return "(no log: " + text.error().describe() + ")";
    std::string& log = *text;
    if (log.size() <= max_bytes) return log;
    size_t start = log.find('\n', log.size() - max_bytes);
    return log.substr(start == std::string::npos ? log.size() - max_bytes : start + 1);
}

std::string with_trailing_dot(std::string_view host) {
    std::string fqdn(host);
    if (fqdn.empty() || fqdn.back() != '.') fqdn += '.';
    return fqdn;
}

}  // namespace

Result<std::uint16_t> free_local_port() {
    UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    return bind_port(SOCK_STREAM, 0, fd);
}

PebbleServer::PebbleServer(PebbleOptions options)
    : options_(std::move(options)),
      ca_file_(dir_.path() / "wfe-root.pem"),
      config_file_(dir_.path() / "pebble-config.json") {
    acme::CurlTransportOptions transport_options;
    transport_options.ca_file = ca_file_.string();
    transport_options.user_agent = "certdock-pebble-harness";
    transport_options.connect_timeout = 2s;
    transport_ = acme::make_curl_transport(transport_options);
}

PebbleServer::~PebbleServer() = default;

Result<std::unique_ptr<PebbleServer>> PebbleServer::start(const PebbleOptions& options) {
    for (int attempt = 1;; ++attempt) {
        std::unique_ptr<PebbleServer> server(new PebbleServer(options));
        Status launched = server->launch();
        if (launched) return server;
        // Ports are picked free and bound a moment later: another process may win the race.
        bool port_race =
            launched.error().describe().find("address already in use") != std::string::npos;
        if (!port_race || attempt == kStartAttempts) return Unexpected(std::move(launched).error());
    }
}

Status PebbleServer::launch() {
    CERTDOCK_TRY(wfe_port_, free_local_port());
    CERTDOCK_TRY(management_port_, free_local_port());
    CERTDOCK_TRY(challtestsrv_port_, free_local_port());
    CERTDOCK_TRY(dns_port_, free_dns_port());
    CERTDOCK_TRY_STATUS(write_files());
    CERTDOCK_TRY_STATUS(start_challtestsrv());
    return start_pebble();
}

Status PebbleServer::write_files() {
    CERTDOCK_TRY(TestCa root, TestCa::create_root("certdock Pebble WFE Root"));
    CertSpec spec;
    spec.common_name = "localhost";
    spec.dns_names = {"localhost", "pebble"};
    spec.ip_addresses = {"127.0.0.1"};
    CERTDOCK_TRY(Issued wfe, root.issue(spec));
    CERTDOCK_TRY(std::string key_pem, wfe.key.to_pem());
    fs::path cert_file = dir_.path() / "wfe.cert.pem";
    fs::path key_file = dir_.path() / "wfe.key.pem";
    CERTDOCK_TRY_STATUS(write_file_atomic(ca_file_, root.certificate().to_pem()));
    CERTDOCK_TRY_STATUS(write_file_atomic(cert_file, wfe.certificate.to_pem()));
    CERTDOCK_TRY_STATUS(write_file_atomic(key_file, key_pem, {.mode = 0600}));

    nlohmann::json pebble = {
        {"listenAddress", "127.0.0.1:" + std::to_string(wfe_port_)},
        {"managementListenAddress", "127.0.0.1:" + std::to_string(management_port_)},
        {"certificate", cert_file.string()},
        {"privateKey", key_file.string()},
        {"httpPort", options_.http_port},
        {"tlsPort", options_.tls_port},
        {"ocspResponderURL", ""},
        {"externalAccountBindingRequired", options_.eab_required},
    };
    if (!options_.eab_mac_keys.empty()) pebble["externalAccountMACKeys"] = options_.eab_mac_keys;
    return write_file_atomic(config_file_, nlohmann::json{{"pebble", pebble}}.dump(2) + "\n");
}

Status PebbleServer::start_challtestsrv() {
    CERTDOCK_TRY(fs::path binary, find_binary("pebble-challtestsrv"));
    // An empty address turns a listener off; the defaults would bind all interfaces.
    std::vector<std::string> argv = {
        binary.string(),
        "-defaultIPv4",
        "127.0.0.1",
        "-defaultIPv6",
        "",
        "-dns01",
        "127.0.0.1:" + std::to_string(dns_port_),
        "-management",
        "127.0.0.1:" + std::to_string(challtestsrv_port_),
        "-http01",
        "",
        "-https01",
        "",
        "-tlsalpn01",
        "",
    };
    std::vector<std::string> env;
    for (char** var = environ; *var != nullptr; ++var) env.emplace_back(*var);
    fs::path log = dir_.path() / "challtestsrv.stderr";
    CERTDOCK_TRY(challtestsrv_,
                 ChildProcess::spawn(argv, env, dir_.path() / "challtestsrv.stdout", log));

    auto deadline = std::chrono::steady_clock::now() + options_.start_timeout;
    while (!accepts_connections(challtestsrv_port_) || !accepts_connections(dns_port_)) {
        if (auto status = challtestsrv_->exit_status()) {
            return fail(ErrorCategory::kIo, "pebble-challtestsrv exited with status " +
                                                std::to_string(*status) +
                                                "; its stderr ends with:\n" + tail_of(log, 2000));
        }
        if (std::chrono::steady_clock::now() > deadline) {
            return fail(ErrorCategory::kIo, "pebble-challtestsrv did not listen on 127.0.0.1:" +
                                                std::to_string(challtestsrv_port_) +
                                                " in time; its stderr ends with:\n" +
                                                tail_of(log, 2000));
        }
        std::this_thread::sleep_for(kPollInterval);
    }
    return {};
}

Status PebbleServer::start_pebble() {
    CERTDOCK_TRY(fs::path binary, find_binary("pebble"));
    std::vector<std::string> argv = {binary.string(), "-config", config_file_.string(),
                                     "-dnsserver", dns_server()};
    // The caller's PEBBLE_* settings must not leak in: the options decide them all.
    std::vector<std::string> env;
    for (char** var = environ; *var != nullptr; ++var) {
        if (std::strncmp(*var, "PEBBLE_", 7) != 0) env.emplace_back(*var);
    }
    env.push_back("PEBBLE_WFE_NONCEREJECT=" + std::to_string(options_.nonce_reject_percent));
    env.push_back("PEBBLE_AUTHZREUSE=" + std::to_string(options_.authz_reuse_percent));
    if (options_.va_no_sleep) env.emplace_back("PEBBLE_VA_NOSLEEP=1");
    if (options_.va_always_valid) env.emplace_back("PEBBLE_VA_ALWAYS_VALID=1");
    if (options_.chain_length) {
        env.push_back("PEBBLE_CHAIN_LENGTH=" + std::to_string(*options_.chain_length));
    }
    if (options_.alternate_roots) {
        env.push_back("PEBBLE_ALTERNATE_ROOTS=" + std::to_string(*options_.alternate_roots));
    }
    fs::path log = dir_.path() / "pebble.stderr";
    CERTDOCK_TRY(pebble_, ChildProcess::spawn(argv, env, dir_.path() / "pebble.stdout", log));

    acme::HttpRequest probe;
    probe.url = directory_url();
    probe.timeout = 2s;
    auto deadline = std::chrono::steady_clock::now() + options_.start_timeout;
    std::string last_failure;
    while (true) {
        if (accepts_connections(wfe_port_)) {
            auto response = transport_->send(probe);
            // Pebble opens its management port after the WFE; both must be up.
            if (response && response->status == 200 && accepts_connections(management_port_)) {
                return {};
            }
            last_failure = response ? "HTTP status " + std::to_string(response->status)
                                    : response.error().describe();
        }
        if (auto status = pebble_->exit_status()) {
            return fail(ErrorCategory::kIo, "pebble exited with status " + std::to_string(*status) +
                                                "; its stderr ends with:\n" + tail_of(log, 2000));
        }
        if (std::chrono::steady_clock::now() > deadline) {
            return fail(ErrorCategory::kIo, "pebble did not answer " + directory_url() +
                                                " in time (" + last_failure +
                                                "); its stderr ends with:\n" + tail_of(log, 2000));
        }
        std::this_thread::sleep_for(kPollInterval);
    }
}

std::string PebbleServer::directory_url() const {
    return "https://127.0.0.1:" + std::to_string(wfe_port_) + "/dir";
}

std::string PebbleServer::challtestsrv_url() const {
    return "http://127.0.0.1:" + std::to_string(challtestsrv_port_);
}

std::string PebbleServer::dns_server() const {
    return "127.0.0.1:" + std::to_string(dns_port_);
}

Status PebbleServer::challtestsrv_post(std::string_view endpoint, const std::string& json_body) {
    acme::HttpRequest request;
    request.method = "POST";
    request.url = "http://127.0.0.1:" + std::to_string(challtestsrv_port_) + "/";
    request.url += endpoint;
    request.headers = {{"Content-Type", "application/json"}};
    request.body = json_body;
    request.timeout = 5s;
    CERTDOCK_TRY(acme::HttpResponse response, transport_->send(request));
    if (response.status != 200) {
        return fail(ErrorCategory::kProtocol, "challtestsrv " + request.url + " answered HTTP " +
                                                  std::to_string(response.status) + ": " +
                                                  response.body);
    }
    return {};
}

Status PebbleServer::set_txt(std::string_view host, std::string_view value) {
    nlohmann::json body = {{"host", with_trailing_dot(host)}, {"value", std::string(value)}};
    return challtestsrv_post("set-txt", body.dump());
}

Status PebbleServer::clear_txt(std::string_view host) {
    return challtestsrv_post("clear-txt", nlohmann::json{{"host", with_trailing_dot(host)}}.dump());
}

Status PebbleServer::add_a(std::string_view host, const std::vector<std::string>& addresses) {
    nlohmann::json body = {{"host", with_trailing_dot(host)}, {"addresses", addresses}};
    return challtestsrv_post("add-a", body.dump());
}

Status PebbleServer::clear_a(std::string_view host) {
    return challtestsrv_post("clear-a", nlohmann::json{{"host", with_trailing_dot(host)}}.dump());
}

Result<std::string> PebbleServer::pebble_management_get(const std::string& path) {
    acme::HttpRequest request;
    request.url = "https://127.0.0.1:" + std::to_string(management_port_) + path;
    request.timeout = 5s;
    CERTDOCK_TRY(acme::HttpResponse response, transport_->send(request));
    if (response.status != 200) {
        return fail(ErrorCategory::kProtocol, "pebble " + request.url + " answered HTTP " +
                                                  std::to_string(response.status) + ": " +
                                                  response.body);
    }
    return std::move(response.body);
}

Result<std::string> PebbleServer::root_pem(int index) {
    return pebble_management_get("/roots/" + std::to_string(index));
}

Result<std::string> PebbleServer::intermediate_pem(int index) {
    return pebble_management_get("/intermediates/" + std::to_string(index));
}

void PebbleServer::kill() {
    pebble_.reset();
}

Status PebbleServer::restart() {
    pebble_.reset();
    return start_pebble();
}

bool PebbleServer::running() {
    return pebble_ && !pebble_->exit_status();
}

std::string PebbleServer::pebble_log(size_t max_bytes) const {
    return tail_of(dir_.path() / "pebble.stderr", max_bytes);
}

}  // namespace certdock::test
