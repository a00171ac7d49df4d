#include "engine/pipeline/change_times.h"

#include <algorithm>

namespace hubsync::pipeline {

void ChangeTimes::add(std::int64_t at_ms, const std::vector<std::string>& changed) {
  newest = std::max(newest, at_ms);
  if (changed.empty()) every_column = std::max(every_column, at_ms);
  for (const auto& c : changed) {
    auto& t = columns[c];
    t = std::max(t, at_ms);
  }
}

std::int64_t ChangeTimes::of(const std::vector<std::string>& cols) const {
  std::int64_t at = every_column;
  for (const auto& c : cols)
    if (auto t = columns.find(c); t != columns.end()) at = std::max(at, t->second);
  return at;
}

}  // namespace hubsync::pipeline
