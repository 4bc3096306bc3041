// `certdock agent run` as a service, against Pebble and a real HAProxy 2.6: it tells systemd
// it is ready (a datagram socket standing in for NOTIFY_SOCKET), `certdock ctl status` shows
// what is issued and what HAProxy serves, `ctl renew` renews now, an invalid configuration
// is refused by `ctl reload` and by SIGHUP while the certificate stays served, SIGTERM ends
// it cleanly, and ctl says when no agent runs.

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <csignal>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstring>
#include <sstream>
#include <thread>

#include "agent/tls_probe.hpp"
#include "base/file.hpp"
#include "base/unique_fd.hpp"
#include "crypto/bundle.hpp"
#include "crypto/certificate.hpp"
#include "crypto/key.hpp"
#include "crypto/self_signed.hpp"
#include "haproxy/hot_update.hpp"
#include "haproxy/replies.hpp"
#include "haproxy/runtime_api.hpp"
#include "support/child_process.hpp"
#include "support/command.hpp"
#include "support/haproxy_server.hpp"
#include "support/must.hpp"
#include "support/pebble.hpp"
#include "support/pebble_behind_haproxy.hpp"
#include "support/temp_dir.hpp"

extern char** environ;

namespace certdock {
namespace {

using test::CommandResult;
using test::must;
using ::testing::HasSubstr;
using ::testing::Not;

// Long enough for an order against Pebble on a loaded machine; only bounds a hang.
constexpr int kPatienceMs = 120'000;

// A bound unix socket of `type` at `path`; closing the fd leaves the file behind, as a
// crashed process would.
UniqueFd bind_unix(const std::filesystem::path& path, int type) {
    UniqueFd fd(::socket(AF_UNIX, type | SOCK_CLOEXEC, 0));
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, path.c_str(), sizeof address.sun_path - 1);
    if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
        return UniqueFd();
    }
    return fd;
}

class AgentControl : public ::testing::Test {
protected:
    void SetUp() override {
        auto both = must(test::start_pebble_behind_haproxy());
        pebble_ = std::move(both.pebble);
        haproxy_ = std::move(both.haproxy);
        // As after `certdock bootstrap`: HAProxy's file holds a self-signed placeholder.
        auto key = must(crypto::PrivateKey::generate(crypto::KeySpec::ecdsa(crypto::Curve::kP256)));
        auto cert = must(crypto::make_self_signed(
            key, {.common_name = "site.test", .dns_names = {"site.test"}}));
        std::string bundle = must(crypto::build_haproxy_bundle({cert, {}, key, std::nullopt}));
        ASSERT_TRUE(write_file_atomic(site_pem(), bundle, {.mode = 0600}));
        notify_ = bind_unix(path("notify.sock"), SOCK_DGRAM);
        ASSERT_TRUE(notify_.valid());
    }

    void TearDown() override {
        if (HasFailure()) {
            std::cerr << "agent log:\n"
                      << read_file(path("agent.err")).value_or("") << "\nHAProxy:\n"
                      << haproxy_->log() << "\n";
        }
    }

    std::filesystem::path path(const std::string& name) const { return dir_.path() / name; }
    std::filesystem::path site_pem() const { return haproxy_->site_pem(); }
    std::filesystem::path control_socket() const { return path("run") / "control.sock"; }

