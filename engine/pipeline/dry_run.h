#pragma once

// `hubsync plan`: the push and pull run as they would, against ports that
// read for real and write nothing. Every write the pipeline asks for is
// recorded as a planned change instead (with the value it replaces when a
// read showed it), and answered as if it had succeeded.
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "engine/pipeline/crm_port.h"
#include "engine/pipeline/database_port.h"

namespace hubsync::pipeline {

/// One field a run would write.
struct PlannedField {
  std::string name;                   ///< column (to Postgres) or property (to HubSpot)
  std::optional<std::string> before;  ///< what a read showed; nullopt: not read
  std::string after;                  ///< "" clears
};

/// One record a run would create, update or delete on one side.
struct PlannedChange {
  std::string side;    ///< "hubspot" | "postgres"
  std::string kind;    ///< "create" | "update" | "delete" | "archive" | "associate" | "unassociate"
  std::string target;  ///< "contacts 123", "contacts email=a@x.io", "public.people id=42"
  std::vector<PlannedField> fields;
};

/// Everything the dry run would have written, in the order asked.
struct Plan {
  std::vector<PlannedChange> changes;
};

/// Reads go to `real`; every write is recorded in `plan`, answered as a
/// success, and laid over what later reads return (so the push that follows
/// a planned pull sees the rows as the pull would have left them). The
/// changelog is read with list_pending, never claimed, and what enqueue
/// would add to it due at once (a TRUNCATE's recheck, a resync's rows gone)
/// is handed out after it, each once; leases are not taken. Not thread-safe (plan
/// runs on one thread).
class DryRunDatabase final : public DatabasePort {
 public:
  DryRunDatabase(DatabasePort& real, Plan& plan) : real_(real), plan_(plan) {}
  model::Result<DatabaseIdentity> identity() override { return real_.identity(); }
  model::Result<std::int64_t> advance_position() override {  // writes nothing
    auto now = real_.identity();
    if (!now.ok()) return std::move(now).error();
    return now->position;
  }
  model::Result<std::int64_t> server_clock_ms() override { return real_.server_clock_ms(); }
  model::Status lock_mapping(const std::string&) override { return {}; }
  model::Status release_mappings() override { return {}; }
  model::Status enqueue(const mapping::Mapping& m, const std::vector<model::RecordKey>& keys, std::int64_t) override;
  model::Result<std::vector<model::Change>> claim_changes(const mapping::Mapping& m, std::size_t limit, std::int64_t,
                                                          const std::string&) override;
  model::Result<std::vector<model::Change>> list_pending(const mapping::Mapping& m, std::int64_t after_id,
                                                         std::size_t limit) override {
    return real_.list_pending(m, after_id, limit);
  }
  model::Status complete_changes(const std::vector<CompletedChange>&) override { return {}; }
  model::Status release_changes(const std::vector<std::int64_t>&, std::int64_t) override { return {}; }
  model::Result<std::int64_t> count_pending(const std::string& mapping) override { return real_.count_pending(mapping); }
  model::Result<std::int64_t> oldest_pending_ms(const std::string& mapping) override {
    return real_.oldest_pending_ms(mapping);
  }
  model::Result<std::int64_t> count_rows(const mapping::Mapping& m) override { return real_.count_rows(m); }
  model::Result<std::int64_t> count_rows_holding(const mapping::Mapping& m, const std::string& column) override {
    return real_.count_rows_holding(m, column);
  }
  model::Result<std::map<std::string, Row>> read_rows(const mapping::Mapping& m,
                                                      const std::vector<model::RecordKey>& keys) override;
  model::Status scan_rows(const mapping::Mapping& m, const model::RecordKey& after, std::size_t batch,
                          const std::function<model::Status(std::vector<Row>&)>& fn) override;
  model::Result<std::int64_t> max_change_id(const std::string& mapping) override {
    return real_.max_change_id(mapping);
  }
  model::Status apply_hubspot_deletes(const mapping::Mapping& m, const std::vector<model::RecordKey>& keys) override;
  model::Result<std::int64_t> prune_archive() override { return 0; }
  model::Result<std::vector<Row>> read_rows_by(const mapping::Mapping& m, const std::string& column,
                                               const std::vector<std::string>& values, bool fold_case) override;
  model::Result<std::map<std::string, ChangeTimes>> pending_change_times(
      const mapping::Mapping& m, const std::vector<model::RecordKey>& keys) override {
    return real_.pending_change_times(m, keys);
  }
  model::Result<std::vector<std::string>> pending_deletes(const mapping::Mapping& m) override {
    return real_.pending_deletes(m);
  }
  model::Result<std::vector<RowApplied>> apply_rows(const mapping::Mapping& m,
                                                    const std::vector<RowWrite>& writes) override;
  model::Status delete_rows(const mapping::Mapping& m, const std::vector<model::RecordKey>& keys) override;

