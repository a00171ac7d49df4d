#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "engine/mapping/mapping.h"
#include "engine/model/record.h"
#include "engine/model/result.h"
#include "engine/pipeline/change_times.h"

namespace hubsync::pipeline {

/// How a captured change ended; stored with it in the changelog archive.
enum class ChangeOutcome { synced, unchanged, archived, filtered, ignored, dead_lettered };
const char* to_string(ChangeOutcome o);

struct CompletedChange {
  std::int64_t id = 0;
  ChangeOutcome outcome = ChangeOutcome::synced;
  std::string detail;  ///< short, no field values
};

/// A row of a mapped table: its key and the mapped columns' values, typed by
/// the column's Postgres type (integer, numeric -> decimal, boolean, date,
/// timestamp[tz] -> datetime, arrays -> list, everything else text).
struct Row {
  model::RecordKey key;
  model::Fields fields;
  bool in_filter = true;  ///< the row passes the mapping's SQL filter
  /// Association/link FK column -> the referenced row's key text, in the
  /// same canonical form as the referenced mapping's pg_key (nullopt: NULL).
  std::map<std::string, std::optional<std::string>> ref_keys;
  /// Set when a column's value cannot be read as its type (an infinite
  /// timestamp, a NaN): the row is dead-lettered, the rest of its batch goes on.
  std::optional<model::Error> error;
  /// The row version read (opaque; Postgres's xmin): a write guarded by it
  /// (RowWrite::expected_version) fails if the row changed since.
  std::string version;
};

/// One row to write on behalf of HubSpot (DatabasePort::apply_rows).
struct RowWrite {
  std::optional<model::RecordKey> key;  ///< the row to update; nullopt: insert a new row
  model::Fields values;                 ///< column -> value: only what changes (updates), everything known (inserts)
  /// Updates: non-empty, the Row::version the values were decided on; the
  /// update then fails alone (`conflict`, category ROW_CHANGED) when another
  /// writer changed or deleted the row since, instead of overwriting it.
  std::string expected_version;
  /// Also queue the row for the push (a changelog row, op update, as
  /// DatabasePort::enqueue makes) in the same transaction, when it lands.
  bool push = false;
};

/// What applying one RowWrite did, in input order.
struct RowApplied {
  model::RecordKey key;               ///< the row's key after the write: as Postgres made it (an insert), new (a key column written)
  std::optional<model::Error> error;  ///< Postgres refused this row (invalid_record: the constraint, the column)
  std::string version;                ///< the row's version after the write (Row::version)
  /// The mapped columns as Postgres holds them after the write: what it
  /// filled in (defaults) and how it stored what was written (a numeric's
  /// scale, a timestamp's precision). Empty when not read back.
  model::Fields fields;
};

/// A database as DatabasePort::identity() reads it.
struct DatabaseIdentity {
  std::string id;             ///< hubsync.settings `database_id`
  std::int64_t position = 0;  ///< the change counter
  std::int64_t mark = 0;      ///< the last mark advance_position() recorded
};

/// The database side of the engine (docs/architecture.md): the changelog, row
/// reads and (for pulls) writes. Implemented by connectors/postgres.
///
/// Errors: `transient` when the connection dropped or the server is
/// unavailable (retry later; nothing claimed is lost: leases expire);
/// `fatal` for schema problems (missing table/column) with the mapping named.
/// Thread-safety: one instance per thread.
class DatabasePort {
 public:
  virtual ~DatabasePort() = default;

  /// What this database is and how far it has gone, read in one query:
  /// - `id`: the id `hubsync migrate` gave it (hubsync.settings
  ///   `database_id`, made once and never changed; a restored dump keeps
  ///   it), what the state store's links were made with;
  /// - `position`: its change counter, the changelog's id sequence, which
  ///   every captured change and every batch hubsync writes (apply_rows)
  ///   advances. It only grows, so a database reporting less than before
  ///   went back (restored from an older backup); 0 before anything moved it;
  /// - `mark`: the highest position advance_position() has returned for it,
  ///   as it records itself (hubsync.settings `sync_mark`); 0 before any. No
  ///   application write moves it, so a store that recorded a higher mark
  ///   knows the database went back, however far the application's writes
  ///   have carried the counter since.
  /// Reads only. Errors: `fatal` when hubsync is not installed or its
  /// schema has no id yet (the message says to run `hubsync migrate`),
  /// `transient` as usual.
  virtual model::Result<DatabaseIdentity> identity() = 0;

