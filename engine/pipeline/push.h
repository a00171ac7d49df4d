#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <spdlog/logger.h>

#include "engine/mapping/mapping.h"
#include "engine/pipeline/assoc_types.h"
#include "engine/pipeline/clock_frames.h"
#include "engine/pipeline/crm_port.h"
#include "engine/pipeline/database_port.h"
#include "engine/pipeline/delete_guard.h"
#include "engine/pipeline/progress.h"
#include "engine/ratelimit/clock.h"
#include "engine/state/state_store.h"

namespace hubsync::pipeline {

/// What one push pass did, per mapping. Summed over mappings by the caller.
struct PushStats {
  std::int64_t captured = 0;       ///< changelog rows taken (each counted once per pass)
  std::int64_t created = 0;        ///< new HubSpot objects
  std::int64_t updated = 0;        ///< existing objects written
  std::int64_t unchanged = 0;      ///< rows with nothing new: no API call
  std::int64_t archived = 0;       ///< deletes sent to batch/archive
  std::int64_t filtered = 0;       ///< rows outside the mapping's filter
  std::int64_t ignored = 0;        ///< deletes with `deletes: ignore`
  std::int64_t dead_lettered = 0;  ///< rows HubSpot refused (see dead-letters)
  std::int64_t deferred = 0;       ///< waiting for an associated row's HubSpot id
  std::int64_t associations = 0;   ///< associations created
  std::int64_t retried = 0;        ///< rows released after a transient failure
  std::int64_t relinked = 0;       ///< rows that took over a deleted row's object, followed a merge, or found theirs by the id they kept
  std::int64_t deleted_in_postgres = 0;  ///< rows deleted (or soft-deleted) because their object was deleted in HubSpot
  std::int64_t conflicts = 0;      ///< fields HubSpot had changed too, sent because the rule let Postgres win (recorded)
  std::int64_t left_to_pull = 0;   ///< fields not sent: HubSpot had changed them and wins (the pull applies and records them)
  std::int64_t held = 0;           ///< archives (or row deletions for objects gone from HubSpot) held by the mass-deletion guard (delete_guard.h)
  /// Why rows were released after a transient failure (the last such error):
  /// set means a dependency was unreachable and work was left undone.
  std::optional<model::Error> unreachable;
  /// The pass yielded (PushOptions::yield) with changes left in the
  /// changelog: the caller runs it again soon.
  bool more = false;
  std::int64_t pushed() const { return created + updated; }
  PushStats& operator+=(const PushStats& o);
};


struct PushOptions {
  std::size_t wave = 1000;          ///< rows handled per round trip set (several batches in flight)
  std::int64_t lease_ms = 300'000;  ///< how long a claimed change is ours
  std::int64_t defer_ms = 60'000;   ///< retry delay for rows waiting on a parent or on another row's move
  std::int64_t transient_retry_ms = 30'000;
  /// A row waiting for an associated row's HubSpot id, or for another row
  /// to move its object off this row's match value, is dead-lettered (and
  /// retried on the dead-letter schedule) after this many tries.
  int max_defers = 5;
  /// HubSpot's clock and ours may differ by this much when telling whether a
  /// write interrupted by a crash reached HubSpot (property history times).
  std::int64_t clock_skew_ms = 1000;
  std::string worker = "hubsync";
  ProgressFn progress;
  /// Asked between changelog rounds (never before the first): true stops
  /// the pass there with `more` set, the rest left in the changelog, so a
  /// steady stream of Postgres edits cannot hold other work (serve's webhook
  /// inbox) back. Empty: the pass drains the changelog.
  std::function<bool()> yield;
  /// Asked after each page of an initial load: true ends the pass there,
  /// `more` set, and the next pass resumes from the load's checkpoint (a
  /// service told to stop need not wait for a whole table). Empty: never.
  std::function<bool()> stop;
  /// Every deletion of this pass goes ahead, whatever the mapping's
  /// `max_deletes` (`run --allow-deletes`).
  bool allow_deletes = false;
  /// Changes whose archive the guard held wait this long before a pass
  /// decides them again (at once after an operator allows them).
  std::int64_t held_retry_ms = 60'000;
  /// A pass that held nothing counts the pending departures when an earlier
  /// hold is recorded, and ends it at once when none is left (the rows came
  /// back) rather than after held_retry_ms: for `run`, whose next run may
  /// come sooner. Off for serve, whose passes come often (each would count).
  bool recount_holds = false;
};

/// The Postgres -> HubSpot path of one mapping (docs/architecture.md, Push):
/// initial load, then the changelog until caught up. Each batch: decide per
/// field with the three-way merge (engine/reconcile; HubSpot is read first
/// only for two-way fields whose rule could let HubSpot win, else taken as
/// unchanged since the base), record the writes as intents (synced
/// to disk), write HubSpot, then commit ids and synced values with the
/// intents settled, then archive the changelog rows with their outcome. A
/// crash before the commit leaves intents: the next run reads those objects'
/// property history to learn which values arrived, so it re-sends only what
/// Postgres changed, never values a person edited in HubSpot since.
class Pusher {
 public:
  /// `all` holds every mapping by name (association targets are looked up
  /// there). Every reference must outlive the Pusher.
  Pusher(const mapping::Mapping& m, const std::map<std::string, const mapping::Mapping*>& all,
         DatabasePort& db, CrmPort& crm, state::StateStore& state, ratelimit::Clock& clock,
         std::shared_ptr<spdlog::logger> log, PushOptions options = {});

