#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace hubsync::pipeline {

/// When a row's pending (captured, not yet completed) changes were made, by
/// column, in ms since the epoch. `conflict: newest` compares a field's
/// time with HubSpot's property time, so a later change of another column
/// must not lend its time to a field it did not touch.
struct ChangeTimes {
  std::int64_t newest = 0;  ///< the row's newest change; 0: none
  /// The newest change that named no columns (an insert, a delete, an
  /// update whose capture did not say which): it counts for every column.
  std::int64_t every_column = 0;
  std::map<std::string, std::int64_t> columns;  ///< column -> newest change naming it

  /// Adds one change made at `at_ms` to the `changed` columns (empty: the
  /// capture did not say, so every column).
  void add(std::int64_t at_ms, const std::vector<std::string>& changed);

  /// The newest change of any of `cols` (a field's columns), a change naming
  /// no columns included; 0 (unknown) when no pending change touched them.
  /// Not the row's newest: a field whose value differs from the base with no
  /// pending change of its columns changed in a change already completed
  /// (e.g. a push that left it to the pull, HubSpot having changed it too),
  /// so its time is unknown, and `newest` lets a known HubSpot time beat it
  /// rather than let a later edit of another column make it look new.
  std::int64_t of(const std::vector<std::string>& cols) const;
};

}  // namespace hubsync::pipeline
