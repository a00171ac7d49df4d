#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "engine/model/result.h"

namespace hubsync::state {

using model::Result;
using model::Status;

/// All times in the store are milliseconds since the Unix epoch, UTC.
using TimeMs = std::int64_t;

/// A sweep watermark or any other named cursor of one mapping.
struct Checkpoint {
  std::string mapping;
  std::string cursor_name;
  std::string value;
  TimeMs updated_at_ms = 0;
};

/// One entry of the identity map: a Postgres row and its HubSpot object.
struct Link {
  std::string mapping;
  std::string pg_key;      ///< model::RecordKey::encoded()
  std::string hubspot_id;  ///< the current (surviving) HubSpot object id
  TimeMs created_at_ms = 0;
  TimeMs updated_at_ms = 0;
  std::optional<std::string> match_key;  ///< normalised match value, if known
};

/// What re-pointing links after a HubSpot merge did.
struct MergeOutcome {
  /// The pg_key now linked to the survivor, if any.
  std::optional<std::string> survivor_pg_key;
  /// Rows that were linked to an absorbed id but could not keep a link
  /// because another row already owns the survivor: their link was removed
  /// and the caller must decide (re-link, dead-letter, or report).
  std::vector<std::string> orphaned_pg_keys;
};

/// The last value of one field that both sides agreed on: the merge base.
struct SyncedField {
  std::optional<std::string> value;  ///< canonical text (Postgres's form); nullopt is a null value
  TimeMs side_changed_at_ms = 0;     ///< the changing side's modification time
  TimeMs synced_at_ms = 0;           ///< when hubsync recorded the agreement
  /// The value as HubSpot stored it, when it differs from `value` (HubSpot
  /// normalised what was written); nullopt: the same.
  std::optional<std::string> hs_value = std::nullopt;
  /// `resync --overwrite` asked (overwrite_field): `value` is no agreement,
  /// and the field's source wins its next merge wherever the sides differ.
  bool source_wins = false;
  friend bool operator==(const SyncedField&, const SyncedField&) = default;
};

/// field name -> base value, ordered by name.
using SyncedFields = std::map<std::string, SyncedField>;

/// One record of a committed batch: its link (when hubspot_id is set) and the
/// fields that are now in agreement.
struct SyncedRecord {
  std::string pg_key;
  std::string hubspot_id;  ///< empty: leave the link as it is
  SyncedFields fields;     ///< merged into the stored fields (others kept)
  /// The link's normalised match value; nullopt leaves it as it is.
  std::optional<std::string> match_key = std::nullopt;
};

/// Everything one pushed or pulled batch leaves in the store, committed in
/// one transaction.
struct BatchCommit {
  std::string mapping;
  std::vector<SyncedRecord> records;
  /// Rows deleted or archived: their link and base values are removed, and
  /// the link kept as departed (StateStore::departed_from). Applied before
  /// `records`, so a link can move from a removed row to a new one in the
  /// same batch.
  std::vector<std::string> removed_pg_keys;
  /// Rows whose write intents (record_intents) are settled by this batch.
  std::vector<std::string> intents_done = {};
  /// Rows whose Postgres intents (record_postgres_intents) are settled.
  std::vector<std::string> postgres_intents_done = {};
};

/// Values a pull is about to write to one Postgres row (see
/// record_postgres_intents).
struct PostgresIntent {
  std::string pg_key;
  /// field id -> the comparison value the row will hold (nullopt: null).
  std::map<std::string, std::optional<std::string>> fields;
};

/// A HubSpot write about to be sent for one row (see record_intents).
struct WriteIntent {
  std::string pg_key;
  std::string hubspot_id;   ///< empty: an upsert by match value
  std::string match_value;  ///< the match property's value sent
  SyncedFields fields;      ///< field id -> value being written (side_changed_at set)
  TimeMs started_at_ms = 0;
};

/// A webhook event in the durable inbox.
struct InboxEvent {
  std::int64_t seq = 0;  ///< store-assigned, increasing in arrival order
  std::string event_id;
  std::string subscription_id;  ///< part of the dedupe key, may be empty
  std::string subscription_type;  ///< e.g. contact.propertyChange
  std::string object_type;        ///< e.g. contacts, or a custom object type id
  std::string object_id;
  TimeMs occurred_at_ms = 0;
  std::string property_name;
  std::optional<std::string> property_value;
  std::string raw_json;
  TimeMs received_at_ms = 0;  ///< 0 on append: the store stamps it from its clock
  int attempts = 0;           ///< how many times the event was claimed
};

/// Webhook events of one object type not yet processed.
struct InboxBacklog {
  std::string object_type;
  std::int64_t pending = 0;
  TimeMs oldest_received_ms = 0;  ///< when the oldest of them arrived
};

enum class Direction { to_hubspot, to_postgres };
const char* to_string(Direction d);
std::optional<Direction> direction_from_string(const std::string& s);

/// How the last passes of one mapping and direction ended (status, health page).
struct PassRecord {
  std::string mapping;
  Direction direction = Direction::to_hubspot;
  std::optional<TimeMs> last_ok_ms;     ///< nullopt: never succeeded yet
  std::optional<TimeMs> last_error_ms;  ///< nullopt: no failure since the last success
  std::string last_error;               ///< no secrets, no record values
};

enum class DeadLetterStatus { pending, discarded };
const char* to_string(DeadLetterStatus s);

/// A record that failed, why, and when it is retried next.
struct DeadLetter {
  std::int64_t id = 0;  ///< store-assigned
  std::string mapping;
  Direction direction = Direction::to_hubspot;
  std::string pg_key;      ///< the record's key on the source side; one of
  std::string hubspot_id;  ///< pg_key / hubspot_id may be empty
  std::string payload_json;
  model::ErrorKind error_kind = model::ErrorKind::invalid_record;
  int http_status = 0;
  std::string category;
  std::string message;  ///< must never hold a secret
  int attempts = 1;
  std::optional<TimeMs> next_retry_at_ms;  ///< nullopt: never retried automatically
  TimeMs first_failed_at_ms = 0;
  TimeMs last_failed_at_ms = 0;
  DeadLetterStatus status = DeadLetterStatus::pending;
  std::string discard_reason;
  bool in_queue = false;  ///< its row is back in the changelog, being retried
};

/// Which dead letters to list; unset members match everything.
struct DeadLetterFilter {
  std::optional<std::string> mapping;
  std::optional<Direction> direction;
  std::optional<DeadLetterStatus> status;
  std::size_t limit = 100;
};

/// Another failed attempt of a dead-lettered record.
struct FailedAttempt {
  model::ErrorKind error_kind = model::ErrorKind::transient;
  int http_status = 0;
  std::string category;
  std::string message;
  TimeMs failed_at_ms = 0;
  std::optional<TimeMs> next_retry_at_ms;  ///< nullopt: stop retrying automatically
};

enum class Side { postgres, hubspot };
const char* to_string(Side s);

/// One decided conflict (all three values differed, or one side deleted
/// the record the other edited).
struct ConflictRecord {
  std::int64_t id = 0;  ///< store-assigned
  std::string mapping;
  std::string pg_key;
  std::string hubspot_id;
  std::string field;
  std::optional<std::string> pg_value;
  std::optional<std::string> hs_value;
  std::optional<std::string> base_value;
  Side winner = Side::postgres;
  /// What decided: the policy (postgres | hubspot | newest, perhaps with a
  /// note), or `deletion`: an edit that a deletion on the other side
  /// discarded (the deleting side's value is nullopt).
  std::string rule;
  TimeMs decided_at_ms = 0;
  std::optional<std::int64_t> run_id;
};

struct RunCounts {
  std::int64_t pushed = 0;
  std::int64_t pulled = 0;
  std::int64_t skipped = 0;
  std::int64_t archived = 0;
  std::int64_t failed = 0;
  std::int64_t conflicts = 0;
  friend bool operator==(const RunCounts&, const RunCounts&) = default;
};

/// What a run reports when it ends.
struct RunSummary {
  RunCounts counts;
  std::string errors;  ///< human-readable, no secrets; empty when clean
  TimeMs finished_at_ms = 0;
  std::int64_t duration_ms = 0;
};

struct RunRecord {
  std::int64_t id = 0;
  std::string mode;  ///< once | serve | backfill ...
  TimeMs started_at_ms = 0;
  std::optional<TimeMs> finished_at_ms;  ///< nullopt: running, or the process died
  RunCounts counts;
  std::string errors;
  std::int64_t duration_ms = 0;
};

/// OAuth credentials of one HubSpot portal. Secrets: never log these.
struct OAuthTokens {
  std::string portal_id;
  std::string access_token;
  std::string refresh_token;
  TimeMs expires_at_ms = 0;  ///< of the access token
  std::vector<std::string> scopes;
  TimeMs updated_at_ms = 0;  ///< stamped by the store on save
  TimeMs issued_at_ms = 0;   ///< when the access token was issued, 0 if unknown
  std::int64_t hub_id = 0;   ///< the portal as the token endpoint reports it, 0 if unknown
};

/// One execution of a workflow custom action; HubSpot names it by callbackId.
struct ActionExecution {
  std::string callback_id;
  std::string action;     ///< the action's name (a mapping's actions: block)
  std::string object_id;  ///< the enrolled HubSpot object
  std::string request_body;  ///< the request as HubSpot sent it (no secret in it)
  bool done = false;      ///< finished: `outputs` is the answer every retry gets
  std::map<std::string, std::string> outputs;  ///< outputFields (hs_execution_state included)
  bool blocked = false;    ///< answered BLOCK: the outputs go through the callback API
  bool delivered = false;  ///< that callback completion was accepted
  int callback_attempts = 0;
  TimeMs next_callback_at_ms = 0;
  std::string last_error;  ///< of the last callback attempt; no secrets
  TimeMs created_at_ms = 0;  ///< 0 on begin_action: the store's clock
  TimeMs updated_at_ms = 0;
};

/// What the workflow action executions recorded since a time come to, for
/// `hubsync status` and the health page.
struct ActionSummary {
  std::int64_t executions = 0;  ///< created since
  std::int64_t running = 0;     ///< of those, not finished yet and not failed
  /// Of those, not finished and failed at their last run (fail_action):
  /// HubSpot retries them, or gave up on them (it does not say which).
  std::int64_t failing = 0;
  std::string last_failure;     ///< the latest failing one's error; no secrets
  /// Blocked executions (any age) finished but whose completion HubSpot has
  /// not accepted yet: their workflows wait.
  std::int64_t awaiting_callback = 0;
  TimeMs oldest_awaiting_ms = 0;  ///< when the oldest of them was created; 0: none
  std::string last_error;         ///< of the latest failed callback attempt among them; no secrets
};

/// The engine's durable state: checkpoints, identity map, merge base, webhook
/// inbox, dead letters, conflict log, run history and OAuth tokens
/// (docs/architecture.md, State).
///
/// Common contract for every method:
/// - Errors: `transient` when the store is busy or an I/O error may clear up
///   (retry with backoff); `fatal` when the store is unusable (corrupt, read
///   only, schema too new); `conflict` / `invalid_record` where a method says
///   so. Messages name the store's file.
/// - Thread-safety: every method may be called from any thread; calls are
///   serialised. `transaction()` holds the store for its whole callback.
/// - Atomicity: each method is atomic on its own. Inside `transaction()` it
///   joins the enclosing transaction.
/// - Lookups that find nothing return an empty optional, not an error.
class StateStore {
 public:
  virtual ~StateStore() = default;

