#pragma once

// What the integration tests of `certdock agent run` as a daemon share: Pebble whose
// validations reach a real HAProxy 2.6 that also has a crt-list bind (for certificates added
// at run time), a configuration written from one TOML table per certificate, hook scripts that
// can be held at their first step, and the agent run once or in the background.

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "agent/cert_state.hpp"
#include "agent/tls_probe.hpp"
#include "base/file.hpp"
#include "crypto/bundle.hpp"
#include "crypto/certificate.hpp"
#include "crypto/key.hpp"
#include "crypto/self_signed.hpp"
#include "support/child_process.hpp"
#include "support/command.hpp"
#include "support/haproxy_server.hpp"
#include "support/must.hpp"
#include "support/pebble.hpp"
#include "support/pebble_behind_haproxy.hpp"
#include "support/temp_dir.hpp"

namespace certdock::test {

inline std::string quoted(const std::string& text) {
    return "\"" + text + "\"";
}

class AgentFixture : public ::testing::Test {
protected:
    void SetUp() override {
        auto both = must(start_pebble_behind_haproxy({.crt_list = true}));
        pebble_ = std::move(both.pebble);
        haproxy_ = std::move(both.haproxy);
        runtime_socket_ = haproxy_->admin_socket();
        // As after `certdock bootstrap`: HAProxy's file holds a self-signed placeholder.
        auto key = must(crypto::PrivateKey::generate(crypto::KeySpec::ecdsa(crypto::Curve::kP256)));
        auto cert = must(crypto::make_self_signed(
            key, {.common_name = "site.test", .dns_names = {"site.test"}}));
        ASSERT_TRUE(write_file_atomic(
            haproxy_->site_pem(), must(crypto::build_haproxy_bundle({cert, {}, key, std::nullopt})),
            {.mode = 0600}));
        write_hooks();
    }

    std::filesystem::path path(const std::string& name) const { return dir_.path() / name; }
    std::filesystem::path config_file() const { return path("certdock.toml"); }
    // Where a certificate HAProxy learns at run time is written: beside its configuration.
    std::filesystem::path pem_of(const std::string& name) const {
        return haproxy_->dir() / (name + ".pem");
    }

    // --- The configuration -------------------------------------------------------------

    std::string http01() const { return "challenge = \"http-01\"\n"; }
    // dns-01 through the hook that publishes in challtestsrv, where Pebble's VA looks.
    std::string dns01() const {
        return "challenge = \"dns-01\"\ndns-hook = " + quoted(path("dns-hook.sh").string()) + "\n";
    }
    // tls-alpn-01 answered by the agent itself on the port Pebble's VA connects to.
    std::string tls_alpn01() const {
        return "challenge = \"tls-alpn-01\"\ntls-alpn-listen = \"127.0.0.1:" +
               std::to_string(pebble_->options().tls_port) + "\"\n";
    }
    static std::string ecdsa(const std::string& curve) {
        return "keytype = \"ECDSA\"\ncurves = " + quoted(curve) + "\n";
    }
    static std::string rsa(int bits) {
        return "keytype = \"RSA\"\nbits = " + std::to_string(bits) + "\n";
    }

    // The certificate HAProxy's configuration already serves (site.pem, on both binds).
    std::string site(const std::string& key, const std::string& challenge,
                     const std::string& extra = "") const {
        return "[[certificate]]\nname = \"site\"\ndomains = [\"site.test\"]\n" + key + challenge +
               "file = " + quoted(haproxy_->site_pem().string()) +
               "\nprobe = [\"127.0.0.1:" + std::to_string(haproxy_->https_port()) + "\"]\n" + extra;
    }
    // A certificate HAProxy does not serve yet: added to the crt-list bind for `domain`.
    std::string added(const std::string& name, const std::string& domain, const std::string& key,
                      const std::string& challenge) const {
        return "[[certificate]]\nname = " + quoted(name) + "\ndomains = [" + quoted(domain) +
               "]\n" + key + challenge + "file = " + quoted(pem_of(name).string()) +
               "\ncrt-list = " + quoted(haproxy_->crt_list().string()) + "\nsni = [" +
               quoted(domain) +
               "]\nprobe = [\"127.0.0.1:" + std::to_string(haproxy_->crt_list_port()) + "\"]\n";
    }

    // `certificates`: [[certificate]] tables (site(), added()).
    std::string config_text(const std::string& certificates) const {
        return "[agent]\nstate-dir = " + quoted(path("state").string()) +
               "\ncontrol-socket = " + quoted(path("control.sock").string()) +
               "\n[acme.pebble]\ndirectory = " + quoted(pebble_->directory_url()) +
               "\nca-roots = " + quoted(pebble_->ca_file().string()) +
               "\n[haproxy.edge]\nsockets = [" + quoted(runtime_socket_.string()) +
               "]\nmap = " + quoted(haproxy_->map_file().string()) +
               "\n[deploy-hook.record]\nprogram = " + quoted(path("deploy-hook.sh").string()) +
               "\n" + certificates;
    }
    void write_config(const std::string& certificates) {
        ASSERT_TRUE(write_file_atomic(config_file(), config_text(certificates)));
    }

    // --- Hooks ---------------------------------------------------------------------------
    // Each hook, while the file hold-<step> exists, touches <step>-held and waits (at most two
    // minutes) until the file is removed: a test catches the agent at that step.

