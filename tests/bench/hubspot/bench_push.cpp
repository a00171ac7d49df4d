// bench_hubspot_push: hubsync's push path (HubSpotCrm::upsert: chunks of
// 100, several requests in flight, the rate limiter) against the simulator
// at tier 190 per 10 s with 150-400 ms latency, side by side with the
// official Node client and its own limiter on the same simulator.
// With --other-share F, a third run: another integration on the same portal
// (the simulator's second private app, pat-sim-other) spends F of the
// portal's 10-s burst budget in cheap GETs spread evenly, starting one
// window before hubsync, which learns of it only from
// X-HubSpot-RateLimit-Remaining and 429s; hubsync's records/s against what
// is left ((1 - F) x the bound), its 429s and the other app's.
// Ends with `RESULT key=value unit=...` lines for tests/bench/run_all.sh.
//
//   bench_hubspot_push [--n 100000] [--in-flight 8] [--latency-min 150]
//                      [--latency-max 400] [--tier 190] [--skip-node]
//                      [--other-share 0.3] [--shared-n N]
#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "connectors/hubspot/auth.h"
#include "connectors/hubspot/client.h"
#include "connectors/hubspot/curl_transport.h"
#include "connectors/hubspot/hubspot_crm.h"
#include "engine/ratelimit/clock.h"
#include "engine/ratelimit/rate_limiter.h"
#include "tests/bench/hubspot/other_app.h"
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
  double other_share = 0;  ///< 0: no shared-budget run
  int shared_n = 0;        ///< records pushed in the shared-budget run; 0: n
};

struct Row {
  std::string client;
  long long records = 0;
  long long failed = 0;
  double seconds = 0;
  long long requests = 0;  ///< as the simulator counted them
  long long r429 = 0;
  // hubsync's runs only: the client's own 429s (the simulator's count also
  // holds the other app's), what its limiter inferred of other apps, the
  // limiter's effective burst limit, and records answered per whole 10-s
  // window after the first (a rolling window admits a whole burst at the
  // start, so a short run's overall rate overstates the long-run one).
  long long client_429 = 0, others_used = 0;
  int burst_limit = 0;
  int shared_limit = 0;
  // What the limiter lets hubsync send per window beside `other` requests.
  int ceiling_beside(int other) const { return std::min(burst_limit, shared_limit - other); }
  std::chrono::steady_clock::time_point started;
  std::vector<long long> per_window;
  double steady() const {  ///< records/s over per_window; 0 when empty
    long long sum = 0;
    for (auto n : per_window) sum += n;
    return per_window.empty() ? 0 : static_cast<double>(sum) / (10.0 * static_cast<double>(per_window.size()));
  }
};

// The transport hubsync's client uses, stamping each answered batch/upsert
// (records counted from its body) with the time its answer came.
class StampedTransport final : public hubspot::HttpTransport {
 public:
  explicit StampedTransport(hubspot::HttpTransport& inner) : inner_(inner) {}
  model::Result<hubspot::HttpResponse> send(const hubspot::HttpRequest& request) override {
    auto r = inner_.send(request);
    if (r.ok() && r->status == 429) {
      std::lock_guard lock(mu_);
      refused_.push_back(std::chrono::steady_clock::now());
    }
    if (r.ok() && r->status / 100 == 2 && request.url.find("/batch/upsert") != std::string::npos) {
      long long records = 0;
      for (auto at = request.body.find("\"idProperty\""); at != std::string::npos;
           at = request.body.find("\"idProperty\"", at + 1))
        ++records;
      std::lock_guard lock(mu_);
      done_.emplace_back(std::chrono::steady_clock::now(), records);
    }
    return r;
  }
  // Records answered in each whole 10-s window from `t0`, the first (the
  // start burst) and the last partial one left out.
  std::vector<long long> per_window(std::chrono::steady_clock::time_point t0,
                                    std::chrono::steady_clock::time_point end) const {
    std::lock_guard lock(mu_);
    const auto whole = static_cast<std::size_t>(std::chrono::duration<double>(end - t0).count() / 10.0);
    std::vector<long long> n(whole, 0);
    for (const auto& [at, records] : done_) {
      const auto w = static_cast<std::size_t>(std::chrono::duration<double>(at - t0).count() / 10.0);
      if (w < whole) n[w] += records;
    }
    if (!n.empty()) n.erase(n.begin());
    return n;
  }
  std::vector<std::chrono::steady_clock::time_point> refused() const {
    std::lock_guard lock(mu_);
    return refused_;
  }

