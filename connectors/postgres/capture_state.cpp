#include "connectors/postgres/capture_state.h"

#include <algorithm>
#include <set>

#include <pqxx/pqxx>

#include "connectors/postgres/capture_logical.h"
#include "connectors/postgres/sql.h"

namespace hubsync::postgres {

namespace {

std::string comma(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : ", ") + s;
  return out.empty() ? "none" : out;
}

std::string listed(const std::vector<std::string>& items) { return "(" + comma(items) + ")"; }

std::vector<std::string> names(const std::vector<CaptureColumn>& cols) {
  std::vector<std::string> out;
  for (const auto& c : cols) out.push_back(c.name);
  return out;
}

std::vector<std::string> sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}

// Items of `a` not in `b` (both sorted).
std::vector<std::string> minus(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  std::vector<std::string> out;
  std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}

struct TableColumn {
  CaptureColumn column;
  std::string type;  // format_type(), for messages
};

// Every column of the table in attnum order; builtin_eq says whether the
// type has an `=` of its own in pg_catalog (see capture_sql.cpp).
std::vector<TableColumn> table_columns(pqxx::transaction_base& tx, const CaptureSpec& spec) {
  auto rows = tx.exec_params(
      "SELECT a.attname, t.typname, format_type(a.atttypid, a.atttypmod), "
      "  t.typnamespace = 'pg_catalog'::regnamespace AND EXISTS (SELECT 1 FROM pg_operator o "
      "    WHERE o.oprname = '=' AND o.oprleft = a.atttypid AND o.oprright = a.atttypid "
      "      AND o.oprnamespace = 'pg_catalog'::regnamespace) "
      "FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
      "JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_type t ON t.oid = a.atttypid "
      "WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p') "
      "  AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
      spec.schema, spec.table);
  std::vector<TableColumn> out;
  for (const auto& r : rows)
    out.push_back({{r[0].c_str(), r[1].c_str(), r[3].as<bool>()}, r[2].c_str()});
  return out;
}

}  // namespace

CaptureDesign design_capture(pqxx::transaction_base& tx, const CaptureSpec& spec) {
  const std::string where = quote_qualified(spec.schema, spec.table);
  const auto cols = table_columns(tx, spec);
  if (cols.empty())
    throw CaptureError("mapping " + spec.mapping + ": table " + where + " does not exist");
  auto find = [&](const std::string& name) -> const TableColumn& {
    for (const auto& c : cols)
      if (c.column.name == name) return c;
    throw CaptureError("mapping " + spec.mapping + ": column " + quote_ident(name) +
                             " does not exist in " + where);
  };
  if (spec.key_columns.empty())
    throw CaptureError("mapping " + spec.mapping + ": no key columns");
  CaptureDesign d{spec.mapping, spec.schema, spec.table, {}, {}, false, spec.notify && !spec.logical, spec.logical};
  for (const auto& k : spec.key_columns) {
    const TableColumn& c = find(k);
    if (!key_type_supported(c.column.typname))
      throw CaptureError("mapping " + spec.mapping + ": key column " + quote_ident(k) + " is " +
                               c.type + ", which cannot be a key (see `hubsync validate`)");
    d.keys.push_back(c.column);
  }
  d.watch_all = spec.watch_all || spec.watched_columns.empty();
  for (const auto& name : sorted(spec.watched_columns)) {
    const TableColumn& c = find(name);
    if (!d.watch_all) d.watched.push_back(c.column);
  }
  if (d.watch_all)
    for (const auto& c : cols) d.watched.push_back(c.column);
  if (d.logical) check_replica_identity(tx, d);
  return d;
}

CaptureState read_capture_state(pqxx::transaction_base& tx) {
  CaptureState state;
  if (tx.exec("SELECT 1 FROM pg_tables WHERE schemaname = 'hubsync' AND tablename = 'captures'")
          .empty())
    return state;
  // Before migration 0002 the table has no key_types, watch_all, generator_version.
  const bool v2 = !tx.exec("SELECT 1 FROM pg_attribute WHERE attrelid = 'hubsync.captures'::regclass "
                           "AND attname = 'generator_version' AND NOT attisdropped")
                       .empty();
  const std::string more = v2 ? "key_types, watch_all, generator_version"
                              : "NULL::text[], watched_columns IS NULL, 1";
  // Before migration 0004 every capture notified.
  const bool v4 = !tx.exec("SELECT 1 FROM pg_attribute WHERE attrelid = 'hubsync.captures'::regclass "
                           "AND attname = 'notify' AND NOT attisdropped")
                       .empty();
  const bool v5 = !tx.exec("SELECT 1 FROM pg_attribute WHERE attrelid = 'hubsync.captures'::regclass "
                           "AND attname = 'method' AND NOT attisdropped")
                       .empty();
  for (const auto& r : tx.exec("SELECT mapping, table_schema, table_name, key_columns, "
                               "watched_columns, " + more + ", " + (v4 ? "notify" : "true") + ", " +
                               (v5 ? "method = 'logical'" : "false") + " FROM hubsync.captures")) {
    state.installed[r[0].c_str()] =
        InstalledCapture{r[1].c_str(),      r[2].c_str(),      text_array(r[3]), text_array(r[5]),
                         text_array(r[4]), r[6].as<bool>(), r[7].as<int>(), r[8].as<bool>(), r[9].as<bool>()};
  }
  if (v5) read_logical_state(tx, state);
  for (const auto& r : tx.exec(
           "SELECT n.nspname, c.relname, t.tgname, p.proname, t.tgenabled "
           "FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
           "JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_proc p ON p.oid = t.tgfoid "
           "JOIN pg_namespace pn ON pn.oid = p.pronamespace "
           "WHERE pn.nspname = 'hubsync' AND NOT t.tgisinternal"))
    state.triggers[std::string(r[0].c_str()) + "." + r[1].c_str() + "." + r[2].c_str()] =
        LiveTrigger{r[3].c_str(), r[4].c_str()[0]};
  state.generic_function = !tx.exec("SELECT 1 FROM pg_proc WHERE proname = 'capture' AND pronargs = 0 "
                                    "AND pronamespace = 'hubsync'::regnamespace")
                                .empty();
  return state;
}

