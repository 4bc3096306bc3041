#pragma once

// Pebble (Let's Encrypt's test ACME server) and pebble-challtestsrv as child processes of a
// test, on loopback ports picked at run time. Debian's `pebble` package provides both
// binaries but no certificates; the harness makes the WFE's TLS certificate itself.
//
// challtestsrv runs only its DNS server and management API: Pebble's VA resolves every name
// through it (A queries answer 127.0.0.1 unless add_a says otherwise) and reads dns-01 TXT
// records set with set_txt. http-01 and tls-alpn-01 validations connect to 127.0.0.1 on
// PebbleOptions::http_port / tls_port, where the code under test must listen.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "acme/http.hpp"
#include "base/result.hpp"
#include "support/child_process.hpp"
#include "support/temp_dir.hpp"

namespace certdock::test {

struct PebbleOptions {
    // Where the VA connects for http-01 and tls-alpn-01. Pebble itself does not bind them;
    // tests that validate should pick free ports (free_local_port) and listen there.
    std::uint16_t http_port = 5002;
    std::uint16_t tls_port = 5001;

    // External account binding: kid -> base64url HMAC key.
    bool eab_required = false;
    std::map<std::string, std::string> eab_mac_keys;

    // Pebble's environment knobs; the defaults make runs deterministic and fast.
    int nonce_reject_percent = 0;        // PEBBLE_WFE_NONCEREJECT (Pebble's own default is 5)
    int authz_reuse_percent = 0;         // PEBBLE_AUTHZREUSE (Pebble's own default is 50)
    bool va_no_sleep = true;             // PEBBLE_VA_NOSLEEP
    bool va_always_valid = false;        // PEBBLE_VA_ALWAYS_VALID: no validation requests at all
    std::optional<int> chain_length;     // PEBBLE_CHAIN_LENGTH: intermediates below the root
    std::optional<int> alternate_roots;  // PEBBLE_ALTERNATE_ROOTS: extra chains via rel=alternate

    // How long to wait for the servers to answer after they are started.
    std::chrono::milliseconds start_timeout{20'000};
};

// Owns both processes and a temporary directory (config, WFE certificate, logs). Destroying
// it kills the processes and removes the directory. Use from one thread at a time.
class PebbleServer {
public:
    // Starts challtestsrv, then Pebble, and returns once Pebble's directory answers. Fails
    // with a message naming what is missing when the binaries are not installed, and with the
    // tail of the server's stderr when it does not come up.
    static Result<std::unique_ptr<PebbleServer>> start(const PebbleOptions& options = {});

    PebbleServer(const PebbleServer&) = delete;
    PebbleServer& operator=(const PebbleServer&) = delete;
    ~PebbleServer();

    std::string directory_url() const;  // https://127.0.0.1:<port>/dir
    // PEM root that vouches for the WFE's (and management port's) TLS certificate; give it to
    // the client as its CA file. Pebble's issuing roots are a different thing: see root_pem.
    const std::filesystem::path& ca_file() const { return ca_file_; }
    // challtestsrv's management API, "http://127.0.0.1:<port>", for hook scripts of tests.
    std::string challtestsrv_url() const;
    // challtestsrv's DNS server, "127.0.0.1:<port>" (UDP and TCP).
    std::string dns_server() const;
    std::uint16_t dns_port() const { return dns_port_; }
    const PebbleOptions& options() const { return options_; }

    // challtestsrv management API. Names may be given with or without the trailing dot.
    // set_txt appends a value; clear_txt removes every TXT value of the name.
    Status set_txt(std::string_view host, std::string_view value);
    Status clear_txt(std::string_view host);
    Status add_a(std::string_view host, const std::vector<std::string>& addresses);
    Status clear_a(std::string_view host);

    // Pebble's management API: the issuing root / intermediate of chain `index` (0 is the
    // default chain, 1.. the alternates) as PEM. They change at every (re)start.
    Result<std::string> root_pem(int index = 0);
    Result<std::string> intermediate_pem(int index = 0);

    // Kills Pebble (SIGKILL, as a crash would) and leaves challtestsrv running; every later
    // request to the directory fails to connect until restart().
    void kill();
    // Starts Pebble again on the same ports. Its state (accounts, orders, CA keys) is new.
    Status restart();
    bool running();

    // The last `max_bytes` of Pebble's stderr, where it logs every request; for diagnostics.
    std::string pebble_log(size_t max_bytes = 4000) const;

private:
    explicit PebbleServer(PebbleOptions options);
    Status launch();
    Status start_challtestsrv();
    Status start_pebble();
    Status write_files();
    Status challtestsrv_post(std::string_view endpoint, const std::string& json_body);
    Result<std::string> pebble_management_get(const std::string& path);

    PebbleOptions options_;
    TempDir dir_;  // declared first: removed only after both processes are gone
    std::filesystem::path ca_file_;
    std::filesystem::path config_file_;
    std::uint16_t wfe_port_ = 0;
    std::uint16_t management_port_ = 0;
    std::uint16_t dns_port_ = 0;
    std::uint16_t challtestsrv_port_ = 0;
    acme::HttpTransportPtr transport_;
    ChildProcessPtr challtestsrv_;
    ChildProcessPtr pebble_;
};

using PebbleServerPtr = std::unique_ptr<PebbleServer>;

// A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0 and released). Another
// process may take it before the caller binds it; callers retry on "address in use".
Result<std::uint16_t> free_local_port();

}  // namespace certdock::test
