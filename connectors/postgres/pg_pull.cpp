// PgDatabase: what the pull needs — rows found by a column's value, the
// time of pending changes, and writes as hubsync (never captured), a batch
// at a time with a refused row failing alone.
#include "connectors/postgres/pg_database.h"

#include <set>

#include <pqxx/pqxx>

#include "connectors/postgres/pg_try.h"
#include "connectors/postgres/sql.h"
#include "engine/pipeline/sync_helpers.h"

namespace hubsync::postgres {

using model::ErrorKind;
using model::Result;
using model::Status;

namespace {

bool is_json(const PgDatabase::Column& c) { return c.typname == "json" || c.typname == "jsonb"; }

// A value as Postgres's input function reads it, inside a JSON document
// for jsonb_to_recordset: text for every type (the column's input function
// parses it), the document itself for json columns, null for NULL.
std::string json_value(const model::Value& v, const PgDatabase::Column& c) {
  if (v.is_null()) return "null";
  if (v.type() == model::ValueType::list) {
    std::vector<std::string> items = v.as_list();
    return model::json_quote(array_literal(items));
  }
  const std::string text = v.canonical();
  if (is_json(c)) return text.empty() ? "null" : text;
  return model::json_quote(text);
}

// `v("a" integer, "b" text, ...)`: the record type jsonb_to_recordset reads.
std::string record_type(const std::vector<std::string>& names, const std::vector<std::string>& columns,
                        const PgDatabase::Columns& cols) {
  std::string out;
  for (std::size_t i = 0; i < names.size(); ++i)
    out += (i ? ", " : "") + quote_ident(names[i]) + " " + cols.at(columns[i]).type;
  return out;
}

// The written row's key, its new version (Row::version), then the mapped
// columns `read_back` as Postgres holds them (RowApplied::fields).
std::string key_returning(const mapping::Mapping& m, const PgDatabase::Columns& cols,
                          const std::vector<std::string>& read_back) {
  std::string out;
  for (std::size_t k = 0; k < m.key.size(); ++k)
    out += key_text_sql("t." + quote_ident(m.key[k]), cols.at(m.key[k]).typname) + ", ";
  const std::string mapped = mapped_columns_sql(read_back, cols, "t");
  return out + "t.xmin::text" + (mapped.empty() ? "" : ", " + mapped);
}

model::RecordKey key_of(const pqxx::row& r, std::size_t n) {
  model::RecordKey k;
  for (std::size_t i = 0; i < n; ++i) k.parts.push_back(r[static_cast<int>(i)].c_str());
  return k;
}

// Why an update wrote nothing: the row is gone, or (guarded) it changed.
model::Error not_written(const mapping::Mapping& m, const pipeline::RowWrite& w) {
  if (w.expected_version.empty())
    return model::make_error(ErrorKind::invalid_record, m.table.display() + ": the row no longer exists");
  auto e = model::make_error(ErrorKind::conflict,
                             m.table.display() + ": the row changed (or was deleted) in Postgres after it was "
                             "read, so it was not overwritten; it is merged again with what it holds now");
  e.category = "ROW_CHANGED";
  return e;
}

// What Postgres said about one row, for its dead letter; `column`, when
// known, is the one whose value it refused.
model::Error refused(const pqxx::sql_error& e, const std::string& table, const std::string& column) {
  std::string first = e.what();
  if (auto nl = first.find('\n'); nl != std::string::npos) first.resize(nl);
  if (first.rfind("ERROR:  ", 0) == 0) first.erase(0, 8);  // libpq's severity prefix
  const std::string where = column.empty() ? table : table + ", column " + quote_ident(column);
  auto err = model::make_error(ErrorKind::invalid_record, where + ": " + first);
  err.code = e.sqlstate();
  err.category = "POSTGRES_REFUSED";
  return err;
}

// The column `column` of m's table, or a fatal error naming both.
Result<const PgDatabase::Column*> column_in(const mapping::Mapping& m, const PgDatabase::Columns& cols,
                                            const std::string& column) {
  auto c = cols.find(column);
  if (c == cols.end())
    return model::make_error(ErrorKind::fatal, "mapping " + m.name + ": column " + column +
                                                   " does not exist in " + m.table.display());
  return &c->second;
}

// The name of the first index an EXPLAIN (FORMAT JSON) plan reads, or empty.
std::string first_index_in(std::string_view plan) {
  constexpr std::string_view tag = "\"Index Name\": \"";
  const auto at = plan.find(tag);
  if (at == std::string_view::npos) return {};
  std::string name;
  for (auto i = at + tag.size(); i < plan.size() && plan[i] != '"'; ++i) {
    if (plan[i] == '\\' && i + 1 < plan.size()) ++i;  // \" or \\ in a name
    name += plan[i];
  }
  return name;
}

// True when the planner, kept off sequential scans, seeks the rows of
// `lookup` through an index (an Index Cond) that leads with `column` or
// with an expression (lower(column)), rather than reading a whole index, as
// it would a primary key on (other, column).
bool served_by_index(pqxx::transaction_base& tx, const std::string& table, const std::string& column,
                     const KeyLookup& lookup) {
  tx.exec0("SET LOCAL enable_seqscan = off");
  auto plan = tx.exec_params1("EXPLAIN (FORMAT JSON) SELECT 1 FROM " + table + " AS t WHERE " + lookup.condition,
                              lookup.param);
  const std::string_view text = plan[0].c_str();
  const std::string index = first_index_in(text);
  // Without an Index Cond the index is read whole and filtered (an index on
  // email for a lookup of lower(email)).
  if (index.empty() || text.find("\"Index Cond\"") == std::string_view::npos) return false;
  auto lead = tx.exec_params1(
      "SELECT i.indkey[0] = 0 OR i.indkey[0] = a.attnum FROM pg_catalog.pg_index i "
      "JOIN pg_catalog.pg_class x ON x.oid = i.indexrelid "
      "JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attname = $3 "
      "WHERE i.indrelid = $1::regclass AND x.relname = $2",
      table, index, column);
  return lead[0].as<bool>();
}

// Which of `columns` holds the value Postgres refused, after a data
// exception (class 22: "value too long for type character varying(5)",
// "invalid input syntax for type integer") that names a type but not the
// column: each value alone is read into its column's type as the write
// reads it, in a savepoint. Empty when each alone is taken.
std::string refusing_column(pqxx::work& tx, const PgDatabase::Columns& cols, const std::vector<std::string>& columns,
                            const pipeline::RowWrite& w) {
  for (const auto& c : columns) {
    const std::string doc = "[{\"v\":" + json_value(w.values.at(c), cols.at(c)) + "}]";
    tx.exec("SAVEPOINT hubsync_probe");
    try {
      tx.exec_params("SELECT 1 FROM jsonb_to_recordset($1::jsonb) AS r(v " + cols.at(c).type + ")", doc);
      tx.exec("RELEASE SAVEPOINT hubsync_probe");
    } catch (const pqxx::sql_error&) {
      tx.exec("ROLLBACK TO SAVEPOINT hubsync_probe");
      return c;
    }
  }
  return {};
}

}  // namespace

// One statement for a group of writes with the same columns: an UPDATE ...
// FROM jsonb_to_recordset, or an INSERT ... SELECT in input order (rows come
// back in the order they were inserted, as Postgres returns them).
std::string PgDatabase::group_sql(const mapping::Mapping& m, const Columns& cols,
                                  const std::vector<std::string>& columns, bool insert,
                                  const std::vector<std::string>& read_back) const {
  const std::string table = m.table.quoted();
  if (insert) {
    std::string list, select;
    for (const auto& c : columns) {
      list += (list.empty() ? "" : ", ") + quote_ident(c);
      select += (select.empty() ? "" : ", ") + std::string("v.") + quote_ident(c);
    }
    std::string names;
    for (const auto& c : columns) names += quote_ident(c) + ", ";
    const std::string target = columns.empty() ? " DEFAULT VALUES" : " (" + list + ") SELECT " + select +
        " FROM ROWS FROM (jsonb_to_recordset($1::jsonb) AS (" + record_type(columns, columns, cols) +
        ")) WITH ORDINALITY AS v(" + names + "ord) ORDER BY v.ord";
    return "INSERT INTO " + table + " AS t" + target + " RETURNING " + key_returning(m, cols, read_back);
  }
  std::vector<std::string> names, types;
  std::string set, where;
  for (std::size_t k = 0; k < m.key.size(); ++k) {
    names.push_back("k" + std::to_string(k));
    types.push_back(m.key[k]);
    where += (k ? " AND " : "") + std::string("t.") + quote_ident(m.key[k]) + " = v.k" + std::to_string(k);
  }
  for (const auto& c : columns) {
    names.push_back(c);
    types.push_back(c);
    set += (set.empty() ? "" : ", ") + quote_ident(c) + " = v." + quote_ident(c);
  }
  // A guarded write updates only the version it was decided on. Under READ
  // COMMITTED a row another transaction changes first is tested again in
  // its new version, which fails the test: the write waits, then skips it.
  where += " AND (v.\"$version\" IS NULL OR t.xmin::text = v.\"$version\")";
  // Last, the key the write was addressed to: a write of a key column
  // returns the row's new key first (RowApplied::key).
  std::string addressed;
  for (std::size_t k = 0; k < m.key.size(); ++k)
    addressed += ", " + key_text_sql("v.k" + std::to_string(k), cols.at(m.key[k]).typname);
  return "UPDATE " + table + " AS t SET " + set + " FROM jsonb_to_recordset($1::jsonb) AS v(" +
         record_type(names, types, cols) + ", \"$version\" text) WHERE " + where + " RETURNING " +
         key_returning(m, cols, read_back) + addressed;
}

std::string PgDatabase::group_json(const mapping::Mapping& m, const Columns& cols,
                                   const std::vector<std::string>& columns,
                                   const std::vector<pipeline::RowWrite>& writes,
                                   const std::vector<std::size_t>& rows) const {
  std::string doc = "[";
  for (std::size_t i : rows) {
    const auto& w = writes[i];
    std::string obj = "{";
    if (w.key) {
      for (std::size_t k = 0; k < m.key.size(); ++k)
        obj += (obj.size() > 1 ? "," : "") + model::json_quote("k" + std::to_string(k)) + ":" +
               model::json_quote(w.key->parts.at(k));
      if (!w.expected_version.empty())
        obj += ",\"$version\":" + model::json_quote(w.expected_version);
    }
    for (const auto& c : columns)
      obj += (obj.size() > 1 ? "," : "") + model::json_quote(c) + ":" + json_value(w.values.at(c), cols.at(c));
    doc += (doc.size() > 1 ? "," : "") + obj + "}";
  }
  return doc + "]";
}

Result<std::vector<pipeline::RowApplied>> PgDatabase::apply_rows(
    const mapping::Mapping& m, const std::vector<pipeline::RowWrite>& writes) {
  std::vector<pipeline::RowApplied> out(writes.size());
  if (writes.empty()) return out;
  auto cols = columns_of(m);
  if (!cols.ok()) return std::move(cols).error();
  // Groups of writes with the same columns, inserts apart from updates.
  std::map<std::pair<bool, std::vector<std::string>>, std::vector<std::size_t>> groups;
  for (std::size_t i = 0; i < writes.size(); ++i) {
    std::vector<std::string> columns;
    for (const auto& [c, v] : writes[i].values) {
      if (!(*cols)->count(c))
        return model::make_error(ErrorKind::fatal, "mapping " + m.name + ": column " + c +
                                                       " does not exist in " + m.table.display());
      columns.push_back(c);
    }
    groups[{!writes[i].key, columns}].push_back(i);
  }
  HUBSYNC_PG_TRY("mapping " + m.name + ": writing rows", {
    pqxx::work tx(conn());
    if (auto lost = renew_lease(tx, m.name)) return std::move(*lost);
    mark_own_write(tx, m);
    for (const auto& [shape, rows] : groups)
      apply_group(tx, m, **cols, shape.second, shape.first, writes, rows, out);
    std::vector<model::RecordKey> to_push;
    std::vector<std::pair<model::RecordKey, model::RecordKey>> moved;
    for (std::size_t i = 0; i < writes.size(); ++i) {
      if (writes[i].push && !out[i].error) to_push.push_back(out[i].key);
      if (writes[i].key && !out[i].error && out[i].key.encoded() != writes[i].key->encoded())
        moved.emplace_back(*writes[i].key, out[i].key);
    }
    enqueue_in(tx, m, to_push, 0);
    if (m.pushes()) enqueue_moves_in(tx, m, moved);
    tx.commit();
    return out;
  })
}

// Tries the group in one statement; if Postgres refuses it, writes its rows
// one by one, each in a savepoint, so only the refused rows fail.
void PgDatabase::apply_group(pqxx::work& tx, const mapping::Mapping& m, const Columns& cols,
                             const std::vector<std::string>& columns, bool insert,
                             const std::vector<pipeline::RowWrite>& writes,
                             const std::vector<std::size_t>& rows,
                             std::vector<pipeline::RowApplied>& out) {
  const auto read_back = read_back_columns(m, cols, columns, insert);
  const std::string sql = group_sql(m, cols, columns, insert, read_back);
  // Each attempt in a savepoint: a refused statement rolls back only itself.
  auto run = [&](const std::vector<std::size_t>& part) {
    tx.exec("SAVEPOINT hubsync_rows");
    try {
      pqxx::result r = columns.empty() && insert
                           ? tx.exec(sql)
                           : tx.exec_params(sql, group_json(m, cols, columns, writes, part));
      tx.exec("RELEASE SAVEPOINT hubsync_rows");
      return r;
    } catch (const pqxx::sql_error&) {
      tx.exec("ROLLBACK TO SAVEPOINT hubsync_rows");
      throw;
    }
  };
  auto land = [&](const std::vector<std::size_t>& part, const pqxx::result& r) {
    const int version_at = static_cast<int>(m.key.size());
    if (insert) {
      for (std::size_t j = 0; j < part.size() && j < r.size(); ++j) {
        const auto row = r[static_cast<int>(j)];
        out[part[j]].key = key_of(row, m.key.size());
        out[part[j]].version = row[version_at].c_str();
        out[part[j]].fields = mapped_fields(row, version_at + 1, m, read_back, cols);
      }
      return;
    }
    std::map<std::string, pqxx::row> found;  // by the key addressed (the row's last columns)
    const auto n = m.key.size();
    for (const auto& row : r) {
      model::RecordKey addressed;
      for (std::size_t k = 0; k < n; ++k) addressed.parts.push_back(row[static_cast<int>(row.size() - n + k)].c_str());
      found.emplace(addressed.encoded(), row);
    }
    for (std::size_t i : part) {
      out[i].key = *writes[i].key;
      auto f = found.find(writes[i].key->encoded());
      if (f == found.end()) {
        out[i].error = not_written(m, writes[i]);
        continue;
      }
      out[i].key = key_of(f->second, n);  // the row's key now: new if a key column was written
      out[i].version = f->second[version_at].c_str();
      out[i].fields = mapped_fields(f->second, version_at + 1, m, read_back, cols);
    }
  };
  try {
    if (!(columns.empty() && insert && rows.size() > 1)) {
      land(rows, run(rows));
      return;
    }
  } catch (const pqxx::sql_error& e) {
    // Someone in the group is refused: find out who, one at a time.
    log_->debug("mapping={} a group of {} writes was refused ({}); writing them one at a time",
                m.name, rows.size(), e.sqlstate());
  }
  for (std::size_t i : rows) {
    try {
      land({i}, run({i}));
    } catch (const pqxx::sql_error& e) {
      if (writes[i].key) out[i].key = *writes[i].key;
      const bool data = e.sqlstate().rfind("22", 0) == 0;
      out[i].error = refused(e, m.table.display(), data ? refusing_column(tx, cols, columns, writes[i]) : "");
    }
  }
}

Status PgDatabase::delete_rows(const mapping::Mapping& m, const std::vector<model::RecordKey>& keys) {
  if (keys.empty()) return {};
  auto cols = columns_of(m);
  if (!cols.ok()) return std::move(cols).error();
  std::vector<pipeline::RowWrite> doc;
  std::vector<std::size_t> all;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    doc.push_back({keys[i], {}, {}, false});
    all.push_back(i);
  }
  std::vector<std::string> names, types;
  std::string where;
  for (std::size_t k = 0; k < m.key.size(); ++k) {
    names.push_back("k" + std::to_string(k));
    types.push_back(m.key[k]);
    where += (k ? " AND " : "") + std::string("t.") + quote_ident(m.key[k]) + " = v.k" + std::to_string(k);
  }
  const std::string sql = "DELETE FROM " + m.table.quoted() + " AS t USING jsonb_to_recordset($1::jsonb) AS v(" +
                          record_type(names, types, **cols) + ") WHERE " + where;
  HUBSYNC_PG_TRY("mapping " + m.name + ": deleting rows", {
    pqxx::work tx(conn());
    if (auto lost = renew_lease(tx, m.name)) return std::move(*lost);
    mark_own_write(tx, m);
    tx.exec_params(sql, group_json(m, **cols, {}, doc, all));
    tx.commit();
    return Status{};
  })
}

