#include "engine/service/health_board.h"

#include <algorithm>

namespace hubsync::service {

namespace {

constexpr std::int64_t kMinuteMs = 60'000;
constexpr int kMinutes = 60;

std::int64_t written_to_hubspot(const pipeline::PushStats& p, const pipeline::PullStats& q) {
  return p.created + p.updated + p.archived + q.hubspot_updates;
}

std::int64_t written_to_postgres(const pipeline::PushStats& p, const pipeline::PullStats& q) {
  return q.created + q.updated + q.deleted + p.deleted_in_postgres;
}

}  // namespace

void HealthBoard::record(std::int64_t now_ms, const ServiceStats& stats, const Snapshot& snap) {
  HealthView v;
  v.at_ms = now_ms;
  v.postgres_ok = stats.postgres_ok.load();
  v.hubspot_ok = stats.hubspot_ok.load();
  v.limiter = snap.limiter;
  v.hubspot_clock = snap.hubspot_clock;
  v.postgres_clock = snap.postgres_clock;
  const auto totals = stats.totals();
  auto add = [&](const std::string& mapping, const char* direction, const Backlog& b) {
    DirectionHealth d;
    d.mapping = mapping;
    d.direction = direction;
    d.backlog = b.pending;
    d.lag_seconds = b.lag_seconds;
    if (auto t = totals.find(mapping); t != totals.end())
      d.handled = std::string(direction) == "to_hubspot" ? written_to_hubspot(t->second.push, t->second.pull)
                                                         : written_to_postgres(t->second.push, t->second.pull);
    v.directions.push_back(std::move(d));
  };
  for (const auto& [m, b] : snap.to_hubspot) add(m, "to_hubspot", b);
  for (const auto& [m, b] : snap.to_postgres) add(m, "to_postgres", b);
  std::sort(v.directions.begin(), v.directions.end(), [](const auto& a, const auto& b) {
    return std::tie(a.mapping, a.direction) < std::tie(b.mapping, b.direction);
  });
  std::lock_guard lock(mu_);
  const std::int64_t minute = now_ms / kMinuteMs;
  for (const auto& d : v.directions) {
    auto& series = cumulative_[{d.mapping, d.direction}];
    series[minute] = d.handled;
    while (!series.empty() && series.begin()->first < minute - kMinutes) series.erase(series.begin());
  }
  latest_ = std::move(v);
}

HealthView HealthBoard::view(std::int64_t now_ms) const {
  std::lock_guard lock(mu_);
  HealthView v = latest_;
  const std::int64_t minute = now_ms / kMinuteMs;
  for (auto& d : v.directions) {
    d.per_minute.assign(kMinutes, 0);
    auto s = cumulative_.find({d.mapping, d.direction});
    if (s == cumulative_.end()) continue;
    // The cumulative count at the end of each minute, carried forward over
    // minutes with no publish; the service counted from 0 at its start.
    std::int64_t before = 0;
    for (const auto& [m, c] : s->second)
      if (m < minute - kMinutes + 1) before = c;
    for (int i = 0; i < kMinutes; ++i) {
      const std::int64_t m = minute - kMinutes + 1 + i;
      std::int64_t at = before;
      if (auto it = s->second.upper_bound(m); it != s->second.begin()) at = std::prev(it)->second;
      d.per_minute[static_cast<std::size_t>(i)] = std::max<std::int64_t>(0, at - before);
      before = std::max(before, at);
    }
  }
  return v;
}

}  // namespace hubsync::service
