// bench_pull scenario 3: what a realistic two-way change set costs in API
// calls, kind by kind, against the least HubSpot's batch sizes allow; then
// what a run with nothing new costs.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

#include "connectors/hubspot/json.h"
#include "engine/model/record.h"
#include "tests/bench/pipeline/bench_pull.h"
#include "tests/bench/pipeline/pull_stack.h"
#include "tests/bench/support/bench_support.h"

namespace hubsync::bench {

namespace {

using hubspot::HttpMethod;
using std::chrono::steady_clock;

constexpr const char* kArchivedListing = "GET /crm/v3/objects/{type}";

struct Target {
  std::string pg_id, hubspot_id;
};

std::vector<Target> synced_targets(PullStack& s) {
  std::vector<Target> out;
  for (std::string after;;) {
    auto links = s.store->list_links(s.mapping().name, after, 1000);
    if (!links.ok()) throw std::runtime_error(links.error().message);
    if (links->empty()) break;
    for (const auto& l : *links) out.push_back({model::RecordKey::decode(l.pg_key, 1)->parts.front(), l.hubspot_id});
    after = links->back().pg_key;
  }
  return out;
}

std::string id_list(const std::vector<Target>& t, std::size_t from, std::size_t to) {
  std::string out;
  for (std::size_t i = from; i < to; ++i) out += (i > from ? "," : "") + t[i].pg_id;
  return out;
}

void ui_edit(SimProcess& sim, const std::string& id, const std::string& props) {
  sim.admin(HttpMethod::post, "ui/edit", "{\"type\":\"contacts\",\"id\":\"" + id + "\",\"properties\":{" + props + "}}");
}

// Every synced field of both sides as "email|first|last|city|phone|job"
// lines; returns the lines one side has and the other lacks, each marked
// with its side.
std::vector<std::string> disagreements(PullStack& s, SimProcess& sim, std::int64_t& rows, std::int64_t& live) {
  std::set<std::string> pg_lines, hs_lines;
  std::istringstream pg_text(s.db.scalar(
      "SELECT string_agg(lower(email) || '|' || coalesce(first_name, '') || '|' || coalesce(last_name, '') || '|' ||"
      " coalesce(city, '') || '|' || coalesce(phone, '') || '|' || coalesce(job_title, ''), E'\\n') FROM people"));
  for (std::string line; std::getline(pg_text, line);) pg_lines.insert(line);
  auto d = hubspot::json::parse(sim.admin(HttpMethod::get, "dump/contacts"));
  for (const auto& o : d["results"].GetArray()) {
    if (hubspot::json::get_bool(o, "archived")) continue;
    const auto& p = o["properties"];
    std::string line;
    for (const char* name : {"email", "firstname", "lastname", "city", "phone", "jobtitle"})
      line += (line.empty() ? "" : "|") + hubspot::json::get_string(p, name);
    hs_lines.insert(line);
  }
  rows = static_cast<std::int64_t>(pg_lines.size());
  live = static_cast<std::int64_t>(hs_lines.size());
  std::vector<std::string> diff;
  std::set_symmetric_difference(pg_lines.begin(), pg_lines.end(), hs_lines.begin(), hs_lines.end(),
                                std::back_inserter(diff));
  for (auto& line : diff) line = (pg_lines.count(line) ? "Postgres " : "HubSpot  ") + line;
  return diff;
}

struct Kind {
  const char* name;
  std::string route;  ///< a part of the route; exact when `exact`
  bool exact;
  std::int64_t changed;  ///< objects of the change set this kind must carry
  int per_call;          ///< HubSpot's most per call
  std::int64_t of(const SimCounters& c) const {
    if (!exact) return c.calls(route);
    auto it = c.requests.find(route);
    return it == c.requests.end() ? 0 : it->second;
  }
  std::int64_t ideal() const { return changed == 0 ? 0 : (changed + per_call - 1) / per_call; }
};

std::string per_object(std::int64_t calls, std::int64_t objects) {
  if (objects == 0) return calls == 0 ? "0" : "—";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4f", static_cast<double>(calls) / static_cast<double>(objects));
  return buf;
}

// With `changed` > 0, each kind against its ideal and an "all calls" row
// per changed object; else the calls alone.
void print_kinds(const std::vector<Kind>& kinds, const SimCounters& pull, const SimCounters& push,
                 std::int64_t changed) {
  const bool ideal = changed > 0;
  if (ideal)
    std::printf("| kind | changed objects | pull | push | total | ideal | calls per changed object | ideal per object |\n"
                "|---|---|---|---|---|---|---|---|\n");
  else
    std::printf("| kind | pull | push |\n|---|---|---|\n");
  std::int64_t known_pull = 0, known_push = 0, ideal_sum = 0;
  for (const auto& k : kinds) {
    const std::int64_t a = k.of(pull), b = k.of(push);
    known_pull += a;
    known_push += b;
    ideal_sum += k.ideal();
    if (ideal)
      std::printf("| %s | %s | %lld | %lld | **%lld** | %lld | %s | %s |\n", k.name, grouped(k.changed).c_str(),
                  static_cast<long long>(a), static_cast<long long>(b), static_cast<long long>(a + b),
                  static_cast<long long>(k.ideal()), per_object(a + b, k.changed).c_str(),
                  per_object(k.ideal(), k.changed).c_str());
    else
      std::printf("| %s | %lld | %lld |\n", k.name, static_cast<long long>(a), static_cast<long long>(b));
  }
  const std::int64_t other_pull = pull.total() - known_pull, other_push = push.total() - known_push;
  if (ideal) {
    std::printf("| other | — | %lld | %lld | %lld | 0 | | |\n", static_cast<long long>(other_pull),
                static_cast<long long>(other_push), static_cast<long long>(other_pull + other_push));
    std::printf("| **all calls** | %s | %lld | %lld | **%lld** | %lld | **%s** | %s |\n", grouped(changed).c_str(),
                static_cast<long long>(pull.total()), static_cast<long long>(push.total()),
                static_cast<long long>(pull.total() + push.total()), static_cast<long long>(ideal_sum),
                per_object(pull.total() + push.total(), changed).c_str(), per_object(ideal_sum, changed).c_str());
  } else
    std::printf("| other | %lld | %lld |\n", static_cast<long long>(other_pull), static_cast<long long>(other_push));
}

}  // namespace

bool parse_changes(const std::string& text, ChangeSet& out) {
  int v[4];
  if (std::sscanf(text.c_str(), "%d,%d,%d,%d", &v[0], &v[1], &v[2], &v[3]) != 4) return false;
  if (std::any_of(v, v + 4, [](int x) { return x < 0; })) return false;
  out.hs = v[0];
  out.pg = v[1];
  out.both = v[2];
  out.deleted = v[3];
  return true;
}

void scenario_changes(const std::string& server, const ChangeSet& c) {
  const double load0 = load_average();
  // The simulator's real limits and hubsync's default limiter; no latency
  // (it changes no call count).
  SimProcess sim({"--threads", "2", "--log-level", "warn"});
  const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch()).count();
  // A portal whose contacts were last modified over hours, 100 at a time
  // two minutes apart: the sweeps after the backfill (which start a minute
  // before the newest object they saw) read the changes and the newest 100
  // again, not every contact.
  sim.import_contacts(c.synced, 100, now_ms - 2 * 3'600'000LL, 120'000);
  std::this_thread::sleep_for(std::chrono::seconds(1));
  PullStack s(server, sim.url(), std::nullopt);
  const auto backfill = s.pull();
  sim.reset_counters();
  const auto load = s.push();  // the initial load finds every row already in agreement
  const SimCounters load_calls = sim.counters();

  auto t = synced_targets(s);
  std::shuffle(t.begin(), t.end(), std::mt19937(7));
  // Slices of the shuffled rows: HubSpot edits, Postgres edits, conflicts
  // (first half newer in HubSpot, second half newer in Postgres), deletes.
  const std::size_t hs_end = c.hs, pg_end = hs_end + c.pg, both_mid = pg_end + c.both / 2,
                    both_end = pg_end + c.both, hs_del_end = both_end + c.deleted, pg_del_end = hs_del_end + c.deleted;
  auto pg_exec = [&](const std::string& sql_head, std::size_t from, std::size_t to) {
    if (from < to) s.db.exec(sql_head + " WHERE id IN (" + id_list(t, from, to) + ")");
  };
  pg_exec("UPDATE people SET city = 'PG city ' || id, phone = '+47 ' || id", hs_end, pg_end);
  pg_exec("UPDATE people SET city = 'PG conflict ' || id", pg_end, both_mid);
  pg_exec("DELETE FROM people", hs_del_end, pg_del_end);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  for (std::size_t i = 0; i < hs_end; ++i)
    ui_edit(sim, t[i].hubspot_id, "\"city\":\"HS city " + std::to_string(i) + "\",\"jobtitle\":\"Manager\"");
  for (std::size_t i = pg_end; i < both_end; ++i)
    ui_edit(sim, t[i].hubspot_id, "\"city\":\"HS conflict " + std::to_string(i) + "\"");
  for (std::size_t i = both_end; i < hs_del_end; ++i)
    sim.admin(HttpMethod::post, "ui/delete", "{\"type\":\"contacts\",\"id\":\"" + t[i].hubspot_id + "\"}");
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  pg_exec("UPDATE people SET city = 'PG conflict ' || id", both_mid, both_end);
  std::this_thread::sleep_for(std::chrono::seconds(1));  // search shows writes 300 ms late

  sim.reset_counters();
  const auto pass_mark = s.pg_mark();
  const auto t0 = steady_clock::now();
  const auto pulled = s.pull();
  const SimCounters after_pull = sim.counters();
  const std::int64_t pass_pg_writes = s.pg_writes_since(pass_mark);
  const auto t1 = steady_clock::now();
  const auto pushed = s.push();
  const SimCounters after_push = sim.counters();
  const auto t2 = steady_clock::now();
  // A scheduled run comes later than the search index lag; --rerun-at-once
  // starts it inside the lag, while search still shows what the objects
  // held before this pass's own writes.
  if (!c.rerun_at_once) std::this_thread::sleep_for(std::chrono::seconds(1));
  sim.reset_counters();
  const auto mark = s.pg_mark();
  const auto re_pulled = s.pull();
  const SimCounters re_pull = sim.counters();
  const auto re_pushed = s.push();
  const SimCounters re_push = sim.counters() - re_pull;
  const std::int64_t re_pg_writes = s.pg_writes_since(mark);
  std::int64_t rows = 0, live = 0;
  const auto differ = disagreements(s, sim, rows, live);
  const std::string hs_won = s.db.scalar("SELECT count(*) FROM people WHERE city LIKE 'HS conflict %'");
  const std::string pg_won = s.db.scalar("SELECT count(*) FROM people WHERE city LIKE 'PG conflict %'");

  const std::int64_t pg_wins = c.both - c.both / 2;
  const std::vector<Kind> kinds{
      {"search pages (sweep)", "/search", false, c.hs + c.both, 200},
      {"batch/read (property history, conflicts)", "/batch/read", false, c.both, 50},
      {"batch/update", "/batch/update", false, c.pg + pg_wins, 100},
      {"batch/upsert", "/batch/upsert", false, 0, 100},
      {"batch/create", "/batch/create", false, 0, 100},
      {"batch/archive", "/batch/archive", false, c.deleted, 100},
      {"archived listing (GET ?archived=true)", kArchivedListing, true, c.deleted, 100},
  };
  std::printf("\n### 3. Two-way change set on %s synced contacts: %d edited in HubSpot, %d in Postgres, %d on both"
              " (conflicts), %d deleted on each side (load average %.2f -> %.2f)\n\n",
              grouped(c.synced).c_str(), c.hs, c.pg, c.both, c.deleted, load0, load_average());
  std::printf("Setup: backfill (%s); push initial load after it (%s): %lld API calls.\n\n",
              pull_line(backfill).c_str(), push_line(load).c_str(), static_cast<long long>(load_calls.total()));
  const std::int64_t changed = c.hs + c.pg + c.both + 2LL * c.deleted;
  print_kinds(kinds, after_pull, after_push - after_pull, changed);
  std::printf("\npull %.2f s: %s\npush %.2f s: %s\nconflicts won: HubSpot %s, Postgres %s (by time: %d, %lld);"
              " 429s: %lld; objects the simulator wrote: %lld (expected %lld); Postgres rows the pull wrote: %lld"
              " (expected %lld)\n",
              std::chrono::duration<double>(t1 - t0).count(), pull_line(pulled).c_str(),
              std::chrono::duration<double>(t2 - t1).count(), push_line(pushed).c_str(), hs_won.c_str(),
              pg_won.c_str(), c.both / 2, static_cast<long long>(pg_wins),
              static_cast<long long>(after_push.rate_limited), static_cast<long long>(after_push.inputs_written),
              static_cast<long long>(c.pg + pg_wins + c.deleted), static_cast<long long>(pass_pg_writes),
              static_cast<long long>(c.hs + c.both / 2 + c.deleted));
  std::printf("\n#### No-op rerun (pull, then push, nothing changed since; %s)\n\n",
              c.rerun_at_once ? "at once, inside the search index lag" : "1 s later, after the index lag");
  print_kinds(kinds, re_pull, re_push, 0);
  const SimCounters re_all = sim.counters();
  std::printf("\nHubSpot writes, by the simulator's counters: **%lld** write requests, **%lld** objects written"
              " (ideal 0, 0); Postgres writes, by the table's row versions: **%lld** (ideal 0); reads: %lld calls,"
              " %lld objects the sweep read again\npull: %s\npush: %s\n",
              static_cast<long long>(re_all.write_requests()), static_cast<long long>(re_all.inputs_written),
              static_cast<long long>(re_pg_writes), static_cast<long long>(re_all.total() - re_all.write_requests()),
              static_cast<long long>(re_pulled.read), pull_line(re_pulled).c_str(), push_line(re_pushed).c_str());
  std::printf("\nBoth sides after the runs: %lld rows, %lld live contacts, %lld lines differ (expected %lld, %lld, 0)\n",
              static_cast<long long>(rows), static_cast<long long>(live), static_cast<long long>(differ.size()),
              static_cast<long long>(c.synced - 2 * c.deleted), static_cast<long long>(c.synced - 2 * c.deleted));
  for (std::size_t i = 0; i < differ.size() && i < 10; ++i) std::printf("  %s\n", differ[i].c_str());

  std::int64_t ideal = 0;
  for (const auto& k : kinds) ideal += k.ideal();
  const std::int64_t calls = after_push.total();
  auto result = [](const char* key, double v, const char* unit) { std::printf("RESULT %s=%.6g unit=%s\n", key, v, unit); };
  std::printf("\n");
  result("pull.changes.synced", c.synced, "objects");
  result("pull.changes.changed", static_cast<double>(changed), "objects");
  result("pull.changes.calls", static_cast<double>(calls), "calls");
  result("pull.changes.ideal_calls", static_cast<double>(ideal), "calls");
  result("pull.changes.calls_per_changed", static_cast<double>(calls) / static_cast<double>(changed), "calls/object");
  result("pull.changes.ideal_per_changed", static_cast<double>(ideal) / static_cast<double>(changed), "calls/object");
  result("pull.changes.429s", static_cast<double>(after_push.rate_limited), "count");
  result("pull.changes.lines_differ", static_cast<double>(differ.size()), "lines");
  result("pull.noop.hubspot_write_requests", static_cast<double>(re_all.write_requests()), "calls");
  result("pull.noop.hubspot_objects_written", static_cast<double>(re_all.inputs_written), "objects");
  result("pull.noop.pg_writes", static_cast<double>(re_pg_writes), "rows");
  result("pull.noop.calls", static_cast<double>(re_all.total()), "calls");
  result("pull.noop.objects_read_again", static_cast<double>(re_pulled.read), "objects");
}

}  // namespace hubsync::bench
