// Benchmark (not a test): the push pipeline's initial load of N rows, driven
// in-process against the simulator running as its own process, so the CPU
// time and peak RSS printed are hubsync's alone.
//
//   bench_pipeline_push [--rows 100000] [--latency-rows 100000] [--skip-latency]
//
// Scenario A: latency off, no rate limit on either side: raw records/s, CPU
// seconds per 10,000 records, peak RSS.
// Scenario B: tier 190 per 10 s, 150-400 ms latency per response, hubsync's
// limiter at tier 190 with its default 5% headroom and with none: records/s
// as a fraction of the 1,900/s bound, and 429s received.
// Ends with `RESULT key=value unit=...` lines for tests/bench/run_all.sh.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <random>
#include <string>

#include "connectors/postgres/migrator.h"
#include "connectors/postgres/pg_database.h"
#include "engine/cli/hubspot_stack.h"
#include "engine/mapping/parser.h"
#include "engine/ops/logging.h"
#include "engine/pipeline/push.h"
#include "engine/state/sqlite_state_store.h"
#include "tests/bench/support/bench_support.h"
#include "tests/support/pg.h"

namespace fs = std::filesystem;
using namespace hubsync;

namespace {

constexpr const char* kMapping = R"(name: people
postgres: {table: public.people, key: id}
hubspot: {object: contacts, match: email}
direction: to_hubspot
fields:
  - {column: email, property: email}
  - {column: first_name, property: firstname}
  - {column: last_name, property: lastname}
  - {column: city, property: city}
)";

struct Result {
  double seconds = 0, cpu = 0;
  std::int64_t records = 0, rejected_429 = 0;
};

Result run(const std::string& server_dsn, int rows, const std::vector<std::string>& sim_args,
           ratelimit::LimiterConfig limits) {
  test::TempDatabase db(server_dsn);
  db.exec("CREATE TABLE public.people (id bigint PRIMARY KEY, email text, first_name text,"
          " last_name text, city text)");
  db.exec("INSERT INTO people SELECT g, 'user' || g || '@example.com', 'First' || g, 'Last' || g,"
          " 'City' || (g % 50) FROM generate_series(1, " + std::to_string(rows) + ") g");
  auto parsed = mapping::parse_mapping(kMapping, "people.yaml");
  const mapping::Mapping& m = *parsed.mapping;
  std::map<std::string, const mapping::Mapping*> all{{m.name, &m}};
  auto migrated = postgres::Migrator(db.dsn(), ops::logger("postgres"))
                      .run({{m.name, m.table.schema, m.table.table, m.key, m.postgres_columns()}}, false);
  if (!migrated.ok()) throw std::runtime_error(migrated.error().message);

  bench::SimProcess sim(sim_args);
  const fs::path dir = fs::temp_directory_path() / ("hubsync-bench-" + std::to_string(getpid()));
  fs::create_directories(dir);
  config::Config cfg;
  cfg.hubspot.base_url = sim.url();
  cfg.hubspot.token.value = "pat-sim-hubsync";
  cfg.rate_limit.max_in_flight = 10;
  state::SqliteOptions so;
  so.path = (dir / "state.db").string();
  auto store = state::SqliteStateStore::open(so);
  ratelimit::SystemClock clock;
  cli::HubSpotStack hubspot(cfg, store->get(), clock, limits);
  postgres::PgDatabase pg(db.dsn(), ops::logger("postgres"));
  pipeline::PushOptions options;
  options.wave = 2000;
  pipeline::Pusher pusher(m, all, pg, hubspot.crm, **store, clock, ops::logger("push"), options);

  Result r;
  const double cpu0 = bench::cpu_seconds();
  const auto t0 = std::chrono::steady_clock::now();
  auto stats = pusher.run();
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  r.cpu = bench::cpu_seconds() - cpu0;
  if (!stats.ok()) throw std::runtime_error(stats.error().message);
  r.records = stats->pushed();
  r.rejected_429 = hubspot.client.counters().responses_429;
  fs::remove_all(dir);
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  int rows = 100000, latency_rows = 100000;
  bool skip_latency = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--rows" && i + 1 < argc) rows = std::atoi(argv[++i]);
    else if (a == "--latency-rows" && i + 1 < argc) latency_rows = std::atoi(argv[++i]);
    else if (a == "--skip-latency") skip_latency = true;
  }
  (void)ops::setup_logging("warn", ops::LogFormat::text);
  std::unique_ptr<bench::PgServer> pg_server;
  try {
    pg_server = std::make_unique<bench::PgServer>();
  } catch (const std::exception& e) {
    std::cerr << e.what() << "\n";
    return 2;
  }
  const std::string server = pg_server->dsn();

  ratelimit::LimiterConfig unlimited;
  unlimited.burst_limit = 1'000'000;
  unlimited.learn_from_headers = false;
  std::printf("hubsync push pipeline benchmark (initial load, batches of 100, in-process pipeline, simulator as its own process)\n\n");
  auto a = run(server, rows, {"--no-rate-limit", "--threads", "2"}, unlimited);
  std::printf("A. latency off, no rate limit, %d rows\n", rows);
  std::printf("   %-34s %12.0f\n", "records/s", a.records / a.seconds);
  std::printf("   %-34s %12.3f\n", "CPU seconds per 10,000 records", a.cpu / a.records * 10000);
  std::printf("   %-34s %12ld\n", "peak RSS (MiB, whole process)", bench::peak_rss_mib());
  std::printf("   %-34s %12.1f\n", "wall seconds", a.seconds);
  std::string results;
  auto result = [&results](const std::string& key, double v, const char* unit) {
    char line[160];
    std::snprintf(line, sizeof line, "RESULT %s=%.6g unit=%s\n", key.c_str(), v, unit);
    results += line;
  };
  result("pipeline.a.rows", static_cast<double>(a.records), "records");
  result("pipeline.a.records_per_s", a.records / a.seconds, "records/s");
  result("pipeline.a.cpu_us_per_record", 1e6 * a.cpu / static_cast<double>(a.records), "us");
  result("pipeline.a.peak_rss_mib", static_cast<double>(bench::peak_rss_mib()), "MiB");
  result("pipeline.a.wall_s", a.seconds, "s");

  if (!skip_latency) {
    std::printf("\nB. tier 190 per 10 s, 150-400 ms latency, %d rows (bound: 1,900 records/s)\n", latency_rows);
    std::printf("   %-26s %12s %10s %8s\n", "hubsync limiter", "records/s", "of bound", "429s");
    for (double headroom : {0.05, 0.0}) {
      ratelimit::LimiterConfig tier;
      tier.burst_limit = 190;
      tier.headroom = headroom;
      auto b = run(server, latency_rows, {"--tier", "190", "--latency", "150-400", "--threads", "4"}, tier);
      const double rate = b.records / b.seconds;
      std::printf("   headroom %-17.2f %12.0f %9.3f %8lld\n", headroom, rate, rate / 1900.0,
                  static_cast<long long>(b.rejected_429));
      const std::string key = headroom > 0 ? "pipeline.b.headroom_005." : "pipeline.b.headroom_000.";
      result(key + "records_per_s", rate, "records/s");
      result(key + "of_bound", rate / 1900.0, "ratio");
      result(key + "429s", static_cast<double>(b.rejected_429), "count");
    }
    result("pipeline.b.rows", latency_rows, "records");
  }
  std::printf("\n%s", results.c_str());
  return 0;
}
