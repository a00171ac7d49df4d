#include "connectors/postgres/migrator.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>

#include <pqxx/pqxx>

#include "connectors/postgres/capture_logical.h"
#include "connectors/postgres/capture_relay.h"
#include "connectors/postgres/capture_sql.h"
#include "connectors/postgres/capture_state.h"
#include "connectors/postgres/migrations.h"
#include "connectors/postgres/sql.h"

namespace hubsync::postgres {

namespace {

// Arbitrary constant shared by every hubsync process: "hubsync:migrate".
constexpr long long kMigrateLockKey = 0x6875627379'6e63LL;

const char* kBootstrap =
    "CREATE SCHEMA IF NOT EXISTS hubsync;\n"
    "CREATE TABLE IF NOT EXISTS hubsync.schema_migrations (\n"
    "  version integer PRIMARY KEY,\n"
    "  name text NOT NULL,\n"
    "  applied_at timestamptz NOT NULL DEFAULT now())";

std::string version_name(const model::Migration& m) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d_", m.version);
  return buf + std::string(m.name);
}

int newest_known() {
  int newest = 0;
  for (const auto& m : migrations::embedded_migrations()) newest = std::max(newest, m.version);
  return newest;
}

// The versions recorded in hubsync.schema_migrations; empty when hubsync is
// not installed.
std::set<int> applied_versions(pqxx::transaction_base& tx) {
  std::set<int> applied;
  if (tx.exec("SELECT 1 FROM pg_tables WHERE schemaname = 'hubsync' AND tablename = 'schema_migrations'")
          .empty())
    return applied;
  for (const auto& row : tx.exec("SELECT version FROM hubsync.schema_migrations"))
    applied.insert(row[0].as<int>());
  return applied;
}

std::string mapping_names(const std::vector<CaptureSpec>& captures) {
  std::string out;
  for (const auto& c : captures) out += (out.empty() ? "" : ", ") + c.mapping;
  return out;
}

// The schema-level problem that makes per-mapping checks moot, if any.
std::string schema_problem(pqxx::transaction_base& tx, const std::vector<CaptureSpec>& captures) {
  const std::set<int> applied = applied_versions(tx);
  const std::string needed = " (needed by mapping(s) " + mapping_names(captures) + ")";
  if (applied.empty())
    return "hubsync is not installed in this database" + needed + ": run `hubsync migrate`";
  if (*applied.rbegin() > newest_known())
    return "this database's hubsync schema is at version " + std::to_string(*applied.rbegin()) +
           ", newer than this hubsync knows (" + std::to_string(newest_known()) + "): upgrade hubsync";
  std::string pending;
  for (const auto& m : migrations::embedded_migrations())
    if (!applied.count(m.version)) pending += (pending.empty() ? "" : ", ") + version_name(m);
  if (!pending.empty())
    return "this database's hubsync schema lacks migration(s) " + pending + needed +
           ": run `hubsync migrate`";
  return {};
}

std::string name_problem(const CaptureSpec& spec) {
  if (spec.mapping.size() <= max_capture_mapping_name()) return {};
  return "mapping " + spec.mapping + ": name too long for its trigger names (max " +
         std::to_string(max_capture_mapping_name()) + " chars)";
}

std::string captures_row_sql(const CaptureDesign& d) {
  std::vector<std::string> keys, types, watched;
  for (const auto& k : d.keys) {
    keys.push_back(k.name);
    types.push_back(k.typname);
  }
  for (const auto& c : d.watched) watched.push_back(c.name);
  std::sort(watched.begin(), watched.end());
  return "INSERT INTO hubsync.captures (mapping, table_schema, table_name, key_columns, key_types, "
         "watched_columns, watch_all, generator_version, trigger_name, notify, method) VALUES (" +
         quote_literal(d.mapping) + ", " + quote_literal(d.schema) + ", " + quote_literal(d.table) +
         ", " + quote_literal(array_literal(keys)) + ", " + quote_literal(array_literal(types)) + ", " +
         quote_literal(array_literal(watched)) + ", " + (d.watch_all ? "true" : "false") + ", " +
         std::to_string(kCaptureGeneratorVersion) + ", " + quote_literal(trigger_prefix(d.mapping)) + ", " +
         (d.notify ? "true" : "false") + ", " + (d.logical ? "'logical'" : "'trigger'") +
         ") ON CONFLICT (mapping) DO UPDATE SET table_schema = EXCLUDED.table_schema, "
         "table_name = EXCLUDED.table_name, key_columns = EXCLUDED.key_columns, "
         "key_types = EXCLUDED.key_types, watched_columns = EXCLUDED.watched_columns, "
         "watch_all = EXCLUDED.watch_all, generator_version = EXCLUDED.generator_version, "
         "trigger_name = EXCLUDED.trigger_name, notify = EXCLUDED.notify, method = EXCLUDED.method, "
         "installed_at = now()";
}

class Run {
 public:
  Run(pqxx::connection& c, bool dry_run, spdlog::logger& log, std::string slot)
      : c_(c), dry_run_(dry_run), log_(log), slot_(std::move(slot)) {}

