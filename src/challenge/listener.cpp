#include "challenge/listener.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/socket_base.hpp>

#include <cerrno>
#include <chrono>

namespace certdock::challenge::detail {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;

// After an accept failure such as EMFILE, wait before trying again instead of spinning.
constexpr std::chrono::milliseconds kAcceptRetryDelay{100};

std::string bind_fix(const boost::system::error_code& ec, const ListenAddress& where,
                     const std::string& hint) {
    std::string port = std::to_string(where.port);
    switch (ec.value()) {
        case EADDRINUSE:
            return "another program listens there (`ss -ltnp 'sport = :" + port +
                   "'` shows which)" + (hint.empty() ? "" : "; " + hint);
        case EACCES:
            return "ports below 1024 need root or CAP_NET_BIND_SERVICE (`setcap "
                   "cap_net_bind_service=+ep` on the binary), or listen on a high port and "
                   "forward port " +
                   port + " to it";
        case EADDRNOTAVAIL:
            return "the address is not assigned to this host (`ip addr` lists those that are); "
                   "leave the address empty to listen on all of them";
        default:
            return "";
    }
}

}  // namespace

std::string endpoint_text(const ListenAddress& where) {
    std::string port = std::to_string(where.port);
    if (where.address.empty()) return "*:" + port;
    if (where.address.find(':') != std::string::npos) return "[" + where.address + "]:" + port;
    return where.address + ":" + port;
}

Listener::Listener(std::string what, std::string hint, ListenAddress where,
                   std::size_t max_connections)
    : what_(std::move(what)),
      hint_(std::move(hint)),
      where_(std::move(where)),
      max_connections_(max_connections) {}

Listener::~Listener() {
    io_.stop();
    if (thread_.joinable()) thread_.join();
}

Status Listener::bind() {
    std::string place = endpoint_text(where_);
    boost::system::error_code ec;
    asio::ip::address address;
    bool dual_stack = where_.address.empty();
    if (dual_stack) {
        address = asio::ip::address_v6::any();
    } else {
        address = asio::ip::make_address(where_.address, ec);
        if (ec) {
            return fail(ErrorCategory::kUsage, "cannot listen on " + place + " for the " + what_ +
                                                   ": '" + where_.address +
                                                   "' is not an IPv4 or IPv6 address");
        }
    }
    tcp::endpoint endpoint(address, where_.port);
    acceptor_.open(endpoint.protocol(), ec);
    if (ec && dual_stack) {
        // IPv6 disabled on this host: every IPv4 address is the best "all addresses" left.
        endpoint = tcp::endpoint(asio::ip::address_v4::any(), where_.port);
        acceptor_.open(endpoint.protocol(), ec);
    }
    if (!ec && endpoint.address().is_v6()) {
        acceptor_.set_option(asio::ip::v6_only(!dual_stack), ec);
    }
    // Lets a restarted agent bind while connections of the previous run sit in TIME_WAIT; on
    // Linux it does not allow two listeners on one port.
    if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
        acceptor_.close();
        std::string fix = bind_fix(ec, where_, hint_);
        return fail(ErrorCategory::kIo, "cannot listen on " + place + " for the " + what_ + ": " +
                                            ec.message() + (fix.empty() ? "" : "; " + fix));
    }
    bound_port_ = acceptor_.local_endpoint().port();
    return {};
}

Status Listener::start(AcceptHandler on_accept) {
    if (running()) return {};
    CERTDOCK_TRY_STATUS(bind());
    on_accept_ = std::move(on_accept);
    accept_next();
    thread_ = std::thread([this] { io_.run(); });
    return {};
}

void Listener::accept_next() {
    acceptor_.async_accept([this](const boost::system::error_code& ec, tcp::socket socket) {
        if (ec == asio::error::operation_aborted) return;
        if (ec) {
            retry_timer_.expires_after(kAcceptRetryDelay);
            retry_timer_.async_wait([this](const boost::system::error_code& wait_ec) {
                if (!wait_ec) accept_next();
            });
            return;
        }
        if (*open_connections_ < max_connections_) {
            ++*open_connections_;
            // The slot gives its place back when the last copy goes, on this thread.
            ConnectionSlot slot(nullptr, [count = open_connections_](void*) { --*count; });
            on_accept_(std::move(socket), std::move(slot));
        }  // else: the socket closes here; the peer retries or gives up
        accept_next();
    });
}

}  // namespace certdock::challenge::detail
