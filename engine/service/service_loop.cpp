// Service::run and the timed steps: pushes, sweeps, housekeeping.
#include <algorithm>
#include <thread>

#include "engine/pipeline/clock_frames.h"
#include "engine/service/service.h"

namespace hubsync::service {

using Duration = ratelimit::Clock::Duration;

bool Service::push(const std::set<std::string>& names, bool all) {
  bool ok = true;
  pipeline::PushOptions options = opt_.push;
  options.yield = [this] { return pull_work_waiting(); };
  options.stop = [this] { return stopping(); };
  for (const auto* m : order_) {
    if (stopping()) break;
    if (!m->pushes() || (!all && !names.count(m->name))) continue;
    if (const auto held = hold(*m); held != Hold::ours) {
      ok = ok && held == Hold::elsewhere;
      continue;
    }
    pipeline::Pusher pusher(*m, by_name_, db_, crm_, store_, clock_, log_, options);
    auto r = pusher.run();
    ++stats_.pushes;
    if (r.ok() && r->more) push_more_.insert(m->name);  // after the webhook events, on from where it stopped
    if (!r.ok()) {
      failed("mapping " + m->name + ": push", r.error());
      passed(m->name, state::Direction::to_hubspot, &r.error());
      ok = false;
      continue;
    }
    stats_.rows_pushed += r->pushed();
    stats_.add(m->name, *r);
    if (r->unreachable) {
      hubspot_failed("mapping " + m->name + ": push", *r->unreachable);
      passed(m->name, state::Direction::to_hubspot, &*r->unreachable);
      ok = false;
      continue;
    }
    passed(m->name, state::Direction::to_hubspot, nullptr);
    stats_.postgres_ok = true;
    // A push with nothing to send did not ask HubSpot: it says nothing of it.
    if (r->pushed() > 0) {
      stats_.hubspot_ok = true;
      stats_.last_ok_ms = clock_.wall_ms();
    }
    if (r->pushed() > 0) log_->info("mapping {}: pushed {}", m->name, r->pushed());
  }
  return ok;
}

bool Service::sweep(std::int64_t overlap_ms, const char* what) {
  bool ok = true;
  pipeline::PullOptions options = opt_.pull;
  options.overlap_ms = sweep_more_ ? 0 : overlap_ms;  // a continuation starts where it stopped
  options.max_sweep_pages = opt_.sweep_pages_per_step;
  options.yield = [this] { return live_work_waiting(); };
  sweep_more_ = false;
  for (const auto* m : order_) {
    if (stopping()) break;
    if (!m->pulls()) continue;
    if (const auto held = hold(*m); held != Hold::ours) {
      ok = ok && held == Hold::elsewhere;
      continue;
    }
    pipeline::Puller puller(*m, by_name_, db_, crm_, store_, clock_, log_, options);
    auto r = puller.run();
    if (!r.ok()) {
      failed("mapping " + m->name + ": " + what, r.error());
      passed(m->name, state::Direction::to_postgres, &r.error());
      ok = false;
      continue;
    }
    if (r->unreachable) {
      hubspot_failed("mapping " + m->name + ": " + what, *r->unreachable);
      passed(m->name, state::Direction::to_postgres, &*r->unreachable);
      ok = false;
      continue;
    }
    passed(m->name, state::Direction::to_postgres, nullptr);
    stats_.add(m->name, *r);
    stats_.hubspot_ok = true;
    stats_.last_ok_ms = clock_.wall_ms();
    sweep_more_ = sweep_more_ || r->more;
    const auto changed = r->created + r->updated + r->deleted + r->hubspot_updates;
    if (changed > 0)
      log_->info("mapping {}: {} repaired {} object(s) (created {}, updated {}, deleted {})", m->name, what,
                 changed, r->created, r->updated, r->deleted);
  }
  return ok;
}

// Dead letters due for a retry, old inbox events, the changelog archive.
void Service::housekeeping() {
  for (const auto* m : order_) {
    if (stopping()) return;
    if (hold(*m) != Hold::ours) continue;
    if (m->pulls()) {
      pipeline::Puller puller(*m, by_name_, db_, crm_, store_, clock_, log_, opt_.pull);
      if (auto r = puller.retry_dead_letters(false); !r.ok()) failed("mapping " + m->name + ": retrying dead letters", r.error());
    }
    if (m->pushes()) {
      pipeline::Pusher pusher(*m, by_name_, db_, crm_, store_, clock_, log_, opt_.push);
      if (auto r = pusher.requeue_dead_letters(false); r.ok() && *r > 0) {
        std::lock_guard lock(mu_);
        notified_.insert(m->name);
      }
    }
  }
  (void)store_.purge_inbox(clock_.wall_ms() - opt_.inbox_keep_ms);
  if (opt_.run_actions) (void)store_.purge_actions(clock_.wall_ms() - opt_.actions_keep_ms);
  (void)db_.prune_archive();
}

void Service::publish() {
  if (!opt_.publish) return;
  Snapshot snap;
  const auto now = clock_.wall_ms();
  const auto age = [now](std::int64_t since_ms) {
    return since_ms > 0 ? std::max<double>(0, static_cast<double>(now - since_ms) / 1000.0) : 0.0;
  };
  if (auto inbox = store_.inbox_backlog(); inbox.ok()) {
    for (const auto& b : *inbox) {
      snap.inbox_pending += b.pending;
      for (const auto* m : covering(b.object_type)) {
        auto& to = snap.to_postgres[m->name];
        to.pending += b.pending;
        to.lag_seconds = std::max(to.lag_seconds, age(b.oldest_received_ms));
      }
    }
  }
  for (const auto& m : mappings_) {
    if (m.pushes()) {
      auto& to = snap.to_hubspot[m.name];
      if (auto n = db_.count_pending(m.name); n.ok()) to.pending = *n;
      if (auto t = db_.oldest_pending_ms(m.name); t.ok()) to.lag_seconds = age(*t);
    }
    if (m.pulls()) snap.to_postgres.try_emplace(m.name);
    state::DeadLetterFilter f;
    f.mapping = m.name;
    f.status = state::DeadLetterStatus::pending;
    f.limit = 100'000;
    if (auto d = store_.list_dead_letters(f); d.ok()) snap.dead_letters[m.name] = static_cast<std::int64_t>(d->size());
  }
  if (auto wal = db_.capture_retained_wal(); wal.ok()) snap.capture_retained_wal = *wal;
  snap.hubspot_clock = crm_.clock_offset();
  if (auto pg = pipeline::read_database_clock(db_, clock_); pg.ok()) snap.postgres_clock = *pg;
  opt_.publish(stats_, snap);
}

void Service::run() {
  std::thread listener([this] { listen_loop(); });
  const auto now = clock_.monotonic();
  // A start catches up first: every mapping's changelog (catch_up_), and
  // what HubSpot changed while hubsync was down (the sweep, due now).
  t_ = Timers{};
  t_.next_sweep = t_.next_inbox = t_.next_publish = now;
  t_.next_reconcile = now + opt_.reconcile_every;
  t_.next_renew = now + opt_.lease_renew_every;
  t_.next_poll = now + opt_.poll_every;
  log_->info("serving {} mapping(s)", mappings_.size());
  while (!stopping()) {
    // A bug in one step (an exception) must not end the service: the step
    // counts as failed and the loop goes on after the backoff.
    try {
      if (!step()) idle();
    } catch (const std::exception& e) {
      failed("service step", model::make_error(model::ErrorKind::fatal, std::string("unexpected error: ") + e.what()));
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, opt_.error_backoff, [&] { return stopping(); });
    }
  }
  stop();
  listener.join();
  (void)db_.release_mappings();
  log_->info("stopped");
}

