// `hubsync conflicts list`: fields both sides changed, both values, the base,
// the rule that decided and the winner. Read-only: works beside a running
// engine. Values are field data, never secrets; the config's secrets are
// redacted from every line anyway.
#include <cctype>
#include <iostream>

#include "engine/cli/app.h"
#include "engine/cli/runtime.h"
#include "engine/model/record.h"
#include "engine/model/value.h"

namespace hubsync::cli {

namespace {

// "90s", "30m", "24h", "7d" -> milliseconds; nullopt when unreadable.
std::optional<std::int64_t> duration_ms(const std::string& s) {
  if (s.size() < 2) return std::nullopt;
  auto n = model::parse_integer(s.substr(0, s.size() - 1));
  if (!n.ok() || *n < 0) return std::nullopt;
  switch (s.back()) {
    case 's': return *n * 1000;
    case 'm': return *n * 60'000;
    case 'h': return *n * 3'600'000;
    case 'd': return *n * 86'400'000;
    default: return std::nullopt;
  }
}

std::string shown(const std::optional<std::string>& v) { return v ? "'" + *v + "'" : "(none)"; }

std::string json_opt(const std::optional<std::string>& v) { return v ? model::json_quote(*v) : "null"; }

void print_text(const config::Config& cfg, const state::ConflictRecord& c) {
  std::cout << config::redact(
      cfg, "#" + std::to_string(c.id) + "  " + model::format_datetime({c.decided_at_ms}) + "  " +
               c.mapping + "  key=" + c.pg_key + "  hubspot_id=" + c.hubspot_id + "  field=" + c.field +
               "\n    postgres " + shown(c.pg_value) + ", hubspot " + shown(c.hs_value) + ", base " +
               shown(c.base_value) + " -> " + state::to_string(c.winner) + " won (rule: " + c.rule +
               ")\n");
}

std::string json_of(const state::ConflictRecord& c) {
  return "{\"id\":" + std::to_string(c.id) + ",\"decided_at\":" +
         model::json_quote(model::format_datetime({c.decided_at_ms})) + ",\"mapping\":" +
         model::json_quote(c.mapping) + ",\"pg_key\":" + model::json_quote(c.pg_key) +
         ",\"hubspot_id\":" + model::json_quote(c.hubspot_id) + ",\"field\":" +
         model::json_quote(c.field) + ",\"postgres_value\":" + json_opt(c.pg_value) +
         ",\"hubspot_value\":" + json_opt(c.hs_value) + ",\"base_value\":" + json_opt(c.base_value) +
         ",\"winner\":" + model::json_quote(state::to_string(c.winner)) + ",\"rule\":" +
         model::json_quote(c.rule) + "}";
}

}  // namespace

int cmd_conflicts_list(const GlobalOptions& global, const std::string& mapping,
                       const std::string& since, bool json) {
  config::Config cfg;
  if (!load_config_or_report(global, cfg)) return kExitError;
  std::optional<std::int64_t> window;
  if (!since.empty() && !(window = duration_ms(since))) {
    std::cerr << "conflicts: --since '" << since << "' is not a duration (90s, 30m, 24h, 7d)\n";
    return kExitUnavailable;
  }
  auto store = open_state(cfg, /*read_only=*/true);
  if (!store) return kExitUnavailable;
  auto list = store->list_conflicts(mapping, 100000);
  if (!list.ok()) {
    std::cerr << "conflicts: " << list.error().message << '\n';
    return kExitUnavailable;
  }
  ratelimit::SystemClock clock;
  const std::int64_t cutoff = window ? clock.wall_ms() - *window : 0;
  std::string out;
  std::size_t n = 0;
  for (const auto& c : *list) {
    if (c.decided_at_ms < cutoff) continue;
    ++n;
    if (json) out += std::string(out.empty() ? "" : ",\n ") + json_of(c);
    else print_text(cfg, c);
  }
  if (json) std::cout << config::redact(cfg, "[" + out + "]") << '\n';
  else if (n == 0) std::cout << "no conflicts\n";
  return kExitOk;
}

}  // namespace hubsync::cli
