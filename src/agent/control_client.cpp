#include "agent/control_client.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cerrno>
#include <cstring>
#include <toml.hpp>

#include "base/socket.hpp"

namespace certdock::agent {
namespace {

std::string not_running(const std::filesystem::path& socket, const std::string& why) {
    return "no certdock agent is running at " + socket.string() + " (" + why +
           "); start it with `systemctl start certdock-agent` or `certdock agent run --config "
           "FILE`, or name its socket with --socket or --config";
}

}  // namespace

Result<std::filesystem::path> control_socket_of(const std::filesystem::path& config_file) {
    std::filesystem::path socket = AgentSettings{}.control_socket;
    try {
        const auto data = toml::parse(config_file.string());
        if (data.contains("agent") && data.at("agent").is_table()) {
            const auto& agent = data.at("agent");
            if (agent.contains("control-socket") && agent.at("control-socket").is_string()) {
                socket = std::filesystem::path(agent.at("control-socket").as_string().str);
            }
        }
    } catch (const std::exception& error) {
        return fail(ErrorCategory::kInput, "cannot read the control-socket from " +
                                               config_file.string() + ": " + error.what() +
                                               "; name the socket with --socket");
    }
    if (socket.is_relative()) socket = config_file.parent_path() / socket;
    return socket;
}

Result<ControlReply> exchange(const std::filesystem::path& socket, const ControlRequest& request,
                              std::chrono::milliseconds timeout) {
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    const std::string path = socket.string();
    if (path.empty() || path.size() >= sizeof address.sun_path) {
        return fail(ErrorCategory::kUsage, "control socket path too long: " + path);
    }
    std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
    const SteadyTime deadline = std::chrono::steady_clock::now() + timeout;
    auto attempt =
        connect_with_deadline(AF_UNIX, reinterpret_cast<const sockaddr*>(&address), sizeof address,
                              std::chrono::steady_clock::now() + std::chrono::seconds(5));
    UniqueFd fd = std::move(attempt.first);
    const int error = attempt.second;
    if (error == ENOENT) return fail(ErrorCategory::kUsage, not_running(socket, "no socket there"));
    if (error == ECONNREFUSED) {
        return fail(ErrorCategory::kUsage, not_running(socket, "nothing listens on the socket"));
    }
    if (error != 0) {
        return fail(ErrorCategory::kIo, "cannot connect to the agent's control socket " + path +
                                            ": " + std::strerror(error) +
                                            (error == EACCES ? "; run as the agent's user" : ""));
    }
    const std::string line = encode_request(request) + "\n";
    size_t sent = 0;
    while (sent < line.size()) {
        if (!wait_for_fd(fd.get(), POLLOUT, deadline)) {
            return fail(ErrorCategory::kIo, "the agent did not take the request at " + path);
        }
        const ssize_t wrote =
            ::send(fd.get(), line.data() + sent, line.size() - sent, MSG_NOSIGNAL);
        if (wrote < 0) {
            if (errno == EINTR || errno == EAGAIN) continue;
            return fail(ErrorCategory::kIo,
                        "cannot send to the agent at " + path + ": " + std::strerror(errno));
        }
        sent += static_cast<size_t>(wrote);
    }
    std::string reply;
    char buffer[16384];
    while (reply.find('\n') == std::string::npos) {
        if (!wait_for_fd(fd.get(), POLLIN, deadline)) {
            return fail(ErrorCategory::kIo, "the agent at " + path + " did not answer within " +
                                                std::to_string(timeout.count() / 1000) + " s");
        }
        const ssize_t got = ::recv(fd.get(), buffer, sizeof buffer, 0);
        if (got < 0) {
            if (errno == EINTR || errno == EAGAIN) continue;
            return fail(ErrorCategory::kIo,
                        "cannot read the agent's reply from " + path + ": " + std::strerror(errno));
        }
        if (got == 0) break;
        reply.append(buffer, static_cast<size_t>(got));
    }
    if (reply.empty()) {
        return fail(ErrorCategory::kProtocol, "the agent at " + path + " closed without a reply");
    }
    if (auto end = reply.find('\n'); end != std::string::npos) reply.resize(end);
    return parse_reply(reply);
}

}  // namespace certdock::agent
