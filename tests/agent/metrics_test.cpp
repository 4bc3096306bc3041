#include "agent/metrics.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <thread>

#include "agent/metrics_registry.hpp"

namespace certdock::agent {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

SystemTime at(long long seconds) {
    return std::chrono::system_clock::from_time_t(seconds);
}

TEST(MetricsRegistry, RendersTheTextFormatSortedAndStable) {
    MetricsRegistry registry;
    MetricFamily& requests = registry.counter("demo_requests_total", "Requests served", {"code"});
    MetricFamily& temperature = registry.gauge("demo_temperature_celsius", "Temperature\nnow");
    MetricFamily& unused = registry.gauge("demo_unused", "Never set", {"x"});
    (void)unused;
    requests.add({"500"});
    requests.add({"200"}, 3);
    requests.add({"200"});
    temperature.set({}, -2.5);

    const std::string expected =
        "# HELP demo_requests_total Requests served\n"
        "# TYPE demo_requests_total counter\n"
        "demo_requests_total{code=\"200\"} 4\n"
        "demo_requests_total{code=\"500\"} 1\n"
        "# HELP demo_temperature_celsius Temperature\\nnow\n"
        "# TYPE demo_temperature_celsius gauge\n"
        "demo_temperature_celsius -2.5\n";
    EXPECT_EQ(registry.render(), expected);
    EXPECT_EQ(registry.render(), expected);
}

TEST(MetricsRegistry, EscapesLabelValues) {
    MetricsRegistry registry;
    registry.gauge("demo_info", "Labels", {"path", "note"})
        .set({"C:\\certs\\site.pem", "say \"hi\"\nbye"}, 1);
    EXPECT_EQ(registry.render(),
              "# HELP demo_info Labels\n"
              "# TYPE demo_info gauge\n"
              "demo_info{path=\"C:\\\\certs\\\\site.pem\",note=\"say \\\"hi\\\"\\nbye\"} 1\n");
}

TEST(MetricsRegistry, SampleValuesReadBackExactly) {
    EXPECT_EQ(format_sample_value(1'767'323'045), "1767323045");
    EXPECT_EQ(format_sample_value(0), "0");
    EXPECT_EQ(format_sample_value(0.125), "0.125");
    EXPECT_EQ(format_sample_value(1e300), "1e+300");
    EXPECT_EQ(format_sample_value(std::numeric_limits<double>::infinity()), "+Inf");
    EXPECT_EQ(format_sample_value(-std::numeric_limits<double>::infinity()), "-Inf");
    EXPECT_EQ(format_sample_value(std::nan("")), "NaN");
}

TEST(MetricsRegistry, RemovesSeriesByLabelAcrossFamilies) {
    MetricsRegistry registry;
    MetricFamily& a = registry.gauge("demo_a", "A", {"cert"});
    MetricFamily& b = registry.counter("demo_b_total", "B", {"cert", "result"});
    a.set({"site"}, 1);
    a.set({"api"}, 2);
    b.add({"site", "ok"});
    b.add({"api", "ok"});
    registry.remove_where("cert", "site");
    EXPECT_FALSE(a.value({"site"}));
    EXPECT_FALSE(b.value({"site", "ok"}));
    EXPECT_EQ(a.value({"api"}), 2);
    EXPECT_EQ(b.value({"api", "ok"}), 1);
    // A family left without series disappears from the text.
    a.remove({"api"});
    EXPECT_THAT(registry.render(), Not(HasSubstr("demo_a")));
}

TEST(MetricsRegistry, DeclaringTwiceReturnsTheSameFamily) {
    MetricsRegistry registry;
    MetricFamily& first = registry.counter("demo_total", "Demo", {"x"});
    MetricFamily& second = registry.counter("demo_total", "Demo", {"x"});
    EXPECT_EQ(&first, &second);
}

TEST(MetricsRegistryDeathTest, CountersOnlyGoUp) {
    MetricsRegistry registry;
    MetricFamily& counter = registry.counter("demo_total", "Demo");
    EXPECT_DEATH(counter.add({}, -1), "can only go up");
    EXPECT_DEATH(counter.add({"extra"}), "takes 0 label values");
}

TEST(MetricsRegistry, UpdatesFromManyThreadsAreAllCounted) {
    MetricsRegistry registry;
    MetricFamily& counter = registry.counter("demo_total", "Demo", {"thread"});
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < 1000; ++i) {
                counter.add({"all"});
                (void)registry.render();
            }
        });
    }
    for (auto& thread : threads) thread.join();
    EXPECT_EQ(counter.value({"all"}), 4000);
}

