#pragma once

// Replacing a served certificate in a running HAProxy without a reload:
// show ssl cert (no foreign transaction) → set (split above max_payload) → commit → show.
//
// HAProxy has one certificate transaction per process and 2.6 does not check which
// certificate a `set` belongs to, so callers must not run two hot updates against one
// HAProxy at the same time.

#include <cstddef>
#include <string>

#include "base/result.hpp"
#include "haproxy/runtime_api.hpp"

namespace certdock::haproxy {

struct HotUpdateResult {
    size_t bytes_sent = 0;                   // payload bytes, after sanitizing
    bool split = false;                      // chain and key went in two requests
    bool aborted_stale_transaction = false;  // an earlier transaction for this cert was dropped
    std::string serial;                      // what HAProxy serves now, as it prints it
};

// `bundle_pem` is what build_haproxy_bundle makes (leaf, chain, key, optional DH params).
// Refuses, changing nothing, while another certificate's transaction is open; aborts a
// leftover transaction of `cert_name` first. Any failure after the first `set` aborts the
// transaction before returning the error, so HAProxy keeps serving the old certificate.
// After the commit, checks that HAProxy reports the bundle leaf's serial.
Result<HotUpdateResult> hot_update(RuntimeApi& api, const std::string& cert_name,
                                   const std::string& bundle_pem, size_t max_payload = 15000);

}  // namespace certdock::haproxy
