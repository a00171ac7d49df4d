#pragma once

// The simulated portal's state: object types, records, properties, schemas
// and associations, behind one reader/writer lock. Every public method is
// thread-safe, takes the lock for the shortest time, and returns copies (or
// shared immutable property maps) so callers serialise JSON outside the lock.
// Methods throw ApiError exactly as HubSpot would answer.
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <shared_mutex>
#include <string>
#include <tuple>
#include <unordered_set>
#include <vector>

#include "tests/hubspot-sim/model.h"
#include "tests/hubspot-sim/search.h"

namespace hubsync::sim {

/// A record as returned to a caller: immutable snapshot.
struct ObjectView {
  std::uint64_t id = 0;
  std::string object_type_id;
  PropsPtr props;
  std::int64_t created_ms = 0;
  std::int64_t updated_ms = 0;
  std::int64_t archived_ms = 0;
  bool archived = false;
  bool is_new = false;  ///< upsert created it
  std::map<std::string, std::vector<HistoryEntry>> history;
  /// Set by writes: the properties the input set (an upsert's or update's
  /// idProperty included), which HubSpot's write answer echoes as stored.
  std::vector<std::string> written;
};

struct AssocTypeSpec {
  std::string category = "HUBSPOT_DEFINED";
  int type_id = 0;
};

struct AssocTypeDef {
  int type_id = 0;
  std::string category;
  std::string label;  ///< empty: unlabelled
  int inverse_id = 0;
  std::string name;
};

/// One input of a create/update/upsert.
struct WriteInput {
  std::string id;           ///< update/upsert: the id (or unique value)
  std::string id_property;  ///< upsert / update by unique property
  Props props;
  std::string trace_id;
  struct Assoc {
    std::string to_id;
    std::vector<AssocTypeSpec> types;
  };
  std::vector<Assoc> associations;
};

enum class WriteOp { kCreate, kUpdate, kUpsert };

/// Result of one input of a batch (view or error, never both).
struct WriteOutcome {
  std::optional<ObjectView> view;
  std::optional<ApiError> error;
};

struct AssocLink {
  std::uint64_t to_id = 0;
  std::vector<AssocTypeDef> types;
};

/// One pair and the association types to take off it (v4 batch/labels/archive).
struct AssocTypeRemoval {
  std::uint64_t from = 0;
  std::uint64_t to = 0;
  std::vector<AssocTypeSpec> types;
};

class Portal {
 public:
  using NowFn = std::function<std::int64_t()>;
  Portal(std::int64_t portal_id, std::int64_t index_lag_ms, NowFn now, bool merge_new_id);

  std::int64_t portal_id() const { return portal_id_; }
  void set_index_lag_ms(std::int64_t lag);
  /// Called once per write: false skips building change events (no webhook
  /// subscriber), which keeps bulk writes cheap.
  void set_events_wanted(std::function<bool()> wanted) { events_wanted_ = std::move(wanted); }
  /// Drops every record, custom schema, custom property and association.
  void reset();

  /// Maps "contacts", "contact", "0-1", "p_x", "p62515_x", "2-3", "x" to the
  /// object type id; throws 400 like HubSpot for unknown types.
  std::string resolve_type(const std::string& ref) const;
  /// Snapshot of one type's definition (without its records).
  ObjectType type_definition(const std::string& ref) const;
  /// The same snapshot, shared: one copy serves every caller until the next
  /// change of a definition (property, group, schema, reset). A request
  /// gets it without the portal's lock, so it does not wait for a write in
  /// progress; throws like type_definition for an unknown type.
  std::shared_ptr<const ObjectType> definition(const std::string& ref) const;
  std::vector<ObjectType> custom_schemas() const;