// Two certificates on HAProxy "edge" (two sockets), one also on "backup"; one CA account.
Config two_certificates() {
    Config config;
    config.accounts.push_back({.name = "pebble"});
    HaproxyTarget edge{.name = "edge"};
    edge.sockets.resize(2);
    edge.sockets[0].transport.address = "/run/haproxy/a.sock";
    edge.sockets[1].transport.address = "/run/haproxy/b.sock";
    HaproxyTarget backup{.name = "backup"};
    backup.sockets.resize(1);
    backup.sockets[0].transport.address = "127.0.0.1:9999";
    config.haproxies = {edge, backup};
    CertificateConfig site{.name = "site", .acme = "pebble"};
    site.placement.haproxy = {"edge"};
    CertificateConfig api{.name = "api", .acme = "pebble"};
    api.placement.haproxy = {"edge", "backup"};
    config.certificates = {site, api};
    return config;
}

class AgentMetricsTest : public ::testing::Test {
protected:
    AgentMetricsTest() { metrics_.configure(config_); }
    const CertificateConfig& site() const { return config_.certificates[0]; }
    const CertificateConfig& api() const { return config_.certificates[1]; }

    Config config_ = two_certificates();
    AgentMetrics metrics_{"0.1.0"};
};

TEST_F(AgentMetricsTest, StartsWithZeroedCountersForEveryCertificate) {
    const std::string text = metrics_.render();
    EXPECT_THAT(text, HasSubstr("certdock_build_info{version=\"0.1.0\"} 1\n"));
    EXPECT_THAT(text, HasSubstr("certdock_certificates 2\n"));
    EXPECT_THAT(text, HasSubstr("certdock_renewals_total{cert=\"site\",result=\"failed\"} 0\n"));
    EXPECT_THAT(text, HasSubstr("certdock_renewals_total{cert=\"api\",result=\"delivered\"} 0\n"));
    EXPECT_THAT(text,
                HasSubstr("certdock_deploy_failures_total{cert=\"api\",haproxy=\"backup\"} 0\n"));
    // Nothing is known about expiry before a state is observed.
    EXPECT_THAT(text, Not(HasSubstr("certdock_certificate_not_after_seconds")));
}

