#pragma once

#include <cstdint>
#include <functional>
#include <string>

namespace hubsync::pipeline {

/// Progress of a long operation of one mapping: `what` is "initial load",
/// "pull backfill", "pull sweep" or "association pass"; `done` items of
/// `total` (-1: not known yet). Called with (0, -1) when an operation (or
/// a step of one that is run in steps) starts, after each batch or page,
/// and once more with done == total when the operation ends.
using ProgressFn = std::function<void(const std::string& what, const std::string& mapping, std::int64_t done,
                                      std::int64_t total)>;

}  // namespace hubsync::pipeline
