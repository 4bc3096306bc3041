#include "base/socket.hpp"

#include <netdb.h>
#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <memory>

namespace certdock {
namespace {

int remaining_ms(SteadyTime deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    return static_cast<int>(std::clamp<std::chrono::milliseconds::rep>(left.count(), 0, 60'000));
}

}  // namespace

bool wait_for_fd(int fd, short events, SteadyTime deadline) {
    while (true) {
        pollfd entry{fd, events, 0};
        int ready = ::poll(&entry, 1, remaining_ms(deadline));
        if (ready > 0) return true;
        if (ready == 0) {
            if (std::chrono::steady_clock::now() >= deadline) {
                errno = ETIMEDOUT;
                return false;
            }
            continue;  // poll's cap of 60 s hit before the deadline
        }
        if (errno != EINTR) return false;
    }
}

std::pair<UniqueFd, int> connect_with_deadline(int family, const sockaddr* address,
                                               socklen_t length, SteadyTime deadline) {
    UniqueFd fd(::socket(family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (fd.get() < 0) return {UniqueFd(), errno};
    if (::connect(fd.get(), address, length) == 0) return {std::move(fd), 0};
    if (errno != EINPROGRESS) return {UniqueFd(), errno};
    if (!wait_for_fd(fd.get(), POLLOUT, deadline)) return {UniqueFd(), errno};
    int error = 0;
    socklen_t size = sizeof error;
    if (::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &error, &size) != 0)
        return {UniqueFd(), errno};
    if (error != 0) return {UniqueFd(), error};
    return {std::move(fd), 0};
}

Result<std::pair<UniqueFd, int>> connect_tcp(const std::string& host, const std::string& port,
                                             SteadyTime deadline) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    int rc = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &found);
    if (rc != 0) {
        return fail(ErrorCategory::kNetwork, "cannot resolve " + host + ": " + ::gai_strerror(rc));
    }
    std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> owner(found, &::freeaddrinfo);
    int last_error = ECONNREFUSED;
    for (addrinfo* entry = found; entry != nullptr; entry = entry->ai_next) {
        auto attempt =
            connect_with_deadline(entry->ai_family, entry->ai_addr, entry->ai_addrlen, deadline);
        if (attempt.second == 0) return attempt;
        last_error = attempt.second;
    }
    return std::pair<UniqueFd, int>(UniqueFd(), last_error);
}

}  // namespace certdock