  // --- transactions ---

  /// Runs `fn` atomically: everything it writes through this store commits
  /// when it returns ok and is rolled back when it returns an error (which is
  /// then returned). Nested calls nest (savepoints). `fn` must only call this
  /// store from the calling thread.
  virtual Status transaction(const std::function<Status()>& fn) = 0;

  // --- checkpoints ---

  /// The cursor's value, or nullopt if it was never set.
  virtual Result<std::optional<Checkpoint>> get_checkpoint(const std::string& mapping,
                                                           const std::string& cursor_name) = 0;
  /// Sets (creates or replaces) the cursor; updated_at is the store's clock.
  /// Idempotent.
  virtual Status set_checkpoint(const std::string& mapping, const std::string& cursor_name,
                                const std::string& value) = 0;

  /// Every checkpoint of `mapping`, ordered by cursor name.
  virtual Result<std::vector<Checkpoint>> list_checkpoints(const std::string& mapping) = 0;
  /// Removes the cursor, as if it was never set. Idempotent.
  virtual Status remove_checkpoint(const std::string& mapping, const std::string& cursor_name) = 0;

  // --- pass outcomes ---

  /// Records how a pass of `mapping` in `direction` ended at `at_ms`. An
  /// empty `error` stamps the last success and clears the last error; a
  /// non-empty one (no secrets, no record values) is kept with its time and
  /// leaves the last success as it was.
  virtual Status record_pass(const std::string& mapping, Direction direction, TimeMs at_ms,
                             const std::string& error) = 0;
  /// Every mapping's and direction's last pass outcome, by mapping then direction.
  virtual Result<std::vector<PassRecord>> list_passes() = 0;

