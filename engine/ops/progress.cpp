#include "engine/ops/progress.h"

#include <algorithm>
#include <cmath>

namespace hubsync::ops {

namespace {

constexpr std::chrono::milliseconds kQuiet{500};

// 1234567 -> "1,234,567".
std::string grouped(std::int64_t n) {
  std::string digits = std::to_string(n < 0 ? -n : n), out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return (n < 0 ? "-" : "") + out;
}

// 75 -> "75 s", 754 -> "12 min 34 s", 7540 -> "2 h 5 min".
std::string duration(std::int64_t s) {
  if (s < 60) return std::to_string(s) + " s";
  if (s < 3600) return std::to_string(s / 60) + " min " + std::to_string(s % 60) + " s";
  return std::to_string(s / 3600) + " h " + std::to_string(s % 3600 / 60) + " min";
}

}  // namespace

ProgressPrinter::ProgressPrinter(Now now, bool tty, std::function<void(const std::string&, bool)> draw,
                                 std::function<void(const std::string&)> line, std::chrono::milliseconds every)
    : now_(std::move(now)), tty_(tty), draw_(std::move(draw)), line_(std::move(line)), every_(every) {}

std::string ProgressPrinter::figures(std::int64_t done, std::int64_t total, std::chrono::milliseconds elapsed) {
  std::string out = grouped(done);
  if (total >= 0) {
    out += "/" + grouped(total);
    if (total > 0) out += " (" + std::to_string(std::min<std::int64_t>(100, done * 100 / total)) + "%)";
  }
  const double seconds = static_cast<double>(elapsed.count()) / 1000.0;
  if (seconds < 0.5 || done <= 0) return out;
  const double rate = static_cast<double>(done) / seconds;
  out += " " + grouped(static_cast<std::int64_t>(std::llround(rate))) + "/s";
  if (total > done) out += ", about " + duration(static_cast<std::int64_t>(std::ceil((total - done) / rate))) + " left";
  return out;
}

void ProgressPrinter::update(const std::string& what, const std::string& mapping, std::int64_t done,
                             std::int64_t total) {
  const auto now = now_();
  const std::string key = what + " " + mapping;
  const bool finished = total >= 0 && done >= total;
  // The end said twice (the last batch reached the total, then the
  // operation said it ended): once is enough.
  if (finished && !running_.count(key))
    if (auto e = ended_.find(key); e != ended_.end() && e->second == done) return;
  ended_.erase(key);
  auto [it, fresh] = running_.emplace(key, Op{now, now});
  Op& op = it->second;
  const auto elapsed = now - op.started;
  // An operation over within a moment shows nothing: the run's summary
  // says what it did.
  if (tty_) {
    if (elapsed >= kQuiet || op.shown) {
      constexpr int kWidth = 24;
      const int filled = total > 0 ? static_cast<int>(kWidth * std::min(done, total) / total) : 0;
      draw_(key + " [" + std::string(filled, '#') + std::string(kWidth - filled, ' ') + "] " +
                figures(done, total, elapsed),
            finished);
      op.shown = true;
    }
  } else if ((finished && (op.shown || elapsed >= every_)) || (!fresh && now - op.last_line >= every_)) {
    line_(key + (finished ? " done: " : ": ") + figures(done, total, elapsed) +
          (finished ? " in " + duration(elapsed.count() / 1000) : ""));
    op.last_line = now;
    op.shown = true;
  }
  if (finished) {
    running_.erase(it);
    ended_[key] = done;
  }
}

void StepCarrier::update(const std::string& what, const std::string& mapping, std::int64_t done,
                         std::int64_t total) {
  const std::string key = what + " " + mapping;
  Carried& c = carried_[key];
  if (done == 0 && total < 0) {  // a step starts
    c.earlier += c.last;
    c.last = 0;
    return;
  }
  c.last = done;
  const std::int64_t all = c.earlier + done;
  if (total >= 0) c.total = c.earlier + total;  // a step that cannot count keeps the last count
  const std::int64_t of = c.total;
  if (of >= 0 && all >= of) carried_.erase(key);  // ended
  out_(what, mapping, all, of);
}

}  // namespace hubsync::ops
