#include "base/sd_notify.hpp"

#include <sys/socket.h>
#include <sys/un.h>

#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <ctime>

namespace certdock {
namespace {

Error notify_error(const std::string& path, const std::string& what) {
    return Error(ErrorCategory::kIo,
                 "systemd notification to " + path + ": " + what + ": " + std::strerror(errno));
}

}  // namespace

SdNotifier SdNotifier::from_environment() {
    const char* socket = std::getenv("NOTIFY_SOCKET");
    return SdNotifier(socket == nullptr ? std::string() : std::string(socket));
}

SdNotifier::SdNotifier(std::string socket_path) : socket_path_(std::move(socket_path)) {}

Status SdNotifier::notify(std::string_view state) {
    if (!enabled()) return {};
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    // An abstract name ('@' in the variable) starts with a NUL byte and is not terminated.
    if (socket_path_.size() >= sizeof address.sun_path) {
        return fail(ErrorCategory::kUsage,
                    "NOTIFY_SOCKET is longer than a unix socket path may be: " + socket_path_);
    }
    if (socket_path_[0] != '/' && socket_path_[0] != '@') {
        return fail(ErrorCategory::kUsage,
                    "NOTIFY_SOCKET must be a path or an abstract name starting with '@', not " +
                        socket_path_);
    }
    std::memcpy(address.sun_path, socket_path_.data(), socket_path_.size());
    auto length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path));
    if (socket_path_[0] == '@') {
        address.sun_path[0] = '\0';
        length += static_cast<socklen_t>(socket_path_.size());
    } else {
        length += static_cast<socklen_t>(socket_path_.size() + 1);
    }
    if (!fd_.valid()) {
        fd_.reset(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
        if (!fd_.valid()) return Unexpected(notify_error(socket_path_, "cannot create a socket"));
    }
    const ssize_t sent = ::sendto(fd_.get(), state.data(), state.size(), MSG_NOSIGNAL,
                                  reinterpret_cast<const sockaddr*>(&address), length);
    if (sent < 0) return Unexpected(notify_error(socket_path_, "cannot send"));
    return {};
}

Status SdNotifier::status(std::string_view text) {
    std::string line = "STATUS=";
    for (char c : text) line += (c == '\n' ? ' ' : c);
    return notify(line);
}

Status SdNotifier::reloading() {
    timespec now{};
    ::clock_gettime(CLOCK_MONOTONIC, &now);
    const long long usec = static_cast<long long>(now.tv_sec) * 1'000'000 + now.tv_nsec / 1'000;
    return notify("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(usec));
}

}  // namespace certdock
