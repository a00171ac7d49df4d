#include "engine/ratelimit/rolling_window.h"

#include <algorithm>

namespace hubsync::ratelimit {

RollingWindow::RollingWindow(int limit, Duration interval)
    : limit_(std::max(1, limit)), interval_(std::max(Duration(1), interval)) {}

void RollingWindow::set_limit(int limit) { limit_ = std::max(1, limit); }

void RollingWindow::set_interval(Duration interval) { interval_ = std::max(Duration(1), interval); }

void RollingWindow::set_settle_within(Duration d) { settle_within_ = std::max(Duration(1), d); }

RollingWindow::Duration RollingWindow::wait_at(Duration now) const {
  const Duration span = interval_ + guard_;
  const Duration at = std::max(now, blocked_until_);
  // When each token frees: a settled one `span` after it counts from; an
  // open one `span` after its answer, which comes at `now` at the earliest
  // (at its deadline at the latest). Both sequences are sorted.
  auto free_settled = [&](const Spent& s) { return s.from + span; };
  auto free_open = [&](const Open& o) { return std::min(now, deadline(o)) + span; };
  auto s = std::partition_point(spent_.begin(), spent_.end(), [&](const Spent& e) { return free_settled(e) <= at; });
  auto o = std::partition_point(open_.begin(), open_.end(), [&](const Open& e) { return free_open(e) <= at; });
  const auto in_window = static_cast<int>((spent_.end() - s) + (open_.end() - o));
  if (in_window < limit_) return at - now;
  // The (in_window - limit + 1)-th token to free makes room for one more.
  Duration frees_at{0};
  for (int k = in_window - limit_; k >= 0; --k) {
    if (o == open_.end() || (s != spent_.end() && free_settled(*s) <= free_open(*o))) {
      frees_at = free_settled(*s++);
    } else {
      frees_at = free_open(*o++);
    }
  }
  return std::max(at, frees_at) - now;
}

void RollingWindow::insert(Spent e) {
  spent_.insert(std::upper_bound(spent_.begin(), spent_.end(), e.from,
                                 [](Duration t, const Spent& x) { return t < x.from; }),
                e);
}

void RollingWindow::take(Duration now) {
  prune(now);
  insert({now, now, 0, false});
}

void RollingWindow::open(std::uint64_t id, Duration now) {
  prune(now);
  open_.insert(std::upper_bound(open_.begin(), open_.end(), now,
                                [](Duration t, const Open& x) { return t < x.sent; }),
               Open{id, now});
}

void RollingWindow::settle(std::uint64_t id, Duration opened, Duration now) {
  prune(now);
  if (auto it = std::find_if(open_.begin(), open_.end(), [&](const Open& o) { return o.id == id; });
      it != open_.end()) {
    const Open o = *it;
    open_.erase(it);
    insert({std::max(now, o.sent), o.sent, id, false});
    return;
  }
  // Settled before, or outlived settle_within: the answer came now, so the
  // portal may have counted it as late as now. Recent entries are at the back.
  for (auto it = spent_.end(); it != spent_.begin();) {
    --it;
    if (it->id != id) continue;
    if (it->from >= now) return;
    Spent e = *it;
    spent_.erase(it);
    e.from = now;
    insert(e);
    return;
  }
  insert({std::max(now, opened), opened, id, false});
}

void RollingWindow::add_external(int n, Duration at) {
  for (int i = 0; i < n; ++i) insert({at, at, 0, true});
}

int RollingWindow::known_at_arrival(Duration sent, Duration now, Duration slack) const {
  // A request of ours answered before `from` arrived before the window; one
  // sent after `to` is taken to have arrived after the request asking. Others'
  // traffic recorded up to now was counted by some earlier answer's window
  // and must not be counted twice.
  const Duration from = sent - interval_ - slack;
  const Duration to = sent + slack;
  int n = 0;
  for (auto it = std::partition_point(spent_.begin(), spent_.end(), [&](const Spent& e) { return e.from <= from; });
       it != spent_.end(); ++it)
    if (it->external ? it->from <= now : it->sent <= to) ++n;
  for (const auto& o : open_)
    if (o.sent <= to && std::min(now, deadline(o)) > from) ++n;
  return n;
}

int RollingWindow::used_at(Duration now) const {
  const Duration from = now - interval_;
  auto it = std::partition_point(spent_.begin(), spent_.end(), [&](const Spent& e) { return e.from <= from; });
  int n = static_cast<int>(spent_.end() - it);
  for (const auto& o : open_)
    if (std::min(now, deadline(o)) > from) ++n;
  return n;
}

int RollingWindow::in_flight_at(Duration now) const {
  return static_cast<int>(
      std::count_if(open_.begin(), open_.end(), [&](const Open& o) { return deadline(o) > now; }));
}

void RollingWindow::block_until(Duration until) { blocked_until_ = std::max(blocked_until_, until); }

void RollingWindow::prune(Duration now) {
  // A request nobody settled in time is taken as answered at its deadline.
  while (!open_.empty() && deadline(open_.front()) <= now) {
    const Open o = open_.front();
    open_.erase(open_.begin());
    insert({deadline(o), o.sent, o.id, false});
  }
  // Entries are kept for two intervals so header corrections can compare the
  // server's count at a past send time with ours.
  const Duration keep = interval_ + std::max(interval_, guard_);
  while (!spent_.empty() && spent_.front().from <= now - keep) spent_.pop_front();
}

}  // namespace hubsync::ratelimit
