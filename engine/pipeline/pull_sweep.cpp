// The pull's sweep: the objects modified since the checkpoint, read in
// windows side by side (sweep_windows.h) and reconciled page by page.
#include <algorithm>
#include <condition_variable>
#include <deque>
#include <future>
#include <iterator>
#include <list>
#include <mutex>
#include <optional>

#include "engine/pipeline/pull.h"
#include "engine/pipeline/pull_item.h"
#include "engine/pipeline/sweep_windows.h"
#include "engine/pipeline/sync_helpers.h"

namespace hubsync::pipeline {

using model::Result;
using model::Status;

namespace {

// One window of the sweep and the page asked of it.
struct Lane {
  explicit Lane(SweepCursor cursor) : at(std::move(cursor)) {}
  SweepCursor at;
  std::int64_t remaining = -1;  // objects HubSpot counted after `at`; -1: not known
  bool caught_up = false;       // the newest window only: bounded ones leave when done
  std::future<Result<SweepPage>> page;
};

// Lanes whose page has come back, in the order they came.
class Arrivals {
 public:
  // Runs `start`, which stores the lane's future, before any push: a page
  // that comes back at once waits for its future to be in place.
  template <typename Start>
  void launch(Start&& start) {
    std::lock_guard lock(mu_);
    start();
  }
  void push(Lane* lane) {
    {
      std::lock_guard lock(mu_);
      ready_.push_back(lane);
    }
    cv_.notify_one();
  }
  Lane* pop() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !ready_.empty(); });
    Lane* lane = ready_.front();
    ready_.pop_front();
    return lane;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Lane*> ready_;
};

// Where the sweep starts: the checkpoint's windows, the newest one a
// window earlier than its cursor when `overlap_ms` is set (search lags
// writes; older windows ended long before they were searched); without
// one (none yet, or none that reads), everything (a backfill).
std::list<Lane> start_lanes(std::optional<std::vector<SweepCursor>> saved, std::int64_t overlap_ms) {
  std::vector<SweepCursor> windows{SweepCursor{-1, "", false}};
  if (saved) {
    windows = std::move(*saved);
    // No overlap: go on exactly where the last page ended (inside a run
    // of equal timestamps too: a sweep stopped by max_sweep_pages in a
    // bulk import's one millisecond must not start that run over).
    auto& newest = windows.back();
    if (overlap_ms > 0) newest = SweepCursor{std::max<std::int64_t>(-1, newest.modified_ms - overlap_ms - 1), "", false};
  }
  std::list<Lane> lanes;
  for (auto& w : windows) lanes.emplace_back(std::move(w));
  return lanes;
}

std::string checkpoint_of(const std::list<Lane>& lanes) {
  std::vector<SweepCursor> windows;
  for (const auto& l : lanes) windows.push_back(l.at);
  // The sweep caught up inside a timestamp's run: the next pass starts at
  // that timestamp (GT ms - 1) in one search rather than a tie search and
  // then a GT search; it reads the few objects of that millisecond again.
  // While older windows are still read, the newest keeps its exact place.
  if (auto& last = windows.back(); windows.size() == 1 && lanes.back().caught_up && last.in_tie)
    last = SweepCursor{last.modified_ms - 1, "", false};
  return encode_windows(windows);
}

// A sweep's progress: objects read so far, of what HubSpot counted after
// the windows' cursors when their pages said.
struct SweepProgress {
  const ProgressFn& fn;
  const char* what;
  const std::string& mapping;
  std::int64_t read = 0;
  void page(std::size_t records, const std::list<Lane>& lanes) {
    read += static_cast<std::int64_t>(records);
    std::int64_t left = -1;
    for (const auto& l : lanes)
      if (l.remaining >= 0) left = std::max<std::int64_t>(left, 0) + l.remaining;
    if (fn) fn(what, mapping, read, left < 0 ? -1 : read + left);
  }
  void finished() const {
    if (fn) fn(what, mapping, read, read);
  }
};

// Moves a lane past its page; false when the lane leaves (a bounded
// window done).
bool advance(Lane& lane, const SweepPage& page) {
  lane.at = page.next;
  // A page inside one timestamp's run counts only the run: what the lane
  // counted before, less this page, stands until a page counts again.
  const std::int64_t counted = page.remaining >= 0 ? page.remaining : lane.remaining;
  lane.remaining = counted < 0 ? -1 : std::max<std::int64_t>(0, counted - static_cast<std::int64_t>(page.records.size()));
  if (!page.done) return true;
  if (lane.at.until_ms != SweepCursor::kUnbounded) return false;
  lane.caught_up = true;
  lane.remaining = 0;
  return true;
}

