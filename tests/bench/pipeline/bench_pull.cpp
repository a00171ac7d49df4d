// Benchmark (not a test): the pull pipeline (HubSpot -> Postgres), driven
// in-process as `hubsync run` drives it, against the simulator running as
// its own process and a real PostgreSQL, so the CPU time and RSS printed
// are hubsync's alone (not the simulator's, not the server's).
//
//   bench_pull [--objects 100000] [--no-index-objects 10000]
//              [--latency-objects 20000] [--latency 150-400] [--skip-latency]
//              [--synced 10000] [--changes HS,PG,BOTH,DELETED] [--skip-changes]
//              [--rerun-at-once]
//
// 1. Backfill of N contacts into an empty table, latency and limits off:
//    objects/s, CPU s per 10,000, peak RSS (also at N/10, to show whether
//    memory grows with N; and without the index on lower(btrim(email)) that the
//    match lookup needs, at --no-index-objects (default N/10), to show
//    what it costs).
// 2. The same at HubSpot's search limit (5/s x 200 = 1,000 objects/s) with
//    150-400 ms latency (--latency) and hubsync's default limiter, on fewer objects
//    modified over an hour: the sweep's windows side by side (shipped)
//    against one window, in the same run.
// 3. A two-way change set on synced contacts (pull, then push), API calls
//    per changed object by kind against the ideal; then a no-op rerun (1 s
//    later, or inside the search index lag with --rerun-at-once).
// Every table is printed as Markdown, ready for BENCHMARKS.md; each
// scenario ends with `RESULT key=value unit=...` lines for
// tests/bench/run_all.sh.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "engine/ops/logging.h"
#include "tests/bench/pipeline/bench_pull.h"
#include "tests/bench/pipeline/pull_stack.h"
#include "tests/bench/support/bench_support.h"

