#include "engine/cli/capture_check.h"

#include <chrono>
#include <iostream>
#include <memory>

#include "connectors/postgres/pg_database.h"
#include "engine/cli/app.h"
#include "engine/ops/logging.h"
#include "engine/pipeline/fingerprint.h"

namespace hubsync::cli {

std::vector<postgres::CaptureSpec> capture_specs(const std::vector<mapping::Mapping>& mappings,
                                                 const config::PostgresConfig& pg) {
  std::vector<postgres::CaptureSpec> out;
  for (const auto& m : mappings) {
    if (!m.pushes()) continue;
    out.push_back({m.name, m.table.schema, m.table.table, m.key, m.postgres_columns(),
                   !m.pg_filter.empty(), pg.notify, pg.logical});
  }
  return out;
}

int check_capture(const config::Config& cfg, const std::vector<mapping::Mapping>& mappings,
                  const std::string& only, const char* command, const Report* report) {
  const auto say = [&](const std::string& line) {
    if (report) (*report)(line, true);
    else std::cerr << command << ": " << line << '\n';
  };
  std::vector<postgres::CaptureSpec> specs;
  for (auto& spec : capture_specs(mappings, cfg.postgres))
    if (only.empty() || spec.mapping == only) specs.push_back(std::move(spec));
  postgres::Migrator migrator(cfg.postgres.dsn.value, ops::logger("postgres"));
  auto problems = migrator.check(specs);
  if (!problems.ok()) {
    const bool down = problems.error().kind == model::ErrorKind::transient;
    say((down ? "PostgreSQL unreachable: " : "PostgreSQL: ") + config::redact(cfg, problems.error().message));
    return down ? kExitUnavailable : kExitError;
  }
  for (const auto& p : *problems) say(p);
  if (problems->empty()) {
    warn_unindexed_lookups(cfg, mappings, only, command, kLargeTable);
    return kExitOk;
  }
  say(report ? "the change capture is not current (run `hubsync migrate`)"
             : "nothing was synced: the change capture is not current");
  return kExitError;
}

pipeline::StoreIdentity store_identity(const config::Config& cfg, const pipeline::DatabaseIdentity& database,
                                       const PortalIdentity& portal) {
  pipeline::StoreIdentity id;
  id.database_id = database.id;
  id.portal_id = portal.portal;
  id.portal_from = portal.from_token ? "the HubSpot token is for portal" : "hubspot.portal_id is";
  id.state_path = cfg.state.path;
  id.change_position = database.position;
  id.mark = database.mark;
  return id;
}

std::function<model::Status(bool record)> identity_guard(const config::Config& cfg, pipeline::DatabasePort& db,
                                                         state::StateStore& store, const PortalIdentity& portal) {
  auto last_mark = std::make_shared<std::chrono::steady_clock::time_point>();
  return [&cfg, &db, &store, portal, last_mark](bool record) -> model::Status {
    auto now = db.identity();
    if (!now.ok()) return model::make_error(model::ErrorKind::transient, config::redact(cfg, now.error().message));
    // The store holds the last mark serve made (mark_database): a database
    // restored while serve ran holds an older one, whatever its counter.
    auto st = pipeline::check_store_identity(store_identity(cfg, *now, portal), store, record);
    if (!st.ok())
      return st.error().category == pipeline::kIdentityCategory ? st
                                                                : model::make_error(model::ErrorKind::transient,
                                                                                    st.error().message);
    // Changes since the last mark: mark again (a commit, at most 5 a
    // second), so that a backup taken now reads as older than what serve saw.
    const auto at = std::chrono::steady_clock::now();
    if (now->position > now->mark && at - *last_mark >= std::chrono::milliseconds(200)) {
      auto marked = pipeline::mark_database(db, store);
      if (!marked.ok() && marked.error().category == pipeline::kIdentityCategory) return std::move(marked).error();
      if (!marked.ok()) return model::make_error(model::ErrorKind::transient, config::redact(cfg, marked.error().message));
      *last_mark = at;
    }
    return {};
  };
}

int check_fingerprints(const config::Config& cfg, const std::vector<mapping::Mapping>& mappings,
                       const std::string& only, state::StateStore& store, pipeline::DatabasePort& db,
                       const PortalIdentity& portal, const Report& report) {
  auto id = db.identity();
  if (!id.ok()) {
    const bool down = id.error().kind == model::ErrorKind::transient;
    report((down ? "PostgreSQL unreachable: " : "PostgreSQL: ") + config::redact(cfg, id.error().message), true);
    return down ? kExitUnavailable : kExitError;
  }
  if (auto st = pipeline::check_store_identity(store_identity(cfg, *id, portal), store); !st.ok()) {
    report(st.error().message, true);
    return kExitError;
  }
  bool ok = true;
  for (const auto& m : mappings) {
    if (!only.empty() && m.name != only) continue;
    auto checked = pipeline::check_fingerprint(m, store);
    if (!checked.ok()) {
      report(checked.error().message, true);
      ok = false;
      continue;
    }
    for (const auto& f : checked->forgotten)
      report("mapping " + m.name + ": field " + f + " since the last sync: its last agreed values are "
             "forgotten, and each row's next merge of it is a first link (a value on one side fills the "
             "other; different values are a conflict its rule decides)", false);
    if (checked->reload_push)
      report("mapping " + m.name + ": what it pushes changed since the last sync (filter.postgres, direction, "
             "deletes or fields): every row is loaded again (rows in agreement cost no HubSpot call)", false);
    if (checked->sweep_again)
      report("mapping " + m.name + ": what it pulls changed since the last sync (filter.hubspot, direction or "
             "fields): every object is swept again", false);
  }
  return ok ? kExitOk : kExitError;
}

void warn_unindexed_lookups(const config::Config& cfg, const std::vector<mapping::Mapping>& mappings,
                            const std::string& only, const char* command, std::int64_t min_rows) {
  std::vector<mapping::Mapping> pulling;
  for (const auto& m : mappings)
    if (m.pulls() && (only.empty() || m.name == only)) pulling.push_back(m);
  if (pulling.empty()) return;
  postgres::PgDatabase db(cfg.postgres.dsn.value, ops::logger("postgres"));
  auto lines = db.unindexed_lookups(pulling, min_rows);
  if (!lines.ok()) {
    std::cerr << command << ": warning: could not check the pull's lookups: "
              << config::redact(cfg, lines.error().message) << '\n';
    return;
  }
  for (const auto& l : *lines) std::cerr << command << ": warning: " << l << '\n';
}

}  // namespace hubsync::cli