    std::string config_text(const std::string& keytype,
                            const std::string& challenge = "challenge = \"http-01\"\n") const {
        return "[agent]\n"
               "state-dir = \"" +
               path("state").string() + "\"\ncontrol-socket = \"" + control_socket().string() +
               "\"\n"
               "[acme.pebble]\n"
               "directory = \"" +
               pebble_->directory_url() + "\"\nca-roots = \"" + pebble_->ca_file().string() +
               "\"\n"
               "[haproxy.edge]\n"
               "sockets = [\"" +
               haproxy_->admin_socket().string() + "\"]\nmap = \"" + haproxy_->map_file().string() +
               "\"\n"
               "[[certificate]]\n"
               "name = \"site\"\n"
               "domains = [\"site.test\"]\n" +
               challenge + "keytype = \"" + keytype +
               "\"\n"
               "curves = \"P-256\"\n"
               "file = \"" +
               site_pem().string() +
               "\"\nprobe = [\"127.0.0.1:" + std::to_string(haproxy_->https_port()) + "\"]\n";
    }
    void write_config(const std::string& keytype = "ECDSA") {
        ASSERT_TRUE(write_file_atomic(path("certdock.toml"), config_text(keytype)));
    }
    // dns-01 through a hook that holds the order until the test creates "release".
    void write_held_dns01_config() {
        std::string hook =
            "#!/bin/sh\n"
            "[ \"$1\" = begin ] || exit 0\n"
            "while [ ! -e \"" +
            path("release").string() +
            "\" ]; do sleep 0.05; done\n"
            "exec curl -sf -X POST -d "
            "\"{\\\"host\\\":\\\"$CERTDOCK_CHALLENGE_RECORD_NAME.\\\","
            "\\\"value\\\":\\\"$5\\\"}\" " +
            pebble_->challtestsrv_url() + "/set-txt\n";
        ASSERT_TRUE(write_file_atomic(path("hook.sh"), hook, {.mode = 0755}));
        ASSERT_TRUE(write_file_atomic(path("certdock.toml"),
                                      config_text("ECDSA", "challenge = \"dns-01\"\ndns-hook = \"" +
                                                               path("hook.sh").string() + "\"\n")));
    }
    // The line of `keytype` in the file, as the refusal must name it.
    int keytype_line() const {
        const std::string text = config_text("ECDSA");
        return 1 + static_cast<int>(std::count(
                       text.begin(), text.begin() + static_cast<long>(text.find("keytype")), '\n'));
    }

    void start_agent() {
        std::vector<std::string> env;
        for (char** entry = environ; *entry != nullptr; ++entry) {
            if (!std::string_view(*entry).starts_with("NOTIFY_SOCKET=")) env.emplace_back(*entry);
        }
        env.push_back("NOTIFY_SOCKET=" + path("notify.sock").string());
        agent_ = must(
            test::ChildProcess::spawn({test::certdock_binary().string(), "agent", "run", "--config",
                                       path("certdock.toml").string(), "--deploy-wait", "5"},
                                      env, path("agent.out"), path("agent.err")));
    }

    // The next notification datagram; "" when none came in time (or the agent died).
    std::string next_notification() {
        for (int waited = 0; waited < kPatienceMs; waited += 100) {
            pollfd entry{notify_.get(), POLLIN, 0};
            if (::poll(&entry, 1, 100) > 0) {
                char buffer[4096];
                const ssize_t got = ::recv(notify_.get(), buffer, sizeof buffer, 0);
                if (got > 0) return std::string(buffer, static_cast<size_t>(got));
            }
            if (agent_ && agent_->exit_status()) return {};
        }
        return {};
    }
    // Skips notifications until one starts with `prefix`; returns it ("" if none came).
    std::string wait_for_notification(const std::string& prefix) {
        while (true) {
            std::string message = next_notification();
            if (message.empty() || message.starts_with(prefix)) return message;
        }
    }

    CommandResult ctl(std::vector<std::string> args) {
        std::vector<std::string> argv = {test::certdock_binary().string(), "ctl", "--config",
                                         path("certdock.toml").string()};
        argv.insert(argv.end(), args.begin(), args.end());
        return test::run_command(argv);
    }

    std::string served_serial() {
        auto chain = must(agent::probe_served_chain(
            {.host = "127.0.0.1", .port = haproxy_->https_port(), .sni = "site.test"}));
        return chain.front().serial_hex();
    }
    std::string bundle_serial() {
        return must(crypto::parse_haproxy_bundle(must(read_file(site_pem())))).leaf.serial_hex();
    }