  // ---- objects -----------------------------------------------------------
  ObjectView get(const std::string& type, const std::string& id, const std::string& id_property,
                 bool archived, const std::vector<std::string>& history_props) const;
  std::vector<ObjectView> list(const std::string& type, int limit, std::uint64_t after,
                               bool archived, const std::vector<std::string>& history_props,
                               std::optional<std::uint64_t>& next_after) const;
  /// Batch read; missing ids come back in `missing`.
  std::vector<ObjectView> read_batch(const std::string& type, const std::vector<std::string>& ids,
                                     const std::string& id_property, bool archived,
                                     const std::vector<std::string>& history_props,
                                     std::vector<std::string>& missing) const;
  /// Writes. `partial` (objectWriteTraceId present): each input succeeds or
  /// fails alone. Otherwise the first failing input throws and nothing is written.
  std::vector<WriteOutcome> write(const std::string& type, WriteOp op, std::vector<WriteInput>& inputs,
                                  bool partial, const WriteSource& src,
                                  std::vector<ChangeEvent>& events);
  /// Archives; unknown ids are ignored (HubSpot answers 204 regardless).
  void archive(const std::string& type, const std::vector<std::string>& ids, const WriteSource& src,
               std::vector<ChangeEvent>& events);
  /// Deletes one record for good (GDPR): not restorable, gone from reads,
  /// search and the archived listing, its associations with it. Unknown or
  /// already purged: nothing happens (HubSpot answers 204 regardless).
  void purge(const std::string& type, const std::string& id, const std::string& id_property,
             const WriteSource& src, std::vector<ChangeEvent>& events);
  /// Restores archived records (the recycle bin; a UI action in HubSpot).
  ObjectView restore(const std::string& type, const std::string& id, const WriteSource& src,
                     std::vector<ChangeEvent>& events);
  ObjectView merge(const std::string& type, const std::string& primary, const std::string& merged,
                   const WriteSource& src, std::vector<ChangeEvent>& events);
  /// Search with index lag applied; returns the page and the total.
  std::vector<ObjectView> search(const std::string& type, const SearchQuery& q,
                                 std::int64_t& total) const;
  /// Every record of a type, archived included (admin dump).
  std::vector<ObjectView> dump(const std::string& type) const;
  /// Seeds `n` records with realistic, deterministic data, in writes of
  /// 100, each in a millisecond of its own (runs of 100 equal modified times).
  std::vector<std::uint64_t> seed(const std::string& type, int n, std::uint64_t seed,
                                  const WriteSource& src, std::vector<ChangeEvent>& events);
  /// Sets the same modified time on every given record (a bulk import).
  void stamp_modified(const std::string& type, const std::vector<std::uint64_t>& ids,
                      std::int64_t ms);
  std::size_t count(const std::string& type) const;
  /// Puts a record back exactly as saved (snapshot load); no events.
  void import_record(const std::string& type, std::uint64_t id, Props props, std::int64_t created_ms,
                     std::int64_t updated_ms, bool archived);

  // ---- properties --------------------------------------------------------
  std::vector<PropertyDef> properties(const std::string& type, bool archived) const;
  PropertyDef property(const std::string& type, const std::string& name) const;
  PropertyDef create_property(const std::string& type, PropertyDef def);
  PropertyDef update_property(const std::string& type, const std::string& name,
                              const std::function<void(PropertyDef&)>& patch,
                              std::optional<bool> has_unique_value);
  void archive_property(const std::string& type, const std::string& name);
  std::vector<PropertyGroup> groups(const std::string& type) const;
  PropertyGroup create_group(const std::string& type, PropertyGroup g);
  PropertyGroup update_group(const std::string& type, const std::string& name,
                             const std::optional<std::string>& label, std::optional<int> order);
  void archive_group(const std::string& type, const std::string& name);

  // ---- schemas -----------------------------------------------------------
  ObjectType create_schema(ObjectType t, const std::vector<std::string>& associated_objects);
  ObjectType update_schema(const std::string& ref, const std::function<void(ObjectType&)>& patch);
  void delete_schema(const std::string& ref);
  /// Creates an association definition between two types; returns its id.
  AssocTypeDef create_association_definition(const std::string& from, const std::string& to,
                                             const std::string& name, const std::string& label,
                                             const std::string& category);
  std::vector<AssocTypeDef> association_types(const std::string& from, const std::string& to) const;

