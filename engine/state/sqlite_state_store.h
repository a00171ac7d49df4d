#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "engine/model/migration.h"
#include "engine/ratelimit/clock.h"
#include "engine/state/retry_schedule.h"
#include "engine/state/state_store.h"

namespace spdlog {
class logger;
}

namespace hubsync::state {

namespace sqlite {
class Db;
class PidLock;
}  // namespace sqlite

/// How hard SQLite syncs to disk on commit (PRAGMA synchronous).
/// - normal (default): in WAL mode a commit is durable against a crash of
///   the process (kill -9, abort): the WAL is written before COMMIT returns
///   and the OS keeps it. A power loss or kernel crash may lose the last
///   commits (never corrupts: the WAL is checksummed and replayed up to the
///   last complete commit). That costs only repeated idempotent work: the
///   changelog rows and webhook events are re-processed.
/// - full: fsyncs the WAL on every commit, durable against power loss, at
///   the cost of one fsync per transaction.
enum class Synchronous { normal, full };

struct SqliteOptions {
  std::string path;  ///< the state file; `<path>.lock` holds the writer's pid
  /// Read-only: no write lock, no migrations (the schema must be current);
  /// writes fail with `fatal`. For `hubsync status` next to a running engine.
  bool read_only = false;
  /// Writes beside the process that holds the write lock (`dead-letters
  /// retry` next to `serve`): no lock taken, no migrations (the schema must
  /// be current); each write waits `busy_timeout` for the holder's
  /// transactions, which SQLite keeps apart. For a few rows' edits only.
  bool beside_writer = false;
  Synchronous synchronous = Synchronous::normal;
  /// How long a statement waits for a lock held by a reader or checkpointer.
  std::chrono::milliseconds busy_timeout{5000};
  /// Stamps updated_at/received_at/applied_at; nullptr: the system clock.
  /// Must outlive the store.
  const ratelimit::Clock* clock = nullptr;
  /// nullptr: the spdlog logger named "state", created if missing.
  std::shared_ptr<spdlog::logger> logger;
  /// When dead letters are retried (add_dead_letter computes next retries).
  RetrySchedule retry_schedule;
  /// nullptr: the migrations embedded in the binary. Tests substitute their
  /// own list (sorted by version) to exercise upgrades and failures.
  const std::vector<model::Migration>* migrations = nullptr;
};

/// StateStore on one SQLite file in WAL mode, owned by one writer process.
class SqliteStateStore final : public StateStore {
 public:
  /// Opens (creating it with mode 0600 if missing) and migrates the store.
  /// Errors (all `fatal` unless said otherwise, messages name the path):
  /// another process holds the write lock (the message names its pid); the
  /// file's schema is newer than this binary; a migration failed (rolled
  /// back); the file is not a database; busy beyond busy_timeout
  /// (`transient`).
  static Result<std::unique_ptr<SqliteStateStore>> open(const SqliteOptions& options);

  /// Writes a consistent copy of the state file `from` to `to` (which must
  /// not exist), through a read-only connection: `from` is never written,
  /// and its writer may go on meanwhile. For `hubsync plan`, which runs the
  /// pipeline against the copy. `fatal` naming the file on failure.
  static Status copy_file(const std::string& from, const std::string& to);

  ~SqliteStateStore() override;
  SqliteStateStore(const SqliteStateStore&) = delete;
  SqliteStateStore& operator=(const SqliteStateStore&) = delete;

  const std::string& path() const { return path_; }
  /// The highest applied migration version.
  Result<int> schema_version();
  /// Runs PRAGMA integrity_check; `fatal` listing the problems if any.
  Status check_integrity();

  Status transaction(const std::function<Status()>& fn) override;

  Result<std::optional<Checkpoint>> get_checkpoint(const std::string& mapping,
                                                   const std::string& cursor_name) override;
  Status set_checkpoint(const std::string& mapping, const std::string& cursor_name,
                        const std::string& value) override;
  Status remove_checkpoint(const std::string& mapping, const std::string& cursor_name) override;

