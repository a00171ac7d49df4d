#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hubsync::mapping {

/// Which side a mapping or field may write. `to_hubspot` fields are never
/// written to Postgres, `to_postgres` fields never to HubSpot.
enum class Direction { both, to_hubspot, to_postgres };

/// Who wins a field when both sides changed since the last sync.
enum class ConflictPolicy { postgres, hubspot, newest };

/// What a deletion on one side does to the other.
enum class DeletePolicy { archive, ignore, soft };

/// How many records a mapping may delete on either side within an hour
/// before hubsync holds the rest for an operator (mapping `max_deletes`).
struct DeleteLimit {
  enum class Kind { off, count, percent };
  Kind kind = Kind::percent;
  std::int64_t value = 10;  ///< the count, or the percentage of linked records
  /// A percentage limit never holds this many or fewer, nor half the linked
  /// records or fewer when that is less: a small table's ordinary deletes
  /// pass, and emptying it is held all the same.
  static constexpr std::int64_t kPercentFloor = 100;
  /// The limit for a mapping with `linked` linked records (INT64_MAX: off).
  std::int64_t of(std::int64_t linked) const;
  /// "100", "10%" or "off", as written in a mapping.
  std::string to_string() const;
};
/// Parses "off", a count ("100") or a percentage ("10%", 1..100).
std::optional<DeleteLimit> parse_delete_limit(std::string_view s);

/// The declared type of a field's Postgres-side value.
enum class FieldType { text, integer, decimal, boolean, date, datetime, enumeration, multi_select, json };

/// A position in a mapping file, 1-based; line 0 when unknown.
struct SourceMark {
  std::string file;
  int line = 0;
  int column = 0;
  /// "file:line:col" (or just "file" when the position is unknown).
  std::string to_string() const;
};

enum class Severity {
  error,        ///< the mapping is invalid
  warning,      ///< valid, but probably not what the operator meant
  info,         ///< e.g. "remote checks skipped (--offline)"
  unavailable,  ///< a check could not run (catalog unreachable): exit code 2
};

/// One validation result, printed as `file:line:col: severity: message`.
struct Finding {
  Severity severity = Severity::error;
  SourceMark mark;
  std::string message;
  std::string to_string() const;
};

using Findings = std::vector<Finding>;

bool has_errors(const Findings& findings);
/// The `hubsync validate` exit code: 1 if any error, else 2 if any check was
/// unavailable, else 0.
int exit_code(const Findings& findings);

const char* to_string(Direction d);
const char* to_string(ConflictPolicy c);
const char* to_string(DeletePolicy d);
const char* to_string(FieldType t);
const char* to_string(Severity s);

std::optional<Direction> parse_direction(std::string_view s);
std::optional<ConflictPolicy> parse_conflict(std::string_view s);
std::optional<FieldType> parse_field_type(std::string_view s);

/// Names accepted by the parse_* functions above, for did-you-mean hints.
const std::vector<std::string>& direction_names();
const std::vector<std::string>& conflict_names();
const std::vector<std::string>& field_type_names();

/// True if `d` lets data flow to HubSpot (to_hubspot or both).
inline bool writes_hubspot(Direction d) { return d != Direction::to_postgres; }
/// True if `d` lets data flow to Postgres (to_postgres or both).
inline bool writes_postgres(Direction d) { return d != Direction::to_hubspot; }

}  // namespace hubsync::mapping
