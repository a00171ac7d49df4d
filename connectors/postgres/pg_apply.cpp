// PgDatabase: writes to mapped tables on behalf of HubSpot (as hubsync, so
// the capture trigger ignores them), changelog housekeeping, and the
// database's hubsync id.
#include "connectors/postgres/pg_database.h"

#include <pqxx/pqxx>

#include "connectors/postgres/pg_try.h"
#include "connectors/postgres/sql.h"

namespace hubsync::postgres {

using model::ErrorKind;
using model::Result;
using model::Status;

namespace {

// "(t.a, t.b) IN (SELECT * FROM unnest($1::bigint[], $2::text[]))" and its
// parameters, one text[] per key column cast to the column's type (so the
// comparison uses the key's index).
struct KeyMatch {
  std::string sql;
  std::vector<std::string> params;
};

KeyMatch key_match(const mapping::Mapping& m, const PgDatabase::Columns& cols,
                   const std::vector<model::RecordKey>& keys) {
  KeyMatch out;
  std::string unnest, tuple;
  for (std::size_t k = 0; k < m.key.size(); ++k) {
    std::vector<std::string> values;
    for (const auto& key : keys) values.push_back(key.parts.at(k));
    out.params.push_back(array_literal(values));
    unnest += std::string(k ? ", " : "") + "$" + std::to_string(k + 1) + "::" + cols.at(m.key[k]).type + "[]";
    tuple += std::string(k ? ", " : "") + "t." + quote_ident(m.key[k]);
  }
  out.sql = "(" + tuple + ") IN (SELECT * FROM unnest(" + unnest + "))";
  return out;
}

pqxx::result exec_with(pqxx::transaction_base& tx, const std::string& sql,
                       const std::vector<std::string>& p) {
  switch (p.size()) {
    case 1: return tx.exec_params(sql, p[0]);
    case 2: return tx.exec_params(sql, p[0], p[1]);
    case 3: return tx.exec_params(sql, p[0], p[1], p[2]);
    case 4: return tx.exec_params(sql, p[0], p[1], p[2], p[3]);
    default: throw std::invalid_argument("keys of more than 4 columns are not supported");
  }
}

}  // namespace

Result<std::int64_t> PgDatabase::max_change_id(const std::string& mapping) {
  if (auto caught = catch_up(); !caught.ok()) return std::move(caught).error();
  HUBSYNC_PG_TRY("mapping " + mapping + ": reading the changelog", {
    pqxx::nontransaction tx(conn());
    auto r = tx.exec_params("SELECT coalesce(max(id), 0) FROM hubsync.changelog WHERE mapping = $1",
                            mapping);
    return r[0][0].as<std::int64_t>();
  })
}

Status PgDatabase::apply_hubspot_deletes(const mapping::Mapping& m,
                                         const std::vector<model::RecordKey>& keys) {
  if (keys.empty()) return {};
  auto cols = columns_of(m);
  if (!cols.ok()) return std::move(cols).error();
  const KeyMatch match = key_match(m, **cols, keys);
  std::string sql;
  if (m.deletes == mapping::DeletePolicy::soft) {
    const std::string col = quote_ident(m.soft_delete_column);
    const auto& c = (*cols)->at(m.soft_delete_column);
    const std::string value = c.category == 'B' ? "true" : "CAST(now() AS " + c.type + ")";
    sql = "UPDATE " + m.table.quoted() + " AS t SET " + col + " = " + value + " WHERE " + match.sql +
          (c.category == 'B' ? " AND t." + col + " IS NOT TRUE" : " AND t." + col + " IS NULL");
  } else {
    sql = "DELETE FROM " + m.table.quoted() + " AS t WHERE " + match.sql;
  }
  HUBSYNC_PG_TRY("mapping " + m.name + ": applying deletions made in HubSpot", {
    pqxx::work tx(conn());
    if (auto lost = renew_lease(tx, m.name)) return std::move(*lost);
    mark_own_write(tx, m);
    exec_with(tx, sql, match.params);
    tx.commit();
    return Status{};
  })
}

Result<pipeline::DatabaseIdentity> PgDatabase::identity() {
  HUBSYNC_PG_TRY("reading this database's hubsync id and change counter", {
    // One statement, outside a transaction: one round trip (serve asks
    // before every step of work).
    pqxx::nontransaction tx(conn());
    const auto no_id = [](const char* why) -> Result<pipeline::DatabaseIdentity> {
      return model::make_error(ErrorKind::fatal,
                               std::string("this database has no hubsync database id (") + why + "): run `hubsync migrate`");
    };
    pqxx::result r;
    try {
      r = tx.exec(
          "SELECT (SELECT value FROM hubsync.settings WHERE key = 'database_id'), "
          "(SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM hubsync.changelog_id_seq), "
          "(SELECT value::bigint FROM hubsync.settings WHERE key = 'sync_mark')");
    } catch (const pqxx::undefined_table&) {
      return no_id("hubsync is not installed in it");
    }
    if (r[0][0].is_null()) return no_id("its hubsync schema predates it");
    pipeline::DatabaseIdentity id;
    id.id = r[0][0].c_str();
    id.position = r[0][1].as<std::int64_t>();
    id.mark = r[0][2].is_null() ? 0 : r[0][2].as<std::int64_t>();
    return id;
  })
}

Result<std::int64_t> PgDatabase::advance_position() {
  HUBSYNC_PG_TRY("moving this database's change counter on", {
    pqxx::work tx(conn());
    // txid_current() gives the transaction an id, so its commit is flushed,
    // and waited for even where the application's commits are not: what it
    // flushes covers every change before it.
    tx.exec("SET LOCAL synchronous_commit = on");
    const auto at = tx.exec("SELECT pg_catalog.nextval('hubsync.changelog_id_seq'), pg_catalog.txid_current()")[0][0]
                        .as<std::int64_t>();
    // The mark itself, which no write of the application moves (the
    // highest of any two processes marking one database).
    tx.exec_params("INSERT INTO hubsync.settings (key, value) VALUES ('sync_mark', $1) ON CONFLICT (key) DO "
                   "UPDATE SET value = EXCLUDED.value WHERE hubsync.settings.value::bigint < EXCLUDED.value::bigint",
                   std::to_string(at));
    tx.commit();
    return at;
  })
}

Result<std::int64_t> PgDatabase::server_clock_ms() {
  HUBSYNC_PG_TRY("reading the database server's clock", {
    pqxx::nontransaction tx(conn());
    const char* read_clock =
        "SELECT pg_catalog.floor(pg_catalog.date_part('epoch', pg_catalog.clock_timestamp()) * 1000)::bigint";
    return tx.exec(read_clock)[0][0].as<std::int64_t>();
  })
}

Result<std::int64_t> PgDatabase::prune_archive() {
  HUBSYNC_PG_TRY("pruning the changelog archive", {
    pqxx::nontransaction tx(conn());
    return tx.exec("SELECT hubsync.prune_archive()")[0][0].as<std::int64_t>();
  })
}

}  // namespace hubsync::postgres
