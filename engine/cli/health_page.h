#pragma once

#include <cstdint>
#include <string>

#include "engine/service/health_board.h"
#include "engine/state/state_store.h"

namespace hubsync::cli {

/// The sync-health page `serve` answers at GET / (README, "The health
/// page"): one self-contained HTML document — no script, no external asset,
/// a meta refresh every 10 s — with, per mapping and direction, the lag,
/// the backlog, what was written in the last hour (an inline SVG chart),
/// the dead letters and the last success; then the pending dead letters
/// with their reasons, the recent conflicts with the rule that decided
/// (never the values), and the rate budget. Every text from outside is
/// HTML-escaped. Reads the store (thread-safe); never writes.
std::string render_health_page(const service::HealthView& view, state::StateStore& store, std::int64_t now_ms);

/// `text` with & < > " ' escaped for HTML text and attribute values. Pure.
std::string html_escape(const std::string& text);

}  // namespace hubsync::cli
