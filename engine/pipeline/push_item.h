#pragma once

// Internal to the push pipeline (push.cpp, push_links.cpp).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/pipeline/push.h"

namespace hubsync::pipeline {

/// One row to push: from the initial scan (no change ids) or coalesced from
/// one or more changelog rows of the same key.
struct Pusher::Item {
  model::RecordKey key;
  std::string pg_key;
  std::vector<std::int64_t> change_ids;
  std::optional<Row> row;  // nullopt: the row is gone
  std::int64_t changed_at_ms = 0;

  // Decided while processing.
  std::optional<ChangeOutcome> outcome;
  std::string detail;
  bool retry_later = false;  // release (or enqueue) instead of completing
  std::int64_t retry_delay_ms = 0;
};

}  // namespace hubsync::pipeline
