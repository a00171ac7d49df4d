#pragma once

#include <memory>
#include <string>

#include <spdlog/spdlog.h>

#include "engine/model/result.h"

namespace hubsync::ops {

enum class LogFormat { text, json };

/// Configures every hubsync logger: level (trace|debug|info|warn|error|off)
/// and format. Text lines look like
///   2026-11-27T15:00:00.123Z info  push  mapping=customers batch=3 n=100
/// JSON lines are one object each: {"ts":..,"level":..,"logger":..,"msg":..}.
/// Logs go to stderr; stdout is left for command output. Call once at start-up
/// before any logger is used; later calls reconfigure existing loggers.
model::Status setup_logging(const std::string& level, LogFormat format);

/// The named logger of one module ("postgres", "push", "hubspot", ...),
/// created on first use with the configured sink and level. Thread-safe.
std::shared_ptr<spdlog::logger> logger(const std::string& module);

}  // namespace hubsync::ops