Result<std::vector<pipeline::Row>> PgDatabase::read_rows_by(const mapping::Mapping& m,
                                                            const std::string& column,
                                                            const std::vector<std::string>& values,
                                                            bool fold_case) {
  std::vector<pipeline::Row> out;
  if (values.empty()) return out;
  auto cols = columns_of(m);
  if (!cols.ok()) return std::move(cols).error();
  auto c = column_in(m, **cols, column);
  if (!c.ok()) return std::move(c).error();
  const auto lookup = key_lookup_sql("t." + quote_ident(column), (*c)->typname, values, fold_case, 1);
  const std::string sql = "SELECT " + select_list(m, **cols) + " FROM " + m.table.quoted() +
                          " AS t WHERE " + lookup.condition;
  HUBSYNC_PG_TRY("mapping " + m.name + ": finding rows by " + column, {
    pqxx::read_transaction tx(conn());  // the filter is SQL from a file: read-only
    for (const auto& row : tx.exec_params(sql, lookup.param)) {
      auto r = to_row(row, m, **cols);
      if (!r.ok()) return std::move(r).error();
      out.push_back(std::move(*r));
    }
    return out;
  })
}

Result<std::vector<std::string>> PgDatabase::unindexed_lookups(const std::vector<mapping::Mapping>& mappings,
                                                               std::int64_t min_rows) {
  std::vector<std::string> out;
  for (const auto& m : mappings) {
    if (!m.pulls()) continue;
    const bool link = m.kind == mapping::MappingKind::link && m.link;
    const std::string column = link ? m.link->from_column : m.match_column();
    const bool fold = !link && pipeline::folds_match_case(m);
    auto cols = columns_of(m);
    if (!cols.ok()) return std::move(cols).error();
    auto c = column_in(m, **cols, column);
    if (!c.ok()) return std::move(c).error();
    // A sample value of the column's type, so the lookup is the pull's own.
    const std::string& type = (*c)->typname;
    const std::string sample = type == "uuid" ? "00000000-0000-0000-0000-000000000000" : "1";
    const auto lookup = key_lookup_sql("t." + quote_ident(column), type, {sample}, fold, 1);
    bool served = false;
    std::int64_t rows = 0;
    HUBSYNC_PG_TRY("mapping " + m.name + ": asking how rows are found by " + column, {
      pqxx::read_transaction tx(conn());
      // The planner's estimate (-1 before the first ANALYZE: taken as none).
      rows = tx.exec_params1("SELECT GREATEST(c.reltuples, 0)::bigint FROM pg_catalog.pg_class c "
                             "WHERE c.oid = $1::regclass", m.table.quoted())[0].as<std::int64_t>();
      if (rows >= min_rows) served = served_by_index(tx, m.table.quoted(), column, lookup);
    })
    if (rows < min_rows || served) continue;
    const std::string index = lookup_index_sql(quote_ident(column), type, fold);
    std::string line = "mapping " + m.name + ": no index serves the pull's lookup of " + m.table.display() +
                       " (about " + std::to_string(rows) + " rows) by " + column + (fold ? " (as an email: trimmed, lower-cased)" : "") +
                       ": every page of a pull scans the table; ";
    line += index.empty() ? "no index can serve it on a " + (*c)->type + " column (its key text is computed): use a text, integer or uuid column"
                          : "create one: CREATE INDEX CONCURRENTLY ON " + m.table.quoted() + " (" + index + ")";
    out.push_back(std::move(line));
  }
  return out;
}

