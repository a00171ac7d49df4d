#include "connectors/postgres/migrator.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>

#include <pqxx/pqxx>

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

struct Installed {
  std::string schema, table, trigger;
  std::vector<std::string> key_columns, watched_columns;
};

std::vector<std::string> parse_text_array(const pqxx::field& f) {
  std::vector<std::string> out;
  if (f.is_null()) return out;
  auto parser = f.as_array();
  for (auto item = parser.get_next(); item.first != pqxx::array_parser::done;
       item = parser.get_next()) {
    if (item.first == pqxx::array_parser::string_value) out.push_back(item.second);
  }
  return out;
}

std::string version_name(const model::Migration& m) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d_", m.version);
  return buf + std::string(m.name);
}

class Run {
 public:
  Run(pqxx::connection& c, bool dry_run, spdlog::logger& log)
      : c_(c), dry_run_(dry_run), log_(log) {}

  void migrations(MigrateReport& report) {
    std::set<int> applied;
    if (schema_exists()) {
      pqxx::nontransaction tx(c_);
      auto has_table = tx.exec(
          "SELECT 1 FROM pg_tables WHERE schemaname = 'hubsync' AND tablename = 'schema_migrations'");
      if (!has_table.empty())
        for (const auto& row : tx.exec("SELECT version FROM hubsync.schema_migrations"))
          applied.insert(row[0].as<int>());
    }
    int newest_known = 0;
    for (const auto& m : migrations::embedded_migrations()) newest_known = std::max(newest_known, m.version);
    if (!applied.empty() && *applied.rbegin() > newest_known)
      throw std::runtime_error("database schema hubsync is at version " +
                               std::to_string(*applied.rbegin()) +
                               ", newer than this binary knows (" + std::to_string(newest_known) +
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

  void triggers(const std::vector<CaptureSpec>& captures, MigrateReport& report) {
    for (const auto& spec : captures) check_table(spec);
    std::map<std::string, Installed> installed = read_installed();
    std::set<std::string> live = live_triggers();  // "schema.table.trigger"

    std::set<std::string> wanted;
    for (const auto& spec : captures) {
      wanted.insert(spec.mapping);
      auto it = installed.find(spec.mapping);
      const std::string name = trigger_name(spec.mapping);
      bool same = it != installed.end() && it->second.schema == spec.schema &&
                  it->second.table == spec.table && it->second.key_columns == spec.key_columns &&
                  it->second.watched_columns == spec.watched_columns &&
                  live.count(spec.schema + "." + spec.table + "." + name);
      if (same) continue;
      std::vector<std::string> sql;
      if (it != installed.end())
        sql.push_back("DROP TRIGGER IF EXISTS " + quote_ident(it->second.trigger) + " ON " +
                      quote_qualified(it->second.schema, it->second.table));
      sql.push_back("DROP TRIGGER IF EXISTS " + quote_ident(name) + " ON " +
                    quote_qualified(spec.schema, spec.table));
      std::string args = quote_literal(spec.mapping) + ", " +
                         quote_literal(array_literal(spec.key_columns));
      if (!spec.watched_columns.empty()) args += ", " + quote_literal(array_literal(spec.watched_columns));
      sql.push_back("CREATE TRIGGER " + quote_ident(name) +
                    " AFTER INSERT OR UPDATE OR DELETE ON " +
                    quote_qualified(spec.schema, spec.table) +
                    " FOR EACH ROW EXECUTE FUNCTION hubsync.capture(" + args + ")");
      sql.push_back(
          "INSERT INTO hubsync.captures (mapping, table_schema, table_name, key_columns, "
          "watched_columns, trigger_name) VALUES (" +
          quote_literal(spec.mapping) + ", " + quote_literal(spec.schema) + ", " +
          quote_literal(spec.table) + ", " + quote_literal(array_literal(spec.key_columns)) + ", " +
          (spec.watched_columns.empty() ? "NULL" : quote_literal(array_literal(spec.watched_columns))) +
          ", " + quote_literal(name) +
          ") ON CONFLICT (mapping) DO UPDATE SET table_schema = EXCLUDED.table_schema, "
          "table_name = EXCLUDED.table_name, key_columns = EXCLUDED.key_columns, "
          "watched_columns = EXCLUDED.watched_columns, trigger_name = EXCLUDED.trigger_name, "
          "installed_at = now()");
      execute(sql, report);
      report.installed_triggers.push_back(spec.mapping + " on " + spec.schema + "." + spec.table);
      if (!dry_run_)
        log_.info("installed capture trigger mapping={} table={}.{}", spec.mapping, spec.schema,
                spec.table);
    }
    for (const auto& [mapping, inst] : installed) {
      if (wanted.count(mapping)) continue;
      execute({"DROP TRIGGER IF EXISTS " + quote_ident(inst.trigger) + " ON " +
                   quote_qualified(inst.schema, inst.table),
               "DELETE FROM hubsync.captures WHERE mapping = " + quote_literal(mapping)},
              report);
      report.removed_triggers.push_back(mapping + " on " + inst.schema + "." + inst.table);
      if (!dry_run_)
        log_.info("removed capture trigger mapping={} table={}.{}", mapping, inst.schema, inst.table);
    }
  }

 private:
  bool schema_exists() {
    pqxx::nontransaction tx(c_);
    return !tx.exec("SELECT 1 FROM pg_namespace WHERE nspname = 'hubsync'").empty();
  }

  void execute(const std::vector<std::string>& sql, MigrateReport& report) {
    report.statements.insert(report.statements.end(), sql.begin(), sql.end());
    if (dry_run_) return;
    pqxx::work tx(c_);
    for (const auto& s : sql) tx.exec(s);
    tx.commit();
  }

  void check_table(const CaptureSpec& spec) {
    pqxx::nontransaction tx(c_);
    auto cols = tx.exec_params(
        "SELECT a.attname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p') "
        "AND a.attnum > 0 AND NOT a.attisdropped",
        spec.schema, spec.table);
    if (cols.empty())
      throw std::runtime_error("mapping " + spec.mapping + ": table " +
                               quote_qualified(spec.schema, spec.table) + " does not exist");
    std::set<std::string> names;
    for (const auto& r : cols) names.insert(r[0].c_str());
    for (const auto* list : {&spec.key_columns, &spec.watched_columns})
      for (const auto& col : *list)
        if (!names.count(col))
          throw std::runtime_error("mapping " + spec.mapping + ": column " + quote_ident(col) +
                                   " does not exist in " + quote_qualified(spec.schema, spec.table));
    if (spec.key_columns.empty())
      throw std::runtime_error("mapping " + spec.mapping + ": no key columns");
  }

  std::map<std::string, Installed> read_installed() {
    std::map<std::string, Installed> out;
    pqxx::nontransaction tx(c_);
    if (tx.exec("SELECT 1 FROM pg_tables WHERE schemaname = 'hubsync' AND tablename = 'captures'")
            .empty())
      return out;
    for (const auto& r : tx.exec("SELECT mapping, table_schema, table_name, key_columns, "
                                 "watched_columns, trigger_name FROM hubsync.captures")) {
      out[r[0].c_str()] = Installed{r[1].c_str(), r[2].c_str(), r[5].c_str(),
                                    parse_text_array(r[3]), parse_text_array(r[4])};
    }
    return out;
  }

  std::set<std::string> live_triggers() {
    std::set<std::string> out;
    pqxx::nontransaction tx(c_);
    for (const auto& r : tx.exec(
             "SELECT n.nspname, c.relname, t.tgname FROM pg_trigger t "
             "JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
             "JOIN pg_proc p ON p.oid = t.tgfoid JOIN pg_namespace pn ON pn.oid = p.pronamespace "
             "WHERE pn.nspname = 'hubsync' AND p.proname = 'capture' AND NOT t.tgisinternal"))
      out.insert(std::string(r[0].c_str()) + "." + r[1].c_str() + "." + r[2].c_str());
    return out;
  }

  pqxx::connection& c_;
  bool dry_run_;
  spdlog::logger& log_;
};

}  // namespace

std::string trigger_name(const std::string& mapping) { return "hubsync_capture_" + mapping; }

Migrator::Migrator(std::string dsn, std::shared_ptr<spdlog::logger> log)
    : dsn_(std::move(dsn)), log_(std::move(log)) {}

model::Result<MigrateReport> Migrator::run(const std::vector<CaptureSpec>& captures, bool dry_run) {
  MigrateReport report;
  for (const auto& spec : captures)
    if (trigger_name(spec.mapping).size() > 63)
      return model::make_error(model::ErrorKind::fatal,
                               "mapping " + spec.mapping + ": name too long for a trigger (max 47 chars)");
  try {
    auto conn = std::make_unique<pqxx::connection>(dsn_);
    if (!dry_run) {
      pqxx::nontransaction(*conn).exec("SELECT pg_advisory_lock(" + std::to_string(kMigrateLockKey) + ")");
    }
    Run run(*conn, dry_run, *log_);
    run.migrations(report);
    run.triggers(captures, report);
    // The advisory lock is a session lock: closing the connection releases it.
    return report;
  } catch (const pqxx::pqxx_exception& e) {
    return translate_exception(e.base(), "migrate");
  } catch (const std::exception& e) {
    return model::make_error(model::ErrorKind::fatal, "migrate: " + std::string(e.what()));
  }
}

}  // namespace hubsync::postgres
