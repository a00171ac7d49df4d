// Benchmark: `hubsync serve` end to end, as a user runs it. The simulator is
// a process of its own at tier 190 with 150-400 ms on every API answer,
// sending signed webhooks; PostgreSQL is real. It measures
//   1. HubSpot edit -> Postgres and Postgres edit -> HubSpot, p50/p99, under
//      steady edits both ways with serve's default timers;
//   2. a time-compressed hour: serve's timers 60x faster (SIGHUP reloads
//      them), edits both ways at the rate of a busy hour, serve's RSS sampled
//      throughout; then both systems are compared row by row.
// Arrival times come from the systems themselves: a trigger stamps every
// Postgres write, HubSpot's property history stamps every HubSpot write.
// Ends with `RESULT key=value unit=...` lines for tests/bench/run_all.sh.
#include <signal.h>
#include <time.h>

#include <rapidjson/document.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <regex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>

#include "tests/bench/support/bench_support.h"
#include "tests/hubspot-sim/simulator.h"
#include "tests/integration/serve/serve_support.h"
#include "tests/support/pg.h"
#include "tests/support/process.h"

namespace hubsync::bench {
namespace {

namespace fs = std::filesystem;
using hubspot::HttpMethod;
using namespace std::chrono_literals;

using test::kServePeople;  // the two-way people mapping the serve tests run

// Every write to people, hubsync's included, stamped with the time it ran.
constexpr const char* kSchema =
    "CREATE TABLE people (id bigserial PRIMARY KEY, email text NOT NULL UNIQUE, name text);"
    "CREATE TABLE arrivals (email text, name text, at_ms bigint);"
    "CREATE FUNCTION stamp() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN "
    "INSERT INTO arrivals VALUES (NEW.email, NEW.name, (extract(epoch from clock_timestamp()) * 1000)::bigint); "
    "RETURN NEW; END$$;"
    "CREATE TRIGGER people_stamp AFTER INSERT OR UPDATE ON people FOR EACH ROW EXECUTE FUNCTION stamp();";

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// "2026-12-02T12:00:00.123Z" -> epoch ms.
std::int64_t parse_iso_ms(const std::string& s) {
  std::tm tm{};
  int ms = 0;
  if (std::sscanf(s.c_str(), "%d-%d-%dT%d:%d:%d.%dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
                  &tm.tm_sec, &ms) < 6)
    return 0;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<std::int64_t>(timegm(&tm)) * 1000 + ms;
}

struct Percentiles {
  double p50 = 0, p99 = 0, max = 0;
  std::size_t n = 0, missing = 0;
};

Percentiles percentiles(std::vector<double> v, std::size_t missing) {
  Percentiles p;
  p.n = v.size();
  p.missing = missing;
  if (v.empty()) return p;
  std::sort(v.begin(), v.end());
  const auto at = [&](double q) { return v[std::min(v.size() - 1, static_cast<std::size_t>(q * static_cast<double>(v.size())))]; };
  p.p50 = at(0.50);
  p.p99 = at(0.99);
  p.max = v.back();
  return p;
}

void result(const std::string& key, double v, const char* unit) {
  std::printf("RESULT %s=%.6g unit=%s\n", key.c_str(), v, unit);
}

// RESULT lines of one direction: <prefix>.p50_ms, .p99_ms, .edits, .never_arrived.
void results(const std::string& prefix, const Percentiles& p) {
  result(prefix + ".p50_ms", p.p50, "ms");
  result(prefix + ".p99_ms", p.p99, "ms");
  result(prefix + ".edits", static_cast<double>(p.n + p.missing), "count");
  result(prefix + ".never_arrived", static_cast<double>(p.missing), "count");
}

void print(const char* what, const Percentiles& p) {
  std::printf("  %-28s p50 %6.0f ms   p99 %6.0f ms   max %6.0f ms   (%zu edits%s)\n", what, p.p50, p.p99, p.max, p.n,
              p.missing ? (", " + std::to_string(p.missing) + " NEVER ARRIVED, nor a later value").c_str() : "");
}

long rss_kib_of(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}

struct Options {
  int contacts = 20;         ///< per direction; edits go round-robin over them
  int edits = 100;           ///< per direction, latency phase
  double rate = 2;           ///< edits per second per direction, latency phase
  int soak_seconds = 60;     ///< the compressed hour (timers 60x faster)
  double soak_rate = 10;     ///< edits per second per direction during it
  std::string latency = "150-400";
  int tier = 190;
  std::string serve_log_level = "info";
  std::string keep_log;      ///< copy serve's log here at the end (empty: none)
  std::string capture = "trigger";  ///< postgres.capture
  std::string relay = "stream";     ///< postgres.relay (with capture logical)
  int change_poll_ms = 200;         ///< serve.change_poll_ms
  int debounce_ms = 250;            ///< serve.debounce_ms
};

// An edit sent at `sent_ms` that sets `value`; its arrival is looked up later.
struct Edit {
  std::string email, value;
  std::int64_t sent_ms = 0;
};

class Bench {
 public:
  explicit Bench(const Options& o)
      : o_(o),
        db_(server_.dsn()),
        sim_({"--tier", std::to_string(o.tier), "--latency", o.latency, "--subscribe", "contact.*", "--log-level", "off"}) {
    dir_ = fs::temp_directory_path() / ("hubsync-bench-serve-" + std::to_string(getpid()));
    fs::create_directories(dir_ / "mappings");
    std::ofstream(dir_ / "mappings" / "people.yaml") << kServePeople;
    db_.exec(kSchema);
    write_config(/*compressed=*/false);
    const auto migrate = test::run_command(test::shell_quote(HUBSYNC_BIN) + " --config " +
                                           test::shell_quote((dir_ / "hubsync.yaml").string()) + " migrate");
    if (migrate.code != 0) throw std::runtime_error("migrate failed:\n" + migrate.out);
    log_ = (dir_ / "serve.log").string();
    pid_ = test::spawn_hubsync(HUBSYNC_BIN, {"--config", (dir_ / "hubsync.yaml").string(), "serve"}, log_);
    const int port = serve_port();
    sim_.admin(HttpMethod::put, "webhooks/target",
               "{\"url\":\"http://127.0.0.1:" + std::to_string(port) + "/webhooks/hubspot\"}");
  }
  ~Bench() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      test::wait_for_exit(pid_, 30000);
    }
    std::error_code ec;
    if (!o_.keep_log.empty()) fs::copy_file(log_, o_.keep_log, fs::copy_options::overwrite_existing, ec);
    fs::remove_all(dir_, ec);
  }

