#include "agent/control_server.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string_view>

namespace certdock::agent {
namespace {

constexpr size_t kMaxRequestBytes = size_t{64} * 1024;
constexpr size_t kNamesListed = 20;

Error errno_error(const std::string& what) {
    return Error(ErrorCategory::kIo, what + ": " + std::strerror(errno));
}

void signal_eventfd(int fd) {
    const std::uint64_t one = 1;
    [[maybe_unused]] ssize_t written = ::write(fd, &one, sizeof one);
}

void drain_eventfd(int fd) {
    std::uint64_t count = 0;
    [[maybe_unused]] ssize_t read = ::read(fd, &count, sizeof count);
}

Result<sockaddr_un> unix_address(const std::filesystem::path& path) {
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    const std::string text = path.string();
    if (text.empty() || text.size() >= sizeof address.sun_path) {
        return fail(ErrorCategory::kUsage, "control-socket " + text +
                                               " is too long for a unix socket (at most " +
                                               std::to_string(sizeof address.sun_path - 1) +
                                               " bytes); choose a shorter path");
    }
    std::memcpy(address.sun_path, text.c_str(), text.size() + 1);
    return address;
}

// True when something accepts connections at `address`.
bool someone_answers(const sockaddr_un& address) {
    UniqueFd probe(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!probe.valid()) return false;
    return ::connect(probe.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0;
}

Status prepare_directory(const std::filesystem::path& socket) {
    const std::filesystem::path directory = socket.parent_path();
    if (directory.empty()) return {};
    std::error_code error;
    if (std::filesystem::exists(directory, error)) return {};
    // Only the directory certdock creates is made private; an existing one is the admin's.
    std::filesystem::create_directories(directory, error);
    if (!error) {
        std::filesystem::permissions(directory, std::filesystem::perms::owner_all,
                                     std::filesystem::perm_options::replace, error);
    }
    if (error) {
        return fail(ErrorCategory::kIo, "cannot create the directory of control-socket " +
                                            socket.string() + ": " + error.message());
    }
    return {};
}

Status clear_stale_socket(const std::filesystem::path& path, const sockaddr_un& address) {
    struct stat info {};
    if (::lstat(path.c_str(), &info) != 0) {
        if (errno == ENOENT) return {};
        return Unexpected(errno_error("cannot look at control-socket " + path.string()));
    }
    if (!S_ISSOCK(info.st_mode)) {
        return fail(ErrorCategory::kUsage, "control-socket " + path.string() +
                                               " exists and is not a socket; remove it or set "
                                               "control-socket to another path");
    }
    if (someone_answers(address)) {
        return fail(ErrorCategory::kUsage,
                    "another certdock agent is running: it answers on " + path.string() +
                        " (see `certdock ctl --socket " + path.string() +
                        " status`); stop it first, or give this one another control-socket");
    }
    // Left by a run that did not end cleanly: nobody listens, so it is ours to replace.
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
        return Unexpected(errno_error("cannot remove the stale control-socket " + path.string()));
    }
    return {};
}

// Reads up to the first '\n', for at most `timeout`, or until `stop_fd` becomes readable.
Result<std::string> read_line(int fd, int stop_fd, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::string line;
    char buffer[4096];
    while (true) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            return fail(ErrorCategory::kProtocol,
                        "no request line within " + std::to_string(timeout.count()) + " ms");
        }
        pollfd fds[2] = {{fd, POLLIN, 0}, {stop_fd, POLLIN, 0}};
        const int ready = ::poll(fds, 2, static_cast<int>(left.count()));
        if (ready < 0) {
            if (errno == EINTR) continue;
            return Unexpected(errno_error("poll"));
        }
        if (fds[1].revents != 0) return fail(ErrorCategory::kIo, "the agent is stopping");
        if (ready == 0) continue;
        const ssize_t got = ::recv(fd, buffer, sizeof buffer, 0);
        if (got < 0) {
            if (errno == EINTR || errno == EAGAIN) continue;
            return Unexpected(errno_error("reading the request"));
        }
        if (got == 0) {
            if (line.empty()) return fail(ErrorCategory::kProtocol, "the client sent nothing");
            return line;  // a last line without '\n' is accepted
        }
        line.append(buffer, static_cast<size_t>(got));
        if (auto end = line.find('\n'); end != std::string::npos) {
            line.resize(end);
            return line;
        }
        if (line.size() > kMaxRequestBytes) {
            return fail(ErrorCategory::kProtocol, "the request line is longer than 64 KiB");
        }
    }
}

