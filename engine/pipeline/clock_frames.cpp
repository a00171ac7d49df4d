#include "engine/pipeline/clock_frames.h"

#include <atomic>

#include "engine/model/clock_offset.h"

namespace hubsync::pipeline {

namespace {

// The last correction told, process-wide: each change of a second or more is logged once.
std::atomic<std::int64_t> g_told_pg_correction{0};

}  // namespace

model::Result<model::ClockOffset> read_database_clock(DatabasePort& db, ratelimit::Clock& clock) {
  model::ClockOffsetEstimate e;
  for (int i = 0; i < 3; ++i) {
    const std::int64_t sent = clock.wall_ms();
    auto at = db.server_clock_ms();
    if (!at.ok()) return std::move(at).error();
    e.add(model::ClockReading{sent, clock.wall_ms(), *at, 1});
  }
  if (auto offset = e.current()) return *offset;
  return model::make_error(model::ErrorKind::transient, "this host's clock went back while the database's was read");
}

std::int64_t ClockFrames::hubspot_correction() const {
  const auto o = crm_.clock_offset();
  return o ? o->correction_ms() : 0;
}

std::int64_t HubSpotClock::wall_ms() const {
  const auto o = crm_.clock_offset();
  return base_.wall_ms() + (o ? o->correction_ms() : 0);
}

void ClockFrames::align(reconcile::FieldState& fs) {
  if (fs.pg_changed_at_ms == 0 || fs.hs_changed_at_ms == 0) return;
  fs.pg_changed_at_ms = from_postgres(fs.pg_changed_at_ms);
  fs.hs_changed_at_ms = from_hubspot(fs.hs_changed_at_ms);
}

std::int64_t ClockFrames::from_postgres(std::int64_t t) {
  if (t == 0) return 0;
  if (!pg_correction_) {
    const auto o = read_database_clock(db_, clock_);
    if (!o.ok())
      log_.warn("could not read the database's clock, its times are compared as stamped: {}", o.error().message);
    pg_correction_ = o.ok() ? o->correction_ms() : 0;
    if (model::newly_told(g_told_pg_correction, *pg_correction_))
      log_.warn("postgres clock differs from this host's: postgres_minus_local_ms={} (conflict: newest compares "
                "the captured changes' times less this; keep both clocks on NTP)",
                *pg_correction_);
  }
  return t - *pg_correction_;
}

}  // namespace hubsync::pipeline
