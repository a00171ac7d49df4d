#include "engine/service/service_metrics.h"

#include <algorithm>

namespace hubsync::service {

namespace {

using Labels = std::vector<std::string>;

std::string key_of(const std::string& name, const Labels& labels) {
  std::string k = name;
  for (const auto& l : labels) k += '\x1f' + l;
  return k;
}

}  // namespace

ServiceMetrics::ServiceMetrics(ops::Registry& registry) : r_(registry) {}

void ServiceMetrics::advance(ops::Counter& c, std::int64_t now_value, std::int64_t& last) {
  if (now_value > last) c.inc(static_cast<std::uint64_t>(now_value - last));
  last = std::max(last, now_value);
}

void ServiceMetrics::count(const std::string& name, const std::string& help, const std::vector<std::string>& label_names,
                           const Labels& labels, std::int64_t value) {
  advance(r_.counter(name, help, label_names).with(labels), value, last_[key_of(name, labels)]);
}

void ServiceMetrics::publish(const ServiceStats& s, const Snapshot& snap) {
  publish_service(s);
  publish_records(s);
  publish_api(snap.api);
  publish_budget(snap.limiter);
  publish_backlog(snap);
  auto gauge = [&](const std::string& name, const std::string& help) -> ops::Gauge& {
    return r_.gauge(name, help, {}).get();
  };
  gauge("hubsync_up_postgres", "1 while Postgres answers").set(s.postgres_ok ? 1 : 0);
  gauge("hubsync_up_hubspot", "1 while HubSpot answers").set(s.hubspot_ok ? 1 : 0);
  gauge("hubsync_last_success_timestamp_seconds", "Wall time of the last step that succeeded")
      .set(static_cast<double>(s.last_ok_ms.load()) / 1000.0);
}

void ServiceMetrics::publish_service(const ServiceStats& s) {
  auto counter = [&](const std::string& name, const std::string& help, std::int64_t value) {
    count(name, help, {}, {}, value);
  };
  counter("hubsync_inbox_events_processed_total", "Webhook events reconciled from the inbox", s.events_processed);
  counter("hubsync_inbox_events_dropped_total", "Webhook events of object types no mapping pulls", s.events_dropped);
  counter("hubsync_pulled_objects_total", "Objects reconciled from webhook events", s.objects_pulled);
  counter("hubsync_push_passes_total", "Push passes run", s.pushes);
  counter("hubsync_pushed_records_total", "Records written to HubSpot by pushes", s.rows_pushed);
  counter("hubsync_sweeps_total", "Safety-net sweeps completed", s.sweeps);
  counter("hubsync_reconcile_passes_total", "Delayed reconciliation passes run", s.reconciles);
  counter("hubsync_step_failures_total", "Service steps that failed and will be retried", s.failures);
}

// Per mapping: changes captured, and every record's outcome per direction
// (pushed, pulled, skipped as unchanged, ...); conflicts decided by a rule.
void ServiceMetrics::publish_records(const ServiceStats& s) {
  const std::vector<std::string> names = {"mapping", "direction", "outcome"};
  const std::string help = "Records handled, per mapping, direction and outcome";
  for (const auto& [m, t] : s.totals()) {
    const auto& p = t.push;
    const std::pair<const char*, std::int64_t> to_hubspot[] = {
        {"created", p.created},   {"updated", p.updated},         {"unchanged", p.unchanged},
        {"archived", p.archived}, {"filtered", p.filtered},       {"dead_lettered", p.dead_lettered},
        {"deferred", p.deferred}, {"written_back", t.pull.hubspot_updates}, {"held", p.held}};
    for (const auto& [outcome, n] : to_hubspot) count("hubsync_records_total", help, names, {m, "to_hubspot", outcome}, n);
    const auto& q = t.pull;
    const std::pair<const char*, std::int64_t> to_postgres[] = {
        {"created", q.created},   {"updated", q.updated},   {"linked", q.linked},
        {"deleted", q.deleted + p.deleted_in_postgres},     {"unchanged", q.unchanged},
        {"filtered", q.filtered}, {"dead_lettered", q.dead_lettered}, {"deferred", q.deferred},
        {"held", q.held}};
    for (const auto& [outcome, n] : to_postgres) count("hubsync_records_total", help, names, {m, "to_postgres", outcome}, n);
    count("hubsync_changes_captured_total", "Captured Postgres changes taken from the changelog, per mapping",
          {"mapping"}, {m}, p.captured);
    count("hubsync_objects_read_total", "HubSpot objects read by pulls, per mapping", {"mapping"}, {m}, q.read);
    count("hubsync_conflicts_total", "Fields both sides changed, decided by the field's rule, per mapping",
          {"mapping"}, {m}, q.conflicts + p.conflicts);
  }
}

// HubSpot calls: totals, then every exchange by route and status (routes
// carry no record id) and the batch calls among them.
void ServiceMetrics::publish_api(const ApiCounts& a) {
  count("hubsync_api_requests_total", "HubSpot API calls", {}, {}, a.requests);
  count("hubsync_api_rate_limited_total", "HubSpot 429 answers", {}, {}, a.responses_429);
  count("hubsync_api_retries_total", "HubSpot calls retried (429, 5xx, 423, transport, auth)", {}, {}, a.retries);
  count("hubsync_api_failures_total", "HubSpot calls that ended in an error", {}, {}, a.failures);
  std::int64_t batches = 0;
  for (const auto& [k, n] : a.exchanges) {
    const auto& [method, route, status] = k;
    count("hubsync_api_exchanges_total", "HTTP exchanges with HubSpot, by method, route and status",
          {"method", "route", "status"}, {method, route, status}, n);
    if (route.find("/batch/") != std::string::npos && status.size() == 3 && status[0] == '2') batches += n;
  }
  count("hubsync_api_batch_calls_total", "Batch calls HubSpot accepted (read, create, update, archive, associations)",
        {}, {}, batches);
}

void ServiceMetrics::publish_budget(const ratelimit::LimiterStats& l) {
  auto gauge = [&](const std::string& name, const std::string& help) -> ops::Gauge& {
    return r_.gauge(name, help, {}).get();
  };
  gauge("hubsync_rate_budget_burst_remaining", "Requests left in the rolling burst window")
      .set(static_cast<double>(std::max(0, l.burst_limit - l.burst_used)));
  gauge("hubsync_rate_budget_burst_limit", "Effective burst limit (after headroom)").set(l.burst_limit);
  gauge("hubsync_rate_budget_search_remaining", "Search requests left in the current second")
      .set(static_cast<double>(std::max(0, l.search_limit - l.search_used)));
  gauge("hubsync_rate_budget_search_limit", "Search requests per second allowed").set(l.search_limit);
  gauge("hubsync_rate_budget_daily_remaining", "Requests left today (-1: limit unknown)")
      .set(l.daily_limit > 0 ? static_cast<double>(l.daily_limit - l.daily_used) : -1.0);
}

void ServiceMetrics::publish_backlog(const Snapshot& snap) {
  r_.gauge("hubsync_inbox_pending_events", "Webhook events stored and not yet reconciled", {})
      .get()
      .set(static_cast<double>(snap.inbox_pending));
  auto& backlog = r_.gauge("hubsync_backlog_changes",
                           "Changes not yet synced, per mapping and direction (to_hubspot: captured rows; "
                           "to_postgres: webhook events)",
                           {"mapping", "direction"});
  auto& lag = r_.gauge("hubsync_lag_seconds", "Age of the oldest unsynced change, per mapping and direction",
                       {"mapping", "direction"});
  for (const auto& [dir, by_mapping] : {std::pair{"to_hubspot", &snap.to_hubspot}, std::pair{"to_postgres", &snap.to_postgres}}) {
    for (const auto& [m, b] : *by_mapping) {
      backlog.with({m, dir}).set(static_cast<double>(b.pending));
      lag.with({m, dir}).set(b.lag_seconds);
    }
  }
  if (snap.capture_retained_wal)
    r_.gauge("hubsync_capture_slot_retained_wal_bytes",
             "WAL the replication slot of postgres.capture logical holds back on the server (-1: the slot is gone)", {})
        .get()
        .set(static_cast<double>(*snap.capture_retained_wal));
  auto& offset = r_.gauge("hubsync_clock_offset_seconds",
                          "How far a system's clock is from this host's (its - ours), as hubsync measured it",
                          {"system"});
  auto& bound = r_.gauge("hubsync_clock_offset_bound_seconds",
                         "How far the measured clock offset can be off (half its bounds' width)", {"system"});
  for (const auto& [system, o] :
       {std::pair{"hubspot", &snap.hubspot_clock}, std::pair{"postgres", &snap.postgres_clock}}) {
    if (!*o) continue;
    offset.with({system}).set(static_cast<double>((*o)->estimate_ms()) / 1000.0);
    bound.with({system}).set(static_cast<double>((*o)->high_ms - (*o)->low_ms) / 2000.0);
  }
  auto& dead = r_.gauge("hubsync_dead_letters", "Pending dead letters, per mapping", {"mapping"});
  for (const auto& [m, n] : snap.dead_letters) dead.with({m}).set(static_cast<double>(n));
}

}  // namespace hubsync::service