  // serve's timers: defaults, or 60x faster (an hour in a minute).
  void write_config(bool compressed) {
    std::ofstream out(dir_ / "hubsync.yaml");
    out << "postgres: {dsn: '" << db_.dsn() << "'"
        << (o_.capture == "logical" ? ", capture: logical, slot: " + db_.name() + ", relay: " + o_.relay : "") << "}\n"
        << "hubspot: {base_url: '" << sim_.url() << "', portal_id: 62515, token: " << sim::kHubsyncToken << "}\n"
        << "rate_limit: {tier: " << o_.tier << "}\n"
        << "state: {path: '" << (dir_ / "state.db").string() << "'}\n"
        << "mappings: {dir: '" << (dir_ / "mappings").string() << "'}\n"
        << "log: {level: " << o_.serve_log_level << "}\n"
        << "webhook: {listen: '127.0.0.1:0', client_secret: '" << sim::kOAuthClientSecret << "'}\n";
    out << "serve: {change_poll_ms: " << o_.change_poll_ms << ", debounce_ms: " << o_.debounce_ms
        << (compressed ? ", poll_s: 1, sweep_every_s: 5, reconcile_every_s: 15, reconcile_window_s: 60" : "") << "}\n";
  }

  int serve_port() {
    const std::regex re("listening on port ([0-9]+)");
    for (int i = 0; i < 500; ++i) {
      std::smatch m;
      const std::string text = test::log_tail(log_, 100);
      if (std::regex_search(text, m, re)) return std::stoi(m[1]);
      std::this_thread::sleep_for(20ms);
    }
    throw std::runtime_error("serve did not start:\n" + test::log_tail(log_));
  }