void write_all(int fd, const std::string& text) {
    size_t sent = 0;
    while (sent < text.size()) {
        const ssize_t wrote = ::send(fd, text.data() + sent, text.size() - sent, MSG_NOSIGNAL);
        if (wrote < 0) {
            if (errno == EINTR) continue;
            return;  // the client went away: nothing to tell it
        }
        sent += static_cast<size_t>(wrote);
    }
}

std::string names_of(const Config& config) {
    std::string out;
    for (size_t i = 0; i < config.certificates.size() && i < kNamesListed; ++i) {
        out += (i ? ", " : "") + config.certificates[i].name;
    }
    if (config.certificates.size() > kNamesListed) {
        out += ", ... (" + std::to_string(config.certificates.size()) + " in all)";
    }
    return out.empty() ? "none" : out;
}

// The loop answers every command it takes; a reply it dropped is reported, not thrown.
ControlReply wait_for(std::future<ControlReply>& reply) {
    try {
        return reply.get();
    } catch (const std::future_error&) {
        return ControlReply::failure("the agent dropped the request without an answer");
    }
}

}  // namespace

CommandQueue::CommandQueue() : wake_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
    if (!wake_.valid()) {
        std::fprintf(stderr, "certdock: cannot create an eventfd: %s\n", std::strerror(errno));
        std::abort();
    }
}

std::future<ControlReply> CommandQueue::push(ControlRequest request) {
    std::lock_guard lock(mutex_);
    PendingCommand command{.request = std::move(request)};
    auto reply = command.reply.get_future();
    if (closed_) {
        command.reply.set_value(ControlReply::failure(*closed_));
        return reply;
    }
    pending_.push_back(std::move(command));
    signal_eventfd(wake_.get());
    return reply;
}

std::vector<PendingCommand> CommandQueue::take() {
    std::lock_guard lock(mutex_);
    drain_eventfd(wake_.get());
    std::vector<PendingCommand> out;
    out.reserve(pending_.size());
    for (auto& command : pending_) out.push_back(std::move(command));
    pending_.clear();
    return out;
}

void CommandQueue::close(const std::string& reason) {
    std::lock_guard lock(mutex_);
    closed_ = reason;
    for (auto& command : pending_) command.reply.set_value(ControlReply::failure(reason));
    pending_.clear();
}

