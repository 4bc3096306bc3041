#pragma once

#include <string>
#include <vector>

#include "challenge/solver.hpp"
#include "haproxy/runtime_api.hpp"

namespace certdock::challenge {

struct Http01HaproxyMapOptions {
    // One per HAProxy process that receives port-80 traffic for the names (every node behind
    // the same address, every worker of a multi-process setup).
    std::vector<haproxy::RuntimeApiOptions> endpoints{};
    // The map as HAProxy names it: the file path exactly as written in `map(...)` (HAProxy
    // 2.6: the file must exist, possibly empty, when HAProxy starts) or "virt@<name>" (3.0+).
    std::string map{};
};

// http-01 (RFC 8555 §8.3) answered by HAProxy itself: present() puts "<token> <key
// authorization>" into a map HAProxy loaded at start-up, and a rule on the port-80 frontend
// returns the map's value for /.well-known/acme-challenge/<token> (docs/haproxy.md):
//
//   http-request return status 200 content-type text/plain
//       lf-string "%[path,field(4,/),map(<map>)]"
//       if { path_beg /.well-known/acme-challenge/ } { path,field(4,/),map(<map>) -m found }
//
// The value is the whole key authorization, so the rule returns exactly what the CA expects
// with no string building in HAProxy. (HAProxy's own `acme` section stores only the
// thumbprint: do not share one map between the two.)
//
// present() first removes entries left for the token (`add map` keeps duplicates and HAProxy
// answers with the first one), adds the entry on every endpoint in turn, and reads the map
// back; it stops at the first endpoint that fails, naming it. cleanup() removes the token on
// every endpoint, trying all of them even when one fails, and reports every failure. Calls
// come from one thread; several tasks may be presented at once.
class Http01HaproxyMap final : public Solver {
public:
    // kUsage when there is no endpoint or the map name is empty or holds a space.
    static Result<std::unique_ptr<Http01HaproxyMap>> create(Http01HaproxyMapOptions options);

    ChallengeType type() const override { return ChallengeType::kHttp01; }
    // Checks, changing nothing, that every endpoint answers and knows the map; meant to run
    // before an order is created, so a wrong socket or map costs no authorization.
    Status check_ready();
    Status present(const ChallengeTask& task) override;
    // A token that is not in the map (present() failed before adding it) is not an error.
    Status cleanup(const ChallengeTask& task) override;

    const Http01HaproxyMapOptions& options() const { return options_; }

private:
    explicit Http01HaproxyMap(Http01HaproxyMapOptions options);

    Http01HaproxyMapOptions options_;
};

}  // namespace certdock::challenge