  /// Moves the change counter on by one, in a transaction of its own that
  /// commits with synchronous_commit on (a bare nextval's step, or an
  /// asynchronous commit's, can be lost in a crash, and the counter would
  /// read as gone back; the flush also covers every change before it),
  /// records it as the mark (identity().mark, the higher of two marks
  /// when two processes mark one database) in the same commit, and returns
  /// it. run and serve mark the database after their changes, so that a
  /// database restored from a backup taken before reads as gone back even
  /// after the application wrote again. Errors: as identity().
  virtual model::Result<std::int64_t> advance_position() = 0;

  /// The database server's clock now (clock_timestamp()), in ms since the
  /// epoch, truncated. The times the capture stamps on changes come from
  /// it: the caller brackets this call with its own clock to learn how far
  /// the server's is (`conflict: newest`). Reads only. Errors: `transient`
  /// as usual.
  virtual model::Result<std::int64_t> server_clock_ms() = 0;

  /// Makes this instance the only syncer of `mapping` (push and pull
  /// alike) with a lease row that expires unless renewed: calling it again
  /// renews it, and so does every claim and write this instance makes for
  /// the mapping (each fails with `conflict` once the lease is lost). The
  /// lease survives a reconnect and works through a transaction pooler. A
  /// lease whose holder died on this host (its pid is gone) or expired is
  /// taken over at once, and the changelog leases its pusher left are freed.
  /// Error `conflict` naming the holder when another live one holds it.
  virtual model::Status lock_mapping(const std::string& mapping) = 0;

  /// Gives back every mapping lease this instance holds (a clean stop);
  /// best effort: a lease not given back expires.
  virtual model::Status release_mappings() = 0;

  /// Appends changelog rows (op update) for rows that must be pushed again:
  /// a dead letter being retried, an association waiting for its parent.
  /// `delay_ms` > 0 keeps them unclaimable until then. Durable on return.
  virtual model::Status enqueue(const mapping::Mapping& m, const std::vector<model::RecordKey>& keys,
                                std::int64_t delay_ms) = 0;

  /// Claims up to `limit` pending changelog rows of `mapping` whose lease is
  /// free (never claimed, or expired), oldest first, with FOR UPDATE SKIP
  /// LOCKED so concurrent workers never claim the same row; leases them for
  /// `lease_ms`. Never an `id > watermark` scan: ids commit out of order.
  /// A TRUNCATE of the table comes as one change with op `truncate` and an
  /// empty key: every row linked in HubSpot must be checked again.
  virtual model::Result<std::vector<model::Change>> claim_changes(const mapping::Mapping& m,
                                                                  std::size_t limit,
                                                                  std::int64_t lease_ms,
                                                                  const std::string& worker) = 0;

  /// Up to `limit` pending changes of the mapping with id > `after_id`,
  /// claimed or not, oldest first, as claim_changes shapes them; claims,
  /// leases and changes nothing (a dry run reads the changelog this way).
  virtual model::Result<std::vector<model::Change>> list_pending(const mapping::Mapping& m, std::int64_t after_id,
                                                                 std::size_t limit) = 0;

  /// Moves finished changes to the archive with their outcome, in one
  /// transaction. Idempotent (ids already archived are ignored).
  virtual model::Status complete_changes(const std::vector<CompletedChange>& done) = 0;

  /// Ends the lease of claimed changes early so they are claimed again
  /// `delay_ms` from now (0: at once).
  virtual model::Status release_changes(const std::vector<std::int64_t>& ids,
                                        std::int64_t delay_ms) = 0;

  /// Pending changelog rows of a mapping (claimed or not).
  virtual model::Result<std::int64_t> count_pending(const std::string& mapping) = 0;

  /// When the oldest pending changelog row of a mapping was captured (ms
  /// since the epoch); 0 when none is pending. For the lag metric.
  virtual model::Result<std::int64_t> oldest_pending_ms(const std::string& mapping) = 0;

  /// How many rows the mapping's table holds (for progress).
  virtual model::Result<std::int64_t> count_rows(const mapping::Mapping& m) = 0;

  /// How many rows of the mapping's table hold a value (not NULL) in
  /// `column`, filter or not. Read-only.
  virtual model::Result<std::int64_t> count_rows_holding(const mapping::Mapping& m, const std::string& column) = 0;

  /// Reads the current rows for `keys`; a key with no row is absent from the
  /// result (the row was deleted), and so is a key with the wrong number of
  /// parts (a truncate's empty key). Keys are RecordKey::encoded(). Key
  /// parts and Row::ref_keys are canonical key text (the changelog's).
  /// The mapping's filter.postgres runs read-only: a filter that writes is
  /// a fatal error.
  virtual model::Result<std::map<std::string, Row>> read_rows(
      const mapping::Mapping& m, const std::vector<model::RecordKey>& keys) = 0;

