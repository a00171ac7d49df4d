#include "connectors/postgres/migrator.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>

#include <pqxx/pqxx>

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
         "watched_columns, watch_all, generator_version, trigger_name, notify) VALUES (" +
         quote_literal(d.mapping) + ", " + quote_literal(d.schema) + ", " + quote_literal(d.table) +
         ", " + quote_literal(array_literal(keys)) + ", " + quote_literal(array_literal(types)) + ", " +
         quote_literal(array_literal(watched)) + ", " + (d.watch_all ? "true" : "false") + ", " +
         std::to_string(kCaptureGeneratorVersion) + ", " + quote_literal(trigger_prefix(d.mapping)) + ", " +
         (d.notify ? "true" : "false") + ") ON CONFLICT (mapping) DO UPDATE SET table_schema = EXCLUDED.table_schema, "
         "table_name = EXCLUDED.table_name, key_columns = EXCLUDED.key_columns, "
         "key_types = EXCLUDED.key_types, watched_columns = EXCLUDED.watched_columns, "
         "watch_all = EXCLUDED.watch_all, generator_version = EXCLUDED.generator_version, "
         "trigger_name = EXCLUDED.trigger_name, notify = EXCLUDED.notify, installed_at = now()";
}

class Run {
 public:
  Run(pqxx::connection& c, bool dry_run, spdlog::logger& log)
      : c_(c), dry_run_(dry_run), log_(log) {}

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
    }
    std::set<std::string> wanted;
    for (const auto& d : designs) {
      wanted.insert(d.mapping);
      if (capture_differences(d, state_).empty()) continue;
      std::vector<std::string> sql;
      auto old = state_.installed.find(d.mapping);
      if (old != state_.installed.end() && (old->second.schema != d.schema || old->second.table != d.table))
        drop(d.mapping, old->second.schema, old->second.table, false, sql);
      drop(d.mapping, d.schema, d.table, true, sql);
      auto install = install_capture_sql(d);
      sql.insert(sql.end(), install.begin(), install.end());
      sql.push_back(captures_row_sql(d));
      execute(sql, report);
      report.installed_triggers.push_back(d.mapping + " on " + d.schema + "." + d.table);
      if (!dry_run_)
        log_.info("installed capture mapping={} table={}.{}", d.mapping, d.schema, d.table);
    }
    for (const auto& [mapping, inst] : state_.installed) {
      if (wanted.count(mapping)) continue;
      std::vector<std::string> sql;
      drop(mapping, inst.schema, inst.table, true, sql);
      sql.push_back("DELETE FROM hubsync.captures WHERE mapping = " + quote_literal(mapping));
      execute(sql, report);
      report.removed_triggers.push_back(mapping + " on " + inst.schema + "." + inst.table);
      if (!dry_run_)
        log_.info("removed capture mapping={} table={}.{}", mapping, inst.schema, inst.table);
    }
    drop_generic_function(report);
  }

 private:
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

  pqxx::connection& c_;
  bool dry_run_;
  spdlog::logger& log_;
  CaptureState state_;
  std::set<std::string> dropped_;  // "schema.table.trigger" this run drops
};

}  // namespace

Migrator::Migrator(std::string dsn, std::shared_ptr<spdlog::logger> log)
    : dsn_(std::move(dsn)), log_(std::move(log)) {}

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
    Run run(*conn, dry_run, *log_);
    run.migrations(report);
    run.captures(captures, report);
    // The advisory lock is a session lock: closing the connection releases it.
    return report;
  } catch (const pqxx::pqxx_exception& e) {
    return translate_exception(e.base(), "migrate");
  } catch (const std::exception& e) {
    return model::make_error(model::ErrorKind::fatal, "migrate: " + std::string(e.what()));
  }
}

model::Result<std::vector<std::string>> Migrator::check(const std::vector<CaptureSpec>& captures) {
  std::vector<std::string> problems;
  if (captures.empty()) return problems;
  try {
    auto conn = std::make_unique<pqxx::connection>(dsn_);
    pqxx::read_transaction tx(*conn);
    if (auto problem = schema_problem(tx, captures); !problem.empty()) return std::vector<std::string>{problem};
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
