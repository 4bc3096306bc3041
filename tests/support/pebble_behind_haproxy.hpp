#pragma once

// Pebble whose http-01 validator connects to a real HAProxy's plain-HTTP frontend, which
// answers from its map: the set-up of every test where HAProxy itself answers http-01.

#include "base/result.hpp"
#include "support/haproxy_server.hpp"
#include "support/pebble.hpp"

namespace certdock::test {

struct PebbleBehindHaproxy {
    PebbleServerPtr pebble;
    HaproxyServerPtr haproxy;
};

// `options.http_port` is chosen here; the other HAProxy options are passed on.
inline Result<PebbleBehindHaproxy> start_pebble_behind_haproxy(HaproxyOptions options = {}) {
    CERTDOCK_TRY(std::uint16_t http_port, free_local_port());
    PebbleOptions pebble_options;
    pebble_options.http_port = http_port;
    CERTDOCK_TRY(pebble_options.tls_port, free_local_port());
    PebbleBehindHaproxy both;
    CERTDOCK_TRY(both.pebble, PebbleServer::start(pebble_options));
    options.http_port = http_port;
    CERTDOCK_TRY(both.haproxy, HaproxyServer::start(options));
    return both;
}

}  // namespace certdock::test
