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
#include "engine/pipeline/progress.h"
#include "engine/pipeline/database_port.h"
#include "engine/pipeline/delete_guard.h"
#include "engine/ratelimit/clock.h"
#include "engine/state/state_store.h"

namespace hubsync::pipeline {

/// What one pull pass did, per mapping. Summed over mappings by the caller.
struct PullStats {
  std::int64_t created = 0;          ///< rows inserted from HubSpot objects
  std::int64_t updated = 0;          ///< rows written
  std::int64_t linked = 0;           ///< objects linked to an existing row by match value
  std::int64_t deleted = 0;          ///< rows deleted or soft-deleted (archived or merged away in HubSpot)
  std::int64_t unchanged = 0;        ///< objects already in agreement: no write either side
  std::int64_t filtered = 0;         ///< objects outside filter.hubspot, or matching only rows outside filter.postgres
  std::int64_t conflicts = 0;        ///< fields both sides changed, decided by a rule and recorded
  std::int64_t dead_lettered = 0;    ///< objects Postgres (or HubSpot) refused
  std::int64_t hubspot_updates = 0;  ///< objects written back to HubSpot (Postgres won or filled a field)
  std::int64_t associations = 0;     ///< foreign keys or link rows changed from HubSpot
  std::int64_t deferred = 0;         ///< waiting for a parent row that does not exist yet
  /// Rows another writer changed between the pull's read and its write: not
  /// overwritten, merged again with what they hold at their retry.
  std::int64_t changed_meanwhile = 0;
  std::int64_t read = 0;             ///< objects read from HubSpot
  std::int64_t held = 0;             ///< row deletions held by the mass-deletion guard (delete_guard.h)
  /// Set when HubSpot could not be reached and work was left undone.
  std::optional<model::Error> unreachable;
  /// The sweep stopped after PullOptions::max_sweep_pages with more to read
  /// (its checkpoint holds the place; archives and associations wait).
  bool more = false;
  PullStats& operator+=(const PullStats& o);
};

struct PullOptions {
  /// A sweep restarts this far before its checkpoint: search lags writes.
  std::int64_t overlap_ms = 60'000;
  /// How far HubSpot's search may lag writes: no sweep window but the
  /// newest ends closer to the present (at least kWindowSettledMs).
  std::int64_t search_lag_ms = 60'000;
  /// run() returns (with `more`) after this many sweep pages, so a long
  /// sweep can share its thread with live work; 0: until caught up. A run
  /// that stopped early resumes from its checkpoint: call it with an
  /// overlap of 0 to go on exactly where it stopped.
  int max_sweep_pages = 0;
  /// Asked before each sweep page is requested: true makes that page the
  /// last of this run (as max_sweep_pages does: `more` set, the checkpoint
  /// holds the place), so live work waiting goes first. Empty: never.
  std::function<bool()> yield;
  int page_size = 200;  ///< objects per sweep page (HubSpot's maximum)
  /// A sweep with pages enough left splits its range by modified time into
  /// up to this many windows read side by side (one page in flight each),
  /// so that HubSpot's latency does not leave the search budget idle.
  int sweep_windows = 3;
  /// Associations of every linked object are read again this often (they
  /// never move an object's last-modified time, so a sweep misses them).
  std::int64_t association_pass_every_ms = 6 * 3'600'000LL;
  /// HubSpot's clock and ours may differ by this much (archived times).
  std::int64_t clock_skew_ms = 1000;
  /// Write Postgres's side to HubSpot where the merge says so (a field
  /// Postgres changed, a conflict Postgres wins). Off (`run --direction
  /// to_postgres`): nothing is written to HubSpot; such fields keep their
  /// base and wait for a push, their changes still in the changelog.
  bool write_hubspot = true;
  /// Every deletion of this pass goes ahead, whatever the mapping's
  /// `max_deletes` (`run --allow-deletes`).
  bool allow_deletes = false;
  /// Progress of the sweep ("pull backfill" the first time, "pull sweep"
  /// after) and of the association pass. Empty: none.
  ProgressFn progress;
};

/// The HubSpot -> Postgres path of one mapping (docs/architecture.md, Pull):
/// objects changed since the checkpoint (the sweep), archived ones, merges
/// and associations, each reconciled field by field with Postgres through
/// the three-way merge (engine/reconcile) — the same decisions push makes —
/// and applied to Postgres as hubsync (never captured, so nothing echoes),
/// to HubSpot where Postgres wins, then to the state store.
class Puller {
 public:
  /// `all` holds every mapping by name (association targets). Every
  /// reference must outlive the Puller.
  Puller(const mapping::Mapping& m, const std::map<std::string, const mapping::Mapping*>& all,
         DatabasePort& db, CrmPort& crm, state::StateStore& state, ratelimit::Clock& clock,
         std::shared_ptr<spdlog::logger> log, PullOptions options = {});