    static std::string hold(const std::filesystem::path& dir, const std::string& step) {
        const std::string flag = (dir / ("hold-" + step)).string();
        return "if [ -e " + flag + " ]; then\n    touch " + (dir / (step + "-held")).string() +
               "\n    i=0\n    while [ -e " + flag +
               " ] && [ $i -lt 1200 ]; do sleep 0.1; i=$((i+1)); done\nfi\n";
    }
    void write_hooks() {
        const std::string dns_hook = "#!/bin/sh\n[ \"$1\" = begin ] || exit 0\n" +
                                     hold(dir_.path(), "dns") +
                                     "exec curl -sf -X POST -d "
                                     "\"{\\\"host\\\":\\\"$CERTDOCK_CHALLENGE_RECORD_NAME.\\\","
                                     "\\\"value\\\":\\\"$5\\\"}\" " +
                                     pebble_->challtestsrv_url() + "/set-txt\n";
        ASSERT_TRUE(write_file_atomic(path("dns-hook.sh"), dns_hook, {.mode = 0755}));
        // Appends "<name> <serial>" per run to deploy-hook.log.
        const std::string deploy_hook = "#!/bin/sh\n" + hold(dir_.path(), "deploy") +
                                        "echo \"$CERTDOCK_CERT_NAME $CERTDOCK_SERIAL\" >> " +
                                        path("deploy-hook.log").string() + "\n";
        ASSERT_TRUE(write_file_atomic(path("deploy-hook.sh"), deploy_hook, {.mode = 0755}));
    }
    void hold_at(const std::string& step) {
        ASSERT_TRUE(write_file_atomic(path("hold-" + step), ""));
    }
    void release(const std::string& step) { std::filesystem::remove(path("hold-" + step)); }
    std::filesystem::path held_marker(const std::string& step) const {
        return path(step + "-held");
    }

    // --- Running the agent ------------------------------------------------------------------

    CommandResult run_once() {
        return run_command({certdock_binary().string(), "agent", "run", "--config",
                            config_file().string(), "--once", "--deploy-wait",
                            std::to_string(deploy_wait_seconds_)});
    }
    // The loop, as a service manager starts it; its standard error goes to `log_name`.
    ChildProcessPtr start_agent(const std::string& log_name) {
        return must(ChildProcess::spawn(
            {certdock_binary().string(), "agent", "run", "--config", config_file().string(),
             "--deploy-wait", std::to_string(deploy_wait_seconds_)},
            {}, path(log_name + ".out"), path(log_name)));
    }
    std::string text_of(const std::filesystem::path& file) const {
        auto text = read_file(file);
        return text ? *text : std::string();
    }
    // Waits until `condition` holds; false if `agent` ends first or after two minutes (a
    // bound against hangs, not a measure).
    template <typename Condition>
    static bool eventually(Condition condition, ChildProcess* agent = nullptr) {
        const auto give_up = std::chrono::steady_clock::now() + std::chrono::minutes(2);
        while (!condition()) {
            if (agent != nullptr && agent->exit_status()) return condition();
            if (std::chrono::steady_clock::now() > give_up) return false;
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        return true;
    }
    // Waits until the log holds `count` lines containing `text`.
    bool wait_for_log(const std::string& log_name, const std::string& text, ChildProcess* agent,
                      int count = 1) {
        return eventually([&] { return occurrences(text_of(path(log_name)), text) >= count; },
                          agent);
    }
    static int occurrences(const std::string& haystack, const std::string& needle) {
        int found = 0;
        for (size_t at = haystack.find(needle); at != std::string::npos;
             at = haystack.find(needle, at + needle.size())) {
            ++found;
        }
        return found;
    }
    // Waits for the process to end and returns its status (nothing after two minutes).
    static std::optional<int> wait_for_exit(ChildProcess& agent) {
        eventually([&] { return agent.exit_status().has_value(); });
        return agent.exit_status();
    }

    // --- What an operator checks ---------------------------------------------------------------

    agent::CertState state(const std::string& name) {
        agent::DirectoryStateStore store(path("state") / "state");
        return must(store.load(name));
    }
    // The renewal time has come (as it will, months later).
    void make_due(const std::string& name) {
        agent::DirectoryStateStore store(path("state") / "state");
        agent::CertState due = must(store.load(name));
        due.next_renewal = std::chrono::time_point_cast<std::chrono::seconds>(
            std::chrono::system_clock::now() - std::chrono::hours(1));
        ASSERT_TRUE(store.save(name, due));
    }
    static crypto::BundleParts bundle(const std::filesystem::path& file) {
        return must(crypto::parse_haproxy_bundle(must(read_file(file))));
    }
    // The chain HAProxy presents on `port` for `sni`, leaf first.
    static std::vector<crypto::Certificate> served_chain(std::uint16_t port,
                                                         const std::string& sni) {
        return must(agent::probe_served_chain({.host = "127.0.0.1", .port = port, .sni = sni}));
    }
    crypto::Certificate served_site() const {
        return served_chain(haproxy_->https_port(), "site.test").front();
    }
    std::vector<crypto::Certificate> pebble_roots() {
        return must(crypto::parse_certificates(must(pebble_->root_pem())));
    }

    TempDir dir_;
    PebbleServerPtr pebble_;
    HaproxyServerPtr haproxy_;
    // The Runtime API address the configuration names (a test may put a link there).
    std::filesystem::path runtime_socket_;
    int deploy_wait_seconds_ = 5;
};

}  // namespace certdock::test