  /// Streams the table's rows in key order, `batch` at a time, starting
  /// after `after` (empty: from the start). Memory stays bounded whatever the
  /// table size. `fn` returning an error stops the scan with that error.
  /// Read-only like read_rows.
  virtual model::Status scan_rows(const mapping::Mapping& m, const model::RecordKey& after,
                                  std::size_t batch,
                                  const std::function<model::Status(std::vector<Row>&)>& fn) = 0;

  /// The highest changelog id of `mapping` committed so far (0 if none).
  virtual model::Result<std::int64_t> max_change_id(const std::string& mapping) = 0;

  /// Applies HubSpot-side deletions to rows, in one transaction, as the
  /// mapping's `deletes` says: `archive` deletes the rows, `soft` sets the
  /// soft-delete column (true for a boolean column, now() otherwise). Written
  /// as hubsync (`hubsync.origin`), so the capture trigger ignores it. A key
  /// with no row is skipped. Errors: `invalid_record` when Postgres refuses
  /// (a foreign key, a check): nothing is applied; `transient` as usual.
  virtual model::Status apply_hubspot_deletes(const mapping::Mapping& m,
                                              const std::vector<model::RecordKey>& keys) = 0;

  /// With capture by logical decoding (config postgres.capture): how many
  /// bytes of WAL its replication slot holds back on the server, -1 when
  /// the slot is recorded but gone (changes since were lost); nullopt with
  /// the trigger. Reads only. For the metrics: a slot nobody relays keeps
  /// WAL until the server's disk fills.
  virtual model::Result<std::optional<std::int64_t>> capture_retained_wal() {
    return std::optional<std::int64_t>{};
  }

  /// Deletes changelog-archive rows older than the `archive_retention`
  /// setting; returns how many.
  virtual model::Result<std::int64_t> prune_archive() = 0;

  // --- pull (HubSpot -> Postgres) ---

  /// The rows whose `column` holds one of `values`, compared as key text
  /// (the same canonical text as pg_keys and Row::ref_keys). With
  /// `fold_case` the column's key text is lower-cased by the database and
  /// compared with `values` as given: callers pass them lower-cased and
  /// pair what comes back by their own folding (the database's lower() may
  /// fold more than ASCII). A value that is no key text of the column's
  /// type finds nothing. Finds a row by its match value, or a link table's
  /// rows by one end, one query for all `values`, which an index on the
  /// column (or on lower(column) with `fold_case`) serves. Read-only.
  virtual model::Result<std::vector<Row>> read_rows_by(const mapping::Mapping& m,
                                                       const std::string& column,
                                                       const std::vector<std::string>& values,
                                                       bool fold_case) = 0;

  /// For each key with changes still in the changelog: when they were
  /// captured, the row's newest and per column (changed_columns; a change
  /// naming none, such as an insert, counts for every column). Keys without
  /// pending changes are absent. Read-only.
  virtual model::Result<std::map<std::string, ChangeTimes>> pending_change_times(
      const mapping::Mapping& m, const std::vector<model::RecordKey>& keys) = 0;

  /// Keys (encoded) of rows whose deletion the changelog holds, not yet
  /// pushed: what a pull must not write back from HubSpot, where the push
  /// is about to remove it. Read-only.
  virtual model::Result<std::vector<std::string>> pending_deletes(const mapping::Mapping& m) = 0;

  /// Writes rows in ONE transaction as hubsync (`hubsync.origin`, so the
  /// capture trigger records nothing): updates set only the given columns,
  /// inserts give the given columns (the rest take their defaults) and
  /// report the key Postgres made. A row Postgres refuses (NOT NULL, CHECK,
  /// a unique clash, a value that does not fit) fails alone with
  /// `invalid_record` naming the constraint or column; the others land. An
  /// update of a row that no longer exists fails alone the same way, and
  /// one whose `expected_version` the row no longer has (another writer
  /// changed it since it was read) fails alone with `conflict`, category
  /// ROW_CHANGED: hubsync never overwrites a change it has not merged.
  /// Each landed write with `push` is queued for the push in that same
  /// transaction: the rows and their changelog rows commit together or not
  /// at all. Errors of the call as a whole (nothing written, nothing
  /// queued): `transient` (retry), `fatal`.
  virtual model::Result<std::vector<RowApplied>> apply_rows(const mapping::Mapping& m,
                                                            const std::vector<RowWrite>& writes) = 0;

  /// Deletes rows by key as hubsync (a link table's rows removed in
  /// HubSpot). Keys with no row are skipped. Errors as apply_hubspot_deletes.
  virtual model::Status delete_rows(const mapping::Mapping& m,
                                    const std::vector<model::RecordKey>& keys) = 0;
};

}  // namespace hubsync::pipeline