  /// Takes the mapping's sync lock (shared with push, so the two never
  /// interleave on one mapping), then sweeps objects modified since the
  /// checkpoint (the first run reads every object: a backfill), follows
  /// archives and merges, and reconciles associations. Errors: `conflict`
  /// when another process syncs the mapping; `auth`, `fatal` stop the pass
  /// (checkpoints keep what was applied). Per-object failures are
  /// dead-lettered (direction to_postgres) and counted.
  model::Result<PullStats> run();
  /// What the last run() did, kept when it failed part-way: the pages it
  /// applied before the error still count in a run's summary.
  const PullStats& done() const { return done_; }

  /// Reconciles these objects now, reading their current state (a webhook,
  /// a retried dead letter, a workflow's sync_now): what run() does for one
  /// page of the sweep. Objects outside the HubSpot-side filter are skipped.
  model::Result<PullStats> pull_ids(const std::vector<std::string>& hubspot_ids);

  /// Pulls again the objects of this mapping's due to_postgres dead letters
  /// (all pending ones with `all`); each letter is resolved when its object
  /// syncs, or counts another attempt. Returns how many were retried.
  model::Result<std::int64_t> retry_dead_letters(bool all);

  // Internal to pull*.cpp (defined in pull_item.h).
  struct Item;
  struct Batch;
  struct LinkPlan;

