// Writes what an agent managing many certificates has on disk once every certificate was
// delivered: one test CA (root and intermediate), and for each certificate its own ECDSA
// P-256 key and leaf, the bundle HAProxy loads (leaf, intermediate, key), the key file the
// agent keeps (reuse-key on) and the state the agent records after a delivery. Also the
// configuration naming them all, and optionally the same certificates in certbot's
// live/archive/renewal layout for the peer row.
//
// Usage: agent_scale_fixture DIR COUNT [CERTBOT_COUNT]
//
// Every bundle is distinct and valid (its own key and serial), so the agent parses real,
// different files; the key generation and signing are what a CA and the agent would do.

#include <fcntl.h>
#include <sys/stat.h>

#include <charconv>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>
#include <string_view>

#include "agent/cert_state.hpp"
#include "agent/renewal_schedule.hpp"
#include "base/time.hpp"
#include "base/unique_fd.hpp"
#include "crypto/bundle.hpp"
#include "support/test_pki.hpp"

namespace {

using namespace certdock;
namespace fs = std::filesystem;

// Plain writes: the fixture is scratch, so no fsync (30,000 of them would dominate).
bool write_text(const fs::path& path, std::string_view text, unsigned mode = 0644) {
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode));
    if (!fd.valid()) {
        std::perror(path.c_str());
        return false;
    }
    size_t written = 0;
    while (written < text.size()) {
        const ssize_t n = ::write(fd.get(), text.data() + written, text.size() - written);
        if (n <= 0) {
            std::perror(path.c_str());
            return false;
        }
        written += static_cast<size_t>(n);
    }
    return true;
}

std::string name_of(int index) {
    char buffer[16];
    std::snprintf(buffer, sizeof buffer, "c%05d", index);
    return buffer;
}

bool parse_count(const char* text, int& out) {
    const std::string_view view(text);
    auto [end, error] = std::from_chars(view.data(), view.data() + view.size(), out);
    return error == std::errc{} && end == view.data() + view.size() && out >= 0;
}

std::string config_header(const fs::path& dir) {
    return std::string("# agent scale benchmark: every certificate delivered, none due\n") +
           "[agent]\n"
           "state-dir = \"state\"\n\n"
           "[acme.bench]\n"
           "# Never contacted: nothing is due.\n"
           "directory = \"https://ca.bench.test/directory\"\n\n"
           "[haproxy.edge]\n"
           "# Never contacted: nothing is due, so nothing is delivered.\n"
           "sockets = [\"" +
           (dir / "haproxy.sock").string() +
           "\"]\n"
           "map = \"/etc/haproxy/acme.map\"\n";
}

std::string config_entry(const std::string& name) {
    return "\n[[certificate]]\n"
           "name = \"" +
           name +
           "\"\n"
           "domains = [\"" +
           name +
           ".bench.test\"]\n"
           "keytype = \"ECDSA\"\n"
           "curves = \"P-256\"\n"
           "file = \"certs/" +
           name + ".pem\"\n";
}

// The state of a running agent some days after delivering `leaf`: served serial, validity,
// pin, the CA's ARI window (as a CA with renewalInfo suggests it, two thirds into the
// lifetime), the next renewal picked in it, and an ARI poll made just now (`polled_at`), so
// the next one is hours away.
agent::CertState delivered_state(const crypto::Certificate& leaf, SystemTime delivered_at,
                                 SystemTime polled_at, const agent::UniformRandom& random) {
    agent::CertState state;
    state.serial = leaf.serial_hex();
    state.not_before = leaf.not_before();
    state.not_after = leaf.not_after();
    state.key_pin = leaf.public_key().pin_sha256();
    if (auto cert_id = crypto::ari_cert_id(leaf)) state.ari_cert_id = *cert_id;
    state.ari_window_start = *state.not_before + std::chrono::hours(24 * 60);
    state.ari_window_end = *state.ari_window_start + std::chrono::hours(48);
    state.next_ari_poll = agent::next_ari_poll(polled_at, std::nullopt);
    const agent::RenewalDecision decision = agent::schedule_renewal(
        {*state.not_before, *state.not_after},
        acme::RenewalInfo{*state.ari_window_start, *state.ari_window_end, std::nullopt}, {},
        delivered_at, random);
    state.next_renewal = decision.renew_at;
    state.next_renewal_reason = decision.reason;
    state.last_attempt = delivered_at;
    state.last_result = agent::AttemptResult::kSuccess;
    state.last_success = delivered_at;
    return state;
}

