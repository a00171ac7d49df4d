#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <map>

#include "connectors/postgres/pg_database.h"
#include "engine/cli/app.h"
#include "engine/cli/capture_check.h"
#include "engine/cli/hubspot_stack.h"
#include "engine/cli/mappings.h"
#include "engine/cli/runtime.h"
#include "engine/ops/logging.h"
#include "engine/ops/progress.h"
#include "engine/pipeline/fingerprint.h"
#include "engine/pipeline/pull.h"
#include "engine/pipeline/push.h"

namespace hubsync::cli {

namespace {

// Progress of long operations (initial load, pull backfill and sweeps,
// association pass): a bar on stderr when it is a terminal, log lines
// otherwise.
ops::ProgressPrinter progress_printer(ratelimit::Clock& clock) {
  return ops::ProgressPrinter(
      [&clock] { return clock.monotonic(); }, isatty(STDERR_FILENO) != 0,
      [](const std::string& text, bool final) {
        std::fprintf(stderr, "\r\033[K%s%s", text.c_str(), final ? "\n" : "");
        std::fflush(stderr);
      },
      [](const std::string& text) { ops::logger("sync")->info("progress {}", text); });
}

std::string line(const pipeline::PushStats& s) {
  std::string out = "created " + std::to_string(s.created) + ", updated " + std::to_string(s.updated) +
                    ", unchanged " + std::to_string(s.unchanged) + ", archived " +
                    std::to_string(s.archived) + ", filtered " + std::to_string(s.filtered) +
                    ", ignored " + std::to_string(s.ignored) + ", dead-lettered " +
                    std::to_string(s.dead_lettered) + ", waiting " +
                    std::to_string(s.deferred + s.retried) + ", associations " +
                    std::to_string(s.associations);
  if (s.conflicts > 0) out += ", conflicts " + std::to_string(s.conflicts);
  if (s.left_to_pull > 0)
    out += ", fields left for the pull (HubSpot changed them too and wins) " + std::to_string(s.left_to_pull);
  if (s.relinked > 0) out += ", relinked " + std::to_string(s.relinked);
  if (s.deleted_in_postgres > 0)
    out += ", deleted in Postgres (gone from HubSpot) " + std::to_string(s.deleted_in_postgres);
  if (s.held > 0) out += ", archives HELD (over max_deletes) " + std::to_string(s.held);
  return out;
}

bool unreachable(const model::Error& e) {
  return e.kind == model::ErrorKind::transient || e.kind == model::ErrorKind::rate_limited;
}

std::string pull_line(const pipeline::PullStats& s) {
  std::string out = "created " + std::to_string(s.created) + ", updated " + std::to_string(s.updated) +
                    ", deleted " + std::to_string(s.deleted) + ", linked " + std::to_string(s.linked) +
                    ", unchanged " + std::to_string(s.unchanged) + ", conflicts " +
                    std::to_string(s.conflicts) + ", dead-lettered " + std::to_string(s.dead_lettered);
  if (s.filtered > 0) out += ", filtered " + std::to_string(s.filtered);
  if (s.hubspot_updates > 0) out += ", written back to HubSpot " + std::to_string(s.hubspot_updates);
  if (s.associations > 0) out += ", associations " + std::to_string(s.associations);
  if (s.deferred > 0) out += ", waiting for a parent " + std::to_string(s.deferred);
  if (s.changed_meanwhile > 0)
    out += ", changed in Postgres meanwhile (merged again later) " + std::to_string(s.changed_meanwhile);
  if (s.held > 0) out += ", deletes HELD (over max_deletes) " + std::to_string(s.held);
  return out;
}

struct RunTotals {
  pipeline::PushStats push;
  pipeline::PullStats pull;
  std::int64_t queued = 0;
  std::int64_t held = 0;   ///< deletions held after the run (the store's records)
  std::string held_where;  ///< "people to_hubspot 5, ..."
  std::string errors;
  int rc = kExitOk;
  bool hubspot_down() const { return push.unreachable.has_value() || pull.unreachable.has_value(); }
};

// A direction of a mapping failed as a whole: say so, and let the error
// decide the exit code (2 when a dependency was unreachable, 1 otherwise).
void report_failure(const config::Config& cfg, const std::string& what, const model::Error& e,
                    RunTotals& totals) {
  const std::string why = config::redact(cfg, model::describe(e));
  const char* cause = e.category == model::kPostgresUnreachable ? "PostgreSQL unreachable: "
                      : unreachable(e)                          ? "unreachable: "
                                                                : "FAILED: ";
  std::cout << what << ": " << cause << why << '\n';
  ops::logger("sync")->error("sync failed {} kind={} status={} category={}", what, model::to_string(e.kind),
                             e.http_status, e.category);
  totals.errors += what + ": " + cause + why + "\n";
  totals.rc = unreachable(e) ? std::max<int>(totals.rc, kExitUnavailable) : kExitError;
}

void report_unreachable(const std::string& what, const model::Error& e, RunTotals& totals) {
  // Work was left undone because HubSpot could not be reached: a cron job
  // must see that (exit 2), and which dependency it was.
  std::cout << what << ": HubSpot unreachable: " << model::describe(e) << '\n';
  totals.errors += what + ": HubSpot unreachable: " + model::describe(e) + "\n";
  totals.rc = std::max<int>(totals.rc, kExitUnavailable);
}

// Pulls one mapping and prints its line; returns what failed ("" when the
// pass succeeded), for the state store's pass record.
std::string pull_one(const config::Config& cfg, const mapping::Mapping& m, pipeline::Puller& puller,
                     RunTotals& totals) {
  const std::string what = m.name + " (to_postgres)";
  auto retried = puller.retry_dead_letters(false);
  auto stats = retried.ok() ? puller.run() : model::Result<pipeline::PullStats>(retried.error());
  if (!stats.ok()) {
    if (const auto& done = puller.done(); done.read > 0) {  // pages applied before it stopped
      std::cout << what << ": " << pull_line(done) << " before it stopped\n";
      totals.pull += done;
    }
    report_failure(cfg, what, stats.error(), totals);
    return config::redact(cfg, model::describe(stats.error()));
  }
  std::cout << what << ": " << pull_line(*stats) << '\n';
  totals.pull += *stats;
  if (!stats->unreachable) return "";
  report_unreachable(what, *stats->unreachable, totals);
  return "HubSpot unreachable: " + model::describe(*stats->unreachable);
}

// Pushes one mapping and prints its line; returns what failed ("" when the
// pass succeeded).
std::string push_one(const config::Config& cfg, const mapping::Mapping& m, pipeline::Pusher& pusher,
                     pipeline::DatabasePort& db, RunTotals& totals) {
  const std::string what = m.name + " (to_hubspot)";
  if (auto due = pusher.requeue_dead_letters(false); due.ok() && *due > 0)
    ops::logger("push")->info("retrying dead letters mapping={} n={}", m.name, *due);
  auto stats = pusher.run();
  if (!stats.ok()) {
    if (const auto& done = pusher.done(); done.pushed() + done.archived + done.dead_lettered > 0) {
      std::cout << what << ": " << line(done) << " before it stopped\n";  // batches written first
      totals.push += done;
    }
    report_failure(cfg, what, stats.error(), totals);
    return config::redact(cfg, model::describe(stats.error()));
  }
  std::cout << what << ": " << line(*stats);
  std::int64_t queued = 0;
  if (auto q = db.count_pending(m.name); q.ok()) queued = *q;
  if (queued > 0) std::cout << "; " << queued << " change(s) queued for a later run";
  std::cout << '\n';
  totals.queued += queued;
  totals.push += *stats;
  if (!stats->unreachable || queued == 0) return "";
  report_unreachable(what, *stats->unreachable, totals);
  return "HubSpot unreachable: " + model::describe(*stats->unreachable);
}

void record_run(state::StateStore& store, std::int64_t run_id, const RunTotals& t,
                std::int64_t finished_ms, std::int64_t took_ms) {
  state::RunSummary summary;
  summary.counts.pushed = t.push.pushed();
  summary.counts.pulled = t.pull.created + t.pull.updated + t.pull.deleted;
  summary.counts.skipped = t.push.unchanged + t.push.filtered + t.push.ignored + t.pull.unchanged;
  summary.counts.archived = t.push.archived;
  summary.counts.failed = t.push.dead_lettered + t.pull.dead_lettered;
  summary.counts.conflicts = t.pull.conflicts + t.push.conflicts;
  summary.errors = t.errors;
  summary.finished_at_ms = finished_ms;
  summary.duration_ms = took_ms;
  (void)store.finish_run(run_id, summary);
}

// Deletions held once the run is over: those this run held, and those
// held before that wait out their delay.
void count_held(state::StateStore& store, const std::vector<mapping::Mapping>& mappings, const RunOptions& o,
                RunTotals& t) {
  for (const auto& m : mappings) {
    if (!o.mapping.empty() && m.name != o.mapping) continue;
    for (auto d : {state::Direction::to_hubspot, state::Direction::to_postgres}) {
      if (o.direction != "both" && o.direction != state::to_string(d)) continue;
      auto held = pipeline::held_deletes(store, m.name, d);
      if (!held.ok() || !*held) continue;
      t.held += (*held)->count;
      t.held_where += (t.held_where.empty() ? "" : ", ") + m.name + " " + state::to_string(d) + " " +
                      std::to_string((*held)->count);
    }
  }
}

void print_totals(const RunTotals& t, std::chrono::milliseconds took) {
  std::cout << "total: pulled " << t.pull.created + t.pull.updated + t.pull.deleted << " ("
            << pull_line(t.pull) << "); pushed " << t.push.pushed() << " (" << line(t.push) << ") in "
            << took.count() / 1000.0 << " s\n";
  const auto dead = t.push.dead_lettered + t.pull.dead_lettered;
  if (dead > 0) std::cout << dead << " record(s) dead-lettered: see `hubsync dead-letters list`\n";
  if (t.pull.conflicts + t.push.conflicts > 0)
    std::cout << t.pull.conflicts + t.push.conflicts << " conflict(s) decided by the mappings' rules: see `hubsync conflicts list`\n";
  if (t.held > 0)
    std::cout << t.held << " deletion(s) HELD (" << t.held_where << "): more than the mapping's max_deletes within "
              << "an hour; nothing was deleted. See `hubsync deletes list`; if they are meant: `hubsync deletes "
              << "allow` (or `hubsync run --once --allow-deletes`); if not, undo them at their source\n";
  if (t.queued > 0)
    std::cout << t.queued << " change(s) wait for a later run (an associated row not yet in "
              << "HubSpot, a transient error's retry, or the claim of a run that stopped, which lapses by "
              << "itself)\n";
}

}  // namespace

int cmd_run(const GlobalOptions& global, const RunOptions& options) {
  Workload w;
  if (int rc = load_workload(global, options.mapping, "run", w); rc != kExitOk) return rc;
  const config::Config& cfg = w.cfg;
  const auto& mappings = w.mappings;
  const auto& by_name = w.by_name;
  auto store = open_state(cfg, /*read_only=*/false);
  if (!store) return kExitUnavailable;
  const auto to_stderr = [](const std::string& line, bool error) {
    std::cerr << "run: " << (error ? "" : "warning: ") << line << '\n';
  };
  postgres::PgDatabase db(cfg.postgres.dsn.value, ops::logger("postgres"));
  ratelimit::SystemClock clock;
  HubSpotStack hubspot(cfg, store.get(), clock);
  PortalIdentity portal;
  int rc = learn_portal(cfg, hubspot.client, store.get(), /*record=*/true, to_stderr, portal);
  if (rc == kExitOk) rc = check_fingerprints(cfg, mappings, options.mapping, *store, db, portal, to_stderr);
  if (rc != kExitOk) {
    std::cerr << "run: nothing was synced\n";
    return rc;
  }

  const auto started = clock.monotonic();
  auto run_id = store->start_run("once", clock.wall_ms());
  auto printer = progress_printer(clock);
  const pipeline::ProgressFn progress = [&](const std::string& what, const std::string& m, std::int64_t d,
                                            std::int64_t t) { printer.update(what, m, d, t); };
  pipeline::PushOptions push_options;
  push_options.worker = "hubsync-" + std::to_string(getpid());
  push_options.progress = progress;
  push_options.allow_deletes = options.allow_deletes;
  push_options.recount_holds = true;  // a hold undone at its source ends with this run
  pipeline::PullOptions pull_options = cli::pull_options(cfg);
  pull_options.write_hubspot = options.direction != "to_postgres";  // a pull-only run writes no HubSpot
  pull_options.progress = progress;
  pull_options.allow_deletes = options.allow_deletes;

  RunTotals totals;
  // Parents before the mappings that point at them; per mapping, what
  // HubSpot changed comes in before what Postgres changed goes out.
  for (const mapping::Mapping* m : pipeline::push_order(mappings)) {
    if (!options.mapping.empty() && m->name != options.mapping) continue;
    if (totals.hubspot_down()) {
      // Each mapping would wait out the same retries: leave them for the next run.
      std::cout << m->name << ": skipped: HubSpot unreachable\n";
      continue;
    }
    if (m->pulls() && options.direction != "to_hubspot") {
      pipeline::Puller puller(*m, by_name, db, hubspot.crm, *store, clock, ops::logger("pull"), pull_options);
      const auto failed = pull_one(cfg, *m, puller, totals);
      (void)store->record_pass(m->name, state::Direction::to_postgres, clock.wall_ms(), failed);
    }
    if (m->pushes() && options.direction != "to_postgres" && !totals.hubspot_down()) {
      pipeline::Pusher pusher(*m, by_name, db, hubspot.crm, *store, clock, ops::logger("push"), push_options);
      const auto failed = push_one(cfg, *m, pusher, db, totals);
      (void)store->record_pass(m->name, state::Direction::to_hubspot, clock.wall_ms(), failed);
    }
  }
  if (auto pruned = db.prune_archive(); pruned.ok() && *pruned > 0)
    ops::logger("postgres")->info("pruned changelog archive rows={}", *pruned);
  // After the run's writes: a backup taken before now holds an older mark,
  // so the next run knows it went back however far the application's
  // writes carry the counter after it is restored.
  if (auto marked = pipeline::mark_database(db, *store); !marked.ok())
    ops::logger("postgres")->warn("could not mark the database after the run (the next run's check of a "
                                  "restored backup rests on the change counter alone): {}",
                                  config::redact(cfg, model::describe(marked.error())));

  count_held(*store, mappings, options, totals);
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(clock.monotonic() - started);
  print_totals(totals, took);
  if (run_id.ok()) record_run(*store, *run_id, totals, clock.wall_ms(), took.count());
  if (totals.rc == kExitOk && totals.held > 0) return kExitHeld;
  if (totals.rc == kExitOk && totals.push.dead_lettered + totals.pull.dead_lettered > 0) return kExitPartial;
  return totals.rc;
}

}  // namespace hubsync::cli