  void migrations(MigrateReport& report) {
    std::set<int> applied;
    {
      pqxx::nontransaction tx(c_);
      applied = applied_versions(tx);
    }
    if (!applied.empty() && *applied.rbegin() > newest_known())
      throw std::runtime_error("database schema hubsync is at version " +
                               std::to_string(*applied.rbegin()) +
                               ", newer than this binary knows (" + std::to_string(newest_known()) +
                               "): upgrade hubsync");
    bool bootstrapped = false;
    for (const auto& m : migrations::embedded_migrations()) {
      if (applied.count(m.version)) continue;
      if (!bootstrapped) {
        report.statements.push_back(kBootstrap);
        if (!dry_run_) pqxx::nontransaction(c_).exec(kBootstrap);
        bootstrapped = true;
      }
      const std::string record = "INSERT INTO hubsync.schema_migrations (version, name) VALUES (" +
                                 std::to_string(m.version) + ", " + quote_literal(m.name) + ")";
      report.statements.push_back(std::string("-- migration ") + version_name(m) + "\n" + m.sql);
      report.statements.push_back(record);
      if (!dry_run_) {
        pqxx::work tx(c_);
        tx.exec(m.sql);
        tx.exec(record);
        tx.commit();
        log_.info("applied migration={}", version_name(m));
      }
      report.applied_migrations.push_back(version_name(m));
    }
  }

  void captures(const std::vector<CaptureSpec>& specs, MigrateReport& report) {
    std::vector<CaptureDesign> designs;
    {
      pqxx::read_transaction tx(c_);
      for (const auto& spec : specs) designs.push_back(design_capture(tx, spec));
      state_ = read_capture_state(tx);
      if (state_.slot) {
        // Key types come qualified (public.citext) only under this path,
        // which catch_up() relays under.
        tx.exec("SET LOCAL search_path = pg_catalog, pg_temp");
        old_targets_ = read_relay_targets(tx);
      }
      if (std::any_of(designs.begin(), designs.end(), [](const auto& d) { return d.logical; }))
        for (const auto& problem : logical_server_problems(tx)) throw std::runtime_error(problem);
    }
    std::set<std::string> wanted;
    for (const auto& d : designs) {
      wanted.insert(d.mapping);
      if (d.logical) start_logical(d, report);
    }
    for (const auto& d : designs) {
      if (capture_differences(d, state_).empty()) continue;
      std::vector<std::string> sql;
      auto old = state_.installed.find(d.mapping);
      if (old != state_.installed.end() && (old->second.schema != d.schema || old->second.table != d.table)) {
        drop(d.mapping, old->second.schema, old->second.table, false, sql);
        // Its old table's changes are no longer its own (it would read its
        // new table's rows by their keys): a new mapping of that table takes
        // them, or they go.
        carry_pending(d.mapping, old->second, designs, sql, report, /*drop_untaken=*/true);
      }
      drop(d.mapping, d.schema, d.table, true, sql);
      auto install = d.logical ? std::vector<std::string>{} : install_capture_sql(d);
      sql.insert(sql.end(), install.begin(), install.end());
      sql.push_back(captures_row_sql(d));
      execute(sql, report);
      const std::string how = d.logical ? " (logical decoding)" : "";
      report.installed_triggers.push_back(d.mapping + " on " + d.schema + "." + d.table + how);
      if (!dry_run_)
        log_.info("installed capture mapping={} table={}.{}{}", d.mapping, d.schema, d.table, how);
    }
    for (const auto& [mapping, inst] : state_.installed) {
      if (wanted.count(mapping)) continue;
      std::vector<std::string> sql;
      drop(mapping, inst.schema, inst.table, true, sql);
      sql.push_back("DELETE FROM hubsync.captures WHERE mapping = " + quote_literal(mapping));
      carry_pending(mapping, inst, designs, sql, report);
      execute(sql, report);
      report.removed_triggers.push_back(mapping + " on " + inst.schema + "." + inst.table);
      if (!dry_run_)
        log_.info("removed capture mapping={} table={}.{}", mapping, inst.schema, inst.table);
    }
    finish_logical(designs, wanted, report);
    drop_generic_function(report);
  }