  /// Takes the mapping's push lock, settles intents a crash left, runs the
  /// initial load if it has not completed, then drains the changelog until
  /// nothing claimable is left. When HubSpot stays unreachable through the
  /// client's retries, the pass stops after that batch (its rows wait in the
  /// changelog) and the stats say so (`unreachable`).
  /// Errors: `conflict` if another process pushes this mapping; `auth`,
  /// `fatal` and exhausted retries stop the pass (claimed changes are
  /// released, nothing is lost). Per-record failures do not: they are
  /// dead-lettered and counted.
  model::Result<PushStats> run();
  /// What the last run() did, kept when it failed part-way: the batches it
  /// wrote before the error still count in a run's summary.
  const PushStats& done() const { return done_; }

  /// Re-enqueues this mapping's dead letters that are due (or all pending
  /// ones with `all`); they are pushed by the next run(). Returns how many.
  model::Result<std::int64_t> requeue_dead_letters(bool all);

  // Internal to push*.cpp (defined in push_item.h).
  struct Item;
  struct Write;
  struct Batch;
  struct UpdateRounds;

 private:
  model::Status initial_load(PushStats& stats);
  model::Status drain_changelog(PushStats& stats);
  /// Takes out of `items` (and `keys`, rebuilt in their order) the rows
  /// this pass's initial load dead-lettered whose every change it covered,
  /// completing those changes: the dead letter holds the row.
  model::Status skip_load_dead_letters(std::vector<Item>& items, std::vector<model::RecordKey>& keys);
  /// Queues linked rows in the changelog for a check: every one (after a
  /// TRUNCATE), or with `only_gone` those whose row no longer exists (a
  /// resync's load meets every row that does). Returns how many.
  model::Result<std::int64_t> requeue_links(bool only_gone);
  /// Moves the link (base, intents) of every row of an object mapping whose
  /// key changed in `claimed` (a delete with moved_to) to its new key, before
  /// the batch is planned: the row is then updated in its object by id, and
  /// the old key, linked no more, archives nothing.
  model::Status follow_key_changes(const std::vector<model::Change>& claimed);
  /// Takes out of `claimed` the changes captured under other key columns
  /// (the mapping's key changed since, and back, with edits in between):
  /// they name no row. Completes them `ignored` and asks a resync of
  /// to_hubspot, whose load sends whatever they changed. Errors: the
  /// database's, the state store's.
  model::Status set_aside_other_keys(std::vector<model::Change>& claimed);
  model::Status process(std::vector<Item>& items, PushStats& stats);
  // push_plan.cpp: what each row needs.
  model::Status load_links(Batch& b);
  void plan_item(Batch& b, std::size_t i);
  void plan_gone(Batch& b, std::size_t i, const char* why);
  bool choose_fields(Batch& b, Write& w, const state::SyncedFields* base);
  model::Status resolve_recorded_ids(Batch& b);
  /// Reads the object of each of `writes` (`ids` in order, as `req` says);
  /// `found` gets each one HubSpot has (by id: the survivor of a merge,
  /// with `merged_into` set). A write whose read failed is released for a
  /// later pass (dropped).
  model::Status read_each(Batch& b, const std::vector<Write*>& writes, const std::vector<std::string>& ids,
                          const ReadRequest& req, const std::function<void(Write&, const ReadOutcome&)>& found);
  model::Status follow_kept_deleted(Batch& b, const std::vector<Write*>& missing, const std::vector<std::string>& ids);
  model::Status resolve_match_owners(Batch& b);
  model::Status take_over(Batch& b, Write& w, const state::Link& owner);
  // push_check.cpp: HubSpot's values before overwriting them.
  struct Checked {
    Write* write;
    std::string object_id;
    mapping::Properties hs;  // HubSpot's values now
  };
  model::Status check_hubspot(Batch& b);
  model::Status read_checked(Batch& b, const std::vector<Write*>& writes, const std::string& id_property,
                             std::vector<Checked>& out);
  bool may_lose(const mapping::FieldMapping& f) const;
  /// HubSpot's edits (since the base, of fields that pull) to the objects
  /// the batch archives, as conflicts the deletion wins; aligned with
  /// `b.archives`. One batch read; none when no field pulls.
  model::Result<std::vector<std::vector<state::ConflictRecord>>> edits_lost_in_hubspot(const Batch& b);
  void decide_checked(Batch& b, Write& w, const std::string& object_id, std::vector<std::string> only,
                      const std::map<std::string, std::string>& hs,
                      const std::map<std::string, std::int64_t>& hs_times);
  std::string current_match_key(const Row& row) const;
  model::Error link_conflict(const std::string& pg_key, const std::string& other_key,
                             const std::string& hubspot_id) const;
  // push_write.cpp: the HubSpot writes.
  model::Status record_intents(Batch& b, const std::vector<Write*>& writes);
  model::Status send_updates(Batch& b, std::vector<Write>& writes, bool follow_gone = true);
  /// Sends `sending` until no write refused for a unique value can land any more (update_once,
  /// then settle_blocked), then follows objects gone from HubSpot (with `follow`). Before the
  /// batch's archives are sent, a write whose value a pending archive frees waits for them.
  model::Status update_rounds(Batch& b, std::vector<Write*> sending, bool follow, bool archives_sent = false);
  /// Sends `sending` once: successes recorded, 404s (with `follow`) and unique-value refusals
  /// collected in `r` for the caller, other failures handled.
  model::Status update_once(Batch& b, const std::vector<Write*>& sending, bool follow, UpdateRounds& r);
  /// Ends writes still refused for a unique value another object holds: deferred while that
  /// object's row gives the value up (moving, or gone), else dead-lettered (a swap named as one).
  model::Status settle_blocked(Batch& b, UpdateRounds& r);
  bool archive_pending(const Batch& b, const std::string& pg_key) const;
  model::Result<bool> frees_value(const Batch& b, const std::string& pg_key, const std::string& match_key);
  model::Error exchange_conflict(const Item& it, const state::Link& holder) const;
  model::Status follow_gone(Batch& b, std::vector<Write*>& gone, std::vector<Write>& survivors);
  model::Status delete_rows_of_deleted(Batch& b, const std::vector<Write*>& deleted);
  model::Status send_upserts(Batch& b);
  model::Status send_archives(Batch& b);
  // push_guard.cpp: the mass-deletion guard.
  model::Status begin_guard();
  model::Status end_guard();
  /// Lets the batch's archives go, or holds them (and every other archive
  /// of this pass) when the mapping's pending departures exceed the room.
  model::Status admit_archives(Batch& b);
  model::Result<std::int64_t> pending_departures(bool every_link);
  /// Whether rows whose object HubSpot deleted may be deleted now (the
  /// to_postgres guard); false: they are held for a later pass.
  model::Result<bool> admit_postgres_deletes(Batch& b, const std::vector<Write*>& deleted);
  void record_success(Batch& b, Write& w, const WriteOutcome& o);
  /// Records edits a deletion discarded (`what` says which side did what).
  void record_lost_edits(Batch& b, std::vector<state::ConflictRecord> lost, const std::string& what);
  void handle_failure(Batch& b, Write& w, const WriteOutcome& o);
  // push_assoc.cpp
  model::Status push_associations(Batch& b);
  model::Status process_links(std::vector<Item>& items, PushStats& stats);
  model::Result<std::optional<std::string>> parent_id(Batch& b, Item& it,
                                                      const mapping::Mapping& parent,
                                                      const std::string& column);
  void dead_letter(Batch& b, Item& it, const model::Error& e, const std::string& payload);
  model::Status finish(Batch& b);
  /// "id=42" or "(a, b)=(1, x)": a row as an operator reads it.
  std::string describe(const std::string& pg_key) const;

