#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <memory>
#include <string>

#include <spdlog/logger.h>

#include "connectors/postgres/capture_relay.h"
#include "engine/pipeline/database_port.h"

#include <pqxx/connection>
#include <pqxx/transaction>

namespace hubsync::postgres {

/// The DatabasePort over libpqxx: one connection, reopened after it drops.
/// Each instance is its own lease holder ('<host>/<pid>/<nonce>'): the
/// leases it took are renewed by its claims and writes, and given back
/// when it is destroyed.
/// Column types are read from the catalog once per mapping and drive both
/// the SQL (typed key comparisons that use the primary-key index) and the
/// conversion of values into engine Values.
class PgDatabase final : public pipeline::DatabasePort {
 public:
  PgDatabase(std::string dsn, std::shared_ptr<spdlog::logger> log);
  ~PgDatabase() override;

  model::Result<pipeline::DatabaseIdentity> identity() override;
  model::Result<std::int64_t> advance_position() override;
  model::Result<std::int64_t> server_clock_ms() override;  // pg_apply.cpp

  // pg_lease.cpp
  model::Status lock_mapping(const std::string& mapping) override;
  model::Status release_mappings() override;
  model::Status enqueue(const mapping::Mapping& m, const std::vector<model::RecordKey>& keys,
                        std::int64_t delay_ms) override;
  model::Result<std::vector<model::Change>> list_pending(const mapping::Mapping& m, std::int64_t after_id,
                                                         std::size_t limit) override;
  model::Result<std::vector<model::Change>> claim_changes(const mapping::Mapping& m,
                                                          std::size_t limit, std::int64_t lease_ms,
                                                          const std::string& worker) override;
  model::Status complete_changes(const std::vector<pipeline::CompletedChange>& done) override;
  model::Status release_changes(const std::vector<std::int64_t>& ids,
                                std::int64_t delay_ms) override;
  model::Result<std::int64_t> count_pending(const std::string& mapping) override;
  model::Result<std::int64_t> oldest_pending_ms(const std::string& mapping) override;
  model::Result<std::int64_t> count_rows(const mapping::Mapping& m) override;
  model::Result<std::int64_t> count_rows_holding(const mapping::Mapping& m, const std::string& column) override;
  model::Result<std::map<std::string, pipeline::Row>> read_rows(
      const mapping::Mapping& m, const std::vector<model::RecordKey>& keys) override;
  model::Status scan_rows(const mapping::Mapping& m, const model::RecordKey& after,
                          std::size_t batch,
                          const std::function<model::Status(std::vector<pipeline::Row>&)>& fn) override;
  // pg_apply.cpp
  model::Result<std::int64_t> max_change_id(const std::string& mapping) override;
  model::Status apply_hubspot_deletes(const mapping::Mapping& m,
                                      const std::vector<model::RecordKey>& keys) override;
  model::Result<std::int64_t> prune_archive() override;
  model::Result<std::optional<std::int64_t>> capture_retained_wal() override;
  // pg_pull.cpp
  model::Result<std::vector<pipeline::Row>> read_rows_by(const mapping::Mapping& m,
                                                         const std::string& column,
                                                         const std::vector<std::string>& values,
                                                         bool fold_case) override;
  model::Result<std::map<std::string, pipeline::ChangeTimes>> pending_change_times(
      const mapping::Mapping& m, const std::vector<model::RecordKey>& keys) override;
  model::Result<std::vector<std::string>> pending_deletes(const mapping::Mapping& m) override;
  model::Result<std::vector<pipeline::RowApplied>> apply_rows(
      const mapping::Mapping& m, const std::vector<pipeline::RowWrite>& writes) override;
  model::Status delete_rows(const mapping::Mapping& m,
                            const std::vector<model::RecordKey>& keys) override;