  // ---- associations ------------------------------------------------------
  /// Links from->to with the given types (empty: default type). Throws 400
  /// for unknown type ids, 404 for missing objects. Returns the types set.
  std::vector<AssocTypeDef> associate(const std::string& from_type, std::uint64_t from,
                                      const std::string& to_type, std::uint64_t to,
                                      const std::vector<AssocTypeSpec>& types,
                                      const WriteSource& src, std::vector<ChangeEvent>& events);
  /// Removes all links between the pair (both directions).
  void unassociate(const std::string& from_type, std::uint64_t from, const std::string& to_type,
                   std::uint64_t to, const WriteSource& src, std::vector<ChangeEvent>& events);
  /// Removes only the given types between each pair, with their inverses
  /// (v4 batch/labels/archive). Removing the unlabelled type removes every
  /// type between the pair, as HubSpot documents; a pair left without types
  /// is no longer associated. A type not defined between the two object
  /// types throws 400 and nothing changes; a type absent from a pair, or a
  /// pair that is not associated, is ignored.
  void unassociate_types(const std::string& from_type, const std::string& to_type,
                         const std::vector<AssocTypeRemoval>& removals, const WriteSource& src,
                         std::vector<ChangeEvent>& events);
  std::vector<AssocLink> associations(const std::string& from_type, std::uint64_t from,
                                      const std::string& to_type) const;
  bool exists(const std::string& type, std::uint64_t id) const;

