#pragma once

#include <cstdint>
#include <optional>

#include <spdlog/logger.h>

#include "engine/pipeline/crm_port.h"
#include "engine/pipeline/database_port.h"
#include "engine/ratelimit/clock.h"
#include "engine/reconcile/merge.h"

namespace hubsync::pipeline {

/// The database server's clock against `clock` (the server's − ours): three
/// readings of server_clock_ms() bracketed by `clock`, intersected. Errors:
/// the database's, as server_clock_ms() gives them.
model::Result<model::ClockOffset> read_database_clock(DatabasePort& db, ratelimit::Clock& clock);

/// The three clocks a sync compares: this process's (`clock`), the
/// database server's, which stamps the captured changes, and HubSpot's,
/// which stamps property versions and modification times. Times from
/// different clocks are compared on ours: each system's time less the
/// correction its offset proves (model::ClockOffset::correction_ms, 0
/// while the clocks may agree). HubSpot's offset comes from the CrmPort's
/// answers; the database's is read once per instance, on first need. Not
/// thread-safe (one per push or pull run).
class ClockFrames {
 public:
  ClockFrames(DatabasePort& db, const CrmPort& crm, ratelimit::Clock& clock, spdlog::logger& log)
      : db_(db), crm_(crm), clock_(clock), log_(log) {}

  /// Puts both change times of a field on our clock when both are known,
  /// the only case the merge compares them (the database's clock is read
  /// then, once).
  void align(reconcile::FieldState& fs);
  /// A time the database stamped, on our clock; 0 (unknown) stays 0.
  std::int64_t from_postgres(std::int64_t t);
  /// A time HubSpot stamped, on our clock; 0 (unknown) stays 0.
  std::int64_t from_hubspot(std::int64_t t) const { return t == 0 ? 0 : t - hubspot_correction(); }
  /// A time of our clock, on HubSpot's.
  std::int64_t to_hubspot(std::int64_t t) const { return t + hubspot_correction(); }

 private:
  std::int64_t hubspot_correction() const;
  DatabasePort& db_;
  const CrmPort& crm_;
  ratelimit::Clock& clock_;
  spdlog::logger& log_;
  std::optional<std::int64_t> pg_correction_;
};

/// HubSpot's clock as this process estimates it: `base`'s wall time plus
/// the correction CrmPort::clock_offset() proves (0 while the clocks may
/// agree, and before HubSpot first answered). For windows on times HubSpot
/// stamps as it sends (the signed timestamps of webhook and workflow
/// action requests): a host whose clock is off by more than the window
/// then refuses none of them, and the window is no wider. Monotonic time
/// and sleeps are `base`'s. Thread-safe (CrmPort::clock_offset is).
class HubSpotClock final : public ratelimit::Clock {
 public:
  HubSpotClock(const CrmPort& crm, ratelimit::Clock& base) : crm_(crm), base_(base) {}
  Duration monotonic() const override { return base_.monotonic(); }
  std::int64_t wall_ms() const override;
  void sleep_for(Duration d) override { base_.sleep_for(d); }

 private:
  const CrmPort& crm_;
  ratelimit::Clock& base_;
};

}  // namespace hubsync::pipeline
