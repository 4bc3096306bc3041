#pragma once

// A real HAProxy (Debian 12: 2.6) as a child process of a test, in a temporary directory,
// foreground (-db), with a generated configuration:
//   - stats socket <dir>/admin.sock level admin (and <dir>/user.sock level user, and
//     127.0.0.1:<tcp_socket_port> level admin, on request);
//   - frontend "fe": 127.0.0.1:<https_port> ssl crt <dir>/site.pem (leaf for "site.test"
//     from a fresh test PKI, chain and key as one bundle), optionally 127.0.0.1:<crt_list_port>
//     ssl crt-list <dir>/certs.crtlist (holding site.pem), and plain HTTP on
//     127.0.0.1:<http_port> answering /.well-known/acme-challenge/<token> from the map
//     <dir>/http01.map (404 when the token is absent).
// Destroying the object kills HAProxy and removes the directory.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "base/result.hpp"
#include "support/child_process.hpp"
#include "support/temp_dir.hpp"
#include "support/test_pki.hpp"

namespace certdock::test {

struct HaproxyOptions {
    bool user_socket = false;  // also a stats socket at level user
    bool tcp_socket = false;   // also a stats socket on 127.0.0.1:<tcp_socket_port> level admin
    bool crt_list = false;     // also a TLS bind fed by a crt-list
    bool master_cli = false;   // master-worker mode (-W) with the master CLI on master.sock
    // The plain-HTTP (http-01) port; 0 picks a free one. Fixed when a CA's validation
    // connects to a known port (PebbleOptions::http_port).
    std::uint16_t http_port = 0;
    // The http-01 map file (written empty before start); empty: <dir>/http01.map. Several
    // servers may share one, as nodes sharing a configuration do.
    std::filesystem::path map_file{};
    std::chrono::milliseconds start_timeout{10'000};
};

class HaproxyServer {
public:
    // Writes the configuration and certificates without starting HAProxy; call launch().
    // Fails, saying what to install, when haproxy is missing.
    static Result<std::unique_ptr<HaproxyServer>> prepare(const HaproxyOptions& options = {});
    // prepare() + launch(), retrying when a picked port was taken meanwhile.
    static Result<std::unique_ptr<HaproxyServer>> start(const HaproxyOptions& options = {});

    HaproxyServer(const HaproxyServer&) = delete;
    HaproxyServer& operator=(const HaproxyServer&) = delete;
    ~HaproxyServer();

    // Starts HAProxy and returns once the admin socket answers `show info`; on failure the
    // error carries the end of HAProxy's output.
    Status launch();
    bool running();
    // Kills HAProxy; launch() starts it again from the files on disk, as a restart would.
    void stop();

    std::filesystem::path admin_socket() const { return dir_.path() / "admin.sock"; }
    std::filesystem::path user_socket() const { return dir_.path() / "user.sock"; }
    std::filesystem::path master_socket() const { return dir_.path() / "master.sock"; }
    // The served certificate's file, which is also its name on the Runtime API.
    std::filesystem::path site_pem() const { return dir_.path() / "site.pem"; }
    std::filesystem::path map_file() const {
        return options_.map_file.empty() ? dir_.path() / "http01.map" : options_.map_file;
    }
    std::filesystem::path crt_list() const { return dir_.path() / "certs.crtlist"; }
    // The generated haproxy.cfg HAProxy runs with.
    std::filesystem::path config_file() const { return dir_.path() / "haproxy.cfg"; }
    const std::filesystem::path& dir() const { return dir_.path(); }
    std::uint16_t https_port() const { return https_port_; }
    std::uint16_t http_port() const { return http_port_; }
    std::uint16_t crt_list_port() const { return crt_list_port_; }
    std::uint16_t tcp_socket_port() const { return tcp_socket_port_; }
    // The PKI behind site.pem: issue replacements from pki().intermediate.
    const TestPki& pki() const { return pki_; }
    // The bundle site.pem was written with.
    const std::string& site_bundle() const { return site_bundle_; }

    // The end of HAProxy's stdout and stderr, for diagnostics.
    std::string log(size_t max_bytes = 4000) const;

private:
    HaproxyServer(HaproxyOptions options, std::filesystem::path binary, TestPki pki);
    Status write_files();

    HaproxyOptions options_;
    TempDir dir_;  // declared first: removed only after HAProxy is gone
    std::filesystem::path binary_;
    TestPki pki_;
    std::string site_bundle_;
    std::uint16_t https_port_ = 0;
    std::uint16_t http_port_ = 0;
    std::uint16_t crt_list_port_ = 0;
    std::uint16_t tcp_socket_port_ = 0;
    ChildProcessPtr process_;
};

using HaproxyServerPtr = std::unique_ptr<HaproxyServer>;

// `certificate`, then `chain`, then the key, as HAProxy's crt file wants them.
Result<std::string> haproxy_bundle(const Issued& leaf, const std::vector<TestCa>& chain);

}  // namespace certdock::test