// Splits the lane at `it` when fewer than `most` windows are being read and
// it has pages enough left (split_point): it keeps the older half, a new
// lane after it takes the newer. Returns the new lane, to be asked.
Lane* split(std::list<Lane>& lanes, std::list<Lane>::iterator it, int most, int page_size,
            std::int64_t settled_before_ms) {
  const auto reading = std::count_if(lanes.begin(), lanes.end(), [](const Lane& l) { return !l.caught_up; });
  if (reading >= most) return nullptr;
  auto m = split_point(it->at, it->remaining, page_size, settled_before_ms);
  if (!m) return nullptr;
  auto upper = lanes.emplace(std::next(it), SweepCursor{*m, "", false, {}, it->at.until_ms});
  upper->remaining = 0;  // counted in the older half's until its own first page
  it->at.until_ms = *m;
  return &*upper;
}

}  // namespace

Status Puller::sweep(PullStats& stats) {
  auto cp = state_.get_checkpoint(m_.name, kSweepCheckpoint);
  if (!cp.ok()) return std::move(cp).error();
  auto swept = state_.get_checkpoint(m_.name, kArchivedCheckpoint);  // set once a sweep has completed
  if (!swept.ok()) return std::move(swept).error();
  SweepProgress progress{opt_.progress, *swept ? "pull sweep" : "pull backfill", m_.name};
  if (opt_.progress) opt_.progress(progress.what, m_.name, 0, -1);
  std::optional<std::vector<SweepCursor>> saved;
  if (*cp && !(saved = decode_windows((*cp)->value)))
    log_->warn("sweep checkpoint unreadable mapping={} checkpoint='{}': reading every object again", m_.name,
               (*cp)->value);
  auto lanes = start_lanes(std::move(saved), opt_.overlap_ms);
  const auto props = properties_of(m_);
  Arrivals arrivals;
  int in_flight = 0;
  // Each window has one page asked at a time, the others' in flight while
  // one is reconciled: at HubSpot's latency one search at a time would
  // leave most of the search lane idle.
  auto ask = [&](Lane& l) {
    arrivals.launch([&] {
      l.page = std::async(std::launch::async, [this, &props, &arrivals, &l, at = l.at] {
        auto r = crm_.sweep(m_.object.path(), at, props, opt_.page_size, m_.hubspot_filters);
        arrivals.push(&l);
        return r;
      });
    });
    ++in_flight;
  };
  for (auto& l : lanes) ask(l);
  Status failed;
  bool stopping = false;
  for (int pages = 0; in_flight > 0;) {
    Lane& l = *arrivals.pop();
    --in_flight;
    auto page = l.page.get();
    if (!failed.ok() || stats.unreachable) continue;  // the rest in flight is dropped
    if (!page.ok()) {
      // Retryable: the checkpoint keeps what was applied; the next run goes on.
      if (page.error().retryable()) stats.unreachable = page.error();
      else failed = std::move(page).error();
      continue;
    }
    stats.read += static_cast<std::int64_t>(page->records.size());
    if (auto st = process(page->records, stats, true); !st.ok()) failed = st;
    if (!failed.ok() || stats.unreachable) continue;
    auto it = std::find_if(lanes.begin(), lanes.end(), [&](const Lane& x) { return &x == &l; });
    const bool stays = advance(l, *page);
    if (!stays) lanes.erase(it);
    progress.page(page->records.size(), lanes);
    stopping = stopping || (opt_.max_sweep_pages > 0 && ++pages >= opt_.max_sweep_pages) || (opt_.yield && opt_.yield());
    if (!stopping && stays && !it->caught_up) {
      // Modification times are HubSpot's: settled on its clock.
      const std::int64_t settled =
          clocks_.to_hubspot(clock_.wall_ms()) - std::max(kWindowSettledMs, opt_.search_lag_ms);
      if (auto* upper = split(lanes, it, opt_.sweep_windows, opt_.page_size, settled)) ask(*upper);
      ask(*it);
    }
    if (auto st = state_.set_checkpoint(m_.name, kSweepCheckpoint, checkpoint_of(lanes)); !st.ok()) failed = st;
  }
  if (!failed.ok()) return failed;
  if (stats.unreachable) return {};
  if (lanes.size() == 1 && lanes.front().caught_up) progress.finished();
  else stats.more = true;
  return {};
}

}  // namespace hubsync::pipeline
