#include "support/haproxy_server.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <thread>
#include <vector>

#include "base/file.hpp"
#include "base/unique_fd.hpp"
#include "crypto/bundle.hpp"
#include "support/child_process.hpp"
#include "support/pebble.hpp"  // free_local_port

namespace certdock::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr int kStartAttempts = 3;
constexpr auto kPollInterval = 25ms;

// Debian installs haproxy in /usr/sbin, which a non-root PATH may lack.
Result<fs::path> find_haproxy() {
    const char* path_env = std::getenv("PATH");
    std::string search = std::string(path_env != nullptr ? path_env : "") + ":/usr/sbin:/usr/bin";
    size_t start = 0;
    while (start <= search.size()) {
        size_t end = search.find(':', start);
        if (end == std::string::npos) end = search.size();
        if (end > start) {
            fs::path candidate = fs::path(search.substr(start, end - start)) / "haproxy";
            if (::access(candidate.c_str(), X_OK) == 0) return candidate;
        }
        start = end + 1;
    }
    return fail(ErrorCategory::kIo,
                "haproxy is not installed (not found in PATH, /usr/sbin or /usr/bin): install the "
                "Debian package `haproxy` (bash scripts/install-deps.sh)");
}

// The whole answer to one command on a unix stats socket, or nothing if it does not answer
// within a second. Independent of the code under test on purpose.
std::optional<std::string> ask_socket(const fs::path& path, const std::string& command) {
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, path.c_str(), sizeof address.sun_path - 1);
    if (fd.get() < 0 ||
        ::connect(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
        return std::nullopt;
    }
    std::string request = command + "\n";
    if (::send(fd.get(), request.data(), request.size(), MSG_NOSIGNAL) !=
        static_cast<ssize_t>(request.size())) {
        return std::nullopt;
    }
    std::string reply;
    char buffer[4096];
    while (true) {
        pollfd entry{fd.get(), POLLIN, 0};
        if (::poll(&entry, 1, 1000) <= 0) return std::nullopt;
        ssize_t n = ::recv(fd.get(), buffer, sizeof buffer, 0);
        if (n == 0) return reply;
        if (n < 0) return std::nullopt;
        reply.append(buffer, static_cast<size_t>(n));
    }
}

std::string tail_of(const fs::path& path, size_t max_bytes) {
    auto text = read_file(path);
    if (!text) return "(no output: " + text.error().describe() + ")";
    if (text->size() <= max_bytes) return *text;
    return text->substr(text->size() - max_bytes);
}

}  // namespace

Result<std::string> haproxy_bundle(const Issued& leaf, const std::vector<TestCa>& chain) {
    crypto::BundleParts parts{leaf.certificate, {}, leaf.key, std::nullopt};
    for (const TestCa& ca : chain) parts.chain.push_back(ca.certificate());
    return crypto::build_haproxy_bundle(parts);
}

HaproxyServer::HaproxyServer(HaproxyOptions options, fs::path binary, TestPki pki)
    : options_(options), binary_(std::move(binary)), pki_(std::move(pki)) {}

HaproxyServer::~HaproxyServer() = default;

Result<HaproxyServerPtr> HaproxyServer::prepare(const HaproxyOptions& options) {
    CERTDOCK_TRY(fs::path binary, find_haproxy());
    CERTDOCK_TRY(TestPki pki, make_test_pki({"site.test"}));
    HaproxyServerPtr server(new HaproxyServer(options, std::move(binary), std::move(pki)));
    CERTDOCK_TRY_STATUS(server->write_files());
    return server;
}

Result<HaproxyServerPtr> HaproxyServer::start(const HaproxyOptions& options) {
    for (int attempt = 1;; ++attempt) {
        CERTDOCK_TRY(HaproxyServerPtr server, prepare(options));
        Status launched = server->launch();
        if (launched) return server;
        // Ports are picked free and bound a moment later: another process may win the race.
        bool port_race = launched.error().describe().find("cannot bind") != std::string::npos;
        if (!port_race || attempt == kStartAttempts) return Unexpected(std::move(launched).error());
    }
}

