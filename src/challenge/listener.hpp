#pragma once

// The part the two standalone responders share: a listening socket on an Asio io_context run
// by a thread of its own, with bind errors a user can act on. Internal to the challenge
// component.

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

#include "base/result.hpp"

namespace certdock::challenge::detail {

// Where to listen. An empty address means every address of the host: IPv6 and IPv4 on one
// dual-stack socket, or IPv4 alone where IPv6 is disabled.
struct ListenAddress {
    std::string address;
    std::uint16_t port = 0;  // 0: any free port, see Listener::port()
};

// "192.0.2.1:80", "[2001:db8::1]:80", "*:80" for every address.
std::string endpoint_text(const ListenAddress& where);

// Held by a connection while it is open, so the listener can refuse connections beyond its
// limit. Copies share one place in the count.
using ConnectionSlot = std::shared_ptr<void>;

class Listener {
public:
    using AcceptHandler = std::function<void(boost::asio::ip::tcp::socket, ConnectionSlot)>;

    // `what` names the server in errors ("http-01 responder"); `hint` is appended to the
    // message when the port is taken (how to free it for this kind of server).
    Listener(std::string what, std::string hint, ListenAddress where, std::size_t max_connections);
    Listener(const Listener&) = delete;
    Listener& operator=(const Listener&) = delete;
    // Stops the thread; open connections are dropped.
    ~Listener();

    // Binds, listens and starts the thread, which hands each accepted connection to
    // `on_accept`. A second call does nothing. Handlers run on the server thread only.
    Status start(AcceptHandler on_accept);
    bool running() const { return thread_.joinable(); }
    std::uint16_t port() const { return bound_port_; }
    boost::asio::io_context& io() { return io_; }

private:
    Status bind();
    void accept_next();

    std::string what_;
    std::string hint_;
    ListenAddress where_;
    std::size_t max_connections_;
    std::shared_ptr<std::size_t> open_connections_ = std::make_shared<std::size_t>(0);
    std::uint16_t bound_port_ = 0;
    AcceptHandler on_accept_;
    boost::asio::io_context io_;
    boost::asio::ip::tcp::acceptor acceptor_{io_};
    boost::asio::steady_timer retry_timer_{io_};
    std::thread thread_;
};

}  // namespace certdock::challenge::detail
