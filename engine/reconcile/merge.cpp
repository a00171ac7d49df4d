#include "engine/reconcile/merge.h"

namespace hubsync::reconcile {

using mapping::ConflictPolicy;
using mapping::Direction;

const char* to_string(Action a) {
  switch (a) {
    case Action::none: return "none";
    case Action::adopt: return "adopt";
    case Action::write_hubspot: return "write_hubspot";
    case Action::write_postgres: return "write_postgres";
  }
  return "unknown";
}

namespace {

Decision to_hubspot(const std::string& value) { return {Action::write_hubspot, false, {}, false, value}; }
Decision to_postgres(const std::string& value) { return {Action::write_postgres, false, {}, false, value}; }

// Drops a write the field's direction forbids.
Decision allowed(Decision d, Direction direction) {
  if (d.action == Action::write_hubspot && !mapping::writes_hubspot(direction)) d.action = Action::none;
  if (d.action == Action::write_postgres && !mapping::writes_postgres(direction)) d.action = Action::none;
  return d;
}

// Both sides changed (or hold different values with no base).
Decision both_changed(const FieldState& f, Direction direction, ConflictPolicy policy) {
  // A one-way field has one source: it wins without a conflict.
  if (direction == Direction::to_hubspot) return to_hubspot(*f.pg);
  if (direction == Direction::to_postgres) return to_postgres(*f.hs);
  Decision d;
  switch (policy) {
    case ConflictPolicy::postgres: d = to_hubspot(*f.pg); break;
    case ConflictPolicy::hubspot: d = to_postgres(*f.hs); break;
    case ConflictPolicy::newest:
      if (f.hs_changed_at_ms == 0) {
        // Read the property's history, then decide again: with Postgres's
        // time unknown too (a row never changed since capture began), a
        // HubSpot time that is known still wins, as documented.
        d.needs_hubspot_time = true;
      } else if (f.pg_changed_at_ms == 0 && f.hs_changed_at_ms != 0) {
        d = to_postgres(*f.hs);  // a known time beats an unknown one
      } else {
        d = f.pg_changed_at_ms >= f.hs_changed_at_ms ? to_hubspot(*f.pg) : to_postgres(*f.hs);
      }
      break;
  }
  d.conflict = true;
  d.rule = policy;
  return d;
}

// HubSpot's form of the base.
const std::optional<std::string>& base_hs(const FieldState& f) {
  return f.base_hs ? f.base_hs : f.base;
}

// Only one side was read: the other is taken as unchanged since the base.
Decision one_side_known(const FieldState& f, Direction direction) {
  if (f.pg) {
    if (f.base ? *f.pg == *f.base : f.pg->empty()) return {};
    return allowed(to_hubspot(*f.pg), direction);
  }
  const auto& bh = base_hs(f);
  if (bh ? *f.hs == *bh : f.hs->empty()) return {};
  return allowed(to_postgres(*f.hs), direction);
}

// resync --overwrite of a one-way field: its source's value, empty or not.
Decision overwrite(const FieldState& f, Direction direction) {
  const bool to_hs = direction == Direction::to_hubspot;
  const auto& source = to_hs ? f.pg : f.hs;
  const auto& target = to_hs ? f.hs : f.pg;
  if (!source) return {};
  if (target && *target == *source) return {Action::adopt, false, {}, false, *source};
  return to_hs ? to_hubspot(*source) : to_postgres(*source);
}

}  // namespace

Decision decide(const FieldState& f, Direction direction, ConflictPolicy policy) {
  if (!f.pg && !f.hs) return {};
  if (f.source_wins && direction != Direction::both) return overwrite(f, direction);
  if (!f.pg || !f.hs) return one_side_known(f, direction);
  const std::string& pg = *f.pg;
  const std::string& hs = *f.hs;
  if (f.base) {
    // Each side's change is seen against its own form of the base.
    const bool pg_changed = pg != *f.base, hs_changed = hs != *base_hs(f);
    if (!pg_changed && !hs_changed) return {};
    if (pg == hs) return {Action::adopt, false, {}, false, pg};
    if (!pg_changed) return allowed(to_postgres(hs), direction);
    if (!hs_changed) return allowed(to_hubspot(pg), direction);
  } else {
    if (pg == hs) return {Action::adopt, false, {}, false, pg};
    // First link: a value on one side only fills the other, never clears it.
    if (pg.empty()) return allowed(to_postgres(hs), direction);
    if (hs.empty()) return allowed(to_hubspot(pg), direction);
  }
  return allowed(both_changed(f, direction, policy), direction);
}

bool edit_lost_to_deletion(const FieldState& f, Direction direction) {
  if (!f.base || f.pg.has_value() == f.hs.has_value()) return false;
  const Action carried = f.pg ? Action::write_hubspot : Action::write_postgres;
  return one_side_known(f, direction).action == carried;
}

}  // namespace hubsync::reconcile