Status HaproxyServer::write_files() {
    CERTDOCK_TRY(https_port_, free_local_port());
    if (options_.http_port != 0) {
        http_port_ = options_.http_port;
    } else {
        CERTDOCK_TRY(http_port_, free_local_port());
    }
    CERTDOCK_TRY(site_bundle_, haproxy_bundle(pki_.leaf, {pki_.intermediate}));
    CERTDOCK_TRY_STATUS(write_file_atomic(site_pem(), site_bundle_, {.mode = 0600}));
    CERTDOCK_TRY_STATUS(write_file_atomic(map_file(), ""));  // 2.6 needs the file at start-up

    const std::string map = map_file().string();
    std::string config =
        "global\n"
        "    stats socket " +
        admin_socket().string() + " level admin\n";
    if (options_.user_socket) {
        config += "    stats socket " + user_socket().string() + " level user\n";
    }
    if (options_.tcp_socket) {
        CERTDOCK_TRY(tcp_socket_port_, free_local_port());
        config +=
            "    stats socket 127.0.0.1:" + std::to_string(tcp_socket_port_) + " level admin\n";
    }
    config +=
        "defaults\n"
        "    mode http\n"
        "    timeout connect 5s\n"
        "    timeout client 10s\n"
        "    timeout server 10s\n"
        "frontend fe\n"
        "    bind 127.0.0.1:" +
        std::to_string(https_port_) + " ssl crt " + site_pem().string() + "\n";
    if (options_.crt_list) {
        CERTDOCK_TRY(crt_list_port_, free_local_port());
        CERTDOCK_TRY_STATUS(write_file_atomic(crt_list(), site_pem().string() + "\n"));
        config += "    bind 127.0.0.1:" + std::to_string(crt_list_port_) + " ssl crt-list " +
                  crt_list().string() + "\n";
    }
    // http-01 the way certdock serves it from HAProxy 2.6: token -> key authorization in a map.
    const std::string token = "path,field(4,/),map(" + map + ")";
    config += "    bind 127.0.0.1:" + std::to_string(http_port_) + "\n" +
              "    http-request return status 200 content-type text/plain lf-string \"%[" + token +
              "]\" if { path_beg /.well-known/acme-challenge/ } { " + token + " -m found }\n" +
              "    http-request return status 404\n";
    return write_file_atomic(dir_.path() / "haproxy.cfg", config);
}

Status HaproxyServer::launch() {
    fs::path output = dir_.path() / "haproxy.log";
    std::vector<std::string> argv = {binary_.string(), "-db", "-f",
                                     (dir_.path() / "haproxy.cfg").string()};
    if (options_.master_cli) {
        // The worker exits when the master dies, so killing the master is enough.
        argv.insert(argv.end(), {"-W", "-S", master_socket().string()});
    }
    CERTDOCK_TRY(process_, ChildProcess::spawn(argv, {}, output, output));
    auto deadline = std::chrono::steady_clock::now() + options_.start_timeout;
    while (true) {
        auto info = ask_socket(admin_socket(), "show info");
        if (info && info->find("Name: HAProxy") != std::string::npos) return {};
        if (auto status = process_->exit_status()) {
            return fail(ErrorCategory::kIo, "haproxy exited with status " +
                                                std::to_string(*status) + "; its output:\n" +
                                                tail_of(output, 2000));
        }
        if (std::chrono::steady_clock::now() > deadline) {
            return fail(ErrorCategory::kIo, "haproxy did not answer `show info` on " +
                                                admin_socket().string() +
                                                " in time; its output:\n" + tail_of(output, 2000));
        }
        std::this_thread::sleep_for(kPollInterval);
    }
}

void HaproxyServer::stop() {
    if (process_) process_->stop();
}

bool HaproxyServer::running() {
    return process_ && !process_->exit_status();
}

std::string HaproxyServer::log(size_t max_bytes) const {
    return tail_of(dir_.path() / "haproxy.log", max_bytes);
}

}  // namespace certdock::test