namespace hubsync::bench {
namespace {

using std::chrono::steady_clock;

struct Backfill {
  std::int64_t objects = 0;
  double seconds = 0, cpu = 0, sim_cpu = 0;
  double hubspot_seconds = 0;  ///< of `seconds`, waiting for HubSpot (the simulator)
  long rss_before = 0, peak_rss = 0;
  SimCounters calls;
  std::int64_t client_429 = 0, client_retries = 0;
  pipeline::PullStats stats;
  // A second pull right after, nothing changed in between.
  // Writes as the simulator and the table count them, not hubsync's stats.
  std::int64_t again_read = 0, again_searches = 0, again_hubspot_writes = 0, again_pg_writes = 0;
  double again_seconds = 0;
};

enum class Seeding {
  seed_knob,       ///< the simulator's seed: 100 per write, runs of equal modified times
  own_time_each,   ///< one import per contact, modified times a second apart
  hourly_runs,     ///< imports of 100 alike, a minute apart, the newest 5 minutes old
};

// Creates `n` contacts in a fresh simulator and pulls them into an empty
// table; with `pull_again`, pulls once more at once (nothing changed).
Backfill backfill(const std::string& server, int n, const std::vector<std::string>& sim_args,
                  std::optional<ratelimit::LimiterConfig> limits, bool pull_again,
                  Seeding seeding = Seeding::seed_knob, bool match_index = true,
                  int windows = pipeline::PullOptions{}.sweep_windows) {
  SimProcess sim(sim_args);
  const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch()).count();
  if (seeding == Seeding::seed_knob) sim.seed_contacts(n);
  else if (seeding == Seeding::own_time_each) sim.import_contacts(n, 1, now_ms - 60'000, 1000);
  else sim.import_contacts(n, 100, now_ms - 300'000, 60'000);
  std::this_thread::sleep_for(std::chrono::seconds(1));  // search shows writes 300 ms late
  PullStack stack(server, sim.url(), limits, match_index);
  sim.reset_counters();
  Backfill b;
  b.rss_before = rss_mib();
  if (!reset_peak_rss()) std::fprintf(stderr, "cannot reset the peak RSS: figures are since start\n");
  const double cpu0 = cpu_seconds(), sim_cpu0 = sim.cpu_seconds();
  const auto t0 = steady_clock::now();
  b.stats = stack.pull(windows);
  b.seconds = std::chrono::duration<double>(steady_clock::now() - t0).count();
  b.hubspot_seconds = stack.crm->seconds();
  b.cpu = cpu_seconds() - cpu0;
  b.sim_cpu = sim.cpu_seconds() - sim_cpu0;
  b.peak_rss = peak_rss_mib();
  b.calls = sim.counters();
  const auto client = stack.hubspot->client.counters();
  b.client_429 = client.responses_429;
  b.client_retries = client.retries();
  b.objects = b.stats.created;
  const std::string rows = stack.db.scalar("SELECT count(*) FROM people");
  if (b.stats.created != n || rows != std::to_string(n))
    throw std::runtime_error("backfill of " + std::to_string(n) + " created " + std::to_string(b.stats.created) +
                             " rows, table holds " + rows + " (" + pull_line(b.stats) + ")");
  if (!pull_again) return b;
  sim.reset_counters();
  const auto mark = stack.pg_mark();
  const auto t1 = steady_clock::now();
  const auto again = stack.pull();
  b.again_seconds = std::chrono::duration<double>(steady_clock::now() - t1).count();
  b.again_read = again.read;
  const SimCounters again_calls = sim.counters();
  b.again_searches = again_calls.calls("/search");
  b.again_hubspot_writes = again_calls.write_requests() + again_calls.inputs_written;
  b.again_pg_writes = stack.pg_writes_since(mark);
  return b;
}

void result(const std::string& key, double v, const char* unit) {
  std::printf("RESULT %s=%.6g unit=%s\n", key.c_str(), v, unit);
}

std::string calls_by_route(const SimCounters& c) {
  std::string out;
  for (const auto& [route, n] : c.requests)
    out += (out.empty() ? "" : ", ") + route.substr(route.find(' ') + 1) + " " + grouped(n);
  return out.empty() ? "none" : out;
}

void scenario_unlimited(const std::string& server, int n, int no_index) {
  ratelimit::LimiterConfig unlimited;
  unlimited.burst_limit = 1'000'000;
  unlimited.search_limit = 1'000'000;
  unlimited.learn_from_headers = false;
  const std::vector<std::string> args{"--no-rate-limit", "--threads", "2", "--log-level", "warn"};
  const int small = std::max(1, n / 10);
  const double load0 = load_average();
  Backfill a = backfill(server, small, args, unlimited, true);
  Backfill b = backfill(server, n, args, unlimited, false);
  Backfill c = backfill(server, small, args, unlimited, true, Seeding::own_time_each);
  Backfill d = backfill(server, no_index, args, unlimited, false, Seeding::seed_knob, false);
  std::printf("\n### 1. Backfill, latency and limits off (load average %.2f -> %.2f)\n\n", load0, load_average());
  std::printf("Seeded: the simulator's seed knob (100 contacts per write, so runs of equal last-modified times),"
              " or one import per contact with modified times a second apart (the third column). The last"
              " column is the first without the index on lower(btrim(email)) the match lookup needs.\n\n");
  std::printf("| metric | %s objects | %s objects | %s objects, each its own modified time |"
              " %s objects, no index on lower(btrim(email)) |\n|---|---|---|---|---|\n",
              grouped(small).c_str(), grouped(n).c_str(), grouped(small).c_str(), grouped(no_index).c_str());
  auto row = [&](const char* name, auto f) {
    std::printf("| %s | %s | %s | %s | %s |\n", name, f(a).c_str(), f(b).c_str(), f(c).c_str(), f(d).c_str());
  };
  auto fmt = [](const char* f, double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, f, v);
    return std::string(buf);
  };
  row("objects/s applied", [&](const Backfill& x) { return grouped(static_cast<std::int64_t>(x.objects / x.seconds)); });
  row("wall seconds", [&](const Backfill& x) { return fmt("%.1f", x.seconds); });
  row("of which waiting for HubSpot (the simulator)", [&](const Backfill& x) {
    return fmt("%.0f%%", 100 * x.hubspot_seconds / x.seconds);
  });
  row("objects/s of hubsync's own time (wall less that wait)", [&](const Backfill& x) {
    return grouped(static_cast<std::int64_t>(x.objects / (x.seconds - x.hubspot_seconds)));
  });
  row("CPU seconds per 10,000 objects (hubsync)", [&](const Backfill& x) { return fmt("%.3f", x.cpu / x.objects * 10000); });
  row("hubsync CPU, cores", [&](const Backfill& x) { return fmt("%.2f", x.cpu / x.seconds); });
  row("simulator CPU, cores", [&](const Backfill& x) { return fmt("%.2f", x.sim_cpu / x.seconds); });
  row("simulator CPU per search page (ms)", [&](const Backfill& x) {
    return fmt("%.1f", 1000 * x.sim_cpu / static_cast<double>(std::max<std::int64_t>(1, x.calls.calls("/search"))));
  });
  row("RSS before the pull (MiB)", [&](const Backfill& x) { return grouped(x.rss_before); });
  row("peak RSS during the pull (MiB)", [&](const Backfill& x) { return grouped(x.peak_rss); });
  row("search pages", [&](const Backfill& x) { return grouped(x.calls.calls("/search")); });
  row("objects per search page (ideal 200)", [&](const Backfill& x) {
    return fmt("%.1f", static_cast<double>(x.objects) / static_cast<double>(std::max<std::int64_t>(1, x.calls.calls("/search"))));
  });
  row("other API calls", [&](const Backfill& x) { return grouped(x.calls.total() - x.calls.calls("/search")); });
  for (const Backfill* x : {&a, &c})
    std::printf("\nA second pull right after the %s-object backfill%s (nothing changed): read %s objects again in %s"
                " search pages, %.1f s; HubSpot writes %s, Postgres rows written %s.\n",
                grouped(small).c_str(), x == &c ? " with a modified time each" : "", grouped(x->again_read).c_str(),
                grouped(x->again_searches).c_str(), x->again_seconds, grouped(x->again_hubspot_writes).c_str(),
                grouped(x->again_pg_writes).c_str());
  std::printf("\ncalls at %s: %s\n\n", grouped(n).c_str(), calls_by_route(b.calls).c_str());
  const auto objects = static_cast<double>(b.objects);
  result("pull.backfill.objects", objects, "objects");
  result("pull.backfill.objects_per_s", objects / b.seconds, "objects/s");
  result("pull.backfill.own_objects_per_s", objects / (b.seconds - b.hubspot_seconds), "objects/s");
  result("pull.backfill.hubspot_wait_share", b.hubspot_seconds / b.seconds, "ratio");
  result("pull.backfill.cpu_us_per_object", 1e6 * b.cpu / objects, "us");
  result("pull.backfill.peak_rss_mib", static_cast<double>(b.peak_rss), "MiB");
  result("pull.backfill.wall_s", b.seconds, "s");
  result("pull.backfill.objects_per_page",
         objects / static_cast<double>(std::max<std::int64_t>(1, b.calls.calls("/search"))), "objects");
  result("pull.backfill.no_index.objects", static_cast<double>(d.objects), "objects");
  result("pull.backfill.no_index.objects_per_s", static_cast<double>(d.objects) / d.seconds, "objects/s");
}

// One row of the search-limit table.
void latency_row(const char* side, const Backfill& b) {
  const double rate = b.objects / b.seconds;
  const std::int64_t searches = b.calls.calls("/search");
  std::printf("| %s | %s | %.1f | %s | **%.3f** | %lld / %lld | %s | %.1f | %.2f | %.0f%% | %s |\n", side,
              grouped(b.objects).c_str(), b.seconds, grouped(static_cast<std::int64_t>(rate)).c_str(), rate / 1000.0,
              static_cast<long long>(b.calls.rate_limited), static_cast<long long>(b.client_429),
              grouped(searches).c_str(), static_cast<double>(b.objects) / static_cast<double>(std::max<std::int64_t>(1, searches)),
              searches / b.seconds, 100 * b.hubspot_seconds / b.seconds, grouped(b.calls.total() - searches).c_str());
}

void scenario_latency(const std::string& server, int n, const std::string& latency) {
  const double load0 = load_average();
  // The simulator's real limits (tier 190 / 10 s, search 5/s) and hubsync's
  // limiter as a default configuration builds it; contacts modified over
  // the past hour, so that the sweep may split it into windows; side by
  // side, the sweep held to one window (one search at a time).
  const std::vector<std::string> args{"--latency", latency, "--threads", "4", "--log-level", "warn"};
  const int windows = pipeline::PullOptions{}.sweep_windows;
  Backfill one = backfill(server, n, args, std::nullopt, false, Seeding::hourly_runs, true, 1);
  Backfill b = backfill(server, n, args, std::nullopt, false, Seeding::hourly_runs, true, windows);
  const double rate = b.objects / b.seconds, one_rate = one.objects / one.seconds;
  const std::int64_t searches = b.calls.calls("/search");
  std::printf("\n### 2. Backfill at the search limit (5/s x 200 = 1,000 objects/s), %s ms latency,"
              " %s objects modified over an hour, 100 to a millisecond (load average %.2f -> %.2f)\n\n",
              latency.c_str(), grouped(n).c_str(), load0, load_average());
  std::printf("| sweep | objects | seconds | objects/s | of bound | 429s (simulator / hubsync) | search pages |"
              " objects per page | searches/s | waiting for HubSpot | other calls |\n"
              "|---|---|---|---|---|---|---|---|---|---|---|\n");
  latency_row("one window", one);
  latency_row((std::to_string(windows) + " windows (shipped)").c_str(), b);
  std::printf("\n%d windows against one: **%.2fx**. hubsync CPU %.2f s (%.3f s per 10,000), peak RSS %ld MiB,"
              " client retries %lld; calls: %s\n\n",
              windows, rate / one_rate, b.cpu, b.cpu / b.objects * 10000, b.peak_rss,
              static_cast<long long>(b.client_retries), calls_by_route(b.calls).c_str());
  result("pull.search_limit.objects", static_cast<double>(b.objects), "objects");
  result("pull.search_limit.objects_per_s", rate, "objects/s");
  result("pull.search_limit.of_bound", rate / 1000.0, "ratio");
  result("pull.search_limit.one_window_of_bound", one_rate / 1000.0, "ratio");
  result("pull.search_limit.windows_vs_one", rate / one_rate, "ratio");
  result("pull.search_limit.sim_429s", static_cast<double>(b.calls.rate_limited + one.calls.rate_limited), "count");
  result("pull.search_limit.hubsync_429s", static_cast<double>(b.client_429 + one.client_429), "count");
  result("pull.search_limit.searches_per_s", static_cast<double>(searches) / b.seconds, "searches/s");
  result("pull.search_limit.objects_per_page",
         static_cast<double>(b.objects) / static_cast<double>(std::max<std::int64_t>(1, searches)), "objects");
}

}  // namespace
}  // namespace hubsync::bench

