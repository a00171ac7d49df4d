#include "engine/ops/metrics.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <variant>

#include <fmt/format.h>

namespace hubsync::ops {

namespace {

bool valid_metric_name(std::string_view s) {
  if (s.empty()) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
    const bool digit = c >= '0' && c <= '9';
    if (!(alpha || (i > 0 && digit))) return false;
  }
  return true;
}

bool valid_label_name(std::string_view s) {
  if (s.empty() || s.rfind("__", 0) == 0) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    const bool digit = c >= '0' && c <= '9';
    if (!(alpha || (i > 0 && digit))) return false;
  }
  return true;
}

const char* type_name(MetricType t) {
  switch (t) {
    case MetricType::counter: return "counter";
    case MetricType::gauge: return "gauge";
    case MetricType::histogram: return "histogram";
  }
  return "untyped";
}

// `{a="x",b="y"}` (with an extra label appended when `extra_name` is set), or
// nothing when there are no labels at all.
std::string label_set(const std::vector<std::string>& names, const std::vector<std::string>& values,
                      const char* extra_name = nullptr, const std::string& extra_value = {}) {
  if (names.empty() && extra_name == nullptr) return {};
  std::string out = "{";
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += ',';
    out += names[i];
    out += "=\"";
    out += escape_label_value(values[i]);
    out += '"';
  }
  if (extra_name != nullptr) {
    if (!names.empty()) out += ',';
    out += extra_name;
    out += "=\"";
    out += escape_label_value(extra_value);
    out += '"';
  }
  out += '}';
  return out;
}

}  // namespace

