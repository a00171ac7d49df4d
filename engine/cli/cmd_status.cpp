// `hubsync status [--json]`: per mapping and direction the backlog, lag,
// last success, dead letters, conflicts of the last 24 h and checkpoints,
// and today's HubSpot budget. Read-only and safe beside a running serve: the
// state store is opened without the writer lock; Postgres is only counted;
// HubSpot gets one GET (its rate-limit headers say what today cost).
#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "connectors/postgres/pg_database.h"
#include "engine/cli/app.h"
#include "engine/cli/capture_check.h"
#include "engine/cli/hubspot_stack.h"
#include "engine/cli/mappings.h"
#include "engine/cli/runtime.h"
#include "engine/cli/status.h"
#include "engine/pipeline/clock_frames.h"
#include "engine/pipeline/fingerprint.h"
#include "engine/ops/logging.h"

namespace hubsync::cli {

namespace {

// Postgres answers the first backlog count, or says why not.
Reachability probe_postgres(const config::Config& cfg, const std::vector<mapping::Mapping>& mappings,
                            pipeline::DatabasePort& db) {
  Reachability r;
  r.checked = true;
  auto n = mappings.empty() ? model::Result<std::int64_t>(0) : db.count_pending(mappings.front().name);
  r.reachable = n.ok() || n.error().kind != model::ErrorKind::transient;
  if (!n.ok()) r.detail = config::redact(cfg, n.error().message);
  return r;
}

// Which portal the token is for (learn_portal): another than
// hubspot.portal_id is refused, as run and serve refuse it.
void probe_portal(const config::Config& cfg, hubspot::HubSpotClient& client, state::StateStore* store, Reachability& r,
                  StatusReport& report, PortalIdentity& portal) {
  std::string said;
  const auto keep = [&said](const std::string& line, bool) { said = line; };
  const int rc = learn_portal(cfg, client, store, /*record=*/false, keep, portal);
  if (portal.from_token) report.hubspot_portal = std::stoll(portal.portal);
  if (rc == kExitError) {
    r.refused = report.other_portal = true;
    r.detail = said;
  } else if (!said.empty()) {
    r.detail = said;
  } else if (portal.from_token) {
    r.detail = "the token is for portal " + portal.portal;
  }
}

// One GET on the first mapped object type: reachability, and the daily
// budget from HubSpot's own headers; then which portal the token is for.
Reachability probe_hubspot(const config::Config& cfg, const std::vector<mapping::Mapping>& mappings,
                           state::StateStore* store, StatusReport& report, PortalIdentity& portal) {
  Reachability r;
  r.checked = true;
  std::string path = "/crm/v3/objects/contacts?limit=1";
  for (const auto& m : mappings)
    if (m.kind == mapping::MappingKind::object) {
      path = "/crm/v3/objects/" + m.object.path() + "?limit=1";
      break;
    }
  ratelimit::SystemClock clock;
  HubSpotStack hubspot(cfg, store, clock, std::nullopt, /*interactive=*/true);
  auto resp = hubspot.client.call(hubspot::HttpMethod::get, path, "", {.op = "status"});
  report.hubspot_clock = hubspot.client.clock_offset();  // an error's answer has a Date too
  if (!resp.ok()) {
    r.reachable = resp.error().kind != model::ErrorKind::transient;
    r.refused = resp.error().kind == model::ErrorKind::auth;
    r.detail = config::redact(cfg, resp.error().http_status > 0
                                       ? "HTTP " + std::to_string(resp.error().http_status) + " " + resp.error().category
                                       : resp.error().message);
    return r;
  }
  r.reachable = true;
  r.refused = resp->status == 401 || resp->status == 403;
  if (r.refused) r.detail = "HTTP " + std::to_string(resp->status);
  const auto h = ratelimit::parse_rate_limit_headers(resp->headers);
  if (h.daily) report.daily_limit = *h.daily;
  if (h.daily && h.daily_remaining) report.daily_used = *h.daily - *h.daily_remaining;
  if (!r.refused) probe_portal(cfg, hubspot.client, store, r, report, portal);
  return r;
}

// Whether run and serve would refuse the state store for this database or
// portal (check_store_identity, without recording anything).
void check_identity(const config::Config& cfg, pipeline::DatabasePort& db, state::StateStore& store,
                    const PortalIdentity& portal, StatusReport& report) {
  auto id = db.identity();
  if (!id.ok()) return;  // not migrated yet: run says so
  auto st = pipeline::check_store_identity(store_identity(cfg, *id, portal), store, /*record=*/false);
  if (st.ok()) return;
  report.state.refused = true;
  report.state.detail = st.error().message;
  report.database_went_back = st.error().code == pipeline::kWentBackCode;
}

}  // namespace

int cmd_status(const GlobalOptions& global, bool json, bool offline) {
  config::Config cfg;
  if (!load_config_or_report(global, cfg)) return kExitError;
  std::vector<mapping::Mapping> mappings;
  if (!load_mappings(cfg.mappings.dir, {}, mappings)) return kExitError;
  ratelimit::SystemClock clock;
  StatusReport report;
  report.generated_at_ms = clock.wall_ms();
  report.state.checked = true;
  std::unique_ptr<state::SqliteStateStore> store;
  if (!std::filesystem::exists(cfg.state.path)) {
    report.state.detail = "no state file at " + cfg.state.path + " yet: nothing has run";
  } else {
    store = open_state(cfg, /*read_only=*/true);
    report.state.reachable = store != nullptr;
    if (!store) report.state.detail = "could not open " + cfg.state.path;
  }
  ::setenv("PGCONNECT_TIMEOUT", "5", /*overwrite=*/0);  // a status must not hang on a dead host
  postgres::PgDatabase db(cfg.postgres.dsn.value, ops::logger("postgres"));
  db.skip_relay();  // a status never writes
  report.postgres = probe_postgres(cfg, mappings, db);
  if (report.postgres.reachable)
    if (auto pg = pipeline::read_database_clock(db, clock); pg.ok()) report.postgres_clock = *pg;
  if (report.postgres.reachable)
    if (auto slot = db.capture_slot(); slot.ok() && *slot)
      report.capture_slot = StatusReport::CaptureSlot{(*slot)->slot, (*slot)->retained_bytes, (*slot)->exists};
  PortalIdentity portal = configured_portal(cfg);
  if (!offline) report.hubspot = probe_hubspot(cfg, mappings, store.get(), report, portal);
  if (store && report.postgres.reachable) check_identity(cfg, db, *store, portal, report);
  collect_status(mappings, store.get(), report.postgres.reachable ? &db : nullptr, report);
  std::cout << (json ? status_json(report) : status_text(report)) << std::flush;
  const bool down = !report.postgres.reachable || (report.hubspot.checked && !report.hubspot.reachable);
  // Refused credentials, or a state store run would refuse, are the
  // config's to fix (as `run` exits 1 for them).
  return down ? kExitUnavailable : report.hubspot.refused || report.state.refused ? kExitError : kExitOk;
}

}  // namespace hubsync::cli
