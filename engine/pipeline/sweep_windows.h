#pragma once

// The windows a sweep reads side by side. One search at a time cannot fill
// HubSpot's search budget (5/s) at its latency (a page takes 150-600 ms),
// so a sweep with much left splits its range by modified time into
// windows, each its own chain of pages. The checkpoint holds every
// window's cursor.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/pipeline/crm_port.h"

namespace hubsync::pipeline {

/// A window never ends this close to the present: objects modified in it
/// have been in HubSpot's search index (seconds behind writes) long before
/// it is searched, so a window once done has missed nothing. The newest
/// window has no end; the overlap of the next sweep covers its lag.
inline constexpr std::int64_t kWindowSettledMs = 60'000;

/// Cursors of the windows, oldest first, ';'-joined (a cursor's text has
/// no ';'). One unbounded cursor encodes as SweepCursor::encode() alone,
/// so checkpoints written before windows read as one window.
std::string encode_windows(const std::vector<SweepCursor>& windows);

/// The windows of a checkpoint; nullopt when any cursor is malformed, or
/// unless every window but the last, and only those, has an end.
std::optional<std::vector<SweepCursor>> decode_windows(std::string_view text);

/// Where to split a window at `at` with `remaining` objects still to read
/// (-1: not known): the time that ends its lower half, the upper half going
/// on after it. Only when at least two more pages remain, the window is
/// not inside a run of one timestamp, and its range (up to its end, and up
/// to `settled_before_ms` at the latest) spans 2 ms or more.
std::optional<std::int64_t> split_point(const SweepCursor& at, std::int64_t remaining, int page_size,
                                        std::int64_t settled_before_ms);

}  // namespace hubsync::pipeline
