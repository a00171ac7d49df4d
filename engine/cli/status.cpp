// What `hubsync status` gathers and how it prints it. Read-only: the state
// store is opened without the writer lock, Postgres is only counted.
#include "engine/cli/status.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <sstream>

#include "engine/model/record.h"
#include "engine/model/value.h"
#include "engine/pipeline/fingerprint.h"

namespace hubsync::cli {

namespace {

constexpr std::int64_t kDayMs = 86'400'000;

double age_s(state::TimeMs now, state::TimeMs since) {
  return since > 0 ? std::max<double>(0, static_cast<double>(now - since) / 1000.0) : 0.0;
}

bool covers(const mapping::Mapping& m, const std::string& object_type) {
  const auto& o = m.object;
  return m.kind == mapping::MappingKind::object &&
         (o.name == object_type || o.object_type_id == object_type || o.path() == object_type);
}

void collect_state(const mapping::Mapping& m, state::StateStore& store, const std::vector<state::InboxBacklog>& inbox,
                   const std::vector<state::PassRecord>& passes, state::TimeMs now, MappingStatus& out) {
  for (auto& d : out.directions) {
    state::DeadLetterFilter f;
    f.mapping = m.name;
    f.direction = d.direction;
    f.status = state::DeadLetterStatus::pending;
    f.limit = 1'000'000;
    if (auto dl = store.list_dead_letters(f); dl.ok()) d.dead_letters = static_cast<std::int64_t>(dl->size());
    if (auto held = pipeline::held_deletes(store, m.name, d.direction); held.ok()) d.held = *held;
    d.max_deletes = m.max_deletes.to_string();
    for (const auto& p : passes) {
      if (p.mapping != m.name || p.direction != d.direction) continue;
      d.last_ok_ms = p.last_ok_ms;
      d.last_error_ms = p.last_error_ms;
      d.last_error = p.last_error;
    }
    if (d.direction != state::Direction::to_postgres) continue;
    d.backlog = 0;
    d.lag_seconds = 0.0;
    for (const auto& b : inbox) {
      if (!covers(m, b.object_type)) continue;
      *d.backlog += b.pending;
      d.lag_seconds = std::max(*d.lag_seconds, age_s(now, b.oldest_received_ms));
    }
  }
  if (auto c = store.list_conflicts(m.name, 1'000'000); c.ok())
    out.conflicts_24h = std::count_if(c->begin(), c->end(), [&](const auto& r) { return r.decided_at_ms >= now - kDayMs; });
  if (auto cps = store.list_checkpoints(m.name); cps.ok())
    for (auto& c : *cps)
      if (!pipeline::is_fingerprint_checkpoint(c.cursor_name) && c.cursor_name.rfind("deletes ", 0) != 0)
        out.checkpoints.push_back(std::move(c));
}

}  // namespace

std::string format_when(std::optional<state::TimeMs> t) {
  return t ? model::format_datetime({*t}) : std::string("never");
}

void collect_status(const std::vector<mapping::Mapping>& mappings, state::StateStore* store,
                    pipeline::DatabasePort* db, StatusReport& report) {
  const auto now = report.generated_at_ms;
  std::vector<state::InboxBacklog> inbox;
  std::vector<state::PassRecord> passes;
  if (store != nullptr) {
    if (auto b = store->inbox_backlog(); b.ok()) inbox = std::move(*b);
    if (auto p = store->list_passes(); p.ok()) passes = std::move(*p);
    if (auto r = store->last_run(); r.ok()) report.last_run = *r;
    const bool any_actions = std::any_of(mappings.begin(), mappings.end(), [](const auto& m) { return !m.actions.empty(); });
    if (any_actions)
      if (auto a = store->action_summary(now - kDayMs); a.ok()) report.actions = *a;
  }
  for (const auto& m : mappings) {
    MappingStatus ms;
    ms.name = m.name;
    ms.table = m.table.display();
    ms.object = m.kind == mapping::MappingKind::object ? m.object.name : "(link table)";
    ms.direction = mapping::to_string(m.direction);
    for (const auto d : {state::Direction::to_hubspot, state::Direction::to_postgres}) {
      if (d == state::Direction::to_hubspot ? !m.pushes() : !m.pulls()) continue;
      DirectionStatus ds;
      ds.direction = d;
      ms.directions.push_back(std::move(ds));
    }
    for (auto& d : ms.directions) {
      if (d.direction != state::Direction::to_hubspot || db == nullptr) continue;
      auto n = db->count_pending(m.name);
      auto t = db->oldest_pending_ms(m.name);
      if (n.ok()) d.backlog = *n;
      if (t.ok()) d.lag_seconds = age_s(now, *t);
    }
    if (store != nullptr) collect_state(m, *store, inbox, passes, now, ms);
    report.mappings.push_back(std::move(ms));
  }
}

namespace {

std::string count(std::optional<std::int64_t> n) { return n ? std::to_string(*n) : std::string("unknown"); }

std::string seconds(std::optional<double> s) {
  if (!s) return "unknown";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f s", *s);
  return buf;
}

// `refused_as`: what Reachability::refused means for this dependency.
std::string reach(const char* name, const Reachability& r, const char* refused_as = "REFUSED") {
  if (!r.checked) return std::string(name) + ": not checked";
  return std::string(name) + ": " + (r.reachable ? "reachable" : "UNREACHABLE") +
         (r.refused ? std::string(", ") + refused_as : "") + (r.detail.empty() ? "" : " (" + r.detail + ")");
}

std::string clock_line(const char* name, const std::optional<model::ClockOffset>& o) {
  return std::string(name) + " clock: " + describe_clock(o) +
         (clock_is_off(o) ? ": OFF (conflict: newest still compares on one clock; put the hosts on NTP)" : "") + "\n";
}

}  // namespace

std::string describe_clock(const std::optional<model::ClockOffset>& o) {
  if (!o) return "not read";
  char buf[96];
  std::snprintf(buf, sizeof buf, "%+.3f s from this host's (± %.3f s)", static_cast<double>(o->estimate_ms()) / 1000,
                static_cast<double>(o->high_ms - o->low_ms) / 2000);
  return buf;
}

bool clock_is_off(const std::optional<model::ClockOffset>& o) {
  return o && o->correction_ms() != 0 && (o->estimate_ms() >= 1000 || o->estimate_ms() <= -1000);
}

std::string status_text(const StatusReport& r) {
  std::ostringstream out;
  out << "hubsync status at " << model::format_datetime({r.generated_at_ms}) << "\n"
      << "  " << reach("postgres", r.postgres) << "\n  "
      << reach("hubspot", r.hubspot, r.other_portal ? "TOKEN OF ANOTHER PORTAL" : "CREDENTIALS REFUSED")
      << "\n  "
      << reach("state store", r.state,
               r.database_went_back ? "NEWER THAN THIS DATABASE (restored from an older backup): run and serve refuse it"
                                    : "NOT MADE WITH THIS DATABASE OR PORTAL: run and serve refuse it")
      << "\n";
  if (r.daily_used)
    out << "  HubSpot budget today: " << *r.daily_used << " of " << count(r.daily_limit) << " requests used\n";
  else
    out << "  HubSpot budget today: unknown (HubSpot did not say)\n";
  if (r.hubspot.checked) out << "  " << clock_line("hubspot", r.hubspot_clock);
  if (r.postgres.checked) out << "  " << clock_line("database", r.postgres_clock);
  if (r.capture_slot)
    out << "  capture slot " << r.capture_slot->slot << ": "
        << (r.capture_slot->exists ? "holds back " + std::to_string(r.capture_slot->retained_bytes / 1024) +
                                         " KiB of WAL (changes not yet relayed are in no backlog)"
                                   : "GONE: changes made since were not captured; run `hubsync migrate`, then "
                                     "`hubsync resync --direction to_hubspot`")
        << "\n";
  if (r.last_run)
    out << "  last run: " << r.last_run->mode << " started " << format_when(r.last_run->started_at_ms)
        << (r.last_run->finished_at_ms ? ", finished " + format_when(r.last_run->finished_at_ms) : ", not finished")
        << (r.last_run->errors.empty() ? "" : ", with errors") << "\n";
  if (r.actions) {
    const auto& a = *r.actions;
    out << "  workflow actions: " << a.executions << " execution(s) in the last 24 h (" << a.running << " running";
    if (a.failing > 0)
      out << ", " << a.failing << " FAILED at their last run, retried (last error: " << a.last_failure << ")";
    out << "); " << a.awaiting_callback << " waiting for HubSpot to accept their callback";
    if (a.awaiting_callback > 0) out << " (oldest since " << format_when(a.oldest_awaiting_ms) << ")";
    out << "\n";
    if (!a.last_error.empty()) out << "    last callback failure: " << a.last_error << "\n";
  }
  for (const auto& m : r.mappings) {
    out << "\n" << m.name << " (" << m.table << " <-> " << m.object << ", direction " << m.direction
        << "): conflicts in the last 24 h " << m.conflicts_24h << "\n";
    for (const auto& d : m.directions) {
      out << "  " << state::to_string(d.direction) << ": backlog " << count(d.backlog) << ", lag "
          << seconds(d.lag_seconds) << ", dead letters " << d.dead_letters << ", last success "
          << format_when(d.last_ok_ms) << "\n";
      if (d.last_error_ms) out << "    last failure " << format_when(d.last_error_ms) << ": " << d.last_error << "\n";
      if (d.held)
        out << "    DELETIONS HELD: " << d.held->count
            << (d.direction == state::Direction::to_hubspot ? " HubSpot objects to archive" : " Postgres rows to delete")
            << ", over max_deletes " << d.max_deletes << " (" << d.held->limit << " an hour), since "
            << format_when(d.held->at_ms) << ": `hubsync deletes allow` if they are meant\n";
    }
    for (const auto& c : m.checkpoints)
      out << "  checkpoint " << c.cursor_name << " = " << c.value << " (saved " << format_when(c.updated_at_ms) << ")\n";
  }
  return out.str();
}

namespace {

std::string jnum(std::optional<std::int64_t> n) { return n ? std::to_string(*n) : "null"; }
std::string jtime(std::optional<state::TimeMs> t) {
  return t ? model::json_quote(model::format_datetime({*t})) : "null";
}
std::string jreach(const Reachability& r) {
  return std::string("{\"checked\":") + (r.checked ? "true" : "false") + ",\"reachable\":" +
         (r.reachable ? "true" : "false") + ",\"refused\":" + (r.refused ? "true" : "false") +
         ",\"detail\":" + model::json_quote(r.detail) + "}";
}
std::string jclock(const std::optional<model::ClockOffset>& o) {
  if (!o) return "null";
  return "{\"offset_ms\":" + std::to_string(o->estimate_ms()) + ",\"low_ms\":" + std::to_string(o->low_ms) +
         ",\"high_ms\":" + std::to_string(o->high_ms) + "}";
}
std::string jseconds(std::optional<double> s) {
  if (!s) return "null";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", *s);
  return buf;
}

std::string json_direction(const DirectionStatus& d) {
  return std::string("{\"direction\":") + model::json_quote(state::to_string(d.direction)) +
         ",\"backlog\":" + jnum(d.backlog) + ",\"lag_seconds\":" + jseconds(d.lag_seconds) +
         ",\"dead_letters\":" + std::to_string(d.dead_letters) + ",\"last_success\":" + jtime(d.last_ok_ms) +
         ",\"last_failure\":" + jtime(d.last_error_ms) + ",\"last_error\":" +
         (d.last_error_ms ? model::json_quote(d.last_error) : "null") + ",\"max_deletes\":" +
         model::json_quote(d.max_deletes) + ",\"held_deletes\":" +
         (d.held ? "{\"count\":" + std::to_string(d.held->count) + ",\"limit\":" + std::to_string(d.held->limit) +
                       ",\"since\":" + jtime(d.held->at_ms) + "}"
                 : std::string("null")) +
         "}";
}

std::string json_mapping(const MappingStatus& m) {
  std::string dirs, cps;
  for (const auto& d : m.directions) dirs += (dirs.empty() ? "" : ",") + json_direction(d);
  for (const auto& c : m.checkpoints)
    cps += (cps.empty() ? "" : ",") + std::string("{\"name\":") + model::json_quote(c.cursor_name) +
           ",\"value\":" + model::json_quote(c.value) + ",\"saved_at\":" + jtime(c.updated_at_ms) + "}";
  return "{\"name\":" + model::json_quote(m.name) + ",\"table\":" + model::json_quote(m.table) +
         ",\"object\":" + model::json_quote(m.object) + ",\"direction\":" + model::json_quote(m.direction) +
         ",\"conflicts_24h\":" + std::to_string(m.conflicts_24h) + ",\"directions\":[" + dirs +
         "],\"checkpoints\":[" + cps + "]}";
}

}  // namespace

std::string status_json(const StatusReport& r) {
  std::string maps;
  for (const auto& m : r.mappings) maps += (maps.empty() ? "\n  " : ",\n  ") + json_mapping(m);
  std::string run = "null";
  if (r.last_run)
    run = "{\"mode\":" + model::json_quote(r.last_run->mode) + ",\"started_at\":" + jtime(r.last_run->started_at_ms) +
          ",\"finished_at\":" + jtime(r.last_run->finished_at_ms) + ",\"errors\":" +
          model::json_quote(r.last_run->errors) + "}";
  std::string actions = "null";
  if (r.actions)
    actions = "{\"executions_24h\":" + std::to_string(r.actions->executions) + ",\"running\":" +
              std::to_string(r.actions->running) + ",\"failing\":" + std::to_string(r.actions->failing) +
              ",\"last_failure\":" +
              (r.actions->last_failure.empty() ? "null" : model::json_quote(r.actions->last_failure)) +
              ",\"awaiting_callback\":" +
              std::to_string(r.actions->awaiting_callback) + ",\"oldest_awaiting\":" +
              jtime(r.actions->awaiting_callback > 0 ? std::optional<state::TimeMs>(r.actions->oldest_awaiting_ms)
                                                     : std::nullopt) +
              ",\"last_error\":" + (r.actions->last_error.empty() ? "null" : model::json_quote(r.actions->last_error)) +
              "}";
  std::string slot = "null";
  if (r.capture_slot)
    slot = "{\"slot\":" + model::json_quote(r.capture_slot->slot) + ",\"exists\":" +
           (r.capture_slot->exists ? "true" : "false") +
           ",\"retained_bytes\":" + std::to_string(r.capture_slot->retained_bytes) + "}";
  return "{\"version\":1,\"generated_at\":" + jtime(r.generated_at_ms) + ",\"postgres\":" + jreach(r.postgres) +
         ",\"hubspot\":" + jreach(r.hubspot) + ",\"hubspot_portal\":" + jnum(r.hubspot_portal) +
         ",\"state_store\":" + jreach(r.state) +
         ",\"hubspot_daily_budget\":{\"used\":" + jnum(r.daily_used) + ",\"limit\":" + jnum(r.daily_limit) +
         "},\"clocks\":{\"hubspot\":" + jclock(r.hubspot_clock) + ",\"postgres\":" + jclock(r.postgres_clock) +
         "},\"capture_slot\":" + slot + ",\"last_run\":" + run + ",\"actions\":" + actions +
         ",\"mappings\":[" + maps + "\n]}\n";
}

}  // namespace hubsync::cli