TEST_F(AgentMetricsTest, FollowsASequenceOfOutcomes) {
    // site: a first issue delivered.
    metrics_.observe_outcome(site(), {.result = RenewResult::kDelivered, .serial = "0a"});
    CertState state{.serial = "0a",
                    .not_after = at(1'800'000'000),
                    .next_renewal = at(1'797'000'000),
                    .last_success = at(1'790'000'000)};
    metrics_.observe(site(), state);
    // Then two failures: HAProxy b.sock refused, then only a probe.
    metrics_.observe_outcome(
        site(), {.result = RenewResult::kFailed,
                 .error = "not delivered: HAProxy /run/haproxy/b.sock: connection refused"});
    metrics_.observe_outcome(
        site(), {.result = RenewResult::kFailed,
                 .error = "not delivered: probe 127.0.0.1:443 (SNI a.test): serves serial 09, "
                          "not the new one"});
    state.consecutive_failures = 2;
    metrics_.observe(site(), state);
    // api: the CA refused; on two targets, the probe-only failure names none.
    metrics_.observe_outcome(api(), {.result = RenewResult::kFailed,
                                     .error = "not issued: urn:ietf:params:acme:error:rejected"});
    metrics_.observe_outcome(api(),
                             {.result = RenewResult::kFailed,
                              .error = "not delivered: HAProxy 127.0.0.1:9999: timeout; HAProxy "
                                       "/run/haproxy/a.sock: refused"});
    metrics_.observe_outcome(api(), {.result = RenewResult::kFailed,
                                     .error = "not delivered: probe [::1]:443: refused"});
    metrics_.observe_outcome(api(), {.result = RenewResult::kNotDue});
    metrics_.observe_scan(std::chrono::milliseconds(1500));

    const std::string text = metrics_.render();
    EXPECT_THAT(text, HasSubstr("certdock_renewals_total{cert=\"site\",result=\"delivered\"} 1\n"
                                "certdock_renewals_total{cert=\"site\",result=\"failed\"} 2\n"));
    EXPECT_THAT(text, HasSubstr("certdock_renewals_total{cert=\"api\",result=\"failed\"} 3\n"));
    EXPECT_THAT(text,
                HasSubstr("certdock_deploy_failures_total{cert=\"api\",haproxy=\"\"} 1\n"
                          "certdock_deploy_failures_total{cert=\"api\",haproxy=\"backup\"} 1\n"
                          "certdock_deploy_failures_total{cert=\"api\",haproxy=\"edge\"} 1\n"
                          "certdock_deploy_failures_total{cert=\"site\",haproxy=\"edge\"} 2\n"));
    EXPECT_THAT(text,
                HasSubstr("certdock_certificate_not_after_seconds{cert=\"site\"} 1800000000\n"));
    EXPECT_THAT(text,
                HasSubstr("certdock_certificate_next_renewal_seconds{cert=\"site\"} 1797000000\n"));
    EXPECT_THAT(text, HasSubstr("certdock_last_success_seconds{cert=\"site\"} 1790000000\n"));
    EXPECT_THAT(text, HasSubstr("certdock_consecutive_failures{cert=\"site\"} 2\n"));
    EXPECT_THAT(text, HasSubstr("certdock_scan_duration_seconds 1.5\n"));
}

TEST_F(AgentMetricsTest, AStateWithoutACertificateLeavesNoExpirySeries) {
    metrics_.observe(site(), {.not_after = at(1'800'000'000)});
    metrics_.observe(site(), {.consecutive_failures = 1});
    const std::string text = metrics_.render();
    EXPECT_THAT(text, Not(HasSubstr("certdock_certificate_not_after_seconds")));
    EXPECT_THAT(text, Not(HasSubstr("certdock_last_success_seconds")));
    EXPECT_THAT(text, HasSubstr("certdock_consecutive_failures{cert=\"site\"} 1\n"));
}

TEST_F(AgentMetricsTest, CountsAcmeRequestsByAccountAndStatus) {
    auto observer = metrics_.acme_observer("pebble");
    const Error refused(ErrorCategory::kNetwork, "connection refused");
    observer({.status = 200});
    observer({.status = 201});
    observer({.status = 201});
    observer({.status = 0, .error = &refused});
    const std::string text = metrics_.render();
    EXPECT_THAT(text, HasSubstr("certdock_acme_requests_total{acme=\"pebble\",status=\"200\"} 1\n"
                                "certdock_acme_requests_total{acme=\"pebble\",status=\"201\"} 2\n"
                                "certdock_acme_requests_total{acme=\"pebble\",status=\"error\"} "
                                "1\n"));
}

TEST_F(AgentMetricsTest, AReloadRemovesWhatIsNoLongerConfigured) {
    metrics_.observe(api(), {.not_after = at(1'800'000'000), .consecutive_failures = 0});
    metrics_.observe(site(), {.not_after = at(1'800'000'000)});
    metrics_.acme_observer("pebble")({.status = 200});

    Config reloaded = two_certificates();
    reloaded.accounts = {{.name = "other"}};
    reloaded.certificates.pop_back();  // api is gone
    reloaded.certificates[0].acme = "other";
    reloaded.certificates[0].placement.haproxy = {"backup"};  // site moved from edge
    metrics_.configure(reloaded);

    const std::string text = metrics_.render();
    EXPECT_THAT(text, Not(HasSubstr("cert=\"api\"")));
    EXPECT_THAT(text, Not(HasSubstr("acme=\"pebble\"")));
    EXPECT_THAT(text, Not(HasSubstr("haproxy=\"edge\"")));
    EXPECT_THAT(text, HasSubstr("certdock_certificates 1\n"));
    EXPECT_THAT(text,
                HasSubstr("certdock_certificate_not_after_seconds{cert=\"site\"} 1800000000\n"));
    EXPECT_THAT(text,
                HasSubstr("certdock_deploy_failures_total{cert=\"site\",haproxy=\"backup\"} 0\n"));
}

TEST_F(AgentMetricsTest, AReloadKeepsTheCountsOfCertificatesThatStay) {
    metrics_.observe_outcome(site(), {.result = RenewResult::kDelivered});
    metrics_.configure(two_certificates());
    EXPECT_THAT(metrics_.render(),
                HasSubstr("certdock_renewals_total{cert=\"site\",result=\"delivered\"} 1\n"));
}

}  // namespace
}  // namespace certdock::agent
