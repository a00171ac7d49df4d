#pragma once

// What the database holds of hubsync's change capture, and how it differs
// from what the mappings need: shared by `hubsync migrate` (which replaces
// what differs) and the capture check of `hubsync run`.

#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include <pqxx/transaction_base>

#include "connectors/postgres/capture_sql.h"
#include "connectors/postgres/migrator.h"

namespace hubsync::postgres {

/// A capture as hubsync.captures records it (any generator version).
struct InstalledCapture {
  std::string schema, table;
  std::vector<std::string> key_columns, key_types, watched_columns;
  bool watch_all = false;
  int generator_version = 1;
  bool notify = true;  ///< captures before migration 0004 always notified
  bool logical = false;  ///< method 'logical' (migration 0005)
};

/// A trigger on a user table whose function lives in schema hubsync.
struct LiveTrigger {
  std::string function;  ///< the function's name (capture, capture_<mapping>)
  char fires = 'A';      ///< pg_trigger.tgenabled: 'A' always, 'O' origin sessions only, 'R' replica only, 'D' never
};

struct CaptureState {
  std::map<std::string, InstalledCapture> installed;  ///< by mapping
  std::map<std::string, LiveTrigger> triggers;        ///< by "schema.table.trigger"
  bool generic_function = false;  ///< hubsync.capture() of capture v1 still exists
  std::set<std::string> published;  ///< "schema.table" of each table in publication hubsync
  std::optional<std::string> slot;   ///< the slot hubsync.capture_relay records
  bool slot_exists = false;          ///< ... and the server still has it
};

/// A mapping whose capture cannot be designed (message names the mapping).
struct CaptureError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// Resolves a spec against the catalog: key and watched columns with their
/// types; with watch_all (or no watched columns) every column of the table.
/// Throws CaptureError naming the mapping when the table or a column
/// does not exist, or a key column's type cannot be a key; for a logical
/// capture also when the table's replica identity does not hold the key
/// (capture_logical.h).
CaptureDesign design_capture(pqxx::transaction_base& tx, const CaptureSpec& spec);

/// Reads hubsync.captures and the triggers that call hubsync's functions;
/// empty when schema hubsync or its captures table does not exist.
CaptureState read_capture_state(pqxx::transaction_base& tx);

/// Where the installed capture's table, key columns or key types differ from `d`'s.
std::vector<std::string> table_and_key_differences(const CaptureDesign& d, const InstalledCapture& in);

/// Why the installed capture of `d.mapping` is not the one `d` describes,
/// one short reason each ("trigger ... is disabled"); empty when it is.
std::vector<std::string> capture_differences(const CaptureDesign& d, const CaptureState& state);

}  // namespace hubsync::postgres