  // --- links (identity map) ---

  /// Links pg_key to hubspot_id, replacing the row's previous link. Error
  /// `conflict` if hubspot_id is already linked to another pg_key of the
  /// mapping (nothing is changed then). Idempotent.
  virtual Status upsert_link(const std::string& mapping, const std::string& pg_key,
                             const std::string& hubspot_id) = 0;
  /// The row's link, or nullopt.
  virtual Result<std::optional<Link>> find_link_by_pg_key(const std::string& mapping,
                                                          const std::string& pg_key) = 0;
  /// Finds the link of a HubSpot id. An id absorbed by a merge resolves to
  /// the link of its survivor (the returned Link carries the survivor id).
  virtual Result<std::optional<Link>> find_link_by_hubspot_id(const std::string& mapping,
                                                              const std::string& hubspot_id) = 0;
  /// Resolves an id through recorded merges to its survivor (itself if it
  /// was never merged).
  virtual Result<std::string> resolve_hubspot_id(const std::string& mapping,
                                                 const std::string& hubspot_id) = 0;
  /// The link whose normalised match value is `match_key`, or nullopt.
  virtual Result<std::optional<Link>> find_link_by_match_key(const std::string& mapping,
                                                             const std::string& match_key) = 0;
  /// Fills the match key of links that have none from their base value of
  /// `field` (ASCII lower-cased when `fold_case`). Returns how many. Idempotent.
  virtual Result<std::size_t> backfill_match_keys(const std::string& mapping,
                                                  const std::string& field, bool fold_case) = 0;
  /// Up to `limit` links of the mapping with pg_key > `after`, in pg_key
  /// order (paging through every link).
  virtual Result<std::vector<Link>> list_links(const std::string& mapping, const std::string& after,
                                               std::size_t limit) = 0;
  /// How many links the mapping has (progress of a pass over them).
  virtual Result<std::size_t> count_links(const std::string& mapping) = 0;
  /// How many links each mapping holds, every mapping in the store (those
  /// no longer configured too); mappings without links are absent.
  virtual Result<std::map<std::string, std::size_t>> count_links_by_mapping() = 0;
  /// Removes the row's link (not its base values); true if there was one.
  /// Idempotent.
  virtual Result<bool> remove_link(const std::string& mapping, const std::string& pg_key) = 0;
  /// Moves a row's link, base values and pending write intents from
  /// `from_pg_key` to `to_pg_key` (the row's key changed: an UPDATE of a key
  /// column), in one transaction. True if it moved; false, changing
  /// nothing, when `from_pg_key` has no link or `to_pg_key` already has one.
  /// Idempotent.
  virtual Result<bool> move_link(const std::string& mapping, const std::string& from_pg_key,
                                 const std::string& to_pg_key) = 0;
  /// After HubSpot merged `absorbed_ids` into `survivor_id`: records every
  /// absorbed id as an alias of the survivor (so later events about them
  /// resolve) and re-points links. If the survivor is already linked, links
  /// of absorbed ids are removed and reported as orphaned; otherwise the
  /// first linked absorbed id (in argument order) moves to the survivor.
  /// Idempotent; atomic.
  virtual Result<MergeOutcome> repoint_merged(const std::string& mapping,
                                              const std::vector<std::string>& absorbed_ids,
                                              const std::string& survivor_id,
                                              TimeMs merged_at_ms) = 0;

