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
#include "engine/pipeline/push.h"

namespace hubsync::cli {

namespace {

// A progress bar on a terminal, a line every few seconds elsewhere.
class Progress {
 public:
  explicit Progress(ratelimit::Clock& clock) : clock_(clock), tty_(isatty(STDERR_FILENO)) {}
  void operator()(const std::string& mapping, std::int64_t done, std::int64_t total) {
    const auto now = clock_.monotonic();
    const bool finished = total > 0 && done >= total;
    if (tty_) {
      const int width = 30;
      const int filled = total > 0 ? static_cast<int>(width * std::min<std::int64_t>(done, total) / total) : 0;
      std::fprintf(stderr, "\r%-14s [%s%s] %lld/%lld", mapping.c_str(), std::string(filled, '#').c_str(),
                   std::string(width - filled, ' ').c_str(), static_cast<long long>(done),
                   static_cast<long long>(total));
      if (finished) std::fprintf(stderr, "\n");
      std::fflush(stderr);
    } else if (finished || now - last_ >= std::chrono::seconds(5)) {
      ops::logger("push")->info("initial load progress mapping={} done={} total={}", mapping, done, total);
      last_ = now;
    }
  }

 private:
  ratelimit::Clock& clock_;
  bool tty_;
  ratelimit::Clock::Duration last_{0};
};

std::string line(const pipeline::PushStats& s) {
  return "created " + std::to_string(s.created) + ", updated " + std::to_string(s.updated) +
         ", unchanged " + std::to_string(s.unchanged) + ", archived " + std::to_string(s.archived) +
         ", filtered " + std::to_string(s.filtered) + ", ignored " + std::to_string(s.ignored) +
         ", dead-lettered " + std::to_string(s.dead_lettered) + ", waiting " +
         std::to_string(s.deferred + s.retried) + ", associations " + std::to_string(s.associations);
}

}  // namespace

int cmd_run(const GlobalOptions& global, const RunOptions& options) {
  config::Config cfg;
  if (!load_config_or_report(global, cfg)) return kExitError;
  std::vector<mapping::Mapping> mappings;
  if (!load_mappings(cfg.mappings.dir, {}, mappings)) return kExitError;
  std::map<std::string, const mapping::Mapping*> by_name;
  for (const auto& m : mappings) by_name[m.name] = &m;
  if (!options.mapping.empty() && !by_name.count(options.mapping)) {
    std::cerr << "run: no mapping named '" << options.mapping << "' in " << cfg.mappings.dir << '\n';
    return kExitError;
  }
  // Pushing without current capture would checkpoint loads whose later changes are lost.
  if (int rc = check_capture(cfg.postgres.dsn.value, mappings, options.mapping); rc != kExitOk) return rc;
  auto store = open_state(cfg, /*read_only=*/false);
  if (!store) return kExitUnavailable;
  ratelimit::SystemClock clock;
  HubSpotStack hubspot(cfg, store.get(), clock);
  postgres::PgDatabase db(cfg.postgres.dsn.value, ops::logger("postgres"));
  auto log = ops::logger("push");

  const auto started = clock.monotonic();
  auto run_id = store->start_run("once", clock.wall_ms());
  Progress progress(clock);
  pipeline::PushOptions push_options;
  push_options.worker = "hubsync-" + std::to_string(getpid());
  push_options.progress = [&](const std::string& m, std::int64_t d, std::int64_t t) { progress(m, d, t); };

  pipeline::PushStats total;
  std::int64_t queued_total = 0;
  std::string errors;
  int rc = kExitOk;
  for (const mapping::Mapping* m : pipeline::push_order(mappings)) {
    if (!options.mapping.empty() && m->name != options.mapping) continue;
    if (!m->pushes()) continue;
    pipeline::Pusher pusher(*m, by_name, db, hubspot.crm, *store, clock, log, push_options);
    if (auto due = pusher.requeue_dead_letters(false); due.ok() && *due > 0)
      log->info("retrying dead letters mapping={} n={}", m->name, *due);
    auto stats = pusher.run();
    if (!stats.ok()) {
      const auto& e = stats.error();
      std::cout << m->name << " (to_hubspot): FAILED: " << e.message << '\n';
      log->error("push failed mapping={} kind={} status={} category={}", m->name,
                 model::to_string(e.kind), e.http_status, e.category);
      errors += m->name + ": " + e.message + "\n";
      rc = e.kind == model::ErrorKind::transient || e.kind == model::ErrorKind::rate_limited
               ? std::max<int>(rc, kExitUnavailable)
               : kExitError;
      continue;
    }
    std::cout << m->name << " (to_hubspot): " << line(*stats);
    if (auto queued = db.count_pending(m->name); queued.ok() && *queued > 0) {
      std::cout << "; " << *queued << " change(s) queued for a later run";
      queued_total += *queued;
    }
    std::cout << '\n';
    total += *stats;
  }
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(clock.monotonic() - started);
  std::cout << "total: pushed " << total.pushed() << " (" << line(total) << ") in "
            << took.count() / 1000.0 << " s\n";
  if (total.dead_lettered > 0)
    std::cout << total.dead_lettered << " record(s) dead-lettered: see `hubsync dead-letters list`\n";
  if (queued_total > 0)
    std::cout << queued_total << " change(s) wait for a later run (an associated row not yet in "
              << "HubSpot, or a transient error)\n";

  if (run_id.ok()) {
    state::RunSummary summary;
    summary.counts.pushed = total.pushed();
    summary.counts.skipped = total.unchanged + total.filtered + total.ignored;
    summary.counts.archived = total.archived;
    summary.counts.failed = total.dead_lettered;
    summary.errors = errors;
    summary.finished_at_ms = clock.wall_ms();
    summary.duration_ms = took.count();
    (void)store->finish_run(*run_id, summary);
  }
  if (rc == kExitOk && total.dead_lettered > 0) rc = kExitPartial;
  return rc;
}

}  // namespace hubsync::cli
