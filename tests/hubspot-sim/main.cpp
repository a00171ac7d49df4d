// hubspot-sim: the simulator as a standalone server.
#include <CLI/CLI.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <csignal>
#include <cstdio>
#include <iostream>

#include "tests/hubspot-sim/simulator.h"

#ifdef HUBSPOT_SIM_JEMALLOC
#include <jemalloc/jemalloc.h>
#endif

namespace {

// The allocator this binary runs on, for --version and bench_sim: jemalloc
// as it reports itself, or the system's (glibc's, or a sanitizer's).
std::string allocator_name() {
#ifdef HUBSPOT_SIM_JEMALLOC
  const char* version = nullptr;
  std::size_t len = sizeof(version);
  if (mallctl("version", &version, &len, nullptr, 0) == 0 && version) {
    std::string v = version;  // "5.3.0-0-g<commit>": the release is enough
    return "jemalloc " + v.substr(0, v.find('-'));
  }
  return "jemalloc (version unknown)";
#else
  return "system malloc";
#endif
}

int wait_for_signal() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  int sig = 0;
  sigwait(&set, &sig);
  return sig;
}

}  // namespace

int main(int argc, char** argv) {
  // Block the signals in every thread; main waits for them synchronously.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);

  hubsync::sim::SimulatorOptions o;
  CLI::App app{"hubspot-sim: a local HubSpot API simulator"};
  app.set_version_flag("--version", "hubspot-sim (allocator: " + allocator_name() + ")");
  int port = 0;
  std::vector<std::string> tokens;
  std::vector<std::string> subscriptions;
  std::string latency;
  bool no_limits = false;
  std::string log_level = "info";
  app.add_option("--port", port, "port on 127.0.0.1 (0: any)");
  app.add_option("--portal-id", o.portal_id, "portal (hub) id");
  app.add_option("--tier", o.tier, "requests per rolling 10 s (100/110/190/250)");
  app.add_option("--daily-limit", o.daily_limit, "requests per day");
  app.add_flag("--no-rate-limit", no_limits, "never answer 429 for limits");
  app.add_flag("--retry-after", o.retry_after, "send Retry-After on limit 429s");
  app.add_option("--index-lag-ms", o.index_lag_ms, "search index lag");
  app.add_option("--oauth-expires-in", o.oauth_expires_in_s, "OAuth access token lifetime, seconds");
  app.add_option("--token", tokens, "private app token TOKEN:APPID (repeatable; replaces the defaults)");
  app.add_option("--client-id", o.oauth_client_id, "OAuth client id");
  app.add_option("--client-secret", o.oauth_client_secret, "OAuth client secret");
  app.add_option("--webhook-target", o.webhook_target, "URL receiving webhook batches");
  app.add_option("--subscribe", subscriptions,
                 "webhook subscription EVENT[:PROPERTY] e.g. contact.propertyChange:email, "
                 "company.*, object.creation:2-1 (repeatable)");
  app.add_option("--webhook-secret", o.webhook_secret, "signing secret (default: client secret)");
  app.add_option("--webhook-time-compression", o.webhook_time_compression,
                 "divide webhook and custom action retry delays");
  app.add_option("--developer-api-key", o.developer_api_key,
                 "hapikey of the developer account (automation actions definitions API)");
  app.add_option("--action-timeout-ms", o.action_timeout_ms,
                 "custom workflow action calls: answer time before a call counts as lost and is retried");
  app.add_option("--action-max-attempts", o.action_max_attempts, "custom workflow action calls: attempts per execution");
  app.add_option("--snapshot", o.snapshot_file, "state file loaded at start, saved at exit");
  app.add_option("--threads", o.threads, "request handler threads (one more thread does the HTTP I/O)");
  app.add_option("--latency", latency, "latency MIN-MAX ms added to API responses");
  app.add_option("--log-level", log_level, "stderr log level: debug (every request), info, warn, off");
  try {
    app.parse(argc, argv);
    o.port = static_cast<std::uint16_t>(port);
    o.rate_limits = !no_limits;
    if (!tokens.empty()) {
      o.tokens.clear();
      for (const auto& t : tokens) {
        auto colon = t.rfind(':');
        if (colon == std::string::npos) throw CLI::ValidationError("--token", "expected TOKEN:APPID");
        o.tokens.push_back({t.substr(0, colon), std::stoll(t.substr(colon + 1))});
      }
    }
    if (!latency.empty()) {
      auto dash = latency.find('-');
      o.latency_min_ms = std::stoi(latency.substr(0, dash));
      o.latency_max_ms = dash == std::string::npos ? o.latency_min_ms : std::stoi(latency.substr(dash + 1));
    }
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const std::exception& e) {
    std::cerr << "hubspot-sim: " << e.what() << "\n";
    return 2;
  }
  try {
    o.logger = spdlog::stderr_color_mt("hubspot-sim");
    o.logger->set_level(spdlog::level::from_str(log_level));
    hubsync::sim::Simulator sim(o);
    for (const auto& s : subscriptions) {
      hubsync::sim::WebhookSubscription sub;
      auto colon = s.find(':');
      sub.event_type = s.substr(0, colon);
      std::string filter = colon == std::string::npos ? "" : s.substr(colon + 1);
      if (sub.event_type.rfind("object.", 0) == 0) sub.object_type_id = filter;
      else sub.property_name = filter;
      sim.add_webhook_subscription(sub);
    }
    sim.start();
    std::cout << "hubspot-sim listening on " << sim.base_url() << std::endl;
    wait_for_signal();
    sim.stop();
  } catch (const std::exception& e) {
    std::cerr << "hubspot-sim: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
