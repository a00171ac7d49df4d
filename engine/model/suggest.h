#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace hubsync::model {

/// Edit distance between two strings (bytes), counting an adjacent swap as one edit.
std::size_t edit_distance(std::string_view a, std::string_view b);

/// The candidate closest to `word` when it is close enough to be a likely
/// misspelling (distance <= max(1, len/3)); empty otherwise. Used for
/// "did you mean" hints on config and mapping keys.
std::string closest_match(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace hubsync::model
