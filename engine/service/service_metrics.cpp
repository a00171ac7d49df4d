#include "engine/service/service_metrics.h"

namespace hubsync::service {

ServiceMetrics::ServiceMetrics(ops::Registry& registry) : r_(registry) {}

void ServiceMetrics::advance(ops::Counter& c, std::int64_t now_value, std::int64_t& last) {
  if (now_value > last) c.inc(static_cast<std::uint64_t>(now_value - last));
  last = std::max(last, now_value);
}

void ServiceMetrics::publish(const ServiceStats& s, const Snapshot& snap) {
  auto counter = [&](const std::string& name, const std::string& help, std::int64_t value) {
    advance(r_.counter(name, help, {}).get(), value, last_[name]);
  };
  counter("hubsync_inbox_events_processed_total", "Webhook events reconciled from the inbox", s.events_processed);
  counter("hubsync_inbox_events_dropped_total", "Webhook events of object types no mapping pulls", s.events_dropped);
  counter("hubsync_pulled_objects_total", "Objects reconciled from webhook events", s.objects_pulled);
  counter("hubsync_push_passes_total", "Push passes run", s.pushes);
  counter("hubsync_pushed_records_total", "Records written to HubSpot by pushes", s.rows_pushed);
  counter("hubsync_sweeps_total", "Safety-net sweeps completed", s.sweeps);
  counter("hubsync_reconcile_passes_total", "Delayed reconciliation passes run", s.reconciles);
  counter("hubsync_step_failures_total", "Service steps that failed and will be retried", s.failures);
  counter("hubsync_api_requests_total", "HubSpot API calls", snap.api.requests);
  counter("hubsync_api_rate_limited_total", "HubSpot 429 answers", snap.api.responses_429);
  counter("hubsync_api_retries_total", "HubSpot calls retried (429, 5xx, 423, transport, auth)", snap.api.retries);
  counter("hubsync_api_failures_total", "HubSpot calls that ended in an error", snap.api.failures);

  auto gauge = [&](const std::string& name, const std::string& help) -> ops::Gauge& {
    return r_.gauge(name, help, {}).get();
  };
  gauge("hubsync_inbox_pending_events", "Webhook events stored and not yet reconciled").set(static_cast<double>(snap.inbox_pending));
  gauge("hubsync_up_postgres", "1 while Postgres answers").set(s.postgres_ok ? 1 : 0);
  gauge("hubsync_up_hubspot", "1 while HubSpot answers").set(s.hubspot_ok ? 1 : 0);
  gauge("hubsync_last_success_timestamp_seconds", "Wall time of the last step that succeeded")
      .set(static_cast<double>(s.last_ok_ms.load()) / 1000.0);
  const auto& l = snap.limiter;
  gauge("hubsync_rate_budget_burst_remaining", "Requests left in the rolling burst window")
      .set(static_cast<double>(std::max(0, l.burst_limit - l.burst_used)));
  gauge("hubsync_rate_budget_burst_limit", "Effective burst limit (after headroom)").set(l.burst_limit);
  gauge("hubsync_rate_budget_search_limit", "Search requests per second allowed").set(l.search_limit);
  gauge("hubsync_rate_budget_daily_remaining", "Requests left today (-1: limit unknown)")
      .set(l.daily_limit > 0 ? static_cast<double>(l.daily_limit - l.daily_used) : -1.0);

  auto& backlog = r_.gauge("hubsync_backlog_changes", "Captured changes not yet pushed, per mapping", {"mapping", "direction"});
  for (const auto& [m, n] : snap.backlog) backlog.with({m, "to_hubspot"}).set(static_cast<double>(n));
  auto& lag = r_.gauge("hubsync_lag_seconds", "Age of the oldest unsynced change, per mapping", {"mapping", "direction"});
  for (const auto& [m, secs] : snap.lag_seconds) lag.with({m, "to_hubspot"}).set(secs);
  auto& dead = r_.gauge("hubsync_dead_letters", "Pending dead letters, per mapping", {"mapping"});
  for (const auto& [m, n] : snap.dead_letters) dead.with({m}).set(static_cast<double>(n));
}

}  // namespace hubsync::service