 private:
  hubspot::HttpTransport& inner_;
  mutable std::mutex mu_;
  std::vector<std::pair<std::chrono::steady_clock::time_point, long long>> done_;
  std::vector<std::chrono::steady_clock::time_point> refused_;
};

// "0.8 s, 12.3 s": when each 429 came, from `t0`.
std::string times_since(std::chrono::steady_clock::time_point t0,
                        const std::vector<std::chrono::steady_clock::time_point>& at) {
  std::string out;
  for (const auto& t : at) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%s%.1f s", out.empty() ? "" : ", ", std::chrono::duration<double>(t - t0).count());
    out += buf;
  }
  return out.empty() ? "none" : out;
}

long long sim_total(const sim::Simulator& s, const std::string& route) {
  long long n = 0;
  const auto c = s.counters();
  if (auto it = c.requests.find(route); it != c.requests.end())
    for (const auto& [st, k] : it->second) n += k;
  return n;
}

Row run_hubsync(sim::Simulator& s, const Options& o, const std::string& name, int n) {
  ratelimit::SystemClock clock;
  hubspot::CurlTransport curl;
  StampedTransport transport(curl);
  hubspot::PrivateAppToken token(sim::kHubsyncToken);
  ratelimit::RateLimiter limiter(clock, {.burst_limit = o.tier});
  hubspot::ClientConfig cfg;
  cfg.base_url = s.base_url();
  cfg.in_flight = o.in_flight;
  auto log = std::make_shared<spdlog::logger>("bench", std::make_shared<spdlog::sinks::null_sink_mt>());
  hubspot::HubSpotClient client(transport, token, limiter, clock, cfg, log);
  hubspot::HubSpotCrm crm(client);

  std::vector<pipeline::UpsertInput> in;
  in.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    const std::string email = "cpp" + std::to_string(i) + "@example.com";
    in.push_back({email, {{"email", model::Value::text(email)}, {"firstname", model::Value::text("Cpp")}}});
  }
  const auto t0 = std::chrono::steady_clock::now();
  auto r = crm.upsert("contacts", "email", in);
  const auto t1 = std::chrono::steady_clock::now();
  const double secs = std::chrono::duration<double>(t1 - t0).count();
  Row row;
  row.client = name;
  row.seconds = secs;
  if (!r.ok()) {
    std::fprintf(stderr, "hubsync run failed: %s\n", r.error().message.c_str());
    row.failed = n;
  } else {
    for (const auto& out : *r) (out.ok() ? row.records : row.failed)++;
  }
  const auto c = client.counters();
  row.client_429 = c.responses_429;
  row.others_used = limiter.stats().others_used;
  row.burst_limit = limiter.stats().burst_limit;
  row.shared_limit = limiter.stats().shared_limit;
  row.per_window = transport.per_window(t0, t1);
  std::fprintf(stderr, "%s: records answered per whole 10-s window after the first:", name.c_str());
  for (auto w : row.per_window) std::fprintf(stderr, " %lld", w);
  std::fprintf(stderr, "\n%s: 429s at %s from its start", name.c_str(), times_since(t0, transport.refused()).c_str());
  row.started = t0;
  std::fprintf(stderr, "\n%s: attempts=%lld retries=%lld 429s=%lld limiter_waited=%lld others_used=%lld\n",
               name.c_str(), static_cast<long long>(c.attempts), static_cast<long long>(c.retries()),
               static_cast<long long>(c.responses_429), static_cast<long long>(limiter.stats().waited),
               static_cast<long long>(limiter.stats().others_used));
  return row;
}

