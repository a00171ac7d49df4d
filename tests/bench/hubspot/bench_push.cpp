// bench_hubspot_push: hubsync's push path (HubSpotCrm::upsert: chunks of
// 100, several requests in flight, the rate limiter) against the simulator
// at tier 190 per 10 s with 150-400 ms latency, side by side with the
// official Node client and its own limiter on the same simulator.
//
//   bench_hubspot_push [--n 100000] [--in-flight 8] [--latency-min 150]
//                      [--latency-max 400] [--tier 190] [--skip-node]
#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "connectors/hubspot/auth.h"
#include "connectors/hubspot/client.h"
#include "connectors/hubspot/curl_transport.h"
#include "connectors/hubspot/hubspot_crm.h"
#include "engine/ratelimit/clock.h"
#include "engine/ratelimit/rate_limiter.h"
#include "tests/hubspot-sim/simulator.h"

namespace {

using namespace hubsync;
using namespace std::chrono_literals;

struct Options {
  int n = 100'000;
  int in_flight = 8;
  int latency_min = 150;
  int latency_max = 400;
  int tier = 190;
  bool skip_node = false;
};

struct Row {
  std::string client;
  long long records = 0;
  long long failed = 0;
  double seconds = 0;
  long long requests = 0;  ///< as the simulator counted them
  long long r429 = 0;
};

long long sim_total(const sim::Simulator& s, const std::string& route) {
  long long n = 0;
  const auto c = s.counters();
  if (auto it = c.requests.find(route); it != c.requests.end())
    for (const auto& [st, k] : it->second) n += k;
  return n;
}

Row run_hubsync(sim::Simulator& s, const Options& o) {
  ratelimit::SystemClock clock;
  hubspot::CurlTransport transport;
  hubspot::PrivateAppToken token(sim::kHubsyncToken);
  ratelimit::RateLimiter limiter(clock, {.burst_limit = o.tier});
  hubspot::ClientConfig cfg;
  cfg.base_url = s.base_url();
  cfg.in_flight = o.in_flight;
  auto log = std::make_shared<spdlog::logger>("bench", std::make_shared<spdlog::sinks::null_sink_mt>());
  hubspot::HubSpotClient client(transport, token, limiter, clock, cfg, log);
  hubspot::HubSpotCrm crm(client);

  std::vector<pipeline::UpsertInput> in;
  in.reserve(static_cast<std::size_t>(o.n));
  for (int i = 0; i < o.n; ++i) {
    const std::string email = "cpp" + std::to_string(i) + "@example.com";
    in.push_back({email, {{"email", model::Value::text(email)}, {"firstname", model::Value::text("Cpp")}}});
  }
  const auto t0 = std::chrono::steady_clock::now();
  auto r = crm.upsert("contacts", "email", in);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  Row row{"hubsync (C++, HubSpotCrm)", 0, 0, secs, 0, 0};
  if (!r.ok()) {
    std::fprintf(stderr, "hubsync run failed: %s\n", r.error().message.c_str());
    row.failed = o.n;
  } else {
    for (const auto& out : *r) (out.ok() ? row.records : row.failed)++;
  }
  const auto c = client.counters();
  std::fprintf(stderr, "hubsync: attempts=%lld retries=%lld 429s=%lld limiter_waited=%lld external_seen=%lld\n",
               static_cast<long long>(c.attempts), static_cast<long long>(c.retries()),
               static_cast<long long>(c.responses_429), static_cast<long long>(limiter.stats().waited),
               static_cast<long long>(limiter.stats().external_seen));
  return row;
}

Row run_node(sim::Simulator& s, const Options& o, const std::string& source_dir) {
  Row row{"@hubspot/api-client 13.5.0", 0, 0, 0, 0, 0};
  // The pinned client lives where the conformance fixture installs it (the
  // build tree); install it there first when the suite has not run yet.
  const std::string npm_dir = HUBSYNC_NPM_DIR;
  const std::string install = "test -d '" + npm_dir + "/node_modules/@hubspot/api-client' || (cd '" +
                              npm_dir + "' && npm ci --no-audit --no-fund --prefer-offline >/dev/null 2>&1)";
  if (std::system(install.c_str()) != 0) std::fprintf(stderr, "npm ci in %s failed\n", npm_dir.c_str());
  const std::string cmd = "node '" + source_dir + "/tests/bench/hubspot/node_push.js' '" + s.base_url() + "' '" +
                          sim::kHubsyncToken + "' " + std::to_string(o.n) + " '" + npm_dir + "'";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) {
    std::fprintf(stderr, "cannot run node\n");
    row.failed = o.n;
    return row;
  }
  std::string out;
  std::array<char, 4096> buf{};
  while (std::fgets(buf.data(), buf.size(), p)) out += buf.data();
  const int rc = ::pclose(p);
  double ms = 0;
  long long records = 0, failed = 0;
  const char* j = std::strstr(out.c_str(), "{\"records\"");
  if (rc != 0 || !j ||
      std::sscanf(j, "{\"records\":%lld,\"failed\":%lld,\"elapsed_ms\":%lf", &records, &failed, &ms) != 3) {
    std::fprintf(stderr, "node baseline failed (rc=%d): %s\n", rc, out.c_str());
    row.failed = o.n;
    return row;
  }
  row.records = records;
  row.failed = failed;
  row.seconds = ms / 1000.0;
  return row;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&] { return i + 1 < argc ? std::atoi(argv[++i]) : 0; };
    if (a == "--n") o.n = next();
    else if (a == "--in-flight") o.in_flight = next();
    else if (a == "--latency-min") o.latency_min = next();
    else if (a == "--latency-max") o.latency_max = next();
    else if (a == "--tier") o.tier = next();
    else if (a == "--skip-node") o.skip_node = true;
    else {
      std::fprintf(stderr, "usage: %s [--n N] [--in-flight K] [--latency-min ms] [--latency-max ms] [--tier T] [--skip-node]\n", argv[0]);
      return 2;
    }
  }
  const char* src = std::getenv("HUBSYNC_SOURCE_DIR");
  const std::string source_dir = src ? src : HUBSYNC_SOURCE_DIR_DEFAULT;

  sim::SimulatorOptions so;
  so.tier = o.tier;
  so.latency_min_ms = o.latency_min;
  so.latency_max_ms = o.latency_max;
  so.threads = 4;
  so.index_lag_ms = 0;
  sim::Simulator s(so);
  s.start();
  const std::string route = "POST /crm/v3/objects/{type}/batch/upsert";

  std::vector<Row> rows;
  s.reset();
  rows.push_back(run_hubsync(s, o));
  rows.back().requests = sim_total(s, route);
  rows.back().r429 = s.counters().rate_limited;

  if (!o.skip_node) {
    s.reset();  // fresh records and rate windows for the baseline
    rows.push_back(run_node(s, o, source_dir));
    rows.back().requests = sim_total(s, route);
    rows.back().r429 = s.counters().rate_limited;
  }
  s.stop();

  const double bound = o.tier * 100.0 / 10.0;  // records/s at batches of 100
  std::printf("\nbench_hubspot_push: N=%d contacts, batches of 100, tier %d/10 s (bound %.0f records/s), latency %d-%d ms, hubsync in-flight %d\n\n",
              o.n, o.tier, bound, o.latency_min, o.latency_max, o.in_flight);
  std::printf("| %-28s | %8s | %6s | %8s | %10s | %15s | %5s | %8s |\n", "client", "records", "failed", "seconds",
              "records/s", "fraction of bnd", "429s", "requests");
  std::printf("|%s|%s|%s|%s|%s|%s|%s|%s|\n", std::string(30, '-').c_str(), std::string(10, '-').c_str(),
              std::string(8, '-').c_str(), std::string(10, '-').c_str(), std::string(12, '-').c_str(),
              std::string(17, '-').c_str(), std::string(7, '-').c_str(), std::string(10, '-').c_str());
  for (const auto& r : rows) {
    const double rate = r.seconds > 0 ? static_cast<double>(r.records) / r.seconds : 0;
    std::printf("| %-28s | %8lld | %6lld | %8.1f | %10.0f | %15.3f | %5lld | %8lld |\n", r.client.c_str(), r.records,
                r.failed, r.seconds, rate, rate / bound, r.r429, r.requests);
  }
  if (rows.size() == 2 && rows[1].seconds > 0 && rows[0].seconds > 0) {
    const double a = rows[0].records / rows[0].seconds, b = rows[1].records / rows[1].seconds;
    std::printf("\nhubsync / node throughput ratio: %.2fx\n", b > 0 ? a / b : 0.0);
  }
  std::printf("\nNote: a rolling 10-s window admits a full window's burst at the start, so a\n"
              "run of a few windows can exceed the long-run bound slightly.\n");
  return rows[0].failed == 0 ? 0 : 1;
}