int main(int argc, char** argv) {
  using namespace hubsync;
  int objects = 100000, latency_objects = 20000, no_index_objects = 0;
  bench::ChangeSet changes;
  bool skip_latency = false, skip_changes = false;
  std::string latency = "150-400";
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--objects") objects = std::atoi(next().c_str());
    else if (a == "--no-index-objects") no_index_objects = std::atoi(next().c_str());
    else if (a == "--latency-objects") latency_objects = std::atoi(next().c_str());
    else if (a == "--skip-latency") skip_latency = true;
    else if (a == "--latency") latency = next();
    else if (a == "--synced") changes.synced = std::atoi(next().c_str());
    else if (a == "--changes") {
      if (!bench::parse_changes(next(), changes)) {
        std::cerr << "--changes takes HS,PG,BOTH,DELETED (e.g. 500,500,50,20)\n";
        return 2;
      }
    } else if (a == "--skip-changes") skip_changes = true;
    else if (a == "--rerun-at-once") changes.rerun_at_once = true;
    else {
      std::cerr << "usage: " << argv[0]
                << " [--objects N] [--no-index-objects N] [--latency-objects N] [--skip-latency] [--synced N]"
                   " [--changes HS,PG,BOTH,DELETED] [--skip-changes] [--rerun-at-once]\n";
      return 2;
    }
  }
  if (!changes.fits()) {
    std::cerr << "the change set needs more synced contacts than --synced " << changes.synced << "\n";
    return 2;
  }
  (void)ops::setup_logging("warn", ops::LogFormat::text);
  try {
    std::setvbuf(stdout, nullptr, _IOLBF, 0);  // progress shows when stdout is a file
    bench::PgServer pg;
    std::printf("## bench_pull: the pull pipeline in-process (as `hubsync run` wires it), hubspot-sim as its own"
                " process, PostgreSQL 15 throwaway cluster; %u cores\n",
                std::thread::hardware_concurrency());
    bench::scenario_unlimited(pg.dsn(), objects, no_index_objects > 0 ? no_index_objects : std::max(1, objects / 10));
    if (!skip_latency) bench::scenario_latency(pg.dsn(), latency_objects, latency);
    if (!skip_changes) bench::scenario_changes(pg.dsn(), changes);
  } catch (const std::exception& e) {
    std::cerr << "bench_pull: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
