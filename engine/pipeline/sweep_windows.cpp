#include "engine/pipeline/sweep_windows.h"

#include <algorithm>

namespace hubsync::pipeline {

std::string encode_windows(const std::vector<SweepCursor>& windows) {
  std::string out;
  for (std::size_t i = 0; i < windows.size(); ++i) out += (i ? ";" : "") + windows[i].encode();
  return out;
}

std::optional<std::vector<SweepCursor>> decode_windows(std::string_view text) {
  std::vector<SweepCursor> out;
  for (std::size_t at = 0;;) {
    const auto semi = text.find(';', at);
    auto c = SweepCursor::decode(text.substr(at, semi == std::string_view::npos ? std::string_view::npos : semi - at));
    if (!c) return std::nullopt;
    out.push_back(std::move(*c));
    if (semi == std::string_view::npos) break;
    at = semi + 1;
  }
  for (std::size_t i = 0; i < out.size(); ++i)
    if ((out[i].until_ms == SweepCursor::kUnbounded) != (i + 1 == out.size())) return std::nullopt;
  return out;
}

std::optional<std::int64_t> split_point(const SweepCursor& at, std::int64_t remaining, int page_size,
                                        std::int64_t settled_before_ms) {
  if (at.in_tie || remaining <= 2 * static_cast<std::int64_t>(page_size)) return std::nullopt;
  const std::int64_t end = std::min(at.until_ms, settled_before_ms);
  if (end <= at.modified_ms || end - at.modified_ms < 2) return std::nullopt;
  return at.modified_ms + (end - at.modified_ms) / 2;
}

}  // namespace hubsync::pipeline