  // Contacts made on each side, then waited for on the other.
  void seed() {
    for (int i = 0; i < o_.contacts; ++i) {
      const std::string email = "pg" + std::to_string(i) + "@bench.io";
      db_.exec("INSERT INTO people (email, name) VALUES ('" + email + "', 'seed')");
      pg_side_.push_back(email);
    }
    for (int i = 0; i < o_.contacts; ++i) {
      const std::string email = "hs" + std::to_string(i) + "@bench.io";
      const std::string answer = sim_.admin(HttpMethod::post, "ui/create",
                                            "{\"type\":\"contacts\",\"properties\":{\"email\":\"" + email +
                                                "\",\"firstname\":\"seed\"}}");
      rapidjson::Document d;
      d.Parse(answer.c_str());
      hs_ids_[email] = d["id"].GetString();
      hs_side_.push_back(email);
    }
    const auto want = std::to_string(2 * o_.contacts);
    if (!wait([&] { return db_.scalar("SELECT count(*) FROM people") == want && ids_of_pg_side(); }, 120s))
      throw std::runtime_error("the seed never reached both sides:\n" + test::log_tail(log_));
  }

  // Sends `n` edits per direction at `rate` per second each, interleaved,
  // as a Poisson process (exponential gaps, a fixed seed): edits at a fixed
  // period would meet serve's fixed change poll at the same phase every
  // time, and the latency would measure that phase, not the service.
  void edit(int n, double rate, const std::string& tag) {
    std::mt19937_64 rng(20261205);
    std::exponential_distribution<double> gap_s(rate);
    std::chrono::duration<double> at{0};
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < n; ++i) {
      if (i > 0) at += std::chrono::duration<double>(gap_s(rng));
      std::this_thread::sleep_until(start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(at));
      const std::string hs_email = hs_side_[static_cast<std::size_t>(i) % hs_side_.size()];
      const std::string hv = tag + "h" + std::to_string(i);
      hs_edits_.push_back({hs_email, hv, now_ms()});
      sim_.admin(HttpMethod::post, "ui/edit",
                 "{\"type\":\"contacts\",\"id\":\"" + hs_ids_[hs_email] + "\",\"properties\":{\"firstname\":\"" + hv + "\"}}");
      const std::string pg_email = pg_side_[static_cast<std::size_t>(i) % pg_side_.size()];
      const std::string pv = tag + "p" + std::to_string(i);
      pg_edits_.push_back({pg_email, pv, now_ms()});
      db_.exec("UPDATE people SET name = '" + pv + "' WHERE email = '" + pg_email + "'");
    }
  }

  // Latencies of the edits sent since `from` (index), once the last edit of
  // every record arrived or `limit` passed. An edit counts as arrived when
  // its value or a later one of the same record did: the service reads
  // current state, so a value superseded before it was read is never written
  // (and must not be).
  std::pair<Percentiles, Percentiles> latencies(std::size_t from, std::chrono::seconds limit) {
    std::map<std::string, std::int64_t> in_pg, in_hs;
    const auto arrived = [&] {
      in_pg = pg_arrivals();
      in_hs = hs_arrivals();
      return settled(hs_edits_, from, in_pg) && settled(pg_edits_, from, in_hs);
    };
    wait(arrived, limit);
    return {measure(hs_edits_, from, in_pg), measure(pg_edits_, from, in_hs)};
  }

  // The last edit of each record has arrived.
  static bool settled(const std::vector<Edit>& edits, std::size_t from, const std::map<std::string, std::int64_t>& in) {
    std::map<std::string, std::string> last;
    for (std::size_t i = from; i < edits.size(); ++i) last[edits[i].email] = edits[i].value;
    for (const auto& [email, value] : last)
      if (!in.count(value)) return false;
    return true;
  }

  static Percentiles measure(const std::vector<Edit>& edits, std::size_t from, const std::map<std::string, std::int64_t>& in) {
    std::vector<double> ms;
    std::size_t missing = 0;
    std::map<std::string, std::int64_t> first_after;  // email -> earliest arrival of a later value
    for (std::size_t i = edits.size(); i-- > from;) {
      const auto& e = edits[i];
      std::int64_t at = -1;
      if (auto it = in.find(e.value); it != in.end()) at = it->second;
      if (auto it = first_after.find(e.email); it != first_after.end() && (at < 0 || it->second < at)) at = it->second;
      if (at >= 0) {
        first_after[e.email] = at;
        ms.push_back(static_cast<double>(std::max<std::int64_t>(0, at - e.sent_ms)));
      } else {
        ++missing;
      }
    }
    return percentiles(ms, missing);
  }

  // The compressed hour: edits at soak_rate for soak_seconds, RSS sampled.
  void soak() {
    write_config(/*compressed=*/true);
    kill(pid_, SIGHUP);
    if (!wait([&] { return test::log_tail(log_, 200).find("reloaded") != std::string::npos; }, 30s))
      throw std::runtime_error("serve did not reload:\n" + test::log_tail(log_));
    const std::size_t from = hs_edits_.size();
    const int n = static_cast<int>(o_.soak_rate * o_.soak_seconds);
    std::vector<std::pair<double, long>> rss;
    const auto t0 = std::chrono::steady_clock::now();
    std::thread sampler([&] {
      while (std::chrono::steady_clock::now() - t0 < std::chrono::seconds(o_.soak_seconds + 2)) {
        rss.emplace_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), rss_kib_of(pid_));
        std::this_thread::sleep_for(std::chrono::seconds(std::max(1, o_.soak_seconds / 12)));
      }
    });
    edit(n, o_.soak_rate, "s");
    sampler.join();
    const auto [to_pg, to_hs] = latencies(from, 120s);
    std::printf("\nCompressed time: %d s with serve's timers 60x faster (%.1f hours of sweeps every 5 s,\n"
                "reconciliation every 15 s over 60 s, poll 1 s) and %.0f edits/s each way (%d per direction):\n",
                o_.soak_seconds, o_.soak_seconds / 60.0, o_.soak_rate, n);
    print("HubSpot edit -> Postgres", to_pg);
    print("Postgres edit -> HubSpot", to_hs);
    soak_ = {to_pg, to_hs};
    std::printf("  serve RSS (KiB) by second:");
    for (const auto& [t, kib] : rss) std::printf(" %.0fs=%ld", t, kib);
    const auto half = rss.size() / 2;
    if (rss.size() >= 4)
      std::printf("\n  RSS second half: %ld -> %ld KiB (%+.1f%%); peak %ld KiB\n", rss[half].second, rss.back().second,
                  100.0 * static_cast<double>(rss.back().second - rss[half].second) / static_cast<double>(rss[half].second),
                  std::max_element(rss.begin(), rss.end(), [](auto& a, auto& b) { return a.second < b.second; })->second);
  }

  // Both systems, row by row, once the last edits settled.
  void compare() {
    std::map<std::string, std::string> pg, hs;
    wait([&] {
      pg = pg_names();
      hs = hs_names();
      return pg == hs;
    }, 60s);
    std::size_t differ = 0;
    for (const auto& [email, name] : pg)
      if (hs[email] != name) ++differ;
    std::printf("\nAgreement: %zu rows in Postgres, %zu contacts in HubSpot, %zu differing; duplicates in HubSpot: %zu\n",
                pg.size(), hs.size(), differ, hs_total_ - hs.size());
    differ_ = differ;
    duplicates_ = hs_total_ - hs.size();
  }

  void run() {
    seed();
    std::printf("hubsync serve, tier %d, simulator latency %s ms, %d contacts each side; load %.2f\n\n", o_.tier,
                o_.latency.c_str(), o_.contacts, load_average());
    edit(o_.edits, o_.rate, "l");
    const auto [to_pg, to_hs] = latencies(0, 60s);
    std::printf("Latency (debounce %d ms, change poll %d ms, inbox every 500 ms), %.1f edits/s each way, "
                "Poisson arrivals:\n", o_.debounce_ms, o_.change_poll_ms, o_.rate);
    print("HubSpot edit -> Postgres", to_pg);
    print("Postgres edit -> HubSpot", to_hs);
    const double load = load_average();
    soak();
    compare();
    const auto c = sim_.counters();
    std::printf("Simulator: %s API requests, %lld answered 429\n", grouped(c.total()).c_str(),
                static_cast<long long>(c.rate_limited));
    kill(pid_, SIGTERM);
    const int code = test::wait_for_exit(pid_, 30000);
    pid_ = 0;
    std::printf("serve stopped on SIGTERM: exit %d\n\n", code);
    result("serve.rate_each_way", o_.rate, "edits/s");
    results("serve.hs_to_pg", to_pg);
    results("serve.pg_to_hs", to_hs);
    result("serve.soak_rate_each_way", o_.soak_rate, "edits/s");
    results("serve.soak.hs_to_pg", soak_.first);
    results("serve.soak.pg_to_hs", soak_.second);
    result("serve.differing", static_cast<double>(differ_), "count");
    result("serve.duplicates", static_cast<double>(duplicates_), "count");
    result("serve.sim_429s", static_cast<double>(c.rate_limited), "count");
    result("serve.exit_code", code, "code");
    result("serve.load_average", load, "load");
  }

 private:
  static bool wait(const std::function<bool()>& done, std::chrono::seconds limit) {
    const auto until = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < until) {
      if (done()) return true;
      std::this_thread::sleep_for(200ms);
    }
    return done();
  }

  // The HubSpot ids of the rows made in Postgres, once they were pushed.
  bool ids_of_pg_side() {
    rapidjson::Document d;
    d.Parse(sim_.admin(HttpMethod::get, "dump/contacts").c_str());
    std::map<std::string, std::string> by_email;
    for (const auto& o : d["results"].GetArray())
      if (o.HasMember("properties") && o["properties"].HasMember("email"))
        by_email[o["properties"]["email"].GetString()] = o["id"].IsString() ? o["id"].GetString() : std::to_string(o["id"].GetInt64());
    for (const auto& e : pg_side_) {
      if (!by_email.count(e)) return false;
      hs_ids_[e] = by_email[e];
    }
    return true;
  }

  // The first time each value was written in Postgres.
  std::map<std::string, std::int64_t> pg_arrivals() {
    std::map<std::string, std::int64_t> out;
    const std::string rows = db_.scalar("SELECT string_agg(name || '=' || at_ms, ',') FROM "
                                        "(SELECT name, min(at_ms) AS at_ms FROM arrivals GROUP BY name) a");
    std::size_t pos = 0;
    while (pos < rows.size()) {
      auto end = rows.find(',', pos);
      if (end == std::string::npos) end = rows.size();
      const std::string item = rows.substr(pos, end - pos);
      const auto eq = item.rfind('=');
      if (eq != std::string::npos) out[item.substr(0, eq)] = std::stoll(item.substr(eq + 1));
      pos = end + 1;
    }
    return out;
  }

  // The first time each value was written in HubSpot (property history).
  std::map<std::string, std::int64_t> hs_arrivals() {
    std::map<std::string, std::int64_t> out;
    for (const auto& email : pg_side_) {
      rapidjson::Document d;
      d.Parse(sim_.api(HttpMethod::get, "/crm/v3/objects/contacts/" + hs_ids_[email] + "?propertiesWithHistory=firstname").c_str());
      if (!d.HasMember("propertiesWithHistory")) continue;
      for (const auto& h : d["propertiesWithHistory"]["firstname"].GetArray()) {
        const std::int64_t at = parse_iso_ms(h["timestamp"].GetString());
        auto [it, fresh] = out.emplace(h["value"].GetString(), at);
        if (!fresh) it->second = std::min(it->second, at);
      }
    }
    return out;
  }

  std::map<std::string, std::string> pg_names() {
    std::map<std::string, std::string> out;
    for (const auto& e : pg_side_) out[e] = db_.scalar("SELECT name FROM people WHERE email = '" + e + "'");
    for (const auto& e : hs_side_) out[e] = db_.scalar("SELECT name FROM people WHERE email = '" + e + "'");
    return out;
  }

  std::map<std::string, std::string> hs_names() {
    rapidjson::Document d;
    d.Parse(sim_.admin(HttpMethod::get, "dump/contacts").c_str());
    std::map<std::string, std::string> out;
    hs_total_ = d["results"].GetArray().Size();
    for (const auto& o : d["results"].GetArray()) {
      const auto& p = o["properties"];
      if (p.HasMember("email") && p.HasMember("firstname")) out[p["email"].GetString()] = p["firstname"].GetString();
    }
    return out;
  }

  Options o_;
  PgServer server_;
  test::TempDatabase db_;
  SimProcess sim_;
  fs::path dir_;
  std::string log_;
  pid_t pid_ = 0;
  std::vector<std::string> pg_side_, hs_side_;
  std::map<std::string, std::string> hs_ids_;
  std::vector<Edit> hs_edits_, pg_edits_;
  std::size_t hs_total_ = 0;
  std::pair<Percentiles, Percentiles> soak_;
  std::size_t differ_ = 0, duplicates_ = 0;
};

}  // namespace
}  // namespace hubsync::bench

