#include "engine/service/service.h"

#include <algorithm>
#include <thread>

namespace hubsync::service {

void ServiceStats::add(const std::string& mapping, const pipeline::PushStats& s) {
  std::lock_guard lock(totals_mu_);
  totals_[mapping].push += s;
}

void ServiceStats::add(const std::string& mapping, const pipeline::PullStats& s) {
  std::lock_guard lock(totals_mu_);
  totals_[mapping].pull += s;
}

std::map<std::string, MappingTotals> ServiceStats::totals() const {
  std::lock_guard lock(totals_mu_);
  return totals_;
}

using Duration = ratelimit::Clock::Duration;

Service::Service(const std::vector<mapping::Mapping>& mappings, pipeline::DatabasePort& db,
                 pipeline::CrmPort& crm, state::StateStore& store, ratelimit::Clock& clock,
                 ChangeNotifier& notifier, std::shared_ptr<spdlog::logger> log, ServiceOptions options)
    : mappings_(mappings),
      order_(pipeline::push_order(mappings)),
      db_(db),
      crm_(crm),
      store_(store),
      clock_(clock),
      notifier_(notifier),
      log_(std::move(log)),
      opt_(std::move(options)),
      stats_(opt_.stats ? *opt_.stats : own_stats_) {
  for (const auto& m : mappings_) by_name_[m.name] = &m;
}

Service::~Service() { stop(); }

void Service::stop() {
  stop_ = true;
  cv_.notify_all();
}

void Service::wake() {
  {
    std::lock_guard lock(mu_);
    woken_ = true;
  }
  cv_.notify_all();
}

void Service::push_soon(const std::string& mapping) {
  {
    std::lock_guard lock(mu_);
    notified_.insert(mapping);
    news_ = true;
  }
  cv_.notify_all();
}

void Service::listen_loop() {
  while (!stopping()) {
    auto w = notifier_.wait(milliseconds(1000));
    if (!w.ok()) {
      stats_.postgres_ok = false;
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, std::chrono::milliseconds(1000), [&] { return stopping(); });
      continue;
    }
    stats_.postgres_ok = true;  // the listener reconnects every second: a probe of Postgres
    if (w->mappings.empty() && !w->all) continue;
    {
      std::lock_guard lock(mu_);
      notified_.insert(w->mappings.begin(), w->mappings.end());
      if (!w->mappings.empty()) {
        // Clamped above zero: zero is "none waits".
        const auto since = std::max(clock_.monotonic() - std::chrono::duration_cast<ratelimit::Clock::Duration>(w->waited),
                                    ratelimit::Clock::Duration(1));
        if (notified_since_ == ratelimit::Clock::Duration(0) || since < notified_since_) notified_since_ = since;
      }
      if (w->all) catch_up_ = true;
      news_ = true;
    }
    cv_.notify_all();
  }
}

bool Service::live_work_waiting() {
  if (opt_.actions_due && opt_.actions_due()) return true;
  std::lock_guard lock(mu_);
  return !notified_.empty() || catch_up_ || woken_;
}

bool Service::pull_work_waiting() {
  if (opt_.actions_due && opt_.actions_due()) return true;
  std::lock_guard lock(mu_);
  return woken_;
}

bool Service::wait_for_work(milliseconds max) {
  std::unique_lock lock(mu_);
  if (max > milliseconds(0))
    cv_.wait_for(lock, max, [&] { return stopping() || woken_ || news_; });
  const bool woken = woken_;
  woken_ = false;
  news_ = false;  // notifications already pending wait for their debounce, not a busy loop
  return woken;
}

void Service::passed(const std::string& mapping, state::Direction d, const model::Error* e) {
  std::string why;
  if (e != nullptr) {
    why = model::describe(*e);  // never HubSpot's message, which can quote field values
    if (why.empty()) why = model::to_string(e->kind);
    if (opt_.redact) why = opt_.redact(why);
  }
  (void)store_.record_pass(mapping, d, clock_.wall_ms(), why);
}

void Service::failed(const std::string& what, const model::Error& e) {
  ++stats_.failures;
  log_->warn("{} failed: {} kind={}", what, model::describe(e), model::to_string(e.kind));
  if (e.http_status > 0 || e.kind == model::ErrorKind::rate_limited) stats_.hubspot_ok = false;
}

void Service::hubspot_failed(const std::string& what, const model::Error& e) {
  failed(what, e);
  stats_.hubspot_ok = false;  // HubSpot's own failure, whatever it was (a refused connection has no status)
}