  Status upsert_link(const std::string& mapping, const std::string& pg_key,
                     const std::string& hubspot_id) override;
  Result<std::optional<Link>> find_link_by_pg_key(const std::string& mapping,
                                                  const std::string& pg_key) override;
  Result<std::optional<Link>> find_link_by_hubspot_id(const std::string& mapping,
                                                      const std::string& hubspot_id) override;
  Result<std::string> resolve_hubspot_id(const std::string& mapping,
                                         const std::string& hubspot_id) override;
  Result<std::optional<Link>> find_link_by_match_key(const std::string& mapping,
                                                     const std::string& match_key) override;
  Result<std::size_t> backfill_match_keys(const std::string& mapping, const std::string& field,
                                          bool fold_case) override;
  Result<std::size_t> count_links(const std::string& mapping) override;
  Result<std::map<std::string, std::size_t>> count_links_by_mapping() override;
  Result<std::vector<Link>> list_links(const std::string& mapping, const std::string& after,
                                       std::size_t limit) override;
  Result<bool> remove_link(const std::string& mapping, const std::string& pg_key) override;
  Result<bool> move_link(const std::string& mapping, const std::string& from_pg_key,
                         const std::string& to_pg_key) override;
  Result<MergeOutcome> repoint_merged(const std::string& mapping,
                                      const std::vector<std::string>& absorbed_ids,
                                      const std::string& survivor_id,
                                      TimeMs merged_at_ms) override;

  Result<SyncedFields> get_synced(const std::string& mapping, const std::string& pg_key) override;
  Result<std::map<std::string, SyncedFields>> get_synced_many(
      const std::string& mapping, const std::vector<std::string>& pg_keys) override;
  Status put_synced(const std::string& mapping, const std::string& pg_key,
                    const SyncedFields& fields) override;
  Result<bool> remove_synced(const std::string& mapping, const std::string& pg_key) override;
  Result<std::int64_t> forget_field(const std::string& mapping, const std::string& field) override;
  Result<std::int64_t> overwrite_field(const std::string& mapping, const std::string& field) override;
  Status commit_batch(const BatchCommit& batch) override;
  Result<bool> departed_from(const std::string& mapping, const std::string& pg_key,
                             const std::string& hubspot_id) override;
  Status record_intents(const std::string& mapping,
                        const std::vector<WriteIntent>& intents) override;
  Result<std::vector<WriteIntent>> list_intents(const std::string& mapping) override;

  Result<std::size_t> append_inbox(const std::vector<InboxEvent>& events) override;
  Result<std::vector<InboxEvent>> claim_inbox(std::size_t limit, TimeMs now_ms,
                                              std::int64_t lease_ms) override;
  Status mark_inbox_processed(const std::vector<std::int64_t>& seqs,
                              TimeMs processed_at_ms) override;
  Status release_inbox(const std::vector<std::int64_t>& seqs) override;
  Result<std::size_t> purge_inbox(TimeMs before_ms) override;
  Status record_postgres_intents(const std::string& mapping,
                                 const std::vector<PostgresIntent>& intents) override;
  Result<std::vector<PostgresIntent>> list_postgres_intents(const std::string& mapping) override;
  Result<std::size_t> count_inbox_pending() override;
  Result<std::vector<InboxBacklog>> inbox_backlog() override;

  Result<std::int64_t> add_dead_letter(const DeadLetter& dl) override;
  Result<std::optional<DeadLetter>> get_dead_letter(std::int64_t id) override;
  Result<std::vector<DeadLetter>> list_dead_letters(const DeadLetterFilter& filter) override;
  Result<std::vector<DeadLetter>> due_dead_letters(TimeMs now_ms, std::size_t limit) override;
  Status mark_dead_letters_queued(const std::vector<std::int64_t>& ids) override;
  Status reschedule_dead_letters(const std::vector<std::int64_t>& ids, TimeMs at_ms) override;
  Status record_dead_letter_failure(std::int64_t id, const FailedAttempt& attempt) override;
  Result<bool> resolve_dead_letter(std::int64_t id) override;
  Result<std::size_t> resolve_dead_letters_for(const std::string& mapping, Direction direction,
                                               const std::vector<std::string>& pg_keys) override;
  Result<std::size_t> resolve_pulled_dead_letters(const std::string& mapping,
                                                  const std::vector<std::string>& hubspot_ids) override;
  Status discard_dead_letter(std::int64_t id, const std::string& reason) override;

  Result<std::int64_t> record_conflict(const ConflictRecord& c) override;
  Result<std::vector<ConflictRecord>> list_conflicts(const std::string& mapping,
                                                     std::size_t limit) override;

  Result<std::int64_t> start_run(const std::string& mode, TimeMs started_at_ms) override;
  Status finish_run(std::int64_t run_id, const RunSummary& summary) override;
  Result<std::vector<RunRecord>> list_runs(std::size_t limit) override;
  Result<std::optional<RunRecord>> last_run() override;