// certbot's layout: archive/NAME/{cert,chain,fullchain,privkey}1.pem, live/NAME/* symlinks to
// them, renewal/NAME.conf naming them (absolute paths, as certbot writes them).
bool write_certbot_lineage(const fs::path& root, const std::string& name, const std::string& cert,
                           const std::string& chain, const std::string& key) {
    const fs::path archive = root / "archive" / name;
    const fs::path live = root / "live" / name;
    fs::create_directories(archive);
    fs::create_directories(live);
    const std::pair<const char*, std::string> files[] = {
        {"cert", cert}, {"chain", chain}, {"fullchain", cert + chain}, {"privkey", key}};
    std::string conf =
        "# renew_before_expiry = 30 days\nversion = 2.1.0\narchive_dir = " + archive.string() +
        "\n";
    for (const auto& [kind, text] : files) {
        const std::string file = std::string(kind) + "1.pem";
        if (!write_text(archive / file, text, std::string_view(kind) == "privkey" ? 0600 : 0644)) {
            return false;
        }
        std::error_code ignored;
        fs::remove(live / (std::string(kind) + ".pem"), ignored);
        fs::create_symlink(fs::path("../../archive") / name / file,
                           live / (std::string(kind) + ".pem"));
        conf += std::string(kind) + " = " + (live / (std::string(kind) + ".pem")).string() + "\n";
    }
    conf +=
        "\n# Options used in the renewal process\n[renewalparams]\n"
        "account = 0123456789abcdef0123456789abcdef\n"
        "authenticator = standalone\n"
        "server = https://ca.bench.test/directory\n"
        "key_type = ecdsa\n";
    return write_text(root / "renewal" / (name + ".conf"), conf);
}

int make_fixture(const fs::path& dir, int count, int certbot_count) {
    const auto fail = [](const std::string& what) {
        std::cerr << "agent_scale_fixture: " << what << "\n";
        return 1;
    };
    auto root = test::TestCa::create_root("certdock scale bench root");
    if (!root) return fail(root.error().describe());
    auto intermediate = root->create_intermediate("certdock scale bench CA");
    if (!intermediate) return fail(intermediate.error().describe());
    const std::string chain_pem = intermediate->certificate().to_pem();

    for (const char* sub : {"certs", "state/state", "state/keys", "ca"}) {
        fs::create_directories(dir / sub);
    }
    fs::permissions(dir / "state" / "state", fs::perms::owner_all);
    fs::permissions(dir / "state" / "keys", fs::perms::owner_all);
    if (certbot_count > 0) {
        for (const char* sub : {"certbot/config/renewal", "certbot/work", "certbot/logs"}) {
            fs::create_directories(dir / sub);
        }
    }
    if (!write_text(dir / "ca" / "root.pem", root->certificate().to_pem())) return 1;

    // Issued ten days ago, 90-day certificates: the next renewal is about 50 days away.
    const SystemTime now =
        std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
    const SystemTime issued = now - std::chrono::hours(24 * 10);
    const agent::UniformRandom random = agent::make_uniform_random();
    std::string config = config_header(dir);
    for (int i = 1; i <= count; ++i) {
        const std::string name = name_of(i);
        test::CertSpec spec{.common_name = name + ".bench.test",
                            .dns_names = {name + ".bench.test"},
                            .not_before = issued,
                            .not_after = issued + std::chrono::hours(24 * 90)};
        auto leaf = intermediate->issue(spec);
        if (!leaf) return fail(name + ": " + leaf.error().describe());
        auto key_pem = leaf->key.to_pem();
        if (!key_pem) return fail(name + ": " + key_pem.error().describe());
        const std::string cert_pem = leaf->certificate.to_pem();
        // The same text build_haproxy_bundle writes: leaf, chain, key.
        auto bundle = crypto::build_haproxy_bundle(
            {leaf->certificate, {intermediate->certificate()}, leaf->key, {}});
        if (!bundle) return fail(name + ": " + bundle.error().describe());
        if (!write_text(dir / "certs" / (name + ".pem"), *bundle, 0600) ||
            !write_text(dir / "state" / "keys" / (name + ".key"), *key_pem, 0600) ||
            !write_text(dir / "state" / "state" / (name + ".json"),
                        agent::serialize_cert_state(
                            delivered_state(leaf->certificate, issued, now, random)),
                        0600)) {
            return 1;
        }
        if (i <= certbot_count && !write_certbot_lineage(dir / "certbot" / "config", name, cert_pem,
                                                         chain_pem, *key_pem)) {
            return 1;
        }
        config += config_entry(name);
    }
    if (!write_text(dir / "certdock.toml", config)) return 1;
    std::cout << "agent_scale_fixture: " << count << " certificates in " << dir.string();
    if (certbot_count > 0) std::cout << ", " << certbot_count << " certbot lineages";
    std::cout << "\n";
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    int count = 0;
    int certbot_count = 0;
    if ((argc != 3 && argc != 4) || !parse_count(argv[2], count) ||
        (argc == 4 && !parse_count(argv[3], certbot_count)) || count < 1 || certbot_count > count) {
        std::cerr << "usage: agent_scale_fixture DIR COUNT [CERTBOT_COUNT]\n"
                     "  COUNT certificates (at least 1) for certdock, the first CERTBOT_COUNT "
                     "of them also as certbot lineages\n";
        return 2;
    }
    return make_fixture(fs::absolute(argv[1]), count, certbot_count);
}