Row run_node(sim::Simulator& s, const Options& o, const std::string& source_dir) {
  Row row;
  row.client = "@hubspot/api-client 13.5.0";
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
    else if (a == "--other-share" && i + 1 < argc) o.other_share = std::atof(argv[++i]);
    else if (a == "--shared-n") o.shared_n = next();
    else {
      std::fprintf(stderr, "usage: %s [--n N] [--in-flight K] [--latency-min ms] [--latency-max ms] [--tier T] [--skip-node]"
                   " [--other-share F] [--shared-n N]\n", argv[0]);
      return 2;
    }
  }
  if (o.other_share < 0 || o.other_share >= 1) {
    std::fprintf(stderr, "--other-share takes a fraction in [0, 1)\n");
    return 2;
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
  rows.push_back(run_hubsync(s, o, "hubsync (C++, HubSpotCrm)", o.n));
  rows.back().requests = sim_total(s, route);
  rows.back().r429 = s.counters().rate_limited;

  if (!o.skip_node) {
    s.reset();  // fresh records and rate windows for the baseline
    rows.push_back(run_node(s, o, source_dir));
    rows.back().requests = sim_total(s, route);
    rows.back().r429 = s.counters().rate_limited;
  }

  // The shared budget: the other app runs one window alone first, so the
  // portal's window already holds its share when hubsync starts.
  const int other_per_window = static_cast<int>(std::lround(o.other_share * o.tier));
  const int shared_n = o.shared_n > 0 ? o.shared_n : o.n;
  Row shared;
  bench::OtherApp::Counts other;
  double other_seconds = 0;
  if (other_per_window > 0) {
    s.reset();
    bench::OtherApp app(s.base_url(), sim::kOtherToken, other_per_window, 10'000ms);
    app.start();
    std::this_thread::sleep_for(10s);
    const auto before = app.counts();
    const auto t0 = std::chrono::steady_clock::now();
    shared = run_hubsync(s, o, "hubsync, other app beside", shared_n);
    other_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    other = app.counts() - before;
    app.stop();
    std::fprintf(stderr, "other app: 429s at %s from hubsync's start\n", times_since(shared.started, app.refused()).c_str());
    shared.requests = sim_total(s, route);
    shared.r429 = s.counters().rate_limited;
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
  const Row& h = rows[0];
  if (!h.per_window.empty())
    std::printf("hubsync past its first window: %.0f records/s (%.3f of the bound) over %zu whole 10-s windows\n",
                h.steady(), h.steady() / bound, h.per_window.size());

  const double left = bound * (1.0 - static_cast<double>(other_per_window) / o.tier);
  if (other_per_window > 0) {
    const double rate = shared.seconds > 0 ? static_cast<double>(shared.records) / shared.seconds : 0;
    const double other_share = other_seconds > 0 ? static_cast<double>(other.ok) * 10.0 / other_seconds / o.tier : 0;
    // The most hubsync's limiter lets itself send once it has counted the
    // other app's requests: its effective limit (after headroom) less them.
    const double ceiling = static_cast<double>(shared.ceiling_beside(other_per_window)) /
                           static_cast<double>(o.tier - other_per_window);
    std::printf("\nShared budget: another app (%s, app %lld) sends %d GETs per 10 s (%.0f%% of %d), evenly spaced,"
                " from one window before hubsync starts; left for hubsync: %d per 10 s = %.0f records/s\n\n",
                sim::kOtherToken, static_cast<long long>(sim::kOtherAppId), other_per_window,
                100.0 * other_per_window / o.tier, o.tier, o.tier - other_per_window, left);
    std::printf("| client | records | failed | seconds | records/s | of what is left | past first window: records/s, of left"
                " | hubsync 429s | other app: requests, 429s | other app's share, measured | the other app's use of a window, as hubsync's limiter last saw it |\n"
                "|---|---|---|---|---|---|---|---|---|---|---|\n");
    std::printf("| hubsync (C++, HubSpotCrm) | %lld | %lld | %.1f | %.0f | **%.3f** | %.0f, %.3f | **%lld** | %lld, **%lld** | %.3f | %lld |\n",
                shared.records, shared.failed, shared.seconds, rate, rate / left, shared.steady(),
                shared.steady() / left, shared.client_429, static_cast<long long>(other.sent),
                static_cast<long long>(other.r429), other_share, shared.others_used);
    std::printf("\nhubsync's limiter: effective burst limit %d of %d (headroom) alone, %d with others seen; once it has"
                " counted the other app's %d, it can send at most %d per 10 s: %.3f of what is left. Goal: >= 0.95 of"
                " what is left, no 429.\n",
                shared.burst_limit, o.tier, shared.shared_limit, other_per_window,
                shared.ceiling_beside(other_per_window), ceiling);
    if (other.failed) std::printf("other app: %lld requests failed (neither 2xx nor 429)\n", static_cast<long long>(other.failed));
  }

  // Machine-readable figures for tests/bench/run_all.sh.
  auto result = [](const char* key, double v, const char* unit) { std::printf("RESULT %s=%.6g unit=%s\n", key, v, unit); };
  std::printf("\n");
  const double h_rate = h.seconds > 0 ? h.records / h.seconds : 0;
  result("push.hubsync.records_per_s", h_rate, "records/s");
  result("push.hubsync.of_bound", h_rate / bound, "ratio");
  result("push.hubsync.429s", static_cast<double>(h.client_429), "count");
  result("push.hubsync.failed", static_cast<double>(h.failed), "records");
  result("push.hubsync.n", h.records + h.failed, "records");
  if (!h.per_window.empty()) result("push.hubsync.steady_records_per_s", h.steady(), "records/s");
  if (rows.size() == 2) {
    const Row& nd = rows[1];
    const double n_rate = nd.seconds > 0 ? nd.records / nd.seconds : 0;
    result("push.node.records_per_s", n_rate, "records/s");
    result("push.node.of_bound", n_rate / bound, "ratio");
    result("push.node.429s", static_cast<double>(nd.r429), "count");
    result("push.node.failed", static_cast<double>(nd.failed), "records");
    if (n_rate > 0) result("push.hubsync_over_node", h_rate / n_rate, "x");
  }
  if (other_per_window > 0) {
    const double rate = shared.seconds > 0 ? shared.records / shared.seconds : 0;
    result("push.shared.records_per_s", rate, "records/s");
    result("push.shared.left_records_per_s", left, "records/s");
    result("push.shared.of_left", rate / left, "ratio");
    if (!shared.per_window.empty()) {
      result("push.shared.steady_of_left", shared.steady() / left, "ratio");
      result("push.shared.busiest_window_requests",
             static_cast<double>(*std::max_element(shared.per_window.begin(), shared.per_window.end())) / 100.0,
             "requests");
    }
    result("push.shared.other_per_window", other_per_window, "requests");
    result("push.shared.hubsync_429s", static_cast<double>(shared.client_429), "count");
    result("push.shared.other_429s", static_cast<double>(other.r429), "count");
    result("push.shared.other_requests", static_cast<double>(other.sent), "count");
    result("push.shared.other_share", other_seconds > 0 ? other.ok * 10.0 / other_seconds / o.tier : 0, "ratio");
    result("push.shared.failed", static_cast<double>(shared.failed), "records");
    result("push.shared.n", shared.records + shared.failed, "records");
    result("push.shared.limiter_ceiling_of_left",
           static_cast<double>(shared.ceiling_beside(other_per_window)) / (o.tier - other_per_window), "ratio");
  }
  return rows[0].failed == 0 && shared.failed == 0 ? 0 : 1;
}