  // --- synced (merge base) ---

  /// Every stored base field of the row; empty if none.
  virtual Result<SyncedFields> get_synced(const std::string& mapping,
                                          const std::string& pg_key) = 0;
  /// get_synced for many rows at once; rows with no base are absent.
  virtual Result<std::map<std::string, SyncedFields>> get_synced_many(
      const std::string& mapping, const std::vector<std::string>& pg_keys) = 0;
  /// Creates or replaces the given fields; fields not named are kept. Atomic.
  virtual Status put_synced(const std::string& mapping, const std::string& pg_key,
                            const SyncedFields& fields) = 0;
  /// Removes every base field of the row; true if there were any.
  virtual Result<bool> remove_synced(const std::string& mapping, const std::string& pg_key) = 0;
  /// Removes the base of `field` from every row of the mapping (the field
  /// now names other properties: nothing was agreed on them). Returns how
  /// many rows had one. Idempotent.
  virtual Result<std::int64_t> forget_field(const std::string& mapping, const std::string& field) = 0;
  /// Marks the base of `field` of every linked row of the mapping
  /// SyncedField::source_wins (a row with no base of it gets one, valueless),
  /// so each row's next merge puts the field's source value on the other
  /// side wherever they differ (`resync --overwrite`). Returns how many rows
  /// it marked. Idempotent.
  virtual Result<std::int64_t> overwrite_field(const std::string& mapping, const std::string& field) = 0;
  /// Applies a whole batch (removals, then links and base values, then
  /// settled intents) in ONE transaction, synced to disk: all or nothing. A
  /// link conflict fails the whole batch with `conflict` (callers resolve
  /// conflicts per row before committing). Idempotent.
  virtual Status commit_batch(const BatchCommit& batch) = 0;
  /// Whether the row `pg_key` synced with the object `hubspot_id` until a
  /// deletion removed their link (BatchCommit::removed_pg_keys) within the
  /// last 90 days, as long as HubSpot keeps an archived object restorable.
  /// Read-only.
  virtual Result<bool> departed_from(const std::string& mapping, const std::string& pg_key,
                                     const std::string& hubspot_id) = 0;

