// The sync-health page of `serve`: server-rendered, self-contained HTML.
#include "engine/cli/health_page.h"

#include <algorithm>
#include <cstdio>
#include <map>

#include "engine/cli/status.h"

namespace hubsync::cli {

namespace {

constexpr const char* kStyle =
    "body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#1d2430}"
    "h1{font-size:1.4em}h2{font-size:1.1em;margin-top:1.6em}"
    "table{border-collapse:collapse;margin:.4em 0}th,td{border-bottom:1px solid #dde;padding:.25em .7em;"
    "text-align:left;vertical-align:middle}td.n{text-align:right;font-variant-numeric:tabular-nums}"
    ".bad{color:#b00020;font-weight:600}.ok{color:#146c2e}.muted{color:#667}svg{display:block}";

std::string fixed(double v, int decimals) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

// 60 bars, the last hour of one direction, the tallest scaled to the box.
std::string chart(const std::vector<std::int64_t>& per_minute, const std::string& label) {
  constexpr int kW = 3, kH = 28;
  const std::int64_t top = std::max<std::int64_t>(1, *std::max_element(per_minute.begin(), per_minute.end()));
  std::string svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + std::to_string(kW * 60) + "\" height=\"" +
                    std::to_string(kH) + "\" role=\"img\" aria-label=\"" + html_escape(label) + "\">";
  svg += "<rect width=\"100%\" height=\"100%\" fill=\"#f3f5f9\"/>";
  for (std::size_t i = 0; i < per_minute.size(); ++i) {
    if (per_minute[i] <= 0) continue;
    const int h = std::max<int>(1, static_cast<int>(kH * per_minute[i] / top));
    svg += "<rect x=\"" + std::to_string(static_cast<int>(i) * kW) + "\" y=\"" + std::to_string(kH - h) +
           "\" width=\"" + std::to_string(kW - 1) + "\" height=\"" + std::to_string(h) + "\" fill=\"#3b6fd8\"/>";
  }
  return svg + "</svg>";
}

std::string cell(const std::string& field, const std::string& value, const char* cls = "n") {
  return std::string("<td class=\"") + cls + "\" data-field=\"" + field + "\">" + value + "</td>";
}

std::string directions_table(const service::HealthView& v, state::StateStore& store) {
  std::map<std::pair<std::string, std::string>, state::PassRecord> passes;
  if (auto p = store.list_passes(); p.ok())
    for (auto& r : *p) passes[{r.mapping, state::to_string(r.direction)}] = r;
  std::map<std::pair<std::string, std::string>, std::int64_t> dead;  // pending, per direction
  state::DeadLetterFilter f;
  f.status = state::DeadLetterStatus::pending;
  f.limit = 1'000'000;
  if (auto l = store.list_dead_letters(f); l.ok())
    for (const auto& dl : *l) ++dead[{dl.mapping, state::to_string(dl.direction)}];
  std::string out =
      "<table id=\"directions\"><tr><th>mapping</th><th>direction</th><th>lag</th><th>backlog</th>"
      "<th>written, last hour</th><th></th><th>dead letters</th><th>deletions held</th><th>last success</th>"
      "<th>last failure</th></tr>";
  for (const auto& d : v.directions) {
    std::int64_t hour = 0;
    for (auto n : d.per_minute) hour += n;
    const auto pass = passes.find({d.mapping, d.direction});
    const bool failing = pass != passes.end() && pass->second.last_error_ms;
    out += "<tr data-mapping=\"" + html_escape(d.mapping) + "\" data-direction=\"" + d.direction + "\">";
    out += "<td>" + html_escape(d.mapping) + "</td><td>" + d.direction + "</td>";
    out += cell("lag", fixed(d.lag_seconds, 1) + " s");
    out += cell("backlog", std::to_string(d.backlog));
    out += cell("hour", std::to_string(hour));
    out += "<td>" + chart(d.per_minute, d.mapping + " " + d.direction + ": records written per minute") + "</td>";
    const std::int64_t letters = dead[{d.mapping, d.direction}];
    out += cell("dead_letters", std::to_string(letters), letters > 0 ? "n bad" : "n");
    std::int64_t held = 0;  // over the mapping's max_deletes: `hubsync deletes allow`
    if (auto dir = state::direction_from_string(d.direction))
      if (auto h = pipeline::held_deletes(store, d.mapping, *dir); h.ok() && *h) held = (*h)->count;
    out += cell("held", std::to_string(held), held > 0 ? "n bad" : "n");
    out += cell("last_ok", format_when(pass == passes.end() ? std::nullopt : pass->second.last_ok_ms), "");
    out += cell("last_error",
                failing ? format_when(pass->second.last_error_ms) + ": " + html_escape(pass->second.last_error) : "none",
                failing ? "bad" : "muted");
    out += "</tr>";
  }
  return out + "</table>";
}

std::string dead_letters_table(state::StateStore& store) {
  state::DeadLetterFilter f;
  f.status = state::DeadLetterStatus::pending;
  f.limit = 50;
  auto list = store.list_dead_letters(f);
  if (!list.ok()) return "<p class=\"bad\">dead letters: " + html_escape(list.error().message) + "</p>";
  if (list->empty()) return "<p id=\"dead-letters\" class=\"ok\">none pending</p>";
  std::string out = "<table id=\"dead-letters\"><tr><th>#</th><th>mapping</th><th>direction</th><th>row</th>"
                    "<th>object</th><th>reason</th><th>tries</th><th>next retry</th></tr>";
  for (const auto& dl : *list) {
    const std::string why = (dl.category.empty() ? model::to_string(dl.error_kind) : dl.category) +
                            (dl.http_status ? " (HTTP " + std::to_string(dl.http_status) + ")" : "") + ": " +
                            dl.message;
    out += "<tr><td class=\"n\">" + std::to_string(dl.id) + "</td><td>" + html_escape(dl.mapping) + "</td><td>" +
           state::to_string(dl.direction) + "</td><td>" + html_escape(dl.pg_key) + "</td><td>" +
           html_escape(dl.hubspot_id) + "</td><td>" + html_escape(why) + "</td><td class=\"n\">" +
           std::to_string(dl.attempts) + "</td><td>" + format_when(dl.next_retry_at_ms) + "</td></tr>";
  }
  return out + "</table>";
}

std::string conflicts_table(state::StateStore& store) {
  auto list = store.list_conflicts("", 20);
  if (!list.ok()) return "<p class=\"bad\">conflicts: " + html_escape(list.error().message) + "</p>";
  if (list->empty()) return "<p id=\"conflicts\" class=\"muted\">none recorded</p>";
  std::string out = "<table id=\"conflicts\"><tr><th>decided</th><th>mapping</th><th>row</th><th>object</th>"
                    "<th>field</th><th>winner</th><th>rule</th></tr>";
  for (const auto& c : *list)
    out += "<tr><td>" + format_when(c.decided_at_ms) + "</td><td>" + html_escape(c.mapping) + "</td><td>" +
           html_escape(c.pg_key) + "</td><td>" + html_escape(c.hubspot_id) + "</td><td>" + html_escape(c.field) +
           "</td><td>" + state::to_string(c.winner) + "</td><td>" + html_escape(c.rule) + "</td></tr>";
  return out + "</table>";
}

// Workflow actions, when any ran in the last 24 h or a workflow still waits
// for an accepted callback; nothing otherwise.
std::string actions_section(state::StateStore& store, std::int64_t now_ms) {
  auto a = store.action_summary(now_ms - 86'400'000);
  if (!a.ok()) return "<h2>Workflow actions</h2><p class=\"bad\">" + html_escape(a.error().message) + "</p>";
  if (a->executions == 0 && a->awaiting_callback == 0) return "";
  std::string out = "<h2>Workflow actions</h2><p id=\"actions\"><span data-field=\"executions\">" +
                    std::to_string(a->executions) + "</span> execution(s) in the last 24 h (" +
                    std::to_string(a->running) + " running" +
                    (a->failing > 0 ? ", <span data-field=\"failing\" class=\"bad\">" + std::to_string(a->failing) +
                                          "</span> failed at their last run, retried (last error: " +
                                          html_escape(a->last_failure) + ")"
                                    : std::string()) +
                    "); <span data-field=\"awaiting\" class=\"" +
                    (a->awaiting_callback > 0 ? "bad" : "ok") + "\">" + std::to_string(a->awaiting_callback) +
                    "</span> waiting for HubSpot to accept their callback";
  if (a->awaiting_callback > 0) out += " (oldest since " + format_when(a->oldest_awaiting_ms) + ")";
  if (!a->last_error.empty()) out += "; last callback failure: " + html_escape(a->last_error);
  return out + ".</p>";
}

std::string budget(const ratelimit::LimiterStats& l) {
  std::string out = "<p id=\"budget\">HubSpot rate budget: burst <span data-field=\"burst\">" +
                    std::to_string(l.burst_used) + " of " + std::to_string(l.burst_limit) +
                    "</span> in the rolling window, search " + std::to_string(l.search_used) + " of " +
                    std::to_string(l.search_limit) + " per second, today ";
  out += l.daily_limit > 0 ? "<span data-field=\"daily\">" + std::to_string(l.daily_used) + " of " +
                                 std::to_string(l.daily_limit) + "</span>"
                           : "<span data-field=\"daily\">unknown (no answer carried the daily limit yet)</span>";
  return out + "; 429s received " + std::to_string(l.rate_limited) + ".</p>";
}

// Each clock against this host's, marked when it is off (status's rule).
std::string clocks(const service::HealthView& v) {
  auto one = [](const char* field, const std::optional<model::ClockOffset>& o) {
    const bool off = clock_is_off(o);
    return std::string("<span data-field=\"") + field + "\" class=\"" + (off ? "bad" : o ? "ok" : "muted") + "\">" +
           html_escape(describe_clock(o)) + (off ? ": off" : "") + "</span>";
  };
  std::string out = "<p id=\"clocks\">HubSpot's clock: " + one("hubspot_clock", v.hubspot_clock) +
                    ". The database's clock: " + one("postgres_clock", v.postgres_clock) + ".";
  if (clock_is_off(v.hubspot_clock) || clock_is_off(v.postgres_clock))
    out += " <span class=\"bad\">conflict: newest compares change times of two clocks: put the hosts on NTP.</span>";
  return out + "</p>";
}

}  // namespace

std::string html_escape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string render_health_page(const service::HealthView& v, state::StateStore& store, std::int64_t now_ms) {
  std::string out = "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
                    "<meta http-equiv=\"refresh\" content=\"10\"><meta name=\"viewport\" "
                    "content=\"width=device-width\"><title>hubsync: sync health</title><style>";
  out += kStyle;
  out += "</style></head><body><h1>hubsync: sync health</h1>";
  if (v.at_ms == 0) {
    out += "<p id=\"state\" class=\"muted\">Starting: no figures yet (they are published every few seconds).</p>";
  } else {
    out += "<p id=\"state\">Figures of " + format_when(v.at_ms) + " (page " + format_when(now_ms) +
           "). PostgreSQL: <span data-field=\"postgres\" class=\"" + (v.postgres_ok ? "ok\">up" : "bad\">unreachable") +
           "</span>. HubSpot: <span data-field=\"hubspot\" class=\"" + (v.hubspot_ok ? "ok\">up" : "bad\">unreachable") +
           "</span>.</p>";
  }
  out += "<h2>Mappings</h2>" + directions_table(v, store);
  out += "<h2>Dead letters</h2>" + dead_letters_table(store);
  out += "<h2>Recent conflicts</h2>" + conflicts_table(store);
  out += actions_section(store, now_ms);
  out += "<h2>Rate budget</h2>" + budget(v.limiter);
  out += "<h2>Clocks</h2>" + clocks(v);
  return out + "</body></html>\n";
}

}  // namespace hubsync::cli
