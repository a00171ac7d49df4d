#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <cstdint>
#include <map>
#include <optional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include <spdlog/logger.h>

#include "engine/mapping/mapping.h"
#include "engine/pipeline/pull.h"
#include "engine/pipeline/push.h"
#include "engine/ratelimit/rate_limiter.h"
#include "engine/service/change_notifier.h"

namespace hubsync::service {

using std::chrono::milliseconds;

/// What the HubSpot client counted (connectors fill it; engine stays free
/// of libcurl).
struct ApiCounts {
  std::int64_t requests = 0;
  std::int64_t responses_429 = 0;
  std::int64_t retries = 0;
  std::int64_t failures = 0;
  /// HTTP exchanges by (method, route, status); routes carry no record id.
  std::map<std::tuple<std::string, std::string, std::string>, std::int64_t> exchanges;
};

/// How far one direction of a mapping is behind.
struct Backlog {
  std::int64_t pending = 0;  ///< to HubSpot: captured changes; to Postgres: webhook events
  double lag_seconds = 0;    ///< age of the oldest of them (0: none)
};

/// A snapshot of the figures `serve` publishes, gathered on the worker
/// thread (the only one that may use the DatabasePort).
struct Snapshot {
  std::int64_t inbox_pending = 0;
  std::map<std::string, Backlog> to_hubspot;       ///< mapping -> captured changes not yet pushed
  std::map<std::string, Backlog> to_postgres;      ///< mapping -> webhook events not yet pulled
  std::map<std::string, std::int64_t> dead_letters;  ///< mapping -> pending dead letters
  /// WAL the capture's replication slot holds back (-1: the slot is gone);
  /// unset with the capture trigger.
  std::optional<std::int64_t> capture_retained_wal;
  ratelimit::LimiterStats limiter;
  ApiCounts api;
  /// HubSpot's and the database server's clocks against this host's, as
  /// `conflict: newest` corrects them (unset: not known yet, or unreadable).
  std::optional<model::ClockOffset> hubspot_clock;
  std::optional<model::ClockOffset> postgres_clock;
};

struct ServiceStats;

struct ServiceOptions {
  milliseconds debounce{250};          ///< after a NOTIFY, wait this long for more before pushing
  milliseconds poll_every{30'000};     ///< push every mapping this often even without a NOTIFY
  milliseconds inbox_every{500};       ///< how often the webhook inbox is looked at
  std::size_t inbox_batch = 500;       ///< events claimed at a time
  std::int64_t inbox_lease_ms = 300'000;
  std::int64_t inbox_keep_ms = 7 * 86'400'000LL;  ///< processed events kept for dedupe
  milliseconds sweep_every{300'000};   ///< the safety-net sweep (checkpoint - overlap)
  milliseconds reconcile_every{900'000};  ///< the delayed reconciliation pass
  std::int64_t reconcile_window_ms = 3'600'000;  ///< how far behind it re-reads
  milliseconds lease_renew_every{30'000};
  /// Sweep pages read per step: between steps the inbox and the pushes run,
  /// so a long sweep (a first backfill) never holds live traffic back.
  int sweep_pages_per_step = 10;
  milliseconds error_backoff{5'000};   ///< after a step failed (HubSpot or Postgres down)
  pipeline::PushOptions push;
  pipeline::PullOptions pull;
  /// Called on the worker thread every `publish_every` with the service's
  /// counters and a snapshot (inbox, backlog, lag, dead letters filled in;
  /// the callee adds the limiter's and the API's figures). Empty: none.
  std::function<void(const ServiceStats&, Snapshot&)> publish;
  milliseconds publish_every{5'000};
  /// Where the service counts; nullptr: a ServiceStats of its own. Lets a
  /// reader (readiness checks on other threads) outlive one Service.
  ServiceStats* stats = nullptr;
  /// Workflow actions (cmd_serve wires an actions::Executor): asked on the
  /// worker, between steps and between sweep pages, whether executions or
  /// callback deliveries are due (thread-safe, cheap); `run_actions` runs
  /// them on the worker. Empty: no actions.
  std::function<bool()> actions_due;
  std::function<void()> run_actions;
  milliseconds actions_every{200};  ///< how often an idle worker looks at them again
  std::int64_t actions_keep_ms = 7 * 86'400'000LL;  ///< action executions kept (HubSpot retries for 3 days)
  /// Masks secrets in error text before it is recorded in the state store's
  /// pass outcomes (libpq can quote a DSN). Empty: the text as it is.
  std::function<std::string(std::string)> redact;
  /// Called on the worker before every step's work: whether the database
  /// (and portal) are still the ones the state store's links were made with
  /// (cmd_serve: the database's id and change counter, as check_store_identity
  /// compares them), recording them when `record` (at most every
  /// identity_record_every). A `fatal` error stops the service before it
  /// writes anything (fatal_error()): a database swapped or restored from a
  /// backup under a running service must get no write. Other errors are left
  /// to the step's own calls. Empty: never checked.
  std::function<model::Status(bool record)> check_identity;
  milliseconds identity_record_every{30'000};
};

/// What pushes and pulls of one mapping did, summed since the start.
struct MappingTotals {
  pipeline::PushStats push;
  pipeline::PullStats pull;
};

/// What the service did so far (for /metrics, the health page, tests).
struct ServiceStats {
  std::atomic<std::int64_t> events_processed{0};  ///< inbox events reconciled
  std::atomic<std::int64_t> events_dropped{0};    ///< events no mapping pulls (acknowledged)
  std::atomic<std::int64_t> objects_pulled{0};    ///< objects reconciled from events
  std::atomic<std::int64_t> pushes{0};            ///< push passes run
  std::atomic<std::int64_t> rows_pushed{0};
  std::atomic<std::int64_t> sweeps{0};            ///< safety-net sweep passes run (all mappings)
  std::atomic<std::int64_t> reconciles{0};        ///< delayed reconciliation passes run
  std::atomic<std::int64_t> failures{0};          ///< steps that failed (and were retried)
  std::atomic<std::int64_t> last_ok_ms{0};        ///< wall time of the last step that succeeded
  std::atomic<bool> postgres_ok{false};
  std::atomic<bool> hubspot_ok{true};

  /// Adds one pass's figures to the mapping's totals. Thread-safe.
  void add(const std::string& mapping, const pipeline::PushStats& s);
  void add(const std::string& mapping, const pipeline::PullStats& s);
  /// A copy of every mapping's totals. Thread-safe.
  std::map<std::string, MappingTotals> totals() const;

 private:
  mutable std::mutex totals_mu_;
  std::map<std::string, MappingTotals> totals_;  // guarded by totals_mu_
};

/// The loops of `hubsync serve` (docs/architecture.md) on one worker thread, so
/// the pushes and pulls of one mapping never interleave: the webhook inbox
/// drained into Puller::pull_ids (current state read with batch/read, so
/// event order does not matter); pushes woken by Postgres NOTIFY (after a
/// debounce; every mapping on a fallback poll and after the listener
/// reconnects); the periodic sweep, the delayed reconciliation pass over a
/// trailing window, dead-letter retries and housekeeping. Every HubSpot call
/// spends the one limiter the CrmPort holds, so the safety nets share the
/// portal's budget with live traffic. Mapping leases are taken and renewed
/// through DatabasePort::lock_mapping; a mapping another process holds is
/// skipped (and logged once) until it can be taken.
class Service {
 public:
  /// Every reference must outlive the Service. `notifier` is waited on by a
  /// thread of the Service's own.
  Service(const std::vector<mapping::Mapping>& mappings, pipeline::DatabasePort& db, pipeline::CrmPort& crm,
          state::StateStore& store, ratelimit::Clock& clock, ChangeNotifier& notifier,
          std::shared_ptr<spdlog::logger> log, ServiceOptions options = {});
  ~Service();

  /// Runs the loops until stop() (from any thread, or a signal handler's
  /// flag polled through `should_stop`), then gives the leases back.
  /// Returns after the step in progress ends: nothing claimed is lost (an
  /// unfinished claim's lease expires and it is processed again).
  void run();
  /// Asks run() to return. Thread-safe.
  void stop();
  /// Wakes the worker now (e.g. the webhook receiver stored events). Thread-safe.
  void wake();
  /// Pushes `mapping` soon, as after a NOTIFY (rows hubsync queued itself,
  /// e.g. a workflow action's write). Thread-safe.
  void push_soon(const std::string& mapping);

  const ServiceStats& stats() const { return stats_; }
  /// Why run() stopped by itself (ServiceOptions::check_identity), if it
  /// did. Read after run() returns.
  const std::optional<model::Error>& fatal_error() const { return fatal_; }

 private:
  void listen_loop();
  bool stopping() const { return stop_.load(); }
  /// Sleeps up to `max` or until there is work; true when wake() was called.
  bool wait_for_work(milliseconds max);
  /// True when live work waits (a NOTIFY, a catch-up, webhook events stored
  /// since the last step): the sweep yields to it between pages.
  bool live_work_waiting();
  /// True when webhook events or workflow actions wait: a push yields to
  /// them between changelog rounds.
  bool pull_work_waiting();
  enum class Hold { ours, elsewhere, failed };
  /// Takes or renews the mapping's lease.
  Hold hold(const mapping::Mapping& m);
  void renew_leases();
  enum class Drain { idle, more, failed };
  Drain drain_inbox();
  void pull_events(const mapping::Mapping& m, const std::vector<std::string>& ids, bool& ok);
  bool push(const std::set<std::string>& names, bool all);
  /// One step of a sweep of every pulling mapping; sets sweep_more_ when a
  /// mapping has pages left (the next step goes on from its checkpoint).
  bool sweep(std::int64_t overlap_ms, const char* what);
  void housekeeping();
  void publish();
  bool step();
  /// False when check_identity failed fatally: fatal_ is set and the service stops.
  bool identity_holds(ratelimit::Clock::Duration now);
  bool push_due(ratelimit::Clock::Duration now);
  void idle();
  void failed(const std::string& what, const model::Error& e);
  /// failed(), for an error HubSpot caused (a pass it left undone): HubSpot
  /// is down for /readyz and hubsync_up_hubspot until a call succeeds again.
  void hubspot_failed(const std::string& what, const model::Error& e);
  /// Records how a pass of `mapping` in direction `d` ended (`e` null: it
  /// succeeded) in the state store, for `hubsync status` and the health page.
  void passed(const std::string& mapping, state::Direction d, const model::Error* e);
  std::vector<const mapping::Mapping*> covering(const std::string& object_type) const;

  const std::vector<mapping::Mapping>& mappings_;
  std::map<std::string, const mapping::Mapping*> by_name_;
  std::vector<const mapping::Mapping*> order_;
  pipeline::DatabasePort& db_;
  pipeline::CrmPort& crm_;
  state::StateStore& store_;
  ratelimit::Clock& clock_;
  ChangeNotifier& notifier_;
  std::shared_ptr<spdlog::logger> log_;
  ServiceOptions opt_;
  ServiceStats own_stats_;
  ServiceStats& stats_;

  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  std::set<std::string> notified_;  // guarded by mu_
  // guarded by mu_: when the oldest change notified_ stands for was captured
  // (clock_.monotonic()'s time; zero: none waits)
  ratelimit::Clock::Duration notified_since_{0};
  bool catch_up_ = true;            // guarded by mu_: push every mapping
  bool woken_ = false;              // guarded by mu_
  bool news_ = false;               // guarded by mu_: the listener brought something since the last wait
  std::set<std::string> held_elsewhere_;  // mappings another process holds (logged once)
  bool sweep_more_ = false;               // a sweep step stopped with pages left
  std::set<std::string> push_more_;       // pushes that yielded with changes left (pushed again at once)
  struct Timers {                         // monotonic times; 0: not set
    ratelimit::Clock::Duration next_sweep{0}, next_reconcile{0}, next_renew{0}, next_poll{0}, next_inbox{0},
        next_publish{0}, next_push_retry{0}, first_notified{0}, next_identity_record{0};
  };
  Timers t_;                              // the worker's schedule
  std::optional<model::Error> fatal_;     // set by the worker, then it stops
};

}  // namespace hubsync::service
