#include "engine/ratelimit/rolling_window.h"

#include <algorithm>

namespace hubsync::ratelimit {

RollingWindow::RollingWindow(int limit, Duration interval)
    : limit_(std::max(1, limit)), shared_limit_(limit_), interval_(std::max(Duration(1), interval)) {}

void RollingWindow::set_limit(int limit) { limit_ = std::max(1, limit); }

void RollingWindow::set_shared_limit(int limit) { shared_limit_ = std::max(1, limit); }

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
  const auto ours = static_cast<int>((spent_.end() - s) + (open_.end() - o));
  const int others = others_at(at);
  const int room = std::min(limit_, shared_limit_ - others);
  if (ours < room) return at - now;
  // The (ours - room + 1)-th of ours to free makes room for one more, unless
  // the others' level falls first.
  Duration frees_at = others > 0 ? others_fall_after(at) : Duration::max();
  if (room > 0) {
    Duration ours_free{0};
    for (int k = ours - room; k >= 0; --k) {
      if (o == open_.end() || (s != spent_.end() && free_settled(*s) <= free_open(*o))) {
        ours_free = free_settled(*s++);
      } else {
        ours_free = free_open(*o++);
      }
    }
    frees_at = std::min(frees_at, ours_free);
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
  insert({now, now, 0});
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
    insert({std::max(now, o.sent), o.sent, id});
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
  insert({std::max(now, opened), opened, id});
}

void RollingWindow::note_others(int n, Duration at) {
  prune(at);
  while (!others_.empty() && others_.back().n <= n) others_.pop_back();
  if (n > 0) others_.push_back({at, n});
}

const RollingWindow::Others* RollingWindow::others_level(Duration at) const {
  for (const auto& e : others_)
    if (e.at > at - interval_) return &e;  // n falls along the deque: the first valid is the most
  return nullptr;
}

int RollingWindow::others_at(Duration now) const {
  const Others* e = others_level(now);
  return e ? e->n : 0;
}

RollingWindow::Duration RollingWindow::others_fall_after(Duration at) const {
  const Others* e = others_level(at);
  return e ? e->at + interval_ : at;
}

int RollingWindow::ours_at_arrival(Duration sent, Duration slack) const {
  const Duration from = sent - interval_ - slack;
  const Duration to = sent + slack;
  // Settled ones were answered already, so may have arrived first however
  // late they were sent; open ones only if sent within the slack.
  int n = static_cast<int>(std::count_if(spent_.begin(), spent_.end(),
                                         [&](const Spent& e) { return e.sent > from; }));
  for (const auto& o : open_)
    if (o.sent > from && o.sent <= to) ++n;
  return std::max(n, 1);  // the request itself, even if it was pruned
}

int RollingWindow::used_at(Duration now) const {
  const Duration from = now - interval_;
  auto it = std::partition_point(spent_.begin(), spent_.end(), [&](const Spent& e) { return e.from <= from; });
  int n = static_cast<int>(spent_.end() - it);
  for (const auto& o : open_)
    if (std::min(now, deadline(o)) > from) ++n;
  return n + others_at(now);
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
    insert({deadline(o), o.sent, o.id});
  }
  // Entries are kept for two intervals so header corrections can compare the
  // server's count at a past send time with ours.
  const Duration keep = interval_ + std::max(interval_, guard_);
  while (!spent_.empty() && spent_.front().from <= now - keep) spent_.pop_front();
  while (!others_.empty() && others_.front().at <= now - interval_) others_.pop_front();
}

}  // namespace hubsync::ratelimit
