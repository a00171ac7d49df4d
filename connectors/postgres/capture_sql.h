#pragma once

// The SQL of the change capture `hubsync migrate` generates per mapping: a
// function hubsync."capture_<mapping>"() and three triggers that call it.
// Pure text generation; capture_catalog.h resolves what it needs from the
// database.

#include <string>
#include <vector>

namespace hubsync::postgres {

/// The version of the generated capture, recorded in hubsync.captures. 1 is
/// the generic hubsync.capture() of migration 0001. Bump it whenever the
/// generated SQL changes: `hubsync run` then asks for `hubsync migrate`.
/// v4: the capture also pg_notify()s channel hubsync_changes with the mapping.
/// v5: only when asked (CaptureDesign::notify, recorded in hubsync.captures).
/// v6: no `SET search_path` on the function; its body qualifies every name.
/// v7: a key change records the new key on its delete (changelog.moved_to).
/// v8: the triggers are ENABLE ALWAYS: writes made under
///     session_replication_role = replica (logical replication) are captured.
constexpr int kCaptureGeneratorVersion = 8;

/// A column as the generated capture reads it.
struct CaptureColumn {
  std::string name;
  std::string typname;      ///< pg_type.typname: int8, numeric, timestamptz, _text, ...
  bool builtin_eq = false;  ///< a pg_catalog type with its own `=`: compared directly
  friend bool operator==(const CaptureColumn&, const CaptureColumn&) = default;
};

/// A capture resolved against the catalog: everything the generated SQL
/// depends on.
struct CaptureDesign {
  std::string mapping, schema, table;
  std::vector<CaptureColumn> keys;     ///< in key order
  std::vector<CaptureColumn> watched;  ///< an UPDATE changing none of these (nor a key) is not recorded
  bool watch_all = false;              ///< `watched` is every column of the table (the mapping has a filter)
  bool notify = false;                 ///< the function also pg_notify()s hubsync_changes at commit
  bool logical = false;                ///< captured by logical decoding (capture_logical.h): no trigger
};

/// The trigger names hubsync uses for a mapping: a prefix, "hubsync_capture_<mapping>".
std::string trigger_prefix(const std::string& mapping);
/// The suffixes appended to trigger_prefix(): "_iud" (AFTER INSERT OR
/// DELETE), "_upd" (AFTER UPDATE ... WHEN), "_trunc" (AFTER TRUNCATE).
const std::vector<std::string>& trigger_suffixes();
/// The longest mapping name whose trigger names fit Postgres' 63 bytes.
std::size_t max_capture_mapping_name();
/// hubsync."capture_<mapping>", quoted, without the parentheses.
std::string capture_function(const std::string& mapping);

/// The statements that install a capture, in order, for one transaction:
/// pins the transaction's search_path to pg_catalog (so the WHEN clauses
/// bind pg_catalog's operators), creates the SECURITY DEFINER function
/// (revoked from PUBLIC; every name in it schema-qualified, since it runs
/// under the writer's search_path) and its three triggers, enabled ALWAYS
/// (they fire under session_replication_role = replica too). Expects no function or
/// trigger of these names (see drop_capture_sql).
std::vector<std::string> install_capture_sql(const CaptureDesign& d);

/// Drops a mapping's triggers on schema.table, each IF EXISTS: those of
/// capture v2 and the single trigger (named like the prefix) of v1; with
/// `function`, then its function.
std::vector<std::string> drop_capture_sql(const std::string& mapping, const std::string& schema,
                                          const std::string& table, bool function);

}  // namespace hubsync::postgres