Result<std::unique_ptr<ControlServer>> ControlServer::start(ControlServerOptions options,
                                                            StatusBoard& board,
                                                            CommandQueue& queue) {
    CERTDOCK_TRY(sockaddr_un address, unix_address(options.socket));
    CERTDOCK_TRY_STATUS(prepare_directory(options.socket));
    CERTDOCK_TRY_STATUS(clear_stale_socket(options.socket, address));

    UniqueFd listener(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (!listener.valid()) return Unexpected(errno_error("cannot create the control socket"));
    // 0600 from the start: the umask covers the moment between bind and chmod. Called before
    // the server's threads exist, while the process has one thread doing this.
    const mode_t previous = ::umask(0177);
    const int bound =
        ::bind(listener.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address);
    const int bind_errno = errno;
    ::umask(previous);
    if (bound != 0) {
        errno = bind_errno;
        return Unexpected(errno_error("cannot bind the control socket " + options.socket.string()));
    }
    if (::chmod(options.socket.c_str(), 0600) != 0 || ::listen(listener.get(), 16) != 0) {
        auto error = errno_error("cannot listen on the control socket " + options.socket.string());
        ::unlink(options.socket.c_str());
        return Unexpected(std::move(error));
    }
    UniqueFd stop(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (!stop.valid()) {
        ::unlink(options.socket.c_str());
        return Unexpected(errno_error("cannot create an eventfd"));
    }
    std::unique_ptr<ControlServer> server(
        new ControlServer(std::move(options), board, queue, std::move(listener), std::move(stop)));
    server->acceptor_ = std::thread([raw = server.get()] { raw->accept_loop(); });
    return server;
}

ControlServer::ControlServer(ControlServerOptions options, StatusBoard& board, CommandQueue& queue,
                             UniqueFd listener, UniqueFd stop)
    : options_(std::move(options)),
      board_(board),
      queue_(queue),
      listener_(std::move(listener)),
      stop_(std::move(stop)) {}

ControlServer::~ControlServer() {
    stop();
}

void ControlServer::stop() {
    if (stopped_) return;
    stopped_ = true;
    signal_eventfd(stop_.get());
    if (acceptor_.joinable()) acceptor_.join();
    std::list<Connection> connections;
    {
        std::lock_guard lock(connections_mutex_);
        connections.swap(connections_);
    }
    for (auto& connection : connections) connection.thread.join();
    listener_.reset();
    ::unlink(options_.socket.c_str());
}

void ControlServer::reap_finished() {
    std::lock_guard lock(connections_mutex_);
    for (auto it = connections_.begin(); it != connections_.end();) {
        if (it->done->load()) {
            it->thread.join();
            it = connections_.erase(it);
        } else {
            ++it;
        }
    }
}

void ControlServer::accept_loop() {
    while (true) {
        pollfd fds[2] = {{listener_.get(), POLLIN, 0}, {stop_.get(), POLLIN, 0}};
        if (::poll(fds, 2, -1) < 0) {
            if (errno == EINTR) continue;
            return;
        }
        if (fds[1].revents != 0) return;
        UniqueFd client(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
        if (!client.valid()) continue;  // EAGAIN (another accept raced), ECONNABORTED, ...
        // A client that stops reading must not hold a thread for ever.
        timeval send_timeout{.tv_sec = 10, .tv_usec = 0};
        ::setsockopt(client.get(), SOL_SOCKET, SO_SNDTIMEO, &send_timeout, sizeof send_timeout);
        reap_finished();
        auto done = std::make_shared<std::atomic<bool>>(false);
        std::lock_guard lock(connections_mutex_);
        connections_.push_back(
            {std::thread([this, done, fd = std::make_shared<UniqueFd>(std::move(client))] {
                 serve(fd->get());
                 done->store(true);
             }),
             done});
    }
}

void ControlServer::serve(int fd) {
    auto line = read_line(fd, stop_.get(), options_.read_timeout);
    ControlReply reply;
    if (!line) {
        reply = ControlReply::failure("bad request: " + line.error().describe());
    } else if (auto request = parse_request(*line); !request) {
        reply = ControlReply::failure("bad request: " + request.error().describe());
    } else {
        reply = answer(*request);
    }
    write_all(fd, encode_reply(reply) + "\n");
}

ControlReply ControlServer::answer(const ControlRequest& request) {
    switch (request.command) {
        case ControlCommand::kStatus:
            return answer_status(request.names);
        case ControlCommand::kRenew: {
            const StatusSnapshot snapshot = board_.snapshot();
            bool known = false;
            for (const auto& certificate : snapshot.certificates) {
                if (certificate.name == request.name) known = true;
            }
            if (!known) {
                return ControlReply::failure(
                    "no certificate named \"" + request.name + "\"; the agent has: " +
                    (snapshot.config ? names_of(*snapshot.config) : std::string("none")));
            }
            auto reply = queue_.push(request);
            if (!request.wait) {
                return ControlReply{.renew = RenewReply{.name = request.name, .outcome = "queued"}};
            }
            return wait_for(reply);
        }
        case ControlCommand::kReload: {
            auto reply = queue_.push(request);
            return wait_for(reply);
        }
    }
    return ControlReply::failure("unknown command");
}

ControlReply ControlServer::answer_status(const std::vector<std::string>& names) {
    StatusSnapshot snapshot = board_.snapshot();
    if (!names.empty()) {
        std::vector<CertificateStatus> chosen;
        for (const std::string& name : names) {
            auto found = std::find_if(snapshot.certificates.begin(), snapshot.certificates.end(),
                                      [&](const CertificateStatus& c) { return c.name == name; });
            if (found == snapshot.certificates.end()) {
                return ControlReply::failure(
                    "no certificate named \"" + name + "\"; the agent has: " +
                    (snapshot.config ? names_of(*snapshot.config) : std::string("none")));
            }
            chosen.push_back(std::move(*found));
        }
        snapshot.certificates = std::move(chosen);
    }
    if (snapshot.config) {
        std::map<std::string_view, const CertificateConfig*> by_name;
        for (const auto& certificate : snapshot.config->certificates) {
            by_name.emplace(certificate.name, &certificate);
        }
        ServedLookup lookup(snapshot.config, options_.lookup);
        for (auto& status : snapshot.certificates) {
            auto found = by_name.find(status.name);
            if (found != by_name.end()) status.served = lookup.served(*found->second);
        }
    }
    return ControlReply{.status = StatusReply{.agent = std::move(snapshot.agent),
                                              .certificates = std::move(snapshot.certificates)}};
}

}  // namespace certdock::agent