std::string escape_label_value(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string escape_help(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string format_sample_value(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == std::floor(v) && std::fabs(v) < 1e15) return fmt::format("{}", static_cast<std::int64_t>(v));
  return fmt::format("{}", v);
}

// --- Histogram ---

Histogram::Histogram(std::vector<double> upper_bounds)
    : bounds_(std::move(upper_bounds)),
      buckets_(new std::atomic<std::uint64_t>[bounds_.size() + 1]) {
  for (std::size_t i = 0; i <= bounds_.size(); ++i) buckets_[i].store(0, std::memory_order_relaxed);
}

void Histogram::observe(double v) noexcept {
  // First bucket whose upper bound holds v (bounds are inclusive: le).
  std::size_t i = 0;
  while (i < bounds_.size() && v > bounds_[i]) ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::snapshot() const {
  Snapshot s;
  s.upper_bounds = bounds_;
  std::uint64_t running = 0;
  for (std::size_t i = 0; i <= bounds_.size(); ++i) {
    running += buckets_[i].load(std::memory_order_relaxed);
    s.cumulative.push_back(running);
  }
  s.sum = sum_.load(std::memory_order_relaxed);
  // The +Inf bucket and the count must agree in one scrape.
  s.count = running;
  return s;
}

// --- Family ---

template <class M>
M& Family<M>::with(const std::vector<std::string>& label_values) {
  if (label_values.size() != label_names_.size()) {
    throw std::invalid_argument(fmt::format("metric {}: {} label values for {} labels", name_,
                                            label_values.size(), label_names_.size()));
  }
  std::lock_guard lock(mu_);
  auto it = children_.find(label_values);
  if (it != children_.end()) return *it->second;
  std::unique_ptr<M> child;
  if constexpr (std::is_same_v<M, Histogram>) {
    child = std::make_unique<Histogram>(bounds_);
  } else {
    child = std::make_unique<M>();
  }
  M& ref = *child;
  children_.emplace(label_values, std::move(child));
  return ref;
}

template <class M>
M& Family<M>::with(std::initializer_list<std::string_view> label_values) {
  std::vector<std::string> v;
  v.reserve(label_values.size());
  for (auto s : label_values) v.emplace_back(s);
  return with(v);
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

// --- Registry ---

struct Registry::Entry {
  std::string help;
  MetricType type;
  std::variant<std::unique_ptr<Family<Counter>>, std::unique_ptr<Family<Gauge>>,
               std::unique_ptr<Family<Histogram>>>
      family;
};

Registry::Registry() = default;
Registry::~Registry() = default;

template <class M>
Family<M>& Registry::add(const std::string& name, const std::string& help, MetricType type,
                         std::vector<std::string> label_names, std::vector<double> bounds) {
  if (!valid_metric_name(name)) throw std::invalid_argument("bad metric name: " + name);
  if (type == MetricType::counter && !name.ends_with("_total"))
    throw std::invalid_argument("counter name must end in _total: " + name);
  for (const auto& l : label_names) {
    if (!valid_label_name(l) || (type == MetricType::histogram && l == "le"))
      throw std::invalid_argument(fmt::format("metric {}: bad label name '{}'", name, l));
  }
  if (type == MetricType::histogram) {
    if (bounds.empty() || !std::is_sorted(bounds.begin(), bounds.end()) ||
        std::adjacent_find(bounds.begin(), bounds.end()) != bounds.end() ||
        std::any_of(bounds.begin(), bounds.end(), [](double b) { return !std::isfinite(b); }))
      throw std::invalid_argument("histogram buckets must be finite and ascending: " + name);
  }
  std::lock_guard lock(mu_);
  auto it = families_.find(name);
  if (it != families_.end()) {
    auto* existing = std::get_if<std::unique_ptr<Family<M>>>(&it->second->family);
    if (it->second->type != type || existing == nullptr ||
        (*existing)->label_names() != label_names || (*existing)->bounds_ != bounds)
      throw std::invalid_argument("metric registered twice with another shape: " + name);
    return **existing;
  }
  // Family's constructor is private to the registry.
  std::unique_ptr<Family<M>> f(new Family<M>(name, std::move(label_names), std::move(bounds)));
  Family<M>& ref = *f;
  families_.emplace(name, std::make_unique<Entry>(Entry{help, type, std::move(f)}));
  return ref;
}

Family<Counter>& Registry::counter(const std::string& name, const std::string& help,
                                   std::vector<std::string> label_names) {
  return add<Counter>(name, help, MetricType::counter, std::move(label_names), {});
}

Family<Gauge>& Registry::gauge(const std::string& name, const std::string& help,
                               std::vector<std::string> label_names) {
  return add<Gauge>(name, help, MetricType::gauge, std::move(label_names), {});
}

Family<Histogram>& Registry::histogram(const std::string& name, const std::string& help,
                                       std::vector<double> upper_bounds,
                                       std::vector<std::string> label_names) {
  return add<Histogram>(name, help, MetricType::histogram, std::move(label_names),
                        std::move(upper_bounds));
}

std::string Registry::render() const {
  std::string out;
  std::lock_guard lock(mu_);
  for (const auto& [name, e] : families_) {
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, escape_help(e->help), name,
                       type_name(e->type));
    std::visit(
        [&](const auto& fam) {
          using F = std::decay_t<decltype(*fam)>;
          const auto& names = fam->label_names();
          fam->for_each([&](const std::vector<std::string>& values, const auto& m) {
            if constexpr (std::is_same_v<F, Family<Counter>>) {
              out += fmt::format("{}{} {}\n", name, label_set(names, values), m.value());
            } else if constexpr (std::is_same_v<F, Family<Gauge>>) {
              out += fmt::format("{}{} {}\n", name, label_set(names, values),
                                 format_sample_value(m.value()));
            } else {
              const auto s = m.snapshot();
              for (std::size_t i = 0; i <= s.upper_bounds.size(); ++i) {
                const std::string le =
                    i < s.upper_bounds.size() ? format_sample_value(s.upper_bounds[i]) : "+Inf";
                out += fmt::format("{}_bucket{} {}\n", name, label_set(names, values, "le", le),
                                   s.cumulative[i]);
              }
              out += fmt::format("{}_sum{} {}\n", name, label_set(names, values),
                                 format_sample_value(s.sum));
              out += fmt::format("{}_count{} {}\n", name, label_set(names, values), s.count);
            }
          });
        },
        e->family);
  }
  return out;
}

}  // namespace hubsync::ops