bool Service::identity_holds(Duration now) {
  if (!opt_.check_identity) return true;
  const bool record = now >= t_.next_identity_record;
  auto st = opt_.check_identity(record);
  if (st.ok()) {
    if (record) t_.next_identity_record = now + opt_.identity_record_every;
    return true;
  }
  if (st.error().kind != model::ErrorKind::fatal) return true;  // the step's own calls meet it
  log_->error("stopping: {}", st.error().message);
  fatal_ = st.error();
  stop();
  return false;
}

// The identity, leases, the inbox, pushes, then one step of a safety net.
// True when more work is waiting (no sleep before the next step).
bool Service::step() {
  const auto now = clock_.monotonic();
  if (!identity_holds(now)) return false;
  {
    std::lock_guard lock(mu_);
    if (woken_) t_.next_inbox = std::min(t_.next_inbox, now);  // events came in: drain them now
    woken_ = false;
  }
  if (opt_.run_actions && opt_.actions_due && opt_.actions_due()) opt_.run_actions();
  if (now >= t_.next_renew) {
    renew_leases();
    t_.next_renew = now + opt_.lease_renew_every;
  }
  if (now >= t_.next_publish) {
    publish();
    t_.next_publish = now + opt_.publish_every;
  }
  Drain drained = Drain::idle;
  if (now >= t_.next_inbox) {
    drained = drain_inbox();
    t_.next_inbox = drained == Drain::failed ? now + opt_.error_backoff : now + opt_.inbox_every;
  }
  const bool pushed = push_due(now);
  if (now >= t_.next_sweep) {
    const bool ok = sweep(opt_.pull.overlap_ms, "sweep");
    if (sweep_more_) {
      t_.next_sweep = now;  // go on after the next round of live work
      return true;
    }
    ++stats_.sweeps;
    if (ok) housekeeping();
    t_.next_sweep = now + (ok ? opt_.sweep_every : std::max(opt_.error_backoff, opt_.sweep_every / 10));
    return true;
  }
  if (now >= t_.next_reconcile) {
    sweep(opt_.reconcile_window_ms, "reconciliation pass");
    if (sweep_more_) t_.next_sweep = now;  // the sweep goes on from where the pass stopped
    ++stats_.reconciles;
    t_.next_reconcile = now + opt_.reconcile_every;
    return true;
  }
  return drained == Drain::more || pushed;
}

