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
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <random>
#include <string>

#include "connectors/postgres/migrator.h"
#include "connectors/postgres/pg_database.h"
#include "engine/cli/hubspot_stack.h"
#include "engine/mapping/parser.h"
#include "engine/ops/logging.h"
#include "engine/pipeline/push.h"
#include "engine/state/sqlite_state_store.h"
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

struct Sim {
  pid_t pid = 0;
  std::string url;
  ~Sim() {
    if (pid > 0) {
      kill(pid, SIGTERM);
      waitpid(pid, nullptr, 0);
    }
  }
};

// Starts the hubspot-sim binary and reads the URL from its first line.
void start_sim(Sim& sim, const std::vector<std::string>& args) {
  int fds[2];
  if (pipe(fds) != 0) throw std::runtime_error("pipe");
  sim.pid = fork();
  if (sim.pid == 0) {
    dup2(fds[1], 1);
    close(fds[0]);
    std::vector<char*> argv;
    std::string bin = HUBSPOT_SIM_BIN;
    argv.push_back(bin.data());
    std::vector<std::string> copy = args;
    for (auto& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(bin.c_str(), argv.data());
    _exit(127);
  }
  close(fds[1]);
  std::string line;
  char c;
  while (read(fds[0], &c, 1) == 1 && c != '\n') line += c;
  close(fds[0]);
  auto at = line.find("http://");
  if (at == std::string::npos) throw std::runtime_error("hubspot-sim did not start: " + line);
  sim.url = line.substr(at);
}

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

long peak_rss_mib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss / 1024;
}

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

  Sim sim;
  start_sim(sim, sim_args);
  const fs::path dir = fs::temp_directory_path() / ("hubsync-bench-" + std::to_string(getpid()));
  fs::create_directories(dir);
  config::Config cfg;
  cfg.hubspot.base_url = sim.url;
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
  const double cpu0 = cpu_seconds();
  const auto t0 = std::chrono::steady_clock::now();
  auto stats = pusher.run();
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  r.cpu = cpu_seconds() - cpu0;
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
  std::string server = test::test_pg_dsn();
  const fs::path pg_state = fs::temp_directory_path() / ("hubsync-bench-pg-" + std::to_string(getpid()));
  const std::string script = std::string(HUBSYNC_SOURCE) + "/tests/pg/throwaway-pg.sh";
  if (server.empty()) {
    if (std::system(("bash " + script + " start " + pg_state.string() + " >/dev/null").c_str()) != 0) {
      std::cerr << "cannot start PostgreSQL\n";
      return 2;
    }
    std::FILE* f = std::fopen((pg_state / "dsn").c_str(), "r");
    char buf[512] = {0};
    if (f && std::fgets(buf, sizeof buf, f)) server = std::string(buf);
    if (f) std::fclose(f);
    while (!server.empty() && server.back() == '\n') server.pop_back();
  }

  ratelimit::LimiterConfig unlimited;
  unlimited.burst_limit = 1'000'000;
  unlimited.learn_from_headers = false;
  std::printf("hubsync push pipeline benchmark (initial load, batches of 100, in-process pipeline, simulator as its own process)\n\n");
  auto a = run(server, rows, {"--no-rate-limit", "--threads", "2"}, unlimited);
  std::printf("A. latency off, no rate limit, %d rows\n", rows);
  std::printf("   %-34s %12.0f\n", "records/s", a.records / a.seconds);
  std::printf("   %-34s %12.3f\n", "CPU seconds per 10,000 records", a.cpu / a.records * 10000);
  std::printf("   %-34s %12ld\n", "peak RSS (MiB, whole process)", peak_rss_mib());
  std::printf("   %-34s %12.1f\n", "wall seconds", a.seconds);

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
    }
  }
  if (test::test_pg_dsn().empty())
    (void)std::system(("bash " + script + " stop " + pg_state.string() + " >/dev/null").c_str());
  return 0;
}