 private:
  friend struct PortalAccess;
  ObjectType& type_locked(const std::string& ref);
  const ObjectType& type_locked(const std::string& ref) const;
  std::string resolve_locked(const std::string& ref) const;
  /// Returns once the portal's clock is past `ms`, or after 20 readings.
  void wait_past(std::int64_t ms) const;
  Record* find_locked(ObjectType& t, const std::string& id, const std::string& id_property);
  ObjectView view_locked(const ObjectType& t, const Record& r,
                         const std::vector<std::string>& history_props) const;
  /// Queues the current state of `r`, a record of `t`, for search and keeps
  /// t.search_index in step; with `dead`, the snapshots search no longer
  /// needs go there to be freed after unlocking.
  void reindex_locked(ObjectType& t, Record& r, std::int64_t now, std::vector<PropsPtr>* dead = nullptr);
  void install_defaults_locked();
  void add_assoc_pair_locked(const std::string& a, const std::string& b, int id_ab, int id_ba,
                             const std::string& category, const std::string& label,
                             const std::string& name);
  void move_associations_locked(const std::string& type, std::uint64_t from, std::uint64_t to);
  void drop_associations_locked(const std::string& type, std::uint64_t id);
  /// Takes the type ids in `only` (every type when null) off a -> b between
  /// from and to, inverses included, with one associationChange event each.
  void remove_link_types_locked(const std::string& a, std::uint64_t from, const std::string& b, std::uint64_t to,
                                const std::set<int>* only, const WriteSource& src, std::int64_t now,
                                std::vector<ChangeEvent>& events);
  /// definition(ref), with the schema generation it is current for: a
  /// write that finds the generation unchanged under the lock may use what
  /// it checked against the snapshot.
  std::shared_ptr<const ObjectType> definition_at(const std::string& ref, std::uint64_t& generation) const;
  /// One input's values checked against a definition snapshot before the
  /// lock (most of validation's cost), so writes serialise less of it.
  struct Checked {
    bool ok = false;  ///< every value valid: `normalized` and `defs` are usable
    Props normalized;
    std::vector<const PropertyDef*> defs;  ///< into the snapshot checked against
  };
  /// Copies and normalises in.props against `def`; not ok at the first
  /// problem (validate_locked then gathers them all, as HubSpot reports).
  static Checked check_values(const ObjectType& def, const WriteInput& in);
  /// check_values of every input against definition_at(type): `def` holds
  /// the snapshot the results point into. Empty for an unknown type.
  std::vector<Checked> check_inputs(const std::string& type, const std::vector<WriteInput>& inputs,
                                    std::uint64_t& generation, std::shared_ptr<const ObjectType>& def) const;
  /// A validated input, ready to apply (validation runs once per input).
  struct Prepared {
    Record* target = nullptr;  ///< null: create
    bool is_new = false;       ///< upsert that creates
    std::string id_property;   ///< update/upsert by a unique property: echoed in the answer
    Props normalized;
    std::vector<const PropertyDef*> defs;  ///< the definition of each `normalized` entry, in order
    struct Assoc {
      std::string to_type;
      std::uint64_t to = 0;
      std::vector<AssocTypeSpec> types;
    };
    std::vector<Assoc> assocs;
  };
  /// What one write call shares between its inputs.
  struct WriteContext {
    const WriteSource& src;
    std::int64_t now;
    std::string now_iso;                ///< format_iso_ms(now), formatted once
    std::vector<ChangeEvent>* events;   ///< null: no webhook subscriber
    std::vector<PropsPtr>* dead;        ///< replaced snapshots, freed after unlocking
  };
  /// Duplicate detection within one batch.
  using BatchKeys = std::unordered_set<std::string>;
  /// `checked`: what check_values found against the current definitions,
  /// or null to validate under the lock.
  Prepared prepare_locked(ObjectType& t, WriteOp op, WriteInput& in, BatchKeys* batch_keys, Checked* checked);
  void validate_locked(const ObjectType& t, WriteInput& in, Prepared& p) const;
  /// A create's required properties, in p.normalized.
  void require_locked(const ObjectType& t, const Prepared& p) const;
  void check_unique_locked(ObjectType& t, const Prepared& p, BatchKeys* batch_keys) const;
  void resolve_assocs_locked(const ObjectType& t, const WriteInput& in, Prepared& p) const;
  Record* create_locked(ObjectType& t, const WriteContext& ctx);
  ObjectView apply_locked(ObjectType& t, Prepared& p, const WriteContext& ctx);
  void record_change_locked(ObjectType& t, Record& r, const PropertyDef& d, const std::string& old,
                            const std::string& value, const WriteContext& ctx);
  void link_locked(const ObjectType& t, std::uint64_t rid, const std::vector<Prepared::Assoc>& assocs);
  ChangeEvent event_locked(const ObjectType& t, const std::string& kind, std::uint64_t id,
                           const WriteSource& src, std::int64_t now) const;

  std::int64_t portal_id_;
  std::int64_t index_lag_ms_;
  NowFn now_;
  bool merge_new_id_;
  std::function<bool()> events_wanted_;
  mutable std::shared_mutex mu_;
  /// Takes mu_ exclusively for a change of definitions, which makes every
  /// shared snapshot of definition() stale (before the change is made, so
  /// a snapshot taken after this generation was read shows it).
  std::unique_lock<std::shared_mutex> schema_lock();
  std::atomic<std::uint64_t> schema_generation_{0};
  struct SharedDefinition {
    std::uint64_t generation = 0;
    std::shared_ptr<const ObjectType> def;
  };
  mutable std::mutex definitions_mu_;  ///< guards definitions_ only; never held with mu_
  mutable std::map<std::string, SharedDefinition> definitions_;  ///< by the ref asked for
  std::map<std::string, ObjectType> types_;  ///< by object type id
  std::uint64_t next_id_ = 0;
  int next_custom_type_ = 1;
  int next_assoc_type_id_ = 0;
  /// (from type id, to type id) -> definitions
  std::map<std::pair<std::string, std::string>, std::vector<AssocTypeDef>> assoc_types_;
  /// (from type id, from id, to type id) -> to id -> type ids
  std::map<std::tuple<std::string, std::uint64_t, std::string>, std::map<std::uint64_t, std::set<int>>>
      links_;
};

}  // namespace hubsync::sim
