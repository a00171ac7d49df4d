#include "engine/ratelimit/rolling_window.h"

#include <algorithm>

namespace hubsync::ratelimit {

RollingWindow::RollingWindow(int limit, Duration interval)
    : limit_(std::max(1, limit)), interval_(std::max(Duration(1), interval)) {}

void RollingWindow::set_limit(int limit) { limit_ = std::max(1, limit); }

void RollingWindow::set_interval(Duration interval) { interval_ = std::max(Duration(1), interval); }

RollingWindow::Duration RollingWindow::wait_at(Duration now) const {
  Duration wait{0};
  if (blocked_until_ > now) wait = blocked_until_ - now;
  const Duration at = now + wait;
  auto first = std::upper_bound(spent_.begin(), spent_.end(), at - interval_ - guard_);
  auto last = std::upper_bound(first, spent_.end(), at);
  const auto in_window = static_cast<int>(last - first);
  if (in_window < limit_) return wait;
  // The (in_window - limit + 1)-th oldest entry must leave the window first.
  const Duration frees_at = *(first + (in_window - limit_)) + interval_ + guard_;
  return std::max(wait, frees_at - now);
}

void RollingWindow::take(Duration now) {
  prune(now);
  // Keep the deque sorted even if an external entry was stamped later.
  spent_.insert(std::upper_bound(spent_.begin(), spent_.end(), now), now);
}

void RollingWindow::restamp(Duration from, Duration to) {
  auto it = std::lower_bound(spent_.begin(), spent_.end(), from);
  if (it != spent_.end() && *it == from) spent_.erase(it);
  spent_.insert(std::upper_bound(spent_.begin(), spent_.end(), to), to);
}

void RollingWindow::add_external(int n, Duration at) {
  for (int i = 0; i < n; ++i) spent_.insert(std::upper_bound(spent_.begin(), spent_.end(), at), at);
}

int RollingWindow::count_between(Duration from, Duration to) const {
  auto first = std::upper_bound(spent_.begin(), spent_.end(), from);
  auto last = std::upper_bound(first, spent_.end(), to);
  return static_cast<int>(last - first);
}

void RollingWindow::block_until(Duration until) { blocked_until_ = std::max(blocked_until_, until); }

void RollingWindow::prune(Duration now) {
  // Entries are kept for two intervals so header corrections can compare the
  // server's count at a past send time with ours.
  while (!spent_.empty() && spent_.front() <= now - 2 * interval_) spent_.pop_front();
}

}  // namespace hubsync::ratelimit
