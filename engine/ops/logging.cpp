#include "engine/ops/logging.h"

#include <mutex>

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>

#include "engine/model/record.h"

namespace hubsync::ops {

namespace {

// %Q: the message as a JSON string literal, so a JSON log line stays valid
// whatever the message holds.
class JsonMessageFlag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    std::string quoted = model::json_quote(std::string(msg.payload.data(), msg.payload.size()));
    dest.append(quoted.data(), quoted.data() + quoted.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<JsonMessageFlag>();
  }
};

struct LoggingState {
  std::mutex mu;
  spdlog::sink_ptr sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  spdlog::level::level_enum level = spdlog::level::info;
  LogFormat format = LogFormat::text;
};

std::unique_ptr<spdlog::formatter> make_formatter(LogFormat format);

LoggingState& state() {
  static LoggingState* s = [] {
    auto* st = new LoggingState;  // never destroyed: loggers may log during exit
    st->sink->set_formatter(make_formatter(LogFormat::text));
    return st;
  }();
  return *s;
}

std::unique_ptr<spdlog::formatter> make_formatter(LogFormat format) {
  auto f = std::make_unique<spdlog::pattern_formatter>(spdlog::pattern_time_type::utc);
  if (format == LogFormat::json) {
    f->add_flag<JsonMessageFlag>('Q').set_pattern(
        R"({"ts":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l","logger":"%n","msg":%Q})");
  } else {
    f->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %-5l %-8n %v");
  }
  return f;
}

}  // namespace

model::Status setup_logging(const std::string& level, LogFormat format) {
  auto lvl = spdlog::level::from_str(level);
  if (lvl == spdlog::level::off && level != "off")
    return model::make_error(model::ErrorKind::fatal, "unknown log level '" + level + "'");
  auto& s = state();
  std::lock_guard lock(s.mu);
  s.level = lvl;
  s.format = format;
  s.sink->set_formatter(make_formatter(format));
  spdlog::apply_all([&](const std::shared_ptr<spdlog::logger>& l) { l->set_level(lvl); });
  return {};
}

std::shared_ptr<spdlog::logger> logger(const std::string& module) {
  auto& s = state();
  std::lock_guard lock(s.mu);
  if (auto existing = spdlog::get(module)) return existing;
  auto l = std::make_shared<spdlog::logger>(module, s.sink);
  l->set_level(s.level);
  l->flush_on(spdlog::level::warn);
  spdlog::register_logger(l);
  return l;
}

}  // namespace hubsync::ops
