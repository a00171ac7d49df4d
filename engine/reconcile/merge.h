#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "engine/mapping/types.h"

namespace hubsync::reconcile {

/// What one field needs.
enum class Action {
  none,            ///< nothing to write and the base stays
  adopt,           ///< both sides already agree: only the base moves to their value
  write_hubspot,   ///< send the Postgres value to HubSpot
  write_postgres,  ///< write the HubSpot value to Postgres
};
const char* to_string(Action a);

/// One field as both sides and the base hold it. Values are in comparison
/// form (mapping::FieldMapping::compare_from_*: after the transforms, in
/// HubSpot's canonical text), so equal strings mean equal values; "" is no
/// value (HubSpot does not tell NULL from empty).
struct FieldState {
  /// The last value both sides agreed on; nullopt: they never agreed (a first
  /// link, or a field added to the mapping since).
  std::optional<std::string> base;
  /// Postgres's value; nullopt: not read (assumed unchanged since the base).
  std::optional<std::string> pg;
  /// HubSpot's value; nullopt: not read (assumed unchanged since the base).
  std::optional<std::string> hs;
  std::int64_t pg_changed_at_ms = 0;  ///< when Postgres changed it (the captured change); 0: unknown
  std::int64_t hs_changed_at_ms = 0;  ///< the property's own timestamp; 0: unknown
  /// The base as HubSpot stored it, when that differs from `base` (HubSpot
  /// normalised what was written): HubSpot's value is compared with this.
  /// nullopt: the same as `base`.
  std::optional<std::string> base_hs = std::nullopt;
  /// `resync --overwrite` asked: a one-way field's source wins wherever the
  /// sides differ, an empty value included; `base` is not consulted.
  bool source_wins = false;
};

/// The merge's answer for one field.
struct Decision {
  Action action = Action::none;
  /// Both sides changed since the base (or, with no base, both hold
  /// different values): `rule` decided, and the caller records it.
  bool conflict = false;
  mapping::ConflictPolicy rule = mapping::ConflictPolicy::newest;
  /// `newest` must compare the sides' times but HubSpot's is unknown: read
  /// the property's timestamp (propertiesWithHistory) and decide again.
  bool needs_hubspot_time = false;
  /// The value both sides hold once the action is done: the new base.
  std::string value;
};

/// The three-way merge of one field (docs/architecture.md, The merge). Pure.
///
/// - Both sides equal: nothing, or `adopt` when the base lags.
/// - One side changed since the base: that side's value goes to the other,
///   if the field's direction lets it; a cleared value is a change too.
/// - Both changed: a two-way field is a conflict decided by `policy`
///   (`newest` by the sides' change times: a known time beats an unknown
///   one, a tie goes to Postgres; HubSpot's time unknown asks for it
///   first, whatever Postgres's); a one-way field is not a conflict: its
///   source wins.
/// - No base (first link): a value present on one side only fills the other
///   (an empty value never clears one on a first link); different values on
///   both sides are a conflict as above.
/// - `source_wins` (a one-way field): the source's value goes to the other
///   side unless that side is known to hold it already (then `adopt`); an
///   empty one clears. Nothing when the source was not read.
/// The direction is never violated, whatever the policy: a decision never
/// writes a side the direction does not let it write (it becomes `none`).
Decision decide(const FieldState& field, mapping::Direction direction,
                mapping::ConflictPolicy policy);

/// A record deleted on one side while the other side kept it: whether
/// `field`, with only the kept side's value set (`pg` or `hs`, the other
/// nullopt) and a base, holds a change made since the base that the field's
/// direction would have carried across. Such an edit is discarded: the
/// deletion wins whatever the policy (hubsync never brings back what a side
/// deleted, so an erasure request made in either system stays done), and
/// the caller records it as a conflict. False without a base, or with both
/// sides or neither set. Pure.
bool edit_lost_to_deletion(const FieldState& field, mapping::Direction direction);

}  // namespace hubsync::reconcile