 private:
  // A mapping renamed (or replaced) is removed, or its name now captures
  // another table, while a new one captures its table by the same key: the
  // pending changes of that table are the table's, so each new mapping
  // takes them over (copied in id order), and
  // the push neither leaves them behind for good nor loses when they were
  // captured (`conflict: newest` needs it).
  void carry_pending(const std::string& mapping, const InstalledCapture& inst,
                     const std::vector<CaptureDesign>& designs, std::vector<std::string>& sql,
                     MigrateReport& report, bool drop_untaken = false) {
    std::vector<std::string> takers;
    for (const auto& d : designs) {
      if (state_.installed.count(d.mapping) || d.schema != inst.schema || d.table != inst.table) continue;
      std::vector<std::string> keys;
      for (const auto& k : d.keys) keys.push_back(k.name);
      if (keys == inst.key_columns) takers.push_back(d.mapping);
    }
    if (takers.empty() && !drop_untaken) return;
    // Only the changes of that table: a mapping's name may have served
    // another table before (renamed, then reused).
    const std::string of_table = " WHERE mapping = " + quote_literal(mapping) + " AND table_schema = " +
                                 quote_literal(inst.schema) + " AND table_name = " + quote_literal(inst.table);
    for (const auto& to : takers) {
      sql.push_back("INSERT INTO hubsync.changelog (mapping, table_schema, table_name, pk, op, changed_columns, "
                    "txid, changed_at, moved_to) SELECT " + quote_literal(to) + ", table_schema, table_name, pk, "
                    "op, changed_columns, txid, changed_at, moved_to FROM hubsync.changelog" + of_table +
                    " ORDER BY id");
      report.carried_changes.push_back(mapping + " -> " + to);
      if (!dry_run_) log_.info("pending changes carried from={} to={}", mapping, to);
    }
    sql.push_back("DELETE FROM hubsync.changelog" + of_table);
  }

  // Appends the drops of a mapping's triggers on a table, noting them as gone.
  void drop(const std::string& mapping, const std::string& schema, const std::string& table,
            bool function, std::vector<std::string>& sql) {
    auto more = drop_capture_sql(mapping, schema, table, function);
    sql.insert(sql.end(), more.begin(), more.end());
    const std::string at = schema + "." + table + "." + trigger_prefix(mapping);
    dropped_.insert(at);
    for (const auto& s : trigger_suffixes()) dropped_.insert(at + s);
  }

  // Capture v1's generic function goes once none of its triggers is left.
  void drop_generic_function(MigrateReport& report) {
    if (!state_.generic_function) return;
    for (const auto& [where, t] : state_.triggers)
      if (t.function == "capture" && !dropped_.count(where)) return;
    execute({"DROP FUNCTION hubsync.capture()"}, report);
    if (!dry_run_) log_.info("dropped the generic capture function of capture v1");
  }