 private:
  void remember(const mapping::Mapping& m, Row& row);
  std::string target(const mapping::Mapping& m, const model::RecordKey& key) const;
  DatabasePort& real_;
  Plan& plan_;
  std::map<std::string, std::int64_t> listed_up_to_;          // mapping -> last change id handed out
  std::map<std::string, std::vector<model::Change>> queued_;  // mapping -> enqueued, not yet handed out
  std::int64_t next_queued_id_ = 0;                           // negative: never a changelog id
  std::map<std::string, model::Fields> rows_;                 // "mapping/pg_key" -> row as read
  std::map<std::string, model::Fields> written_;              // "mapping/pg_key" -> values planned
  std::set<std::string> deleted_;                             // "mapping/pg_key" planned deleted
  std::int64_t next_insert_ = 0;
};

/// Reads go to `real`; writes are recorded in `plan` and answered as
/// successes. Objects a read returned are remembered, so an update shows
/// the value it replaces.
class DryRunCrm final : public CrmPort {
 public:
  DryRunCrm(CrmPort& real, Plan& plan) : real_(real), plan_(plan) {}
  model::Result<std::vector<WriteOutcome>> upsert(const std::string& object_type, const std::string& id_property,
                                                  const std::vector<UpsertInput>& inputs) override;
  model::Result<std::vector<WriteOutcome>> update(const std::string& object_type,
                                                  const std::vector<UpdateInput>& inputs) override;
  model::Result<std::vector<WriteOutcome>> archive(const std::string& object_type,
                                                   const std::vector<std::string>& ids) override;
  model::Result<std::vector<ReadOutcome>> read_objects(const std::string& object_type,
                                                       const std::vector<std::string>& ids,
                                                       const ReadRequest& request) override;
  model::Result<ArchivedPage> list_archived(const std::string& object_type, const std::string& after,
                                            const std::vector<std::string>& properties) override {
    return real_.list_archived(object_type, after, properties);
  }
  model::Result<SweepPage> sweep(const std::string& object_type, const SweepCursor& from,
                                 const std::vector<std::string>& properties, int page_size,
                                 const std::vector<mapping::HubspotFilter>& filters) override;
  model::Result<std::vector<WriteOutcome>> associate(const std::string& from_type, const std::string& to_type,
                                                     const std::vector<AssociationInput>& inputs) override;
  model::Result<std::vector<Associated>> associations(const std::string& from_type, const std::string& to_type,
                                                      const std::vector<std::string>& from_ids) override {
    return real_.associations(from_type, to_type, from_ids);
  }
  model::Status unassociate(const std::string& from_type, const std::string& to_type,
                            const std::vector<std::pair<std::string, std::string>>& pairs) override;
  model::Status unassociate_types(const std::string& from_type, const std::string& to_type,
                                  const std::vector<AssociationInput>& inputs) override;
  model::Result<std::optional<AssociationType>> association_type(const std::string& from_type,
                                                                 const std::string& to_type,
                                                                 const std::string& label) override {
    return real_.association_type(from_type, to_type, label);
  }
  std::optional<model::ClockOffset> clock_offset() const override { return real_.clock_offset(); }

 private:
  /// Sweeps of several windows read at once: `seen_` takes a lock.
  void remember(const std::string& type, const model::Record& r);
  /// The properties read of "type/id", if any.
  std::optional<model::Fields> known(const std::string& key);
  /// Records a planned write of "type/id", and lays the planned writes
  /// over a record read since, as the run would read it after writing.
  void written(const std::string& key, const model::Fields& properties);
  void overlay(const std::string& type, model::Record& r);
  CrmPort& real_;
  Plan& plan_;
  std::mutex seen_mu_;
  std::map<std::string, model::Fields> seen_;     // "type/id" -> properties as read
  std::map<std::string, model::Fields> written_;  // "type/id" -> properties the plan writes
  std::int64_t next_id_ = 0;
};

}  // namespace hubsync::pipeline
