#pragma once

// The agent's control socket: a unix stream socket (0600) where `certdock ctl` sends one
// request line and reads one reply line (control_protocol.hpp).
//
// Threads: the server accepts on its own thread and answers each connection on a thread of
// its own, so a `renew` waiting for its order does not hold up a `status`. It reads only the
// StatusBoard (and the immutable configuration in it) and asks HAProxy itself what is
// served; it never touches the StateStore or the Renewer. What changes the agent (renew,
// reload) goes through the CommandQueue to the loop, which carries it out between renewals and
// answers.

#include <atomic>
#include <deque>
#include <filesystem>
#include <future>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "agent/agent_status.hpp"
#include "agent/control_protocol.hpp"
#include "agent/served_lookup.hpp"
#include "base/result.hpp"
#include "base/unique_fd.hpp"

namespace certdock::agent {

// A renew or reload on its way to the loop; the connection waits on its reply.
struct PendingCommand {
    ControlRequest request{};
    std::promise<ControlReply> reply{};
};

// Hands commands from the control server's threads to the loop, and wakes the loop: its
// wake_fd() (an eventfd) is readable while commands wait. Thread-safe.
class CommandQueue {
public:
    CommandQueue();
    int wake_fd() const { return wake_.get(); }

    // The reply comes once the loop answered; right away when the queue is closed.
    std::future<ControlReply> push(ControlRequest request);
    // Everything queued, oldest first; resets wake_fd().
    std::vector<PendingCommand> take();
    // Answers what is queued, and every later push, with `reason` (the agent is stopping).
    void close(const std::string& reason);

private:
    std::mutex mutex_;
    std::deque<PendingCommand> pending_{};
    std::optional<std::string> closed_{};
    UniqueFd wake_;
};

struct ControlServerOptions {
    std::filesystem::path socket{};
    // How long a client may take to send its request line.
    std::chrono::milliseconds read_timeout{5'000};
    ServedLookupOptions lookup{};
};

class ControlServer {
public:
    // Binds the socket and starts answering. The directory is created 0700 when missing. A
    // socket file nobody answers on (a crashed run) is replaced; one where an agent answers
    // is an error, as is a file that is not a socket.
    static Result<std::unique_ptr<ControlServer>> start(ControlServerOptions options,
                                                        StatusBoard& board, CommandQueue& queue);

    ControlServer(const ControlServer&) = delete;
    ControlServer& operator=(const ControlServer&) = delete;
    // stop()
    ~ControlServer();

    // Stops accepting, ends the connections (close the CommandQueue first so none waits for
    // the loop), joins the threads and removes the socket file.
    void stop();
    const std::filesystem::path& socket_path() const { return options_.socket; }

private:
    struct Connection {
        std::thread thread;
        std::shared_ptr<std::atomic<bool>> done;
    };

    ControlServer(ControlServerOptions options, StatusBoard& board, CommandQueue& queue,
                  UniqueFd listener, UniqueFd stop);
    void accept_loop();
    void serve(int fd);
    ControlReply answer(const ControlRequest& request);
    ControlReply answer_status(const std::vector<std::string>& names);
    void reap_finished();

    ControlServerOptions options_;
    StatusBoard& board_;
    CommandQueue& queue_;
    UniqueFd listener_;
    UniqueFd stop_;  // eventfd, readable once stop() was called
    std::thread acceptor_{};
    std::mutex connections_mutex_;
    std::list<Connection> connections_{};
    bool stopped_ = false;
};

using ControlServerPtr = std::unique_ptr<ControlServer>;

}  // namespace certdock::agent
