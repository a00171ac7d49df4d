#include "connectors/postgres/capture_logical.h"

#include <algorithm>

#include <pqxx/pqxx>

#include "connectors/postgres/capture_relay.h"
#include "connectors/postgres/sql.h"

namespace hubsync::postgres {

namespace {

struct Identity {
  char kind = 'd';                    // pg_class.relreplident
  std::vector<std::string> columns;   // what a DELETE's old key carries
};

Identity replica_identity(pqxx::transaction_base& tx, const CaptureDesign& d) {
  auto r = tx.exec_params(
      "SELECT c.relreplident, (SELECT array_agg(a.attname::text ORDER BY a.attnum) FROM pg_index i "
      "  JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey) "
      "  WHERE i.indrelid = c.oid AND ((c.relreplident = 'd' AND i.indisprimary) "
      "    OR (c.relreplident = 'i' AND i.indisreplident))) "
      "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2",
      d.schema, d.table);
  Identity id;
  if (r.empty()) return id;
  id.kind = r[0][0].c_str()[0];
  id.columns = text_array(r[0][1]);
  return id;
}

}  // namespace

void check_replica_identity(pqxx::transaction_base& tx, const CaptureDesign& d) {
  const Identity id = replica_identity(tx, d);
  if (id.kind == 'f') return;
  std::vector<std::string> missing;
  for (const auto& k : d.keys)
    if (std::find(id.columns.begin(), id.columns.end(), k.name) == id.columns.end()) missing.push_back(k.name);
  if (missing.empty()) return;
  const std::string table = quote_qualified(d.schema, d.table);
  const std::string has = id.kind == 'n'   ? "REPLICA IDENTITY NOTHING"
                          : id.columns.empty() ? "no primary key (replica identity DEFAULT)"
                                               : "a replica identity of (" + array_literal(id.columns) + ")";
  throw CaptureError("mapping " + d.mapping + ": postgres.capture is logical, but table " + table + " has " + has +
                     ", which does not hold key column " + quote_ident(missing.front()) +
                     ": a DELETE would not say which row it was (and, once published, PostgreSQL refuses "
                     "UPDATE and DELETE of a table with no identity). Give it one: ALTER TABLE " + table +
                     " REPLICA IDENTITY USING INDEX <a unique index on the key, NOT NULL columns>; or "
                     "REPLICA IDENTITY FULL (every column logged); or use postgres.capture: trigger");
}

void read_logical_state(pqxx::transaction_base& tx, CaptureState& state) {
  for (const auto& r : tx.exec_params("SELECT schemaname, tablename FROM pg_publication_tables WHERE pubname = $1",
                                      kCapturePublication))
    state.published.insert(std::string(r[0].c_str()) + "." + r[1].c_str());
  auto slot = tx.exec("SELECT r.slot, s.slot_name IS NOT NULL FROM hubsync.capture_relay r "
                      "LEFT JOIN pg_replication_slots s ON s.slot_name = r.slot");
  if (slot.empty()) return;
  state.slot = slot[0][0].c_str();
  state.slot_exists = slot[0][1].as<bool>();
}

std::vector<std::string> logical_differences(const CaptureDesign& d, const InstalledCapture& in,
                                             const CaptureState& state) {
  std::vector<std::string> out = table_and_key_differences(d, in);
  const std::string table = d.schema + "." + d.table;
  if (!state.published.count(table))
    out.push_back("table " + table + " is not in publication " + std::string(kCapturePublication));
  if (!state.slot)
    out.push_back("no replication slot is recorded for capture by logical decoding");
  else if (!state.slot_exists)
    out.push_back("replication slot " + *state.slot +
                  " is gone: changes made since it was dropped were not captured (after `hubsync migrate`, "
                  "queue the table's rows for a push check: README, Troubleshooting)");
  return out;
}

std::vector<std::string> logical_server_problems(pqxx::transaction_base& tx) {
  std::vector<std::string> out;
  auto r = tx.exec("SELECT current_setting('wal_level'), r.rolsuper OR r.rolreplication, current_user "
                   "FROM pg_roles r WHERE r.rolname = current_user");
  const std::string level = r[0][0].c_str();
  if (level != "logical")
    out.push_back("postgres.capture is logical, but the server's wal_level is " + level +
                  ": set wal_level = logical in postgresql.conf and restart PostgreSQL");
  if (!r[0][1].as<bool>())
    out.push_back("postgres.capture is logical, but role " + std::string(r[0][2].c_str()) +
                  " may not read a replication slot: ALTER ROLE " + quote_ident(r[0][2].c_str()) + " REPLICATION");
  return out;
}

bool valid_slot_name(const std::string& name) {
  if (name.empty() || name.size() > 63) return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'; });
}

}  // namespace hubsync::postgres