  void execute(const std::vector<std::string>& sql, MigrateReport& report) {
    report.statements.insert(report.statements.end(), sql.begin(), sql.end());
    if (dry_run_) return;
    pqxx::work tx(c_);
    for (const auto& s : sql) tx.exec(s);
    tx.commit();
  }

  // Before a table's triggers go: it joins the publication, and the slot
  // exists, so that no change falls between the two captures (one made in
  // between is captured twice, which the push finds unchanged).
  void start_logical(const CaptureDesign& d, MigrateReport& report) {
    if (state_.slot && *state_.slot != slot_)
      throw std::runtime_error("postgres.slot is " + slot_ + ", but this database's capture reads slot " +
                               *state_.slot + ": set postgres.slot back, or switch every mapping to "
                               "postgres.capture: trigger and migrate before renaming it");
    const std::string table = d.schema + "." + d.table;
    if (!state_.published.count(table)) {
      const bool exists = !pqxx::nontransaction(c_)
                               .exec_params("SELECT 1 FROM pg_publication WHERE pubname = $1", kCapturePublication)
                               .empty();
      execute({(exists ? "ALTER PUBLICATION " : "CREATE PUBLICATION ") + quote_ident(kCapturePublication) +
               (exists ? " ADD TABLE " : " FOR TABLE ") + quote_qualified(d.schema, d.table)},
              report);
      state_.published.insert(table);
    }
    if (state_.slot && state_.slot_exists) return;
    if (state_.slot)
      log_.error("replication slot {} was gone: changes made since it was dropped were not captured; "
                 "queue the tables' rows for a push check (README, Troubleshooting)", slot_);
    const std::string create = "SELECT lsn::text FROM pg_catalog.pg_create_logical_replication_slot(" +
                               quote_literal(slot_) + ", 'pgoutput')";
    report.statements.push_back(create);
    if (!dry_run_) {
      const std::string lsn = pqxx::nontransaction(c_).exec(create)[0][0].c_str();
      pqxx::nontransaction(c_).exec_params(
          "INSERT INTO hubsync.capture_relay (slot, relayed_lsn) VALUES ($1, $2::pg_lsn) "
          "ON CONFLICT (slot) DO UPDATE SET relayed_lsn = EXCLUDED.relayed_lsn, created_at = now()",
          slot_, lsn);
      log_.info("created replication slot={} lsn={}", slot_, lsn);
    }
    state_.slot = slot_;
    state_.slot_exists = true;
  }

  // After the triggers of mappings that left logical decoding are in: what
  // the slot still holds for mappings that exist goes to the changelog;
  // then the publication lists exactly the logical captures' tables, or,
  // with none left, the publication and the slot go.
  void finish_logical(const std::vector<CaptureDesign>& designs, const std::set<std::string>& wanted,
                      MigrateReport& report) {
    if (!state_.slot) return;
    std::set<std::string> tables, quoted;
    for (const auto& d : designs)
      if (d.logical) {
        tables.insert(d.schema + "." + d.table);
        quoted.insert(quote_qualified(d.schema, d.table));
      }
    const bool leaving = std::any_of(state_.installed.begin(), state_.installed.end(), [&](const auto& in) {
      return in.second.logical && std::none_of(designs.begin(), designs.end(), [&](const auto& d) {
               return d.logical && d.mapping == in.first;
             });
    });
    if (leaving && !dry_run_ && state_.slot_exists) catch_up(wanted);
    std::vector<std::string> sql;
    if (tables.empty()) {
      if (state_.slot_exists)
        sql.push_back("SELECT pg_catalog.pg_drop_replication_slot(" + quote_literal(*state_.slot) + ")");
      sql.push_back("DROP PUBLICATION IF EXISTS " + quote_ident(kCapturePublication));
      sql.push_back("DELETE FROM hubsync.capture_relay");
    } else {
      std::string list;
      for (const auto& t : quoted) list += (list.empty() ? "" : ", ") + t;
      if (state_.published != tables)
        sql.push_back("ALTER PUBLICATION " + quote_ident(kCapturePublication) + " SET TABLE " + list);
    }
    for (const auto& s : sql) {
      report.statements.push_back(s);
      if (!dry_run_) pqxx::nontransaction(c_).exec(s);
    }
    if (tables.empty() && !dry_run_) log_.info("dropped replication slot={} and publication", *state_.slot);
  }