namespace {

void trigger_differences(const CaptureDesign& d, const CaptureState& state,
                         std::vector<std::string>& out) {
  const std::string table = d.schema + "." + d.table;
  for (const auto& suffix : trigger_suffixes()) {
    const std::string name = trigger_prefix(d.mapping) + suffix;
    auto t = state.triggers.find(table + "." + name);
    if (t == state.triggers.end())
      out.push_back("trigger " + name + " on " + table + " is missing");
    else if (t->second.function != "capture_" + d.mapping)
      out.push_back("trigger " + name + " on " + table + " calls hubsync." + t->second.function +
                    ", not hubsync.capture_" + d.mapping);
    else if (t->second.fires == 'D')
      out.push_back("trigger " + name + " on " + table + " is disabled");
    else if (t->second.fires != 'A')
      out.push_back("trigger " + name + " on " + table + " fires only when session_replication_role is " +
                    (t->second.fires == 'O' ? "origin: writes made by logical replication"
                                            : "replica: the application's writes") +
                    " would not be captured");
  }
}

}  // namespace

std::vector<std::string> table_and_key_differences(const CaptureDesign& d, const InstalledCapture& in) {
  std::vector<std::string> out;
  if (in.schema != d.schema || in.table != d.table)
    out.push_back("its capture is installed on " + in.schema + "." + in.table +
                  ", but the mapping's table is " + d.schema + "." + d.table);
  std::vector<std::string> key_types;
  for (const auto& k : d.keys) key_types.push_back(k.typname);
  if (in.key_columns != names(d.keys))
    out.push_back("its key changed: the capture records " + listed(in.key_columns) +
                  ", the mapping's key is " + listed(names(d.keys)));
  else if (in.key_types != key_types)
    out.push_back("the type of its key changed: the capture was made for " + listed(in.key_types) +
                  ", the table now has " + listed(key_types));
  return out;
}

std::vector<std::string> capture_differences(const CaptureDesign& d, const CaptureState& state) {
  const std::string table = d.schema + "." + d.table;
  auto it = state.installed.find(d.mapping);
  if (it == state.installed.end()) return {"no change capture is installed on " + table};
  const InstalledCapture& in = it->second;
  if (in.logical != d.logical)
    return {std::string("postgres.capture is ") + (d.logical ? "logical" : "trigger") + ", but its capture is " +
            (in.logical ? "by logical decoding" : "a trigger")};
  if (d.logical) return logical_differences(d, in, state);
  if (in.generator_version != kCaptureGeneratorVersion)
    return {"its change capture was installed by " +
            std::string(in.generator_version < kCaptureGeneratorVersion ? "an older" : "a newer") +
            " hubsync (capture v" + std::to_string(in.generator_version) + "; this one installs v" +
            std::to_string(kCaptureGeneratorVersion) + ")"};
  std::vector<std::string> out = table_and_key_differences(d, in);
  const auto was = sorted(in.watched_columns), now = sorted(names(d.watched));
  if (in.watch_all != d.watch_all)
    out.push_back(d.watch_all ? "its filter.postgres was added: the capture must watch every column"
                              : "its filter.postgres was removed: the capture must watch the mapped columns");
  else if (was != now)
    out.push_back(std::string(d.watch_all ? "the table's columns changed since the capture was installed"
                                          : "the capture watches other columns than the mapping reads") +
                  " (newly watched: " + comma(minus(now, was)) + "; no longer watched: " +
                  comma(minus(was, now)) + ")");
  if (in.notify != d.notify)
    out.push_back(d.notify ? "postgres.notify is on, but its capture sends no NOTIFY"
                           : "postgres.notify is off, but its capture still sends NOTIFY hubsync_changes");
  trigger_differences(d, state, out);
  return out;
}

}  // namespace hubsync::postgres