  const mapping::Mapping& m_;
  const std::map<std::string, const mapping::Mapping*>& all_;
  DatabasePort& db_;
  CrmPort& crm_;
  state::StateStore& state_;
  ratelimit::Clock& clock_;
  std::shared_ptr<spdlog::logger> log_;
  PushOptions opt_;
  AssociationTypes types_;
  ClockFrames clocks_;  ///< HubSpot's and the database's clocks against clock_
  /// Changes with ids up to this were captured before this pass's initial
  /// load read the table: when they find nothing to do, they are not counted.
  std::int64_t covered_up_to_ = 0;
  /// Rows this pass's initial load dead-lettered: their changes up to
  /// covered_up_to_ are what the load already tried, and are not tried (nor
  /// counted, nor logged) again.
  std::set<std::string> load_dead_lettered_;
  /// The initial load is running after the pull's first sweep (the
  /// backfill) completed, which linked every object it met (no
  /// filter.hubspot hid any from it, and no to_postgres dead letter is
  /// kept: an object dead-lettered was met, not linked): its rows not
  /// linked yet are not read by match value first (a load before it, and
  /// rows of the changelog, are).
  bool loading_after_backfill_ = false;
  PushStats done_;  ///< the current or last run()'s counts
  std::optional<DeleteGuard> guard_;        ///< this pass's
  std::optional<std::int64_t> archive_room_;  ///< the guard's room, taken at the pass's first archive
  std::int64_t archives_sent_ = 0;          ///< archives this pass let go
  bool holding_ = false;                    ///< this pass holds every further archive
  bool loading_ = false;                    ///< the initial load is running
  std::optional<DeleteGuard> pg_guard_;     ///< rows deleted for objects HubSpot deleted (follow_gone)
  std::int64_t held_gone_ = 0;              ///< of those, held this pass
};

/// Puts dead-lettered rows of `m` (to_hubspot, pending) back on the
/// changelog and marks the letters queued (they keep their attempt count,
/// so a failing retry backs off further; a row that syncs resolves its
/// letter); letters of other mappings are skipped. Returns how many.
model::Result<std::int64_t> requeue_dead_letters(const mapping::Mapping& m, DatabasePort& db,
                                                 state::StateStore& state,
                                                 const std::vector<state::DeadLetter>& letters);

/// Orders mappings so that association targets come before the mappings
/// that point at them (parents are pushed first, children rarely wait).
std::vector<const mapping::Mapping*> push_order(const std::vector<mapping::Mapping>& mappings);

}  // namespace hubsync::pipeline