 private:
  /// A pending `hubsync resync` (resync.h) of this direction: the sweep's
  /// windows are removed (it reads every object again) and the association
  /// pass, which alone sees associations that moved, is made due now.
  model::Status take_resync_request();
  model::Status sweep(PullStats& stats);
  model::Status follow_archived(PullStats& stats);
  /// Pulls again the objects this pass dead-lettered for claiming a row
  /// linked to another object, where the pass has since removed that link
  /// (the other object was archived: a contact deleted and created again
  /// with the same email, met by search before the archived listing). They
  /// are settled as the next pass would settle them, and counted as that
  /// pull found them, not as dead letters. Errors: the state store, and
  /// pull_ids's.
  model::Status retry_freed_rows(PullStats& stats);
  model::Status association_pass(PullStats& stats);
  /// `from_search`: the records' values came from search, which lags
  /// writes (they are read again before anything is written to HubSpot).
  model::Status process(std::vector<model::Record>& records, PullStats& stats, bool from_search = false);
  // pull_plan.cpp
  model::Status resolve_links(Batch& b);
  model::Status follow_merges(Batch& b);
  model::Status match_rows(Batch& b);
  model::Status take_row(Batch& b, Item& it, std::vector<Row*> found, const std::string& by);
  model::Result<bool> left_alone(Batch& b, Item& it, std::vector<Row*>& found, const std::string& by);
  model::Status match_recorded_ids(Batch& b);
  model::Status read_rows(Batch& b);
  model::Status plan_fields(Batch& b);
  model::Status read_hubspot_times(Batch& b);
  model::Status reread_before_writing(Batch& b);
  bool may_be_stale(const Item& it) const;
  void plan_item(Batch& b, Item& it);
  // pull_apply.cpp
  model::Status record_postgres_intents(Batch& b, const std::vector<Item*>& writing);
  /// Whether the object `hubspot_id` is in batch `b` with a match value other than `row`'s
  /// (its row moves off that value in this batch).
  bool moves_off(const Batch& b, const std::string& hubspot_id, const Row& row) const;
  model::Status apply_postgres(Batch& b);
  /// One apply_rows call for `writing`: landed rows counted in `landed`, rows a unique index
  /// refused collected in `clashed` (apply_postgres sends them again), other refusals handled.
  /// The refusals of `clashed` rows that take one another's match values round a cycle,
  /// reworded to say so (UNIQUE_VALUE_EXCHANGE); other rows are absent.
  std::map<Item*, model::Error> exchanged(const std::vector<std::pair<Item*, model::Error>>& clashed) const;
  model::Status apply_rows_once(Batch& b, const std::vector<Item*>& writing,
                                std::vector<std::pair<Item*, model::Error>>& clashed, std::size_t& landed);
  /// A landed update wrote a key column (HubSpot changed the value the key
  /// holds): `it` takes the row's new key, and its old key's link and base
  /// are removed at the commit, which links the new one.
  void follow_new_key(Batch& b, Item& it, const model::RecordKey& key);
  model::Status apply_hubspot(Batch& b);
  /// `objects`: the object each row lost, by pg_key, where its link is gone
  /// already (a merge repointed it); the others are read from their links.
  model::Status apply_deletes(Batch& b, const std::vector<std::string>& pg_keys, const char* why,
                              const std::map<std::string, std::string>& objects = {});
  /// Whether these rows' deletions may go ahead (the mass-deletion guard); false:
  /// they are held (counted in `stats`), and the caller leaves them to be
  /// found again.
  model::Result<bool> admit_deletes(const std::vector<std::string>& pg_keys, PullStats& stats);
  DeleteGuard& guard();
  /// The Postgres edits that deleting these rows discards (changed since
  /// their base, not pushed yet), as conflicts the deletion wins.
  model::Result<std::vector<state::ConflictRecord>> edits_lost(const Batch& b,
                                                                const std::vector<std::string>& pg_keys,
                                                                const std::vector<model::RecordKey>& keys,
                                                                const std::map<std::string, std::string>& objects);
  model::Status commit(Batch& b);
  void dead_letter(Batch& b, Item& it, const model::Error& e);
  /// Postgres refused `it`'s write: a ROW_CHANGED one (another writer
  /// changed the row since it was read) is merged again at its letter's
  /// retry, counted as changed_meanwhile; anything else is dead-lettered.
  void write_refused(Batch& b, Item& it, const model::Error& e);
  /// A foreign key of `it` waits for a parent with no row yet: a to_postgres
  /// letter (PARENT_NOT_SYNCED) brings the object back on the retry schedule.
  void wait_for_parent(Batch& b, Item& it);
  // pull_assoc.cpp, pull_links.cpp
  model::Status pull_associations(Batch& b);
  model::Status pull_foreign_keys(Batch& b);
  model::Result<std::optional<model::Value>> decide_foreign_key(
      Batch& b, Item& it, const mapping::AssociationMapping& a, const mapping::Mapping& to,
      const std::map<std::string, std::set<std::string>>& targets);
  model::Status pull_link_rows(Batch& b, const mapping::Mapping& link);
  model::Status plan_link_rows(const mapping::Mapping& link, const mapping::Mapping& to,
                               const std::map<std::string, std::set<std::string>>& targets,
                               const std::map<std::string, std::string>& from_key_of,
                               const std::vector<Row>& rows, Batch& b, LinkPlan& plan);
  model::Status apply_link_rows(Batch& b, const mapping::Mapping& link, LinkPlan& plan);

  const mapping::Mapping& m_;
  const std::map<std::string, const mapping::Mapping*>& all_;
  DatabasePort& db_;
  CrmPort& crm_;
  state::StateStore& state_;
  ratelimit::Clock& clock_;
  std::shared_ptr<spdlog::logger> log_;
  PullOptions opt_;
  AssociationTypes types_;
  ClockFrames clocks_;  ///< HubSpot's and the database's clocks against clock_
  /// Objects dead-lettered by this Puller (one run): an object read twice
  /// (the sweep, then the association pass) counts once.
  std::set<std::string> dead_lettered_;
  PullStats done_;
  std::optional<DeleteGuard> guard_;  ///< this run's (or this pull_ids call's)
  std::set<std::string> held_keys_;   ///< rows whose deletion this run held
  /// Each LINK_CONFLICT letter not yet looked at again by retry_freed_rows.
  struct Claim {
    std::string object;  ///< the object dead-lettered
    std::string owner;   ///< the object its row syncs
    bool counted;        ///< counted in this call's stats (not by an earlier call of this Puller)
  };
  std::vector<Claim> claims_;
  /// Whether rows hold object ids no link accounts for (asked once).
  std::optional<bool> recorded_ids_unlinked_;
};

}  // namespace hubsync::pipeline
