#include "connectors/postgres/pg_catalog.h"

#include <map>

#include <pqxx/pqxx>

#include "connectors/postgres/sql.h"

namespace hubsync::postgres {

struct PgCatalogReader::Conn {
  pqxx::connection c;
  explicit Conn(const std::string& dsn) : c(dsn) {}
};

PgCatalogReader::PgCatalogReader(std::string dsn) : dsn_(std::move(dsn)) {}
PgCatalogReader::~PgCatalogReader() = default;

model::Result<mapping::PgTableInfo> PgCatalogReader::describe_table(const mapping::TableName& table) {
  try {
    if (!conn_) conn_ = std::make_unique<Conn>(dsn_);
    pqxx::nontransaction tx(conn_->c);
    mapping::PgTableInfo info;
    auto cols = tx.exec_params(
        "SELECT a.attname, format_type(a.atttypid, a.atttypmod), NOT a.attnotnull, "
        "  a.atthasdef OR a.attidentity <> '', t.typtype = 'e' "
        "FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_type t ON t.oid = a.atttypid "
        "WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p', 'v', 'm', 'f') "
        "  AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
        table.schema, table.table);
    if (cols.empty()) return info;
    info.exists = true;
    for (const auto& r : cols)
      info.columns.push_back({r[0].c_str(), r[1].c_str(), r[2].as<bool>(), r[3].as<bool>(), r[4].as<bool>()});
    // Unique indexes (and the primary key), columns in index order, the
    // partial ones apart with their predicate; expression indexes are left
    // out.
    auto idx = tx.exec_params(
        "SELECT i.indisprimary, array_agg(a.attname ORDER BY k.ord), "
        "  pg_catalog.pg_get_expr(i.indpred, i.indrelid) "
        "FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord) "
        "JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum "
        "WHERE n.nspname = $1 AND c.relname = $2 AND i.indisunique "
        "  AND 0 <> ALL (i.indkey) "
        "GROUP BY i.indexrelid, i.indisprimary, i.indpred, i.indrelid",
        table.schema, table.table);
    for (const auto& r : idx) {
      auto names = text_array(r[1]);
      if (!r[2].is_null()) {
        info.partial_unique_indexes.emplace_back(std::move(names), r[2].c_str());
        continue;
      }
      if (r[0].as<bool>()) info.primary_key = names;
      info.unique_indexes.push_back(std::move(names));
    }
    auto subs = tx.exec_params(
        "SELECT s.subname FROM pg_subscription_rel sr JOIN pg_subscription s ON s.oid = sr.srsubid "
        "JOIN pg_class c ON c.oid = sr.srrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = $1 AND c.relname = $2 ORDER BY s.subname",
        table.schema, table.table);
    for (const auto& r : subs) info.subscriptions.push_back(r[0].c_str());
    return info;
  } catch (const pqxx::pqxx_exception& e) {
    conn_.reset();
    return translate_exception(e.base(), "describing " + table.display());
  } catch (const std::exception& e) {
    conn_.reset();
    return model::make_error(model::ErrorKind::fatal, "describing " + table.display() + ": " + e.what());
  }
}

model::Status PgCatalogReader::check_filter(const mapping::TableName& table,
                                            const std::string& expression) {
  try {
    if (!conn_) conn_ = std::make_unique<Conn>(dsn_);
    // EXPLAIN plans the query without running it: the expression is parsed
    // and type-checked against the table. Planning may still call functions
    // (immutable and stable ones are folded), so it runs read-only: a filter
    // that writes, even to a sequence, fails here. exec_params uses the
    // extended protocol, which refuses a second statement smuggled into the
    // expression.
    pqxx::read_transaction tx(conn_->c);
    tx.exec_params("EXPLAIN SELECT 1 FROM " + table.quoted() + " WHERE (" + expression + ")");
    tx.abort();
    return {};
  } catch (const pqxx::sql_error& e) {
    std::string msg = e.what();
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
    if (e.sqlstate() == "25006") msg = "it must not write (hubsync runs it read-only): " + msg;
    return model::make_error(model::ErrorKind::invalid_record, msg);
  } catch (const pqxx::pqxx_exception& e) {
    conn_.reset();
    return translate_exception(e.base(), "checking the filter of " + table.display());
  } catch (const std::exception& e) {
    conn_.reset();
    return model::make_error(model::ErrorKind::fatal, e.what());
  }
}

}  // namespace hubsync::postgres