  /// One line for each lookup by value the pull makes that no index serves,
  /// as the planner sees it (EXPLAIN with sequential scans disabled): a
  /// pulling object mapping's match column (read_rows_by, once per page of
  /// objects not yet linked) and a pulling link mapping's from_column. Each
  /// line names the mapping, the table and the column, and ends with the
  /// CREATE INDEX that would serve the lookup, or says that none can (a
  /// numeric or date column). Without such an index every page of a pull
  /// scans the table. Tables the planner estimates below `min_rows` rows
  /// are left out. Empty when all are served. Reads only. Errors: a missing
  /// table or column (fatal), a lost connection (transient).
  model::Result<std::vector<std::string>> unindexed_lookups(const std::vector<mapping::Mapping>& mappings,
                                                            std::int64_t min_rows = 0);

  /// Reads the changelog as it stands, without first relaying what a
  /// logical replication slot decoded (catch_up): for commands that must
  /// not write, `status` and `plan`, and for `serve` with postgres.relay
  /// sql, whose changelog watcher relays on its own schedule.
  void skip_relay() { relay_ = false; }

  /// The slot of capture by logical decoding and the WAL it holds back;
  /// nullopt when the database records none. Reads only.
  model::Result<std::optional<SlotLag>> capture_slot();

  /// The Postgres type of each column of a mapped table (format_type text and
  /// the category that decides the Value kind), cached per table.
  struct Column {
    std::string type;      ///< format_type(), e.g. "bigint", "text[]", "timestamp with time zone"
    char category = 'S';   ///< pg_type.typcategory
    std::string typname;   ///< pg_type.typname, e.g. int8, numeric, _text
  };
  using Columns = std::map<std::string, Column>;

 private:
  pqxx::connection& conn();
  /// With capture by logical decoding (capture_relay.h): moves what the
  /// slot has decoded into the changelog before the changelog is read, so
  /// a read sees every change committed before it. Asks again at most every
  /// few seconds while the database records no slot.
  model::Status catch_up();
  /// Marks `tx` as hubsync's own write of m's table, for both loop guards:
  /// `hubsync.origin` (the trigger) and, with wal_level logical, a
  /// transactional logical decoding message (the relay). Advances the
  /// change counter (identity().position) as a captured change would.
  void mark_own_write(pqxx::transaction_base& tx, const mapping::Mapping& m);
  /// Renews this instance's lease on `mapping` inside `tx` when it holds
  /// one; an error (`conflict`) when the lease was lost (it expired and
  /// another process took it). Mappings never locked pass unchecked.
  std::optional<model::Error> renew_lease(pqxx::transaction_base& tx, const std::string& mapping);
  model::Result<const Columns*> columns_of(const mapping::Mapping& m);
  std::string select_list(const mapping::Mapping& m, const Columns& cols) const;
  /// The statement writing a group of rows with `columns`, returning each
  /// row's key, version and the columns `read_back` (read_back_columns).
  std::string group_sql(const mapping::Mapping& m, const Columns& cols, const std::vector<std::string>& columns,
                        bool insert, const std::vector<std::string>& read_back) const;
  std::string group_json(const mapping::Mapping& m, const Columns& cols,
                         const std::vector<std::string>& columns,
                         const std::vector<pipeline::RowWrite>& writes,
                         const std::vector<std::size_t>& rows) const;
  void apply_group(pqxx::work& tx, const mapping::Mapping& m, const Columns& cols,
                   const std::vector<std::string>& columns, bool insert,
                   const std::vector<pipeline::RowWrite>& writes,
                   const std::vector<std::size_t>& rows, std::vector<pipeline::RowApplied>& out);

  std::string dsn_;
  std::shared_ptr<spdlog::logger> log_;
  struct Conn;
  std::unique_ptr<Conn> conn_;
  std::map<std::string, Columns> columns_;  // by quoted table name
  std::string holder_;                      // this instance's lease holder id
  std::set<std::string> leased_;            // mappings this instance took a lease on
  std::set<std::string> lost_;              // leases lost since: refused until lock_mapping
  std::chrono::steady_clock::time_point no_slot_until_{};  // catch_up: no slot was recorded
  bool relay_ = true;                                       // catch_up relays (skip_relay)
};

}  // namespace hubsync::postgres