int main(int argc, char** argv) {
  hubsync::bench::Options o;
  CLI::App app{"hubsync serve end to end: edit latencies both ways and RSS over a compressed hour"};
  app.add_option("--contacts", o.contacts, "contacts per direction");
  app.add_option("--edits", o.edits, "edits per direction in the latency phase");
  app.add_option("--rate", o.rate, "edits per second per direction in the latency phase");
  app.add_option("--soak-seconds", o.soak_seconds, "length of the compressed hour");
  app.add_option("--soak-rate", o.soak_rate, "edits per second per direction in the compressed hour");
  app.add_option("--latency", o.latency, "simulator latency MIN-MAX ms");
  app.add_option("--tier", o.tier, "rate-limit tier (requests per 10 s)");
  app.add_option("--serve-log-level", o.serve_log_level, "serve's log level (info)");
  app.add_option("--keep-log", o.keep_log, "copy serve's log to this file at the end");
  app.add_option("--capture", o.capture, "postgres.capture (trigger)")->check(CLI::IsMember({"trigger", "logical"}));
  app.add_option("--relay", o.relay, "postgres.relay with --capture logical (stream)")
      ->check(CLI::IsMember({"stream", "sql"}));
  app.add_option("--change-poll-ms", o.change_poll_ms, "serve.change_poll_ms (200)")->check(CLI::Range(10, 60000));
  app.add_option("--debounce-ms", o.debounce_ms, "serve.debounce_ms (250)")->check(CLI::Range(0, 60000));
  CLI11_PARSE(app, argc, argv);
  try {
    hubsync::bench::Bench(o).run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_serve: %s\n", e.what());
    return 1;
  }
  return 0;
}