  // --- Postgres intents (pull) ---
  /// Records, synced to disk before returning, the values a pull is about to
  /// write to these rows; replaces a row's earlier intent. After a crash,
  /// list_postgres_intents says which rows may hold values their base lacks.
  virtual Status record_postgres_intents(const std::string& mapping,
                                         const std::vector<PostgresIntent>& intents) = 0;
  /// Every unsettled Postgres intent of the mapping, by pg_key.
  virtual Result<std::vector<PostgresIntent>> list_postgres_intents(const std::string& mapping) = 0;

  // --- write intents ---

  /// Records (replacing any older one per row) the writes about to be sent,
  /// synced to disk before returning: after a crash, list_intents tells
  /// which rows may have reached HubSpot without their commit.
  virtual Status record_intents(const std::string& mapping,
                                const std::vector<WriteIntent>& intents) = 0;
  /// Every unsettled intent of the mapping (rows of a batch that never
  /// committed), oldest first.
  virtual Result<std::vector<WriteIntent>> list_intents(const std::string& mapping) = 0;

  // --- inbox (webhook events) ---

  /// Appends events in ONE transaction. Dedupe key: (subscription_id,
  /// event_id) — HubSpot retries an event with the same eventId and
  /// subscriptionId, but eventIds alone are not unique across subscriptions.
  /// Duplicates (also within `events`) are ignored. Returns how many were new.
  /// The commit is synced to disk before this returns (durable against a
  /// power loss, not only a crash): the webhook receiver acknowledges HubSpot
  /// on the strength of it. `invalid_record` (nothing appended) if an event
  /// has an empty event_id.
  virtual Result<std::size_t> append_inbox(const std::vector<InboxEvent>& events) = 0;
  /// Claims up to `limit` unprocessed events whose lease is free, oldest
  /// (occurred_at, then arrival) first; each claimed event gets attempts+1
  /// and a lease until now + lease_ms. Events of a crashed claimer come back
  /// when their lease ends.
  virtual Result<std::vector<InboxEvent>> claim_inbox(std::size_t limit, TimeMs now_ms,
                                                      std::int64_t lease_ms) = 0;
  /// Marks claimed events processed; they stay (for dedupe of late HubSpot
  /// retries) until purge_inbox. Idempotent.
  virtual Status mark_inbox_processed(const std::vector<std::int64_t>& seqs,
                                      TimeMs processed_at_ms) = 0;
  /// Ends the lease of claimed events so they can be claimed again now.
  virtual Status release_inbox(const std::vector<std::int64_t>& seqs) = 0;
  /// Deletes processed events processed before `before_ms`; returns how many.
  virtual Result<std::size_t> purge_inbox(TimeMs before_ms) = 0;
  /// Events not yet processed (claimed or not).
  virtual Result<std::size_t> count_inbox_pending() = 0;
  /// Events not yet processed, per object type, with the oldest's arrival:
  /// the backlog and lag of the direction to Postgres.
  virtual Result<std::vector<InboxBacklog>> inbox_backlog() = 0;