  void catch_up(const std::set<std::string>& wanted) {
    std::vector<RelayTarget> targets;
    {
      pqxx::work tx(c_);
      tx.exec("SET LOCAL search_path = pg_catalog, pg_temp");
      targets = read_relay_targets(tx);
    }
    for (const auto& old : old_targets_)
      if (wanted.count(old.mapping) &&
          std::none_of(targets.begin(), targets.end(), [&](const auto& t) { return t.mapping == old.mapping; }))
        targets.push_back(old);
    auto r = relay_captured_changes(c_, targets);
    if (!r.ok()) throw std::runtime_error(r.error().message);
    log_.info("relayed changes={} before changing the logical capture", r->changes);
  }

  pqxx::connection& c_;
  bool dry_run_;
  spdlog::logger& log_;
  std::string slot_;
  std::vector<RelayTarget> old_targets_;  // the logical captures before this run
  CaptureState state_;
  std::set<std::string> dropped_;  // "schema.table.trigger" this run drops
};

}  // namespace

Migrator::Migrator(std::string dsn, std::shared_ptr<spdlog::logger> log, std::string slot)
    : dsn_(std::move(dsn)), log_(std::move(log)), slot_(std::move(slot)) {}

model::Result<MigrateReport> Migrator::run(const std::vector<CaptureSpec>& captures, bool dry_run) {
  MigrateReport report;
  for (const auto& spec : captures)
    if (auto problem = name_problem(spec); !problem.empty())
      return model::make_error(model::ErrorKind::fatal, problem);
  try {
    auto conn = std::make_unique<pqxx::connection>(dsn_);
    if (!dry_run) {
      pqxx::nontransaction(*conn).exec("SELECT pg_advisory_lock(" + std::to_string(kMigrateLockKey) + ")");
    }
    Run run(*conn, dry_run, *log_, slot_);
    run.migrations(report);
    run.captures(captures, report);
    // The advisory lock is a session lock: closing the connection releases it.
    return report;
  } catch (const pqxx::pqxx_exception& e) {
    return translate_exception(e.base(), "installing hubsync's schema and change capture");
  } catch (const std::exception& e) {
    return model::make_error(model::ErrorKind::fatal, e.what());
  }
}

model::Result<std::vector<std::string>> Migrator::check(const std::vector<CaptureSpec>& captures) {
  std::vector<std::string> problems;
  if (captures.empty()) return problems;
  try {
    auto conn = std::make_unique<pqxx::connection>(dsn_);
    pqxx::read_transaction tx(*conn);
    if (std::any_of(captures.begin(), captures.end(), [](const auto& c) { return c.logical; }))
      problems = logical_server_problems(tx);
    if (auto problem = schema_problem(tx, captures); !problem.empty()) {
      problems.push_back(problem);
      return problems;
    }
    const CaptureState state = read_capture_state(tx);
    for (const auto& spec : captures) {
      if (auto problem = name_problem(spec); !problem.empty()) {
        problems.push_back(problem);
        continue;
      }
      try {
        for (const auto& why : capture_differences(design_capture(tx, spec), state))
          problems.push_back("mapping " + spec.mapping + ": " + why + ": run `hubsync migrate`");
      } catch (const CaptureError& e) {
        problems.push_back(std::string(e.what()) + ": fix the mapping or the table (`hubsync "
                           "validate` checks both), then run `hubsync migrate`");
      }
    }
    return problems;
  } catch (const pqxx::pqxx_exception& e) {
    return translate_exception(e.base(), "checking the change capture");
  } catch (const std::exception& e) {
    return model::make_error(model::ErrorKind::fatal, "checking the change capture: " + std::string(e.what()));
  }
}

}  // namespace hubsync::postgres