// Pushes every mapping on a catch-up, the fallback poll or a retry, else
// the notified ones once the debounce has passed since the oldest of their
// changes was captured (a NOTIFY's: when it came).
bool Service::push_due(Duration now) {
  std::set<std::string> names;
  bool all = false;
  const bool retry_due = t_.next_push_retry == Duration(0) || now >= t_.next_push_retry;
  Duration waited{0};
  {
    std::lock_guard lock(mu_);
    if (!notified_.empty()) {
      const Duration since = notified_since_ != Duration(0) ? std::min(now, notified_since_) : now;
      if (t_.first_notified == Duration(0) || since < t_.first_notified) t_.first_notified = since;
    }
    notified_since_ = Duration(0);
    if (catch_up_ || now >= t_.next_poll || (t_.next_push_retry != Duration(0) && retry_due)) {
      all = true;
      catch_up_ = false;
      notified_.clear();
      t_.first_notified = Duration(0);
    } else if (!notified_.empty() && now - t_.first_notified >= opt_.debounce && retry_due) {
      names.swap(notified_);
      waited = now - t_.first_notified;
      t_.first_notified = Duration(0);
    }
  }
  // A push that yielded to webhook events goes on now, without a debounce.
  if (!all && retry_due) names.insert(push_more_.begin(), push_more_.end());
  push_more_.clear();
  if (!all && names.empty()) return false;
  log_->debug("push {} after {} ms", all ? "every mapping" : "notified mappings",
              std::chrono::duration_cast<milliseconds>(waited).count());
  const bool ok = push(names, all);
  if (all) t_.next_poll = now + opt_.poll_every;
  t_.next_push_retry = ok ? Duration(0) : now + opt_.error_backoff;
  return true;
}

// Sleeps until the next timer, a NOTIFY, a wake() or stop().
void Service::idle() {
  Duration until = std::min({t_.next_sweep, t_.next_reconcile, t_.next_renew, t_.next_poll, t_.next_inbox,
                             t_.next_publish});
  if (t_.first_notified != Duration(0)) until = std::min(until, t_.first_notified + opt_.debounce);
  if (t_.next_push_retry != Duration(0)) until = std::min(until, t_.next_push_retry);
  if (opt_.run_actions) until = std::min(until, clock_.monotonic() + opt_.actions_every);
  if (wait_for_work(std::chrono::duration_cast<milliseconds>(until - clock_.monotonic())))
    t_.next_inbox = std::min(t_.next_inbox, clock_.monotonic());
}

}  // namespace hubsync::service
