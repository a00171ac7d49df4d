#pragma once

// Progress of long operations as a person watching sees it: a bar with the
// rate and the time left on a terminal, a line every few seconds in a log.
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>

namespace hubsync::ops {

/// Turns progress calls (what, mapping, done, total) into output. Not
/// thread-safe: one caller at a time (the run's thread).
class ProgressPrinter {
 public:
  using Now = std::function<std::chrono::milliseconds()>;
  /// `tty`: redraw one bar line with `draw` (text without a newline;
  /// `final` when the operation ended). Otherwise `line` gets a log line
  /// every `every` per operation, and one when it ends. An operation over
  /// within a moment (half a second on a terminal, `every` in a log) shows
  /// nothing.
  ProgressPrinter(Now now, bool tty, std::function<void(const std::string& text, bool final)> draw,
                  std::function<void(const std::string& text)> line,
                  std::chrono::milliseconds every = std::chrono::seconds(5));

  /// Progress of `what` of `mapping`: `done` of `total` (-1: unknown). An
  /// operation ends when done == total; a new one may start after.
  void update(const std::string& what, const std::string& mapping, std::int64_t done, std::int64_t total);

  /// "1,234/5,000 (25%) 410/s, about 9 s left": the figures of one update
  /// `elapsed` after the operation started. Without a total (or rate) the
  /// parts that need it are left out.
  static std::string figures(std::int64_t done, std::int64_t total, std::chrono::milliseconds elapsed);

 private:
  struct Op {
    std::chrono::milliseconds started{0};
    std::chrono::milliseconds last_line{0};
    bool shown = false;  // something was drawn or logged
  };
  Now now_;
  bool tty_;
  std::function<void(const std::string&, bool)> draw_;
  std::function<void(const std::string&)> line_;
  std::chrono::milliseconds every_;
  std::map<std::string, Op> running_;            // by "what mapping"
  std::map<std::string, std::int64_t> ended_;    // operations that ended, with their count
};

/// An operation run in steps (serve sweeps a backfill a few pages at a
/// time), each step counting from 0 again and saying so with an update of
/// (0, -1): adds the earlier steps' counts so `done` and `total` run on
/// across steps, and keeps the last total a step could give when a later
/// one cannot. Not thread-safe.
class StepCarrier {
 public:
  using Fn = std::function<void(const std::string& what, const std::string& mapping, std::int64_t done,
                                std::int64_t total)>;
  explicit StepCarrier(Fn out) : out_(std::move(out)) {}
  void update(const std::string& what, const std::string& mapping, std::int64_t done, std::int64_t total);

 private:
  struct Carried {
    std::int64_t earlier = 0;  // counted by steps before this one
    std::int64_t last = 0;     // this step's last count
    std::int64_t total = -1;   // the operation's total, when a step gave one
  };
  Fn out_;
  std::map<std::string, Carried> carried_;
};

}  // namespace hubsync::ops
