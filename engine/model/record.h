#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "engine/model/value.h"

namespace hubsync::model {

/// The primary key of a Postgres row, one text value per key column in the
/// mapping's key order. `encoded()` is its stable text form, used as the
/// state store's pg_key: the value itself for a single column, a JSON array
/// of strings for a composite key.
struct RecordKey {
  std::vector<std::string> parts;

  std::string encoded() const;
  static std::optional<RecordKey> decode(const std::string& encoded, std::size_t n_parts);
  friend bool operator==(const RecordKey&, const RecordKey&) = default;
  friend auto operator<=>(const RecordKey&, const RecordKey&) = default;
};

/// A set of named field values (columns on the Postgres side, properties on
/// the HubSpot side), ordered by name for deterministic output.
using Fields = std::map<std::string, Value>;

/// One row or object as read from a side.
struct Record {
  RecordKey key;             ///< Postgres key; empty for a HubSpot object
  std::string hubspot_id;    ///< HubSpot object id; empty for a Postgres row
  Fields fields;
  std::int64_t changed_at_ms = 0;  ///< the side's last-modified time, 0 if unknown
};

/// truncate: the whole table was emptied (TRUNCATE); its key is empty and
/// every row linked in HubSpot must be checked again.
enum class ChangeOp { insert, update, del, truncate };

const char* to_string(ChangeOp op);

/// One captured Postgres change (a hubsync.changelog row).
struct Change {
  std::int64_t id = 0;
  std::string mapping;
  std::string table;           ///< schema-qualified, unquoted: schema.table
  RecordKey key;                ///< empty for truncate
  ChangeOp op = ChangeOp::update;
  std::vector<std::string> changed_columns;  ///< empty for insert/delete
  std::int64_t txid = 0;
  std::int64_t committed_at_ms = 0;
  int attempts = 0;  ///< how many times it has been claimed (this claim included)
  /// A delete that is half of a key change (an UPDATE of a key column): the
  /// row's new key, whose insert follows. nullopt on every other change.
  std::optional<RecordKey> moved_to;
  /// Captured under other key columns than the mapping's (its key changed
  /// since, with edits in between): `key` names no row.
  bool other_key = false;
};

/// Quotes a string as a JSON string literal (used for encoded keys and logs).
std::string json_quote(const std::string& s);

}  // namespace hubsync::model