    std::optional<int> wait_for_exit() {
        for (int waited = 0; waited < kPatienceMs; waited += 50) {
            if (auto status = agent_->exit_status()) return status;
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        return std::nullopt;
    }

    test::TempDir dir_;
    test::PebbleServerPtr pebble_;
    test::HaproxyServerPtr haproxy_;
    UniqueFd notify_;
    test::ChildProcessPtr agent_;
};

TEST_F(AgentControl, ReadyStatusRenewReloadAndStop) {
    write_config();
    start_agent();
    ASSERT_EQ(next_notification(), "READY=1");
    // The socket is the owner's only, in a directory certdock made private.
    struct stat info {};
    ASSERT_EQ(::stat(control_socket().c_str(), &info), 0);
    EXPECT_EQ(info.st_mode & 0777, 0600U);
    ASSERT_EQ(::stat(path("run").c_str(), &info), 0);
    EXPECT_EQ(info.st_mode & 0777, 0700U);

    // The first scan issues and delivers; STATUS= follows it.
    ASSERT_THAT(wait_for_notification("STATUS="), HasSubstr("0 failing"));
    const std::string issued = bundle_serial();
    EXPECT_EQ(served_serial(), issued);

    CommandResult status = ctl({"status"});
    EXPECT_EQ(status.exit_code, 0) << status.out << status.err;
    EXPECT_THAT(status.out, HasSubstr(issued));
    EXPECT_THAT(status.out, HasSubstr("haproxy edge " + haproxy_->admin_socket().string() +
                                      ": serves " + issued));

    CommandResult json = ctl({"status", "--json"});
    ASSERT_EQ(json.exit_code, 0) << json.err;
    const auto parsed = nlohmann::json::parse(json.out);
    const auto& site = parsed.at("certificates").at(0);
    EXPECT_EQ(site.at("name"), "site");
    EXPECT_EQ(site.at("serial"), issued);
    EXPECT_EQ(site.at("last_result"), "success");
    // As HAProxy prints it: upper case.
    EXPECT_TRUE(
        haproxy::same_serial(site.at("served").at(0).at("serial").get<std::string>(), issued));
    const pid_t pid = parsed.at("agent").at("pid").get<pid_t>();

    CommandResult one = ctl({"status", "site"});
    EXPECT_EQ(one.exit_code, 0) << one.out << one.err;
    EXPECT_THAT(one.out, HasSubstr(issued));
    CommandResult other = ctl({"status", "nosuch"});
    EXPECT_EQ(other.exit_code, 2);
    EXPECT_THAT(other.err, HasSubstr("no certificate named \"nosuch\"; the agent has: site"));

    CommandResult unknown = ctl({"renew", "nosuch"});
    EXPECT_EQ(unknown.exit_code, 2);
    EXPECT_THAT(unknown.err, HasSubstr("no certificate named \"nosuch\""));
    EXPECT_THAT(unknown.err, HasSubstr("the agent has: site"));

    CommandResult renew = ctl({"renew", "site"});
    ASSERT_EQ(renew.exit_code, 0) << renew.out << renew.err;
    const std::string renewed = bundle_serial();
    EXPECT_NE(renewed, issued);
    EXPECT_THAT(renew.out, HasSubstr("site: delivered serial " + renewed));
    EXPECT_EQ(served_serial(), renewed);

    // An invalid file is refused with its line; the running configuration keeps serving.
    write_config("EC");
    const std::string issue = path("certdock.toml").string() + ":" + std::to_string(keytype_line());
    CommandResult reload = ctl({"reload"});
    EXPECT_EQ(reload.exit_code, 1) << reload.out << reload.err;
    EXPECT_THAT(reload.out, HasSubstr("reload refused"));
    EXPECT_THAT(reload.out, HasSubstr(issue));
    EXPECT_EQ(wait_for_notification("RELOADING=1").substr(0, 11), "RELOADING=1");
    EXPECT_EQ(wait_for_notification("READY=1"), "READY=1");
    EXPECT_EQ(served_serial(), renewed);
    status = ctl({"status"});
    EXPECT_EQ(status.exit_code, 0) << status.out << status.err;
    EXPECT_THAT(status.out, HasSubstr(renewed));

    // SIGHUP is the same reload.
    ASSERT_EQ(::kill(pid, SIGHUP), 0);
    EXPECT_EQ(wait_for_notification("RELOADING=1").substr(0, 11), "RELOADING=1");
    EXPECT_EQ(wait_for_notification("READY=1"), "READY=1");
    const std::string log = read_file(path("agent.err")).value_or("");
    EXPECT_THAT(log, HasSubstr("reload: " + issue));
    EXPECT_THAT(log, HasSubstr("reload refused; keeping the running configuration"));
    EXPECT_EQ(served_serial(), renewed);
    status = ctl({"status"});
    EXPECT_EQ(status.exit_code, 0) << status.out << status.err;

    // HAProxy made to serve another certificate behind the agent's back: status says so.
    haproxy::RuntimeApiOptions socket;
    socket.transport.address = haproxy_->admin_socket().string();
    haproxy::RuntimeApi api(socket);
    ASSERT_TRUE(haproxy::hot_update(api, site_pem().string(), haproxy_->site_bundle()));
    ASSERT_NE(served_serial(), renewed);
    CommandResult drift = ctl({"status"});
    EXPECT_EQ(drift.exit_code, 1) << drift.out << drift.err;
    EXPECT_THAT(drift.out, HasSubstr(", not " + renewed));

    // A valid file again is taken.
    write_config();
    reload = ctl({"reload"});
    EXPECT_EQ(reload.exit_code, 0) << reload.out << reload.err;
    EXPECT_THAT(reload.out, HasSubstr("reloaded: 1 certificate"));

    ASSERT_EQ(::kill(pid, SIGTERM), 0);
    EXPECT_EQ(wait_for_notification("STOPPING=1"), "STOPPING=1");
    EXPECT_EQ(wait_for_exit(), 0);
    EXPECT_FALSE(std::filesystem::exists(control_socket())) << "the socket is removed on exit";

    CommandResult gone = ctl({"status"});
    EXPECT_EQ(gone.exit_code, 2);
    EXPECT_THAT(gone.err,
                HasSubstr("no certdock agent is running at " + control_socket().string()));
    EXPECT_THAT(gone.err, HasSubstr("certdock agent run"));
}

TEST_F(AgentControl, AStaleSocketIsReplacedAndALiveOneRefused) {
    write_config();
    // A socket file left by a crashed agent: nothing listens on it.
    std::filesystem::create_directories(path("run"));
    ASSERT_TRUE(bind_unix(control_socket(), SOCK_STREAM).valid());
    ASSERT_TRUE(std::filesystem::exists(control_socket()));

    start_agent();
    ASSERT_EQ(next_notification(), "READY=1");

    CommandResult second = test::run_command({test::certdock_binary().string(), "agent", "run",
                                              "--config", path("certdock.toml").string()});
    EXPECT_EQ(second.exit_code, 2);
    EXPECT_THAT(second.err, HasSubstr("another certdock agent is running"));
    EXPECT_THAT(second.err, HasSubstr(control_socket().string()));
    // The first one still answers.
    CommandResult status = ctl({"status", "--json"});
    EXPECT_NE(status.exit_code, 2) << status.err;
}

TEST_F(AgentControl, StatusAnswersWhileARenewalRuns) {
    write_held_dns01_config();
    start_agent();
    ASSERT_EQ(next_notification(), "READY=1");

    // The first issuance waits in the hook; the loop is busy, the control socket is not.
    CommandResult busy = ctl({"status"});
    EXPECT_EQ(busy.exit_code, 1) << busy.out << busy.err;
    EXPECT_THAT(busy.out, HasSubstr("renewing since"));
    EXPECT_THAT(busy.out, HasSubstr(", not an issued certificate"));  // the placeholder
    CommandResult queued = ctl({"renew", "site", "--no-wait"});
    EXPECT_EQ(queued.exit_code, 0) << queued.err;
    EXPECT_THAT(queued.out, HasSubstr("site: queued"));

    // The first issuance, then the queued renewal, each followed by a status.
    ASSERT_TRUE(write_file_atomic(path("release"), ""));
    ASSERT_THAT(wait_for_notification("STATUS="), HasSubstr("0 failing"));
    ASSERT_THAT(wait_for_notification("STATUS="), HasSubstr("0 failing"));
    const std::string log = read_file(path("agent.err")).value_or("");
    EXPECT_THAT(log, HasSubstr("renewal asked for with certdock ctl renew"));
    const std::string issued = bundle_serial();
    EXPECT_EQ(served_serial(), issued);
    CommandResult done = ctl({"status"});
    EXPECT_EQ(done.exit_code, 0) << done.out << done.err;
    EXPECT_THAT(done.out, Not(HasSubstr("renewing since")));
}

// What a monitoring system scrapes and a log shipper reads: the endpoint from metrics-listen
// with the served certificate's expiry, the delivery and the CA's answers; one JSON object
// per log line with the certificate as a field.
TEST_F(AgentControl, MetricsAndJsonLogsDescribeTheDelivery) {
    const std::string text = config_text("ECDSA");
    const std::string agent_section = "[agent]\n";
    ASSERT_TRUE(write_file_atomic(
        path("certdock.toml"),
        agent_section +
            "metrics-listen = \"127.0.0.1:" + std::to_string(must(test::free_local_port())) +
            "\"\nlog-format = \"json\"\n" + text.substr(agent_section.size())));
    start_agent();
    ASSERT_EQ(next_notification(), "READY=1");
    ASSERT_THAT(wait_for_notification("STATUS="), HasSubstr("0 failing"));

    std::string metrics_url;
    bool delivered_logged = false;
    std::istringstream lines(read_file(path("agent.err")).value_or(""));
    for (std::string line; std::getline(lines, line);) {
        const auto event = nlohmann::json::parse(line);  // throws (fails) on a non-JSON line
        ASSERT_TRUE(event.contains("time") && event.contains("level")) << line;
        const std::string message = event.at("msg");
        if (const auto at = message.find("metrics at "); at != std::string::npos) {
            metrics_url = message.substr(at + 11);
        }
        if (event.value("cert", "") == "site" && message.starts_with("delivered serial")) {
            delivered_logged = true;
        }
    }
    EXPECT_TRUE(delivered_logged);
    ASSERT_THAT(metrics_url, testing::StartsWith("http://127.0.0.1:"));

    CommandResult scrape = test::run_command({"/usr/bin/curl", "-sf", metrics_url});
    ASSERT_EQ(scrape.exit_code, 0) << scrape.err;
    auto leaf = must(crypto::parse_haproxy_bundle(must(read_file(site_pem())))).leaf;
    const auto not_after =
        std::chrono::duration_cast<std::chrono::seconds>(leaf.not_after().time_since_epoch());
    EXPECT_THAT(scrape.out, HasSubstr("certdock_certificate_not_after_seconds{cert=\"site\"} " +
                                      std::to_string(not_after.count()) + "\n"));
    EXPECT_THAT(scrape.out,
                HasSubstr("certdock_renewals_total{cert=\"site\",result=\"delivered\"} 1\n"));
    EXPECT_THAT(scrape.out, HasSubstr("certdock_consecutive_failures{cert=\"site\"} 0\n"));
    // The order was created (201) and the certificate downloaded (200) through Pebble.
    EXPECT_THAT(scrape.out,
                HasSubstr("certdock_acme_requests_total{acme=\"pebble\",status=\"201\"}"));
    EXPECT_THAT(scrape.out,
                HasSubstr("certdock_acme_requests_total{acme=\"pebble\",status=\"200\"}"));
    EXPECT_THAT(scrape.out, HasSubstr("certdock_certificates 1\n"));
}

// reuse-key = "rotate": status shows the key in use and the next key's pins, which an
// operator publishes (TLSA, pin sets) before that key is used.
TEST_F(AgentControl, StatusPublishesTheNextKeysPins) {
    ASSERT_TRUE(write_file_atomic(
        path("certdock.toml"),
        config_text("ECDSA", "challenge = \"http-01\"\nreuse-key = \"rotate\"\n")));
    start_agent();
    ASSERT_EQ(next_notification(), "READY=1");
    ASSERT_THAT(wait_for_notification("STATUS="), HasSubstr("0 failing"));

    auto pin_of = [](const std::filesystem::path& file) {
        return must(crypto::PrivateKey::from_pem(must(read_file(file)))).public_key().pin_sha256();
    };
    const auto key_file = path("state") / "keys" / "site.key";
    const std::string current = pin_of(key_file);
    const std::string next = pin_of(key_file.string() + ".next");
    ASSERT_NE(current, next);

    CommandResult json = ctl({"status", "--json"});
    ASSERT_EQ(json.exit_code, 0) << json.out << json.err;
    const auto site = nlohmann::json::parse(json.out).at("certificates").at(0);
    EXPECT_EQ(site.at("key_pin_sha256"), current);
    EXPECT_EQ(site.at("next_key_pin_sha256"), next);
    EXPECT_THAT(site.at("next_key_tlsa").get<std::string>(), testing::StartsWith("3 1 1 "));
    EXPECT_TRUE(site.contains("next_key_usable_after"));

    CommandResult text = ctl({"status", "site"});
    EXPECT_EQ(text.exit_code, 0) << text.out << text.err;
    EXPECT_THAT(text.out, HasSubstr("key pin-sha256 " + current));
    EXPECT_THAT(text.out, HasSubstr("next key pin-sha256 " + next));
}

TEST(AgentControlWithoutAgent, StatusSaysNoAgentRunsThere) {
    test::TempDir dir;
    const auto socket = dir.path() / "control.sock";
    CommandResult missing = test::run_command(
        {test::certdock_binary().string(), "ctl", "--socket", socket.string(), "status"});
    EXPECT_EQ(missing.exit_code, 2);
    EXPECT_THAT(missing.err, HasSubstr("no certdock agent is running at " + socket.string()));
    EXPECT_THAT(missing.out, Not(HasSubstr("NAME")));

    // A stale socket file: nothing listens.
    ASSERT_TRUE(bind_unix(socket, SOCK_STREAM).valid());
    CommandResult stale = test::run_command(
        {test::certdock_binary().string(), "ctl", "--socket", socket.string(), "status"});
    EXPECT_EQ(stale.exit_code, 2);
    EXPECT_THAT(stale.err, HasSubstr("nothing listens"));
}

}  // namespace
}  // namespace certdock