Service::Hold Service::hold(const mapping::Mapping& m) {
  auto st = db_.lock_mapping(m.name);
  if (st.ok()) {
    stats_.postgres_ok = true;
    if (held_elsewhere_.erase(m.name)) log_->info("mapping {}: lease taken, syncing it", m.name);
    return Hold::ours;
  }
  if (st.error().kind == model::ErrorKind::conflict) {
    if (held_elsewhere_.insert(m.name).second)
      log_->warn("{}; waiting for it to end", st.error().message);
    return Hold::elsewhere;
  }
  if (st.error().kind == model::ErrorKind::transient) stats_.postgres_ok = false;
  failed("mapping " + m.name + ": lease", st.error());
  return Hold::failed;
}

void Service::renew_leases() {
  for (const auto& m : mappings_) (void)hold(m);
}

std::vector<const mapping::Mapping*> Service::covering(const std::string& object_type) const {
  std::vector<const mapping::Mapping*> out;
  for (const auto* m : order_) {
    if (m->kind != mapping::MappingKind::object || !m->pulls()) continue;
    const auto& o = m->object;
    if (o.name == object_type || o.object_type_id == object_type || o.path() == object_type)
      out.push_back(m);
  }
  return out;
}

void Service::pull_events(const mapping::Mapping& m, const std::vector<std::string>& ids, bool& ok) {
  pipeline::Puller puller(m, by_name_, db_, crm_, store_, clock_, log_, opt_.pull);
  for (std::size_t i = 0; i < ids.size() && ok; i += 100) {
    const std::vector<std::string> chunk(ids.begin() + static_cast<std::ptrdiff_t>(i),
                                         ids.begin() + static_cast<std::ptrdiff_t>(std::min(ids.size(), i + 100)));
    auto r = puller.pull_ids(chunk);
    if (!r.ok()) {
      failed("mapping " + m.name + ": pulling webhook events", r.error());
      passed(m.name, state::Direction::to_postgres, &r.error());
      ok = false;
      return;
    }
    stats_.add(m.name, *r);
    if (r->unreachable) {
      hubspot_failed("mapping " + m.name + ": pulling webhook events", *r->unreachable);
      passed(m.name, state::Direction::to_postgres, &*r->unreachable);
      ok = false;
      return;
    }
    stats_.objects_pulled += static_cast<std::int64_t>(chunk.size());
    stats_.hubspot_ok = true;
  }
  if (ok) passed(m.name, state::Direction::to_postgres, nullptr);
}

// One batch of the inbox: the ids of each mapping's events, deduplicated and
// reconciled from their current state.
Service::Drain Service::drain_inbox() {
  auto events = store_.claim_inbox(opt_.inbox_batch, clock_.wall_ms(), opt_.inbox_lease_ms);
  if (!events.ok()) {
    failed("claiming webhook events", events.error());
    return Drain::failed;
  }
  if (events->empty()) return Drain::idle;
  std::map<const mapping::Mapping*, std::vector<std::string>> ids;
  std::map<const mapping::Mapping*, std::vector<std::int64_t>> seqs;
  std::vector<std::int64_t> done;
  for (const auto& e : *events) {
    const auto maps = covering(e.object_type);
    if (maps.empty()) {
      ++stats_.events_dropped;  // no mapping pulls this object type
      done.push_back(e.seq);
      continue;
    }
    for (const auto* m : maps) {
      auto& v = ids[m];
      if (std::find(v.begin(), v.end(), e.object_id) == v.end()) v.push_back(e.object_id);
      seqs[m].push_back(e.seq);
    }
  }
  std::set<std::int64_t> retry;
  for (const auto& [m, list] : ids) {
    const auto began = clock_.monotonic();
    bool ok = hold(*m) == Hold::ours;
    if (ok) pull_events(*m, list, ok);
    if (!ok) retry.insert(seqs[m].begin(), seqs[m].end());
    log_->debug("mapping {}: {} webhook event(s) for {} object(s) pulled in {} ms{}", m->name, seqs[m].size(),
                list.size(), std::chrono::duration_cast<milliseconds>(clock_.monotonic() - began).count(),
                ok ? "" : " (failed: retried)");
  }
  for (const auto& [m, list] : seqs)
    for (auto s : list)
      if (!retry.count(s)) done.push_back(s);
  // An event several mappings cover is done only when all of them pulled it.
  done.erase(std::remove_if(done.begin(), done.end(), [&](auto s) { return retry.count(s) > 0; }), done.end());
  std::sort(done.begin(), done.end());
  done.erase(std::unique(done.begin(), done.end()), done.end());
  if (auto st = store_.mark_inbox_processed(done, clock_.wall_ms()); !st.ok())
    failed("marking webhook events processed", st.error());
  stats_.events_processed += static_cast<std::int64_t>(done.size());
  if (!retry.empty()) {
    (void)store_.release_inbox({retry.begin(), retry.end()});
    return Drain::failed;  // the caller backs off before trying again
  }
  stats_.last_ok_ms = clock_.wall_ms();
  return events->size() >= opt_.inbox_batch ? Drain::more : Drain::idle;
}

}  // namespace hubsync::service