  // sqlite_passes.cpp
  Result<std::vector<Checkpoint>> list_checkpoints(const std::string& mapping) override;
  Status record_pass(const std::string& mapping, Direction direction, TimeMs at_ms,
                     const std::string& error) override;
  Result<std::vector<PassRecord>> list_passes() override;

  Result<std::pair<ActionExecution, bool>> begin_action(const ActionExecution& execution) override;
  Result<std::optional<ActionExecution>> get_action(const std::string& callback_id) override;
  Result<std::vector<ActionExecution>> unfinished_blocked_actions() override;
  Status finish_action(const std::string& callback_id,
                       const std::map<std::string, std::string>& outputs) override;
  Status block_action(const std::string& callback_id) override;
  Status fail_action(const std::string& callback_id, const std::string& error) override;
  Result<std::vector<ActionExecution>> due_callbacks(TimeMs now_ms, std::size_t limit) override;
  Status callback_attempted(const std::string& callback_id, const std::string& error,
                            TimeMs next_at_ms) override;
  Result<std::size_t> purge_actions(TimeMs before_ms) override;
  Result<ActionSummary> action_summary(TimeMs since_ms) override;

  Status save_oauth_tokens(const OAuthTokens& tokens) override;
  Result<std::optional<OAuthTokens>> load_oauth_tokens(const std::string& portal_id) override;

 private:
  SqliteStateStore(std::unique_ptr<sqlite::Db> db, std::unique_ptr<sqlite::PidLock> lock,
                   const SqliteOptions& options);

  Status migrate();
  Status check_schema_current();
  TimeMs now_ms() const;
  /// `fatal` when the store was opened read-only.
  Status check_writable() const;

  // Transactions nest: depth 0 is BEGIN IMMEDIATE, deeper levels savepoints.
  Status begin();
  Status commit();
  void rollback();

  /// Runs `f` (returning Result<T> or Status) inside a (nested) transaction.
  template <class F>
  auto in_txn(F&& f) -> decltype(f()) {
    if (auto b = begin(); !b) return std::move(b).error();
    auto r = f();
    if (!r) {
      rollback();
      return r;
    }
    if (auto c = commit(); !c) {
      rollback();
      return std::move(c).error();
    }
    return r;
  }

  // Bodies shared by single and batch operations; callers hold mu_ and a
  // transaction.
  Status upsert_link_locked(const std::string& mapping, const std::string& pg_key,
                            const std::string& hubspot_id,
                            const std::optional<std::string>& match_key = std::nullopt);
  Status put_synced_locked(const std::string& mapping, const std::string& pg_key,
                           const SyncedFields& fields);
  Result<std::string> resolve_locked(const std::string& mapping, const std::string& hubspot_id);
  Result<std::optional<Link>> link_by_hubspot_id_locked(const std::string& mapping,
                                                        const std::string& hubspot_id);
  Result<std::optional<Link>> link_by_pg_key_locked(const std::string& mapping,
                                                    const std::string& pg_key);
  Result<std::int64_t> add_dead_letter_locked(const DeadLetter& dl);
  Result<std::optional<DeadLetter>> pending_dead_letter_locked(const DeadLetter& dl);
  void log_gave_up(std::int64_t id, model::ErrorKind kind, int http_status);
  /// Runs `fn` in a transaction whose commit is synced to disk (FULL), then
  /// restores the configured level.
  Status durable_txn(const std::function<Status()>& fn);
  Status delete_postgres_intent_locked(const std::string& mapping, const std::string& pg_key);
  Status delete_intent_locked(const std::string& mapping, const std::string& pg_key);
  Result<std::optional<ActionExecution>> action_locked(const std::string& callback_id);
  /// Executions matching `where` (?1 is `now`), by next callback time.
  Result<std::vector<ActionExecution>> actions_where_locked(const std::string& where, TimeMs now,
                                                            std::size_t limit);

  std::string path_;
  bool read_only_;
  const char* sync_pragma_;  ///< restores the configured synchronous level
  const ratelimit::Clock* clock_;
  const std::vector<model::Migration>* migrations_;
  RetrySchedule retry_;
  std::unique_ptr<ratelimit::SystemClock> own_clock_;
  std::shared_ptr<spdlog::logger> log_;
  std::recursive_mutex mu_;
  int txn_depth_ = 0;
  // Declared last: the connection closes before the write lock is released.
  std::unique_ptr<sqlite::PidLock> lock_;
  std::unique_ptr<sqlite::Db> db_;
};

}  // namespace hubsync::state
