#include "support/knot_server.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <random>
#include <sstream>
#include <thread>

#include "base/encoding.hpp"
#include "base/file.hpp"
#include "base/unique_fd.hpp"

extern char** environ;  // NOLINT: POSIX declares it nowhere else

namespace certdock::test {
namespace {

constexpr int kStartAttempts = 3;  // a free port may be taken between probe and bind
constexpr std::chrono::milliseconds kStartLimit{10'000};
constexpr std::chrono::milliseconds kStopLimit{5'000};

class SpawnActions {
public:
    SpawnActions() { posix_spawn_file_actions_init(&actions_); }
    SpawnActions(const SpawnActions&) = delete;
    SpawnActions& operator=(const SpawnActions&) = delete;
    ~SpawnActions() { posix_spawn_file_actions_destroy(&actions_); }
    posix_spawn_file_actions_t* get() { return &actions_; }

private:
    posix_spawn_file_actions_t actions_;
};

sockaddr_in loopback(std::uint16_t port) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return address;
}

bool bind_loopback(int fd, std::uint16_t port) {
    sockaddr_in address = loopback(port);
    return ::bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0;
}

// A port free for both TCP and UDP on 127.0.0.1, as knotd listens on both.
Result<std::uint16_t> free_port() {
    for (int attempt = 0; attempt < 20; ++attempt) {
        UniqueFd tcp(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
        if (tcp.get() < 0 || !bind_loopback(tcp.get(), 0)) break;
        sockaddr_in bound{};
        socklen_t length = sizeof bound;
        ::getsockname(tcp.get(), reinterpret_cast<sockaddr*>(&bound), &length);
        std::uint16_t port = ntohs(bound.sin_port);
        UniqueFd udp(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
        if (udp.get() >= 0 && bind_loopback(udp.get(), port)) return port;
    }
    return fail(ErrorCategory::kIo,
                std::string("no free port on 127.0.0.1: ") + std::strerror(errno));
}

Result<std::filesystem::path> find_knotd() {
    std::vector<std::filesystem::path> dirs;
    if (const char* path = std::getenv("PATH")) {
        std::stringstream entries(path);
        for (std::string dir; std::getline(entries, dir, ':');) {
            if (!dir.empty()) dirs.emplace_back(dir);
        }
    }
    dirs.emplace_back("/usr/sbin");
    dirs.emplace_back("/usr/local/sbin");
    for (const auto& dir : dirs) {
        std::filesystem::path candidate = dir / "knotd";
        if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    }
    return fail(ErrorCategory::kUsage,
                "knotd not found in PATH, /usr/sbin or /usr/local/sbin: the dns integration tests "
                "need a real Knot DNS server; install the Debian package 'knot' "
                "(scripts/install-deps.sh does)");
}

std::string random_secret() {
    std::random_device device;
    Bytes secret(32);
    for (auto& byte : secret) byte = static_cast<std::uint8_t>(device());
    return base64_encode(secret);
}

std::string quoted(const std::filesystem::path& path) {
    return "\"" + path.string() + "\"";
}

std::string knot_config(const std::filesystem::path& dir, std::uint16_t port,
                        const std::vector<KnotKey>& keys, const KnotOptions& options) {
    std::ostringstream conf;
    conf << "server:\n"
         << "    rundir: " << quoted(dir / "run") << "\n"
         << "    listen: 127.0.0.1@" << port << "\n"
         << "    udp-workers: 1\n"
         << "    tcp-workers: 1\n"
         << "    background-workers: 1\n"
         << "database:\n"
         << "    storage: " << quoted(dir / "db") << "\n"
         << "log:\n"
         << "  - target: stderr\n"
         << "    any: info\n"
         << "key:\n";
    for (const KnotKey& key : keys) {
        conf << "  - id: " << key.name << "\n"
             << "    algorithm: " << key.algorithm << "\n"
             << "    secret: " << key.secret << "\n";
    }
    conf << "acl:\n"
         << "  - id: update\n"
         << "    action: update\n"
         << "    key: [";
    for (size_t i = 0; i < keys.size(); ++i) conf << (i ? ", " : "") << keys[i].name;
    conf << "]\n"
         << "template:\n"
         << "  - id: default\n"
         << "    storage: " << quoted(dir / "zones") << "\n"
         << "    file: \"%s.zone\"\n"
         // Updates live in the journal only; the zone files stay as the test wrote them.
         << "    zonefile-sync: -1\n"
         << "    journal-content: changes\n"
         << "    acl: update\n"
         << "zone:\n";
    for (const KnotZone& zone : options.zones) conf << "  - domain: " << zone.name << "\n";
    return conf.str();
}

std::string zone_file(const KnotZone& zone) {
    std::ostringstream text;
    text << "$ORIGIN " << zone.name << "\n"
         << "$TTL 300\n"
         << "@ SOA ns1 hostmaster 1 3600 600 86400 60\n"
         << "@ NS ns1\n"
         << "ns1 A 127.0.0.1\n";
    for (const std::string& record : zone.records) text << record << "\n";
    return text.str();
}

// One SOA query over UDP, built by hand so that the harness does not depend on the code it
// helps to test. True when the server answers NOERROR with at least one answer record.
bool answers_soa(std::uint16_t port, const std::string& zone) {
    UniqueFd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    sockaddr_in address = loopback(port);
    if (fd.get() < 0 ||
        ::connect(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
        return false;
    }
    static thread_local std::mt19937 rng{std::random_device{}()};
    auto id = static_cast<std::uint16_t>(rng());
    std::vector<std::uint8_t> query = {static_cast<std::uint8_t>(id >> 8),
                                       static_cast<std::uint8_t>(id & 0xff),
                                       0,
                                       0,
                                       0,
                                       1,
                                       0,
                                       0,
                                       0,
                                       0,
                                       0,
                                       0};
    std::stringstream labels(zone);
    for (std::string label; std::getline(labels, label, '.');) {
        if (label.empty()) continue;
        query.push_back(static_cast<std::uint8_t>(label.size()));
        query.insert(query.end(), label.begin(), label.end());
    }
    query.insert(query.end(), {0, 0, 6, 0, 1});  // root label, type SOA, class IN
    if (::send(fd.get(), query.data(), query.size(), 0) < 0) return false;
    pollfd waiting{fd.get(), POLLIN, 0};
    if (::poll(&waiting, 1, 200) != 1) return false;
    std::array<std::uint8_t, 512> reply{};
    ssize_t size = ::recv(fd.get(), reply.data(), reply.size(), 0);
    if (size < 12) return false;
    bool same_id = reply[0] == query[0] && reply[1] == query[1];
    bool is_reply = (reply[2] & 0x80) != 0;
    bool noerror = (reply[3] & 0x0f) == 0;
    bool has_answer = reply[6] != 0 || reply[7] != 0;
    return same_id && is_reply && noerror && has_answer;
}

}  // namespace

Result<std::unique_ptr<KnotServer>> KnotServer::start(const KnotOptions& options) {
    CERTDOCK_TRY(std::filesystem::path knotd, find_knotd());
    Error last(ErrorCategory::kIo, "knotd did not start");
    for (int attempt = 0; attempt < kStartAttempts; ++attempt) {
        std::unique_ptr<KnotServer> server(new KnotServer());
        auto launched = server->launch(knotd, options);
        if (launched) launched = server->wait_until_serving(options, kStartLimit);
        if (launched) return server;
        last = std::move(launched).error();
    }
    return last;
}

Status KnotServer::launch(const std::filesystem::path& knotd, const KnotOptions& options) {
    keys_ = {{"certdock-test.", "hmac-sha256", random_secret()},
             {"certdock-sha512.", "hmac-sha512", random_secret()},
             {"certdock-sha1.", "hmac-sha1", random_secret()}};
    CERTDOCK_TRY(port_, free_port());
    const std::filesystem::path& dir = dir_.path();
    std::error_code ec;
    for (const char* sub : {"run", "db", "zones"}) std::filesystem::create_directory(dir / sub, ec);
    std::filesystem::path conf = dir / "knot.conf";
    WriteOptions private_file;
    private_file.mode = 0600;  // holds the TSIG secrets
    CERTDOCK_TRY_STATUS(
        write_file_atomic(conf, knot_config(dir, port_, keys_, options), private_file));
    for (const KnotZone& zone : options.zones) {
        std::filesystem::path file = dir / "zones" / (zone.name + "zone");
        CERTDOCK_TRY_STATUS(write_file_atomic(file, zone_file(zone)));
    }

    SpawnActions actions;
    std::string log = (dir / "knotd.log").string();
    posix_spawn_file_actions_addopen(actions.get(), 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(actions.get(), 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                     0644);
    posix_spawn_file_actions_adddup2(actions.get(), 1, 2);
    std::string program = knotd.string();
    std::string config_flag = "-c";
    std::string config_path = conf.string();
    std::array<char*, 4> argv = {program.data(), config_flag.data(), config_path.data(), nullptr};
    int rc = posix_spawn(&pid_, program.c_str(), actions.get(), nullptr, argv.data(), environ);
    if (rc != 0) {
        pid_ = -1;
        return fail(ErrorCategory::kIo, "cannot start " + program + ": " + std::strerror(rc));
    }
    return {};
}

Status KnotServer::wait_until_serving(const KnotOptions& options, std::chrono::milliseconds limit) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;
            return fail(ErrorCategory::kIo, "knotd exited during start-up; its log:\n" + log());
        }
        bool all = true;
        for (const KnotZone& zone : options.zones) all = all && answers_soa(port_, zone.name);
        if (all) return {};
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    stop();
    return fail(ErrorCategory::kIo, "knotd on port " + std::to_string(port_) +
                                        " did not answer SOA queries within " +
                                        std::to_string(limit.count()) + " ms; its log:\n" + log());
}

void KnotServer::stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    auto deadline = std::chrono::steady_clock::now() + kStopLimit;
    int status = 0;
    while (::waitpid(pid_, &status, WNOHANG) == 0) {
        if (std::chrono::steady_clock::now() > deadline) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, &status, 0);
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    pid_ = -1;
}

KnotServer::~KnotServer() {
    stop();
}

std::string KnotServer::address() const {
    return "127.0.0.1:" + std::to_string(port_);
}

std::string KnotServer::log() const {
    auto text = read_file(dir_.path() / "knotd.log");
    return text ? *text : "(no log)";
}

}  // namespace certdock::test
