#pragma once

// A small in-process metrics registry rendered in the Prometheus text
// exposition format 0.0.4. Families (a name, a help text, a type and a fixed
// list of label names) are registered once at start-up; each child (one set
// of label values) is resolved once and kept by reference, so the hot path is
// one relaxed atomic operation.
#include <atomic>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace hubsync::ops {

/// A monotonically increasing count. Thread-safe, lock-free.
class Counter {
 public:
  /// Adds `n`. Never blocks.
  void inc(std::uint64_t n = 1) noexcept { v_.fetch_add(n, std::memory_order_relaxed); }
  std::uint64_t value() const noexcept { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> v_{0};
};

/// A value that goes up and down. Thread-safe, lock-free.
class Gauge {
 public:
  void set(double v) noexcept { v_.store(v, std::memory_order_relaxed); }
  void add(double d) noexcept { v_.fetch_add(d, std::memory_order_relaxed); }
  void inc() noexcept { add(1); }
  void dec() noexcept { add(-1); }
  double value() const noexcept { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> v_{0};
};

/// Observations counted into fixed buckets (upper bounds, ascending), with
/// their sum and count. Thread-safe, lock-free; observe() is a short scan of
/// the bounds and three relaxed atomic operations.
class Histogram {
 public:
  explicit Histogram(std::vector<double> upper_bounds);
  void observe(double v) noexcept;

  struct Snapshot {
    std::vector<double> upper_bounds;
    std::vector<std::uint64_t> cumulative;  ///< per bound, then +Inf last
    double sum = 0;
    std::uint64_t count = 0;
  };
  /// Not atomic across buckets: a concurrent observe() may show in some
  /// buckets and not yet in others (Prometheus tolerates that).
  Snapshot snapshot() const;

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> buckets_;  // bounds_.size() + 1 (+Inf)
  std::atomic<double> sum_{0};
  std::atomic<std::uint64_t> count_{0};
};

enum class MetricType { counter, gauge, histogram };

/// One metric family: every child shares the name, help, type and label names.
template <class M>
class Family {
 public:
  /// The child with these label values (in the order of the family's label
  /// names), created on first use. The reference stays valid as long as the
  /// registry. Takes a lock: resolve once, keep the reference. Throws
  /// std::invalid_argument when the number of values is wrong (a bug).
  /// Values may be any text (escaped when rendered); never put a secret or a
  /// record's field value in one.
  M& with(const std::vector<std::string>& label_values);
  M& with(std::initializer_list<std::string_view> label_values);
  /// The child without labels (a family with no label names).
  M& get() { return with(std::vector<std::string>{}); }

  const std::string& name() const { return name_; }
  const std::vector<std::string>& label_names() const { return label_names_; }

 private:
  friend class Registry;
  Family(std::string name, std::vector<std::string> label_names, std::vector<double> bounds)
      : name_(std::move(name)), label_names_(std::move(label_names)), bounds_(std::move(bounds)) {}

  std::string name_;
  std::vector<std::string> label_names_;
  std::vector<double> bounds_;  // histograms only
  mutable std::mutex mu_;
  std::map<std::vector<std::string>, std::unique_ptr<M>> children_;

  template <class Fn>
  void for_each(Fn&& fn) const {
    std::lock_guard lock(mu_);
    for (const auto& [labels, child] : children_) fn(labels, *child);
  }
};

/// The process's metrics. Thread-safe: families may be registered and
/// rendered from any thread.
class Registry {
 public:
  Registry();
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  /// Registers (or returns the already registered) family. Names must match
  /// `[a-zA-Z_:][a-zA-Z0-9_:]*`, counters must end in `_total`, label names
  /// `[a-zA-Z_][a-zA-Z0-9_]*` and not start with `__` (nor be `le` for
  /// histograms). Registering a name again with another type, label list or
  /// buckets throws std::invalid_argument, as do bad names: these are bugs,
  /// found at start-up.
  Family<Counter>& counter(const std::string& name, const std::string& help,
                           std::vector<std::string> label_names = {});
  Family<Gauge>& gauge(const std::string& name, const std::string& help,
                       std::vector<std::string> label_names = {});
  /// `upper_bounds` ascending, finite; +Inf is implied.
  Family<Histogram>& histogram(const std::string& name, const std::string& help,
                               std::vector<double> upper_bounds,
                               std::vector<std::string> label_names = {});

  /// Every family in name order, children in label-value order, as the
  /// Prometheus text format 0.0.4 (`# HELP`, `# TYPE`, then samples).
  /// Families without children are rendered with HELP and TYPE only.
  std::string render() const;

  /// The Content-Type of render()'s output.
  static constexpr const char* kContentType = "text/plain; version=0.0.4; charset=utf-8";

 private:
  struct Entry;
  template <class M>
  Family<M>& add(const std::string& name, const std::string& help, MetricType type,
                 std::vector<std::string> label_names, std::vector<double> bounds);

  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<Entry>> families_;
};

/// Escapes a label value for the text format: `\` `"` and newline.
std::string escape_label_value(std::string_view v);
/// Escapes a HELP text: `\` and newline.
std::string escape_help(std::string_view v);
/// A sample value as the text format writes it (integers without a
/// fraction, `+Inf`, `-Inf`, `NaN`).
std::string format_sample_value(double v);

}  // namespace hubsync::ops
