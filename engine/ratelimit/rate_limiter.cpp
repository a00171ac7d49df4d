#include "engine/ratelimit/rate_limiter.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>

namespace hubsync::ratelimit {

namespace {

// Requests of ours sent this close together may reach the portal in either
// order: concurrent senders, the network, a server busy with other work.
constexpr Clock::Duration kArrivalJitter = 50ms;

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::optional<std::int64_t> to_int(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace

int burst_limit_for(Tier tier) {
  switch (tier) {
    case Tier::free_starter: return 100;
    case Tier::oauth_app: return 110;
    case Tier::professional: return 190;
    case Tier::enterprise: return 190;
    case Tier::api_add_on: return 250;
  }
  return 100;
}

RateLimitHeaders parse_rate_limit_headers(
    const std::vector<std::pair<std::string, std::string>>& headers) {
  RateLimitHeaders h;
  for (const auto& [name, value] : headers) {
    if (iequals(name, "X-HubSpot-RateLimit-Max")) h.max = to_int(value);
    else if (iequals(name, "X-HubSpot-RateLimit-Remaining")) h.remaining = to_int(value);
    else if (iequals(name, "X-HubSpot-RateLimit-Interval-Milliseconds")) h.interval_ms = to_int(value);
    else if (iequals(name, "X-HubSpot-RateLimit-Daily")) h.daily = to_int(value);
    else if (iequals(name, "X-HubSpot-RateLimit-Daily-Remaining")) h.daily_remaining = to_int(value);
  }
  // A value outside anything a portal has is ignored, not trusted: a
  // window of two billion requests would take that many slots to record,
  // and sums of such values overflow.
  const auto within = [](std::optional<std::int64_t>& v, std::int64_t lo, std::int64_t hi) {
    if (v && (*v < lo || *v > hi)) v.reset();
  };
  within(h.max, 1, 100'000);
  within(h.remaining, -100'000, 100'000);
  within(h.interval_ms, 100, 86'400'000);
  within(h.daily, 1, 1'000'000'000);
  within(h.daily_remaining, -1'000'000'000, 1'000'000'000);
  return h;
}

int RateLimiter::shared(int limit, double headroom) {
  if (headroom <= 0) return limit;
  return std::max(1, limit - std::max(1, static_cast<int>(static_cast<double>(limit) * headroom / 2)));
}

int RateLimiter::effective(int limit, double headroom) {
  // At least one slot stays free even when the headroom rounds to nothing:
  // requests stamped at the window's edge can reach the server in another
  // order than they were sent.
  const auto rounded = static_cast<int>(std::lround(static_cast<double>(limit) * (1.0 - headroom)));
  return std::max(1, headroom > 0 ? std::min(rounded, limit - 1) : rounded);
}

RateLimiter::RateLimiter(Clock& clock, LimiterConfig config)
    : clock_(clock),
      config_(config),
      burst_(effective(config.burst_limit, config.headroom), config.burst_interval),
      // Search is shared by every integration on the portal and its window
      // is short: the headroom there would round a 5/s limit down to 4/s, so
      // it is applied only when the limit is large enough to keep a slot.
      search_(config.search_limit >= 10 ? effective(config.search_limit, config.headroom)
                                        : config.search_limit,
              config.search_interval),
      daily_(config.daily_limit, config.headroom, config.utc_offset_minutes),
      raw_burst_limit_(config.burst_limit) {
  burst_.set_shared_limit(shared(config.burst_limit, config.headroom));
  search_.set_guard(config.search_guard);
  burst_.set_settle_within(config.settle_within);
  search_.set_settle_within(config.settle_within);
}

Clock::Duration RateLimiter::wait_locked(Lane lane, Clock::Duration now, std::int64_t wall) {
  Clock::Duration wait = burst_.wait_at(now);
  if (lane == Lane::search) wait = std::max(wait, search_.wait_at(now));
  wait = std::max(wait, Clock::Duration(daily_.wait_ms(wall)));
  return wait;
}

Clock::Duration RateLimiter::try_acquire(Lane lane, Permit* permit) {
  std::lock_guard lock(mu_);
  const auto now = clock_.monotonic();
  const auto wall = clock_.wall_ms();
  const auto wait = wait_locked(lane, now, wall);
  if (wait.count() > 0) return wait;
  if (permit) {
    *permit = Permit{now, lane, ++next_id_};
    burst_.open(permit->id, now);
    if (lane == Lane::search) search_.open(permit->id, now);
  } else {
    burst_.take(now);
    if (lane == Lane::search) search_.take(now);
  }
  daily_.take(wall);
  ++stats_.granted;
  return Clock::Duration(0);
}

model::Result<Permit> RateLimiter::acquire(Lane lane, Clock::Duration max_wait) {
  Clock::Duration waited{0};
  bool had_to_wait = false;
  for (;;) {
    Permit permit;
    const auto wait = try_acquire(lane, &permit);
    if (wait.count() == 0) {
      if (had_to_wait) {
        std::lock_guard lock(mu_);
        ++stats_.waited;
      }
      return permit;
    }
    if (waited + wait > max_wait) {
      model::Error e = model::make_error(model::ErrorKind::rate_limited,
                                         "rate limiter: budget spent, wait_ms=" +
                                             std::to_string(wait.count()));
      e.retry_after = wait;
      return e;
    }
    had_to_wait = true;
    clock_.sleep_for(wait);
    waited += wait;
  }
}

void RateLimiter::observe(const RateLimitHeaders& h, const Permit& permit) {
  std::lock_guard lock(mu_);
  const auto wall = clock_.wall_ms();
  if (config_.learn_from_headers) {
    if (h.interval_ms && *h.interval_ms > 0) burst_.set_interval(Clock::Duration(*h.interval_ms));
    if (h.max && *h.max > 0 && *h.max != raw_burst_limit_) {
      raw_burst_limit_ = static_cast<int>(*h.max);
      burst_.set_limit(effective(raw_burst_limit_, config_.headroom));
      burst_.set_shared_limit(shared(raw_burst_limit_, config_.headroom));
    }
  }
  if (h.max && h.remaining) {
    // The server's count in the window that ended when our request arrived,
    // less the most of ours it can have counted then, is at least the
    // others' use of that window (RollingWindow::ours_at_arrival). It
    // depends on when the request was sent, not on when its answer is read
    // here: a late answer (a busy CPU) says no less about the others.
    const auto now = clock_.monotonic();
    const std::int64_t server_used = *h.max - std::max<std::int64_t>(0, *h.remaining);
    const std::int64_t others = server_used - burst_.ours_at_arrival(permit.sent_at, kArrivalJitter);
    burst_.note_others(static_cast<int>(std::clamp<std::int64_t>(others, 0, *h.max)), now);
  }
  if (h.daily && h.daily_remaining) daily_.correct(*h.daily, *h.daily_remaining, wall);
}

void RateLimiter::settle(const Permit& permit) {
  if (permit.id == 0) return;
  std::lock_guard lock(mu_);
  const auto now = clock_.monotonic();
  burst_.settle(permit.id, permit.sent_at, now);
  if (permit.lane == Lane::search) search_.settle(permit.id, permit.sent_at, now);
}

Clock::Duration RateLimiter::on_rate_limited(std::string_view policy,
                                             std::optional<Clock::Duration> retry_after,
                                             Lane lane) {
  std::lock_guard lock(mu_);
  ++stats_.rate_limited;
  const auto now = clock_.monotonic();
  const auto wall = clock_.wall_ms();
  Clock::Duration wait;
  if (policy == "DAILY") {
    daily_.exhaust(wall);
    wait = retry_after ? *retry_after : Clock::Duration(daily_.ms_until_midnight(wall));
    return wait;
  }
  const bool secondly = policy == "SECONDLY" || (policy.empty() && lane == Lane::search);
  RollingWindow& bucket = secondly ? search_ : burst_;
  wait = retry_after ? *retry_after : bucket.interval();
  bucket.block_until(now + wait);
  return wait;
}

LimiterStats RateLimiter::stats() const {
  std::lock_guard lock(mu_);
  LimiterStats s = stats_;
  const auto now = clock_.monotonic();
  s.burst_limit = burst_.limit();
  s.burst_used = burst_.used_at(now);
  s.others_used = burst_.others_at(now);
  s.shared_limit = burst_.shared_limit();
  s.search_limit = search_.limit();
  s.search_used = search_.used_at(now);
  s.in_flight = burst_.in_flight_at(now);
  s.daily_limit = daily_.effective_limit();
  s.daily_used = daily_.used();
  return s;
}

}  // namespace hubsync::ratelimit