  // --- dead letters ---

  /// Adds a failed record and returns its id. If a pending dead letter for
  /// the same record exists (same mapping and direction, and the same pg_key,
  /// or when pg_key is empty the same hubspot_id), it is updated instead
  /// (payload, error, hubspot id; attempts += dl.attempts; no longer in
  /// queue) and its id returned, so a record is never dead-lettered twice.
  /// dl.next_retry_at_ms set means "retry automatically": the store then
  /// computes the time itself from the total attempts and its RetrySchedule
  /// (the backoff grows, and stops after the schedule's max attempts);
  /// nullopt means never retry automatically. A failure before the pending
  /// letter's retry is due (dl.last_failed_at_ms, else now, earlier than its
  /// next_retry_at) updates the error only: attempts and retry time stay.
  virtual Result<std::int64_t> add_dead_letter(const DeadLetter& dl) = 0;
  /// The dead letter (pending or discarded), or nullopt.
  virtual Result<std::optional<DeadLetter>> get_dead_letter(std::int64_t id) = 0;
  /// Newest failures first.
  virtual Result<std::vector<DeadLetter>> list_dead_letters(const DeadLetterFilter& filter) = 0;
  /// Pending dead letters with next_retry_at <= now, soonest first.
  virtual Result<std::vector<DeadLetter>> due_dead_letters(TimeMs now_ms, std::size_t limit) = 0;
  /// Makes pending dead letters due at `at_ms` (an operator's retry of a
  /// to_postgres letter: the next pull reads its object again). Idempotent.
  virtual Status reschedule_dead_letters(const std::vector<std::int64_t>& ids, TimeMs at_ms) = 0;
  /// Marks pending dead letters as queued again (their rows are back in the
  /// changelog): not due while queued; attempts kept. Idempotent.
  virtual Status mark_dead_letters_queued(const std::vector<std::int64_t>& ids) = 0;
  /// Records another failed attempt (attempts += 1). `invalid_record` if the
  /// id is unknown or not pending.
  virtual Status record_dead_letter_failure(std::int64_t id, const FailedAttempt& attempt) = 0;
  /// The retry succeeded: deletes the dead letter; true if it existed.
  virtual Result<bool> resolve_dead_letter(std::int64_t id) = 0;
  /// These records have since synced in `direction` by another route (an
  /// ordinary change, a fixed row): deletes their pending dead letters, in
  /// one transaction. Returns how many were removed. Idempotent.
  virtual Result<std::size_t> resolve_dead_letters_for(const std::string& mapping,
                                                       Direction direction,
                                                       const std::vector<std::string>& pg_keys) = 0;
  /// These objects have since been pulled in agreement: deletes their
  /// pending to_postgres dead letters (matched by hubspot_id), in one
  /// transaction. Returns how many were removed. Idempotent.
  virtual Result<std::size_t> resolve_pulled_dead_letters(const std::string& mapping,
                                                          const std::vector<std::string>& hubspot_ids) = 0;
  /// Gives up on it for good: marks it discarded (kept for audit, never
  /// due again). `invalid_record` if the id is unknown.
  virtual Status discard_dead_letter(std::int64_t id, const std::string& reason) = 0;