Result<std::map<std::string, pipeline::ChangeTimes>> PgDatabase::pending_change_times(
    const mapping::Mapping& m, const std::vector<model::RecordKey>& keys) {
  std::map<std::string, pipeline::ChangeTimes> out;
  if (keys.empty()) return out;
  if (auto caught = catch_up(); !caught.ok()) return std::move(caught).error();
  std::vector<std::string> pks;
  for (const auto& key : keys) {
    std::string obj = "{";
    for (std::size_t k = 0; k < m.key.size(); ++k)
      obj += std::string(k ? "," : "") + model::json_quote(m.key[k]) + ":" + model::json_quote(key.parts.at(k));
    pks.push_back(obj + "}");
  }
  // One row per key and column changed (NULL: a change that named none,
  // read like claim_changes reads it: for every column).
  HUBSYNC_PG_TRY("mapping " + m.name + ": reading pending changes", {
    pqxx::nontransaction tx(conn());
    auto r = tx.exec_params(
        "SELECT (SELECT array_agg(c.pk ->> k ORDER BY o) FROM unnest($3::text[]) WITH ORDINALITY u(k, o)), "
        "  col, (extract(epoch from max(c.changed_at)) * 1000)::bigint "
        "FROM hubsync.changelog c CROSS JOIN LATERAL unnest(CASE WHEN cardinality(c.changed_columns) > 0 "
        "  THEN c.changed_columns ELSE ARRAY[NULL]::text[] END) col "
        "WHERE c.mapping = $1 AND c.pk = ANY($2::jsonb[]) GROUP BY c.pk, col",
        m.name, array_literal(pks), array_literal(m.key));
    for (const auto& row : r) {
      model::RecordKey k;
      k.parts = text_array(row[0]);
      std::vector<std::string> changed;
      if (!row[1].is_null()) changed.push_back(row[1].c_str());
      out[k.encoded()].add(row[2].as<std::int64_t>(), changed);
    }
    return out;
  })
}

Result<std::vector<std::string>> PgDatabase::pending_deletes(const mapping::Mapping& m) {
  if (auto caught = catch_up(); !caught.ok()) return std::move(caught).error();
  HUBSYNC_PG_TRY("mapping " + m.name + ": reading pending deletions", {
    pqxx::nontransaction tx(conn());
    auto r = tx.exec_params(
        "SELECT DISTINCT (SELECT array_agg(c.pk ->> k ORDER BY o) FROM unnest($2::text[]) WITH ORDINALITY u(k, o)) "
        "FROM hubsync.changelog c WHERE c.mapping = $1 AND c.op = 'delete'",
        m.name, array_literal(m.key));
    std::vector<std::string> out;
    for (const auto& row : r) {
      model::RecordKey k;
      k.parts = text_array(row[0]);
      out.push_back(k.encoded());
    }
    return out;
  })
}

}  // namespace hubsync::postgres