  // --- conflicts ---

  /// Appends a decided conflict (decided_at 0: the store's clock); returns its id.
  virtual Result<std::int64_t> record_conflict(const ConflictRecord& c) = 0;
  /// Most recent first; all mappings when `mapping` is empty.
  virtual Result<std::vector<ConflictRecord>> list_conflicts(const std::string& mapping,
                                                             std::size_t limit) = 0;

  // --- runs ---

  /// Records a run as started (unfinished until finish_run) and returns its id.
  virtual Result<std::int64_t> start_run(const std::string& mode, TimeMs started_at_ms) = 0;
  /// `invalid_record` if the run id is unknown. Finishing twice overwrites.
  virtual Status finish_run(std::int64_t run_id, const RunSummary& summary) = 0;
  /// Most recent first.
  virtual Result<std::vector<RunRecord>> list_runs(std::size_t limit) = 0;
  /// The most recently started run.
  virtual Result<std::optional<RunRecord>> last_run() = 0;

  // --- workflow action executions ---

  /// Records a new execution (not done), synced to disk, and returns it with
  /// true; or, when callback_id is already recorded (HubSpot retried),
  /// returns the recorded one with false and changes nothing.
  virtual Result<std::pair<ActionExecution, bool>> begin_action(const ActionExecution& execution) = 0;
  /// Executions answered BLOCK that are not done (their run was cut short).
  virtual Result<std::vector<ActionExecution>> unfinished_blocked_actions() = 0;
  /// The execution, with its outputs, or nullopt.
  virtual Result<std::optional<ActionExecution>> get_action(const std::string& callback_id) = 0;
  /// Records the outputs of a finished execution (done), synced to disk.
  /// A second call keeps the first outputs (the answer never changes).
  /// `invalid_record` if callback_id is unknown.
  virtual Status finish_action(const std::string& callback_id,
                               const std::map<std::string, std::string>& outputs) = 0;
  /// It was answered BLOCK: once done, its outputs are due for the callback
  /// API at once. Idempotent.
  virtual Status block_action(const std::string& callback_id) = 0;
  /// A run of a not-done execution failed: answered 503 (HubSpot retries
  /// it, up to its own limit) or, blocked, retried here. `error` (no
  /// secrets, no values) is kept as its last error, and it counts as
  /// failing (ActionSummary) until it finishes. A done execution is left as
  /// it is. `invalid_record` if callback_id is unknown.
  virtual Status fail_action(const std::string& callback_id, const std::string& error) = 0;
  /// Done, blocked executions whose completion is not yet accepted and whose
  /// next attempt is due at `now_ms`, soonest first.
  virtual Result<std::vector<ActionExecution>> due_callbacks(TimeMs now_ms, std::size_t limit) = 0;
  /// After a completion attempt: accepted (`error` empty), or refused/failed
  /// with `error` (no secrets) and the next attempt at `next_at_ms`.
  /// attempts += 1.
  virtual Status callback_attempted(const std::string& callback_id, const std::string& error,
                                    TimeMs next_at_ms) = 0;
  /// Deletes executions created before `before_ms` (HubSpot retries an
  /// execution for three days at most); returns how many.
  virtual Result<std::size_t> purge_actions(TimeMs before_ms) = 0;
  /// Counts of executions created since `since_ms` (running, failing) and of
  /// those still waiting for their callback (ActionSummary). Read-only.
  virtual Result<ActionSummary> action_summary(TimeMs since_ms) = 0;

  // --- OAuth tokens ---

  /// Creates or replaces the portal's tokens, durably (committed before this
  /// returns): the HubSpot connector calls it with a rotated refresh token
  /// BEFORE using that token.
  virtual Status save_oauth_tokens(const OAuthTokens& tokens) = 0;
  /// The portal's saved tokens, or nullopt.
  virtual Result<std::optional<OAuthTokens>> load_oauth_tokens(const std::string& portal_id) = 0;
};

}  // namespace hubsync::state
