#include "connectors/postgres/pg_database.h"

#include <algorithm>
#include <set>

#include <pqxx/pqxx>

#include "connectors/postgres/capture_relay.h"
#include "connectors/postgres/pg_try.h"
#include "connectors/postgres/sql.h"

namespace hubsync::postgres {

using model::ErrorKind;
using model::Result;
using model::Status;
using model::Value;

namespace {

// The elements of a 1-D array as text, a NULL element as "" (keys and
// column names hold none; a value's list reads NULL as an empty item).
model::Result<std::vector<std::string>> array_items(const char* text) {
  auto items = parse_text_array(text);
  if (!items.ok()) return std::move(items).error();
  std::vector<std::string> out;
  out.reserve(items->size());
  for (auto& item : *items) out.push_back(item ? std::move(*item) : std::string());
  return out;
}

std::vector<std::string> parse_array(const char* text) {
  auto items = array_items(text);
  return items.ok() ? std::move(*items) : std::vector<std::string>{};
}

// The columns whose value is another mapping's key: associations and links.
std::vector<std::string> ref_columns(const mapping::Mapping& m) {
  std::vector<std::string> out;
  for (const auto& a : m.associations) out.push_back(a.column);
  if (m.link) {
    out.push_back(m.link->from_column);
    out.push_back(m.link->to_column);
  }
  return out;
}

bool is_integer(const std::string& typname) {
  return typname == "int2" || typname == "int4" || typname == "int8" || typname == "oid";
}

// The SQL expression that reads a column as text in a form convert() parses.
std::string read_expr(const std::string& col, const PgDatabase::Column&) {
  const std::string q = quote_ident(col);
  // A float as its shortest exact text (extra_float_digits is 3), which can
  // be scientific ("1e-300"): parse_decimal writes it out. Through numeric
  // it kept 15 significant digits, and 0.30000000000000004 became 0.3.
  // Dates and timestamps travel as ISO text (the session runs in UTC with
  // DateStyle ISO) and are parsed here, so 'infinity' or a BC date fails its
  // own row instead of the whole query.
  return q + "::text";
}

Result<Value> convert(const pqxx::field& f, const PgDatabase::Column& c, const std::string& col) {
  if (f.is_null()) return Value::null();
  const char* text = f.c_str();
  auto wrap = [&](auto r, auto make) -> Result<Value> {
    if (!r.ok()) {
      auto e = r.error();
      e.message = "column " + col + ": " + e.message;
      return e;
    }
    return make(*r);
  };
  if (c.category == 'A') return wrap(array_items(text), [](std::vector<std::string> v) { return Value::list(std::move(v)); });
  if (is_integer(c.typname))
    return wrap(model::parse_integer(text), [](std::int64_t v) { return Value::integer(v); });
  if (c.category == 'N')
    return wrap(model::parse_decimal(text), [](model::Decimal d) { return Value::decimal(d); });
  if (c.category == 'B') return Value::boolean(text[0] == 't');
  if (c.typname == "date")
    return wrap(model::parse_date(text), [](model::Date d) { return Value::date(d); });
  if (c.typname == "timestamp" || c.typname == "timestamptz")
    return wrap(model::parse_datetime(text), [](model::DateTime t) { return Value::datetime(t); });
  return Value::text(text);
}

}  // namespace

PgDatabase::PgDatabase(std::string dsn, std::shared_ptr<spdlog::logger> log)
    : dsn_(std::move(dsn)), log_(std::move(log)), holder_(new_lease_holder()) {}

PgDatabase::~PgDatabase() { (void)release_mappings(); }

pqxx::connection& PgDatabase::conn() {
  if (!conn_ || !conn_->c.is_open()) {
    conn_ = std::make_unique<Conn>(dsn_);
    // Values are read as text: make that text unambiguous.
    pqxx::nontransaction(conn_->c).exec("SET TIME ZONE 'UTC'; SET DateStyle = 'ISO, YMD'; "
                                        "SET IntervalStyle = 'iso_8601'; SET extra_float_digits = 3");
    conn_->logical_wal =
        pqxx::nontransaction(conn_->c).exec("SELECT current_setting('wal_level') = 'logical'")[0][0].as<bool>();
  }
  return conn_->c;
}

Status PgDatabase::catch_up() {
  const auto now = std::chrono::steady_clock::now();
  if (!relay_ || now < no_slot_until_) return {};
  HUBSYNC_PG_TRY("capture by logical decoding", {
    auto r = relay_captured_changes(conn());
    if (!r.ok()) {
      if (r.error().kind == model::ErrorKind::transient) conn_.reset();
      return std::move(r).error();
    }
    if (r->relayed_lsn.empty()) no_slot_until_ = now + std::chrono::seconds(5);
    else if (r->changes || r->own_writes)
      log_->debug("relayed transactions={} changes={} own_writes={} lsn={}", r->transactions, r->changes,
                  r->own_writes, r->relayed_lsn);
    return Status{};
  })
}

Result<std::optional<SlotLag>> PgDatabase::capture_slot() {
  HUBSYNC_PG_TRY("reading the capture slot", { return capture_slot_lag(conn()); })
}

Result<std::optional<std::int64_t>> PgDatabase::capture_retained_wal() {
  auto slot = capture_slot();
  if (!slot.ok()) return std::move(slot).error();
  if (!*slot) return std::optional<std::int64_t>{};
  return std::optional<std::int64_t>{(*slot)->exists ? (*slot)->retained_bytes : -1};
}

void PgDatabase::mark_own_write(pqxx::transaction_base& tx, const mapping::Mapping& m) {
  tx.exec("SET LOCAL hubsync.origin = 'hubsync'");
  tx.exec("SELECT pg_catalog.nextval('hubsync.changelog_id_seq')");  // identity().position moves with it
  if (conn_->logical_wal)
    tx.exec("SELECT pg_catalog.pg_logical_emit_message(true, " + quote_literal(kOwnWriteMessage) + ", " +
            quote_literal(quote_qualified(m.table.schema, m.table.table)) + ")");
}

Result<const PgDatabase::Columns*> PgDatabase::columns_of(const mapping::Mapping& m) {
  const std::string key = m.table.quoted();
  if (auto it = columns_.find(key); it != columns_.end()) {
    // A mapping reloaded by `serve` may name a column added since: read the
    // catalog again rather than trust a cache that lacks it.
    bool all = true;
    for (const auto& col : m.postgres_columns()) all = all && it->second.count(col) > 0;
    for (const auto& col : m.key) all = all && it->second.count(col) > 0;
    if (all) return &it->second;
    columns_.erase(it);
  }
  HUBSYNC_PG_TRY("mapping " + m.name + ": reading the columns of " + m.table.display(), {
    pqxx::nontransaction tx(conn());
    auto r = tx.exec_params(
        "SELECT a.attname, format_type(a.atttypid, a.atttypmod), t.typcategory, t.typname "
        "FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_type t ON t.oid = a.atttypid "
        "WHERE n.nspname = $1 AND c.relname = $2 AND a.attnum > 0 AND NOT a.attisdropped",
        m.table.schema, m.table.table);
    if (r.empty())
      return model::make_error(ErrorKind::fatal,
                               "mapping " + m.name + ": table " + m.table.display() + " does not exist");
    Columns cols;
    for (const auto& row : r)
      cols[row[0].c_str()] = Column{row[1].c_str(), row[2].c_str()[0], row[3].c_str()};
    for (const auto& col : m.postgres_columns())
      if (!cols.count(col))
        return model::make_error(ErrorKind::fatal, "mapping " + m.name + ": column " + col +
                                                       " does not exist in " + m.table.display());
    return &columns_.emplace(key, std::move(cols)).first->second;
  })
}

// Output columns get positional aliases (k0.., c0.., r0..): an output column
// named like a table column would otherwise win in ORDER BY (it is text, so
// keys would sort as text). Keys and references are read as canonical key
// text, the same text the capture trigger records.
std::string PgDatabase::select_list(const mapping::Mapping& m, const Columns& cols) const {
  std::string sql;
  std::size_t i = 0;
  for (const auto& k : m.key)
    sql += key_text_sql(quote_ident(k), cols.at(k).typname) + " AS k" + std::to_string(i++) + ", ";
  i = 0;
  for (const auto& col : m.postgres_columns())
    sql += read_expr(col, cols.at(col)) + " AS c" + std::to_string(i++) + ", ";
  i = 0;
  for (const auto& col : ref_columns(m))
    sql += key_text_sql(quote_ident(col), cols.at(col).typname) + " AS r" + std::to_string(i++) + ", ";
  sql += m.pg_filter.empty() ? "true" : "coalesce((" + m.pg_filter + "), false)";
  return sql + " AS in_filter, xmin::text AS row_version";
}

namespace {

// A key as the changelog's pk holds it: {"key column": "value as text"}.
std::string pk_json(const mapping::Mapping& m, const model::RecordKey& key) {
  std::string obj = "{";
  for (std::size_t k = 0; k < m.key.size(); ++k)
    obj += std::string(k ? "," : "") + model::json_quote(m.key[k]) + ":" + model::json_quote(key.parts.at(k));
  return obj + "}";
}

}  // namespace

void enqueue_in(pqxx::transaction_base& tx, const mapping::Mapping& m, const std::vector<model::RecordKey>& keys,
                std::int64_t delay_ms) {
  if (keys.empty()) return;
  std::vector<std::string> pks;
  for (const auto& key : keys) pks.push_back(pk_json(m, key));
  tx.exec_params(
      "INSERT INTO hubsync.changelog (mapping, table_schema, table_name, pk, op, claimed_until) "
      "SELECT $1, $2, $3, pk::jsonb, 'update', "
      "  CASE WHEN $5 > 0 THEN clock_timestamp() + $5 * interval '1 millisecond' END "
      "FROM unnest($4::text[]) AS pk",
      m.name, m.table.schema, m.table.table, array_literal(pks), static_cast<long long>(delay_ms));
}

void enqueue_moves_in(pqxx::transaction_base& tx, const mapping::Mapping& m,
                      const std::vector<std::pair<model::RecordKey, model::RecordKey>>& moves) {
  if (moves.empty()) return;
  std::vector<std::string> from, to;
  for (const auto& [was, is] : moves) {
    from.push_back(pk_json(m, was));
    to.push_back(pk_json(m, is));
  }
  tx.exec_params(
      "INSERT INTO hubsync.changelog (mapping, table_schema, table_name, pk, op, moved_to) "
      "SELECT $1, $2, $3, f::jsonb, 'delete', t::jsonb FROM unnest($4::text[], $5::text[]) AS u(f, t)",
      m.name, m.table.schema, m.table.table, array_literal(from), array_literal(to));
}

Status PgDatabase::enqueue(const mapping::Mapping& m, const std::vector<model::RecordKey>& keys,
                           std::int64_t delay_ms) {
  if (keys.empty()) return {};
  HUBSYNC_PG_TRY("mapping " + m.name + ": enqueueing rows", {
    pqxx::work tx(conn());
    enqueue_in(tx, m, keys, delay_ms);
    tx.commit();
    return Status{};
  })
}

namespace {

// The columns claim_changes and list_pending return, as a Change.
constexpr const char* kChangeColumns =
    "c.id, c.op, c.table_schema || '.' || c.table_name, "
    "(SELECT array_agg(c.pk ->> k ORDER BY o) FROM unnest($KEYS::text[]) WITH ORDINALITY u(k, o)), "
    "c.changed_columns, c.txid, (extract(epoch from c.changed_at) * 1000)::bigint, c.attempts, "
    "CASE WHEN c.moved_to IS NOT NULL THEN "
    "(SELECT array_agg(c.moved_to ->> k ORDER BY o) FROM unnest($KEYS::text[]) WITH ORDINALITY u(k, o)) END";

std::string change_columns(const char* keys_param) {
  std::string s = kChangeColumns;
  for (auto at = s.find("$KEYS"); at != std::string::npos; at = s.find("$KEYS")) s.replace(at, 5, keys_param);
  return s;
}

std::vector<model::Change> changes_of(const pqxx::result& r, const std::string& mapping) {
  std::vector<model::Change> out;
  out.reserve(r.size());
  for (const auto& row : r) {
    model::Change c;
    c.id = row[0].as<std::int64_t>();
    const std::string op = row[1].c_str();
    c.op = op == "insert"     ? model::ChangeOp::insert
           : op == "delete"   ? model::ChangeOp::del
           : op == "truncate" ? model::ChangeOp::truncate
                              : model::ChangeOp::update;
    c.mapping = mapping;
    c.table = row[2].c_str();
    if (!row[3].is_null() && c.op != model::ChangeOp::truncate) {
      // A key column the change's pk lacks comes back NULL (key columns
      // never hold NULL): it was captured under other key columns.
      auto parts = parse_text_array(row[3].c_str());
      for (auto& p : parts.ok() ? *parts : std::vector<std::optional<std::string>>{}) {
        c.other_key = c.other_key || !p;
        c.key.parts.push_back(p.value_or(""));
      }
    }
    if (!row[4].is_null()) c.changed_columns = parse_array(row[4].c_str());
    c.txid = row[5].as<std::int64_t>();
    c.committed_at_ms = row[6].as<std::int64_t>();
    c.attempts = row[7].as<int>();
    if (!row[8].is_null() && c.op == model::ChangeOp::del) c.moved_to = model::RecordKey{parse_array(row[8].c_str())};
    out.push_back(std::move(c));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  return out;
}

}  // namespace

Result<std::vector<model::Change>> PgDatabase::list_pending(const mapping::Mapping& m, std::int64_t after_id,
                                                            std::size_t limit) {
  if (auto caught = catch_up(); !caught.ok()) return std::move(caught).error();
  HUBSYNC_PG_TRY("mapping " + m.name + ": reading pending changes", {
    pqxx::read_transaction tx(conn());
    auto r = tx.exec_params("SELECT " + change_columns("$4") +
                                " FROM hubsync.changelog c WHERE c.mapping = $1 AND c.id > $2 ORDER BY c.id LIMIT $3",
                            m.name, static_cast<long long>(after_id), static_cast<long long>(limit),
                            array_literal(m.key));
    return changes_of(r, m.name);
  })
}

Result<std::vector<model::Change>> PgDatabase::claim_changes(const mapping::Mapping& m,
                                                             std::size_t limit,
                                                             std::int64_t lease_ms,
                                                             const std::string& worker) {
  if (auto caught = catch_up(); !caught.ok()) return std::move(caught).error();
  HUBSYNC_PG_TRY("mapping " + m.name + ": claiming changes", {
    pqxx::work tx(conn());
    if (auto lost = renew_lease(tx, m.name)) return std::move(*lost);
    auto r = tx.exec_params(
        "UPDATE hubsync.changelog c SET claimed_by = $3, attempts = c.attempts + 1, "
        "  claimed_until = clock_timestamp() + $4 * interval '1 millisecond' "
        "WHERE c.id IN (SELECT id FROM hubsync.changelog WHERE mapping = $1 "
        "  AND (claimed_until IS NULL OR claimed_until < clock_timestamp()) "
        "  ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED) "
        "RETURNING " + change_columns("$5"),
        m.name, static_cast<long long>(limit), worker, static_cast<long long>(lease_ms),
        array_literal(m.key));
    tx.commit();
    return changes_of(r, m.name);
  })
}

Status PgDatabase::complete_changes(const std::vector<pipeline::CompletedChange>& done) {
  if (done.empty()) return {};
  std::vector<std::string> ids, outcomes, details;
  for (const auto& d : done) {
    ids.push_back(std::to_string(d.id));
    outcomes.push_back(pipeline::to_string(d.outcome));
    details.push_back(d.detail);
  }
  HUBSYNC_PG_TRY("completing changes", {
    pqxx::work tx(conn());
    tx.exec_params(
        "WITH done AS (SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[]) AS d(id, outcome, detail)), "
        "moved AS (DELETE FROM hubsync.changelog c USING done WHERE c.id = done.id "
        "  RETURNING c.id, c.mapping, c.table_schema, c.table_name, c.pk, c.op, c.changed_columns, "
        "  c.txid, c.changed_at, c.moved_to, done.outcome, done.detail) "
        "INSERT INTO hubsync.changelog_archive (id, mapping, table_schema, table_name, pk, op, "
        "  changed_columns, txid, changed_at, moved_to, outcome, detail) "
        "SELECT id, mapping, table_schema, table_name, pk, op, changed_columns, txid, changed_at, "
        "  moved_to, outcome, nullif(detail, '') FROM moved ON CONFLICT (id) DO NOTHING",
        array_literal(ids), array_literal(outcomes), array_literal(details));
    tx.commit();
    return Status{};
  })
}

Status PgDatabase::release_changes(const std::vector<std::int64_t>& ids, std::int64_t delay_ms) {
  if (ids.empty()) return {};
  std::vector<std::string> text;
  for (auto id : ids) text.push_back(std::to_string(id));
  HUBSYNC_PG_TRY("releasing changes", {
    pqxx::work tx(conn());
    tx.exec_params(
        "UPDATE hubsync.changelog SET claimed_by = NULL, "
        "claimed_until = CASE WHEN $2 > 0 THEN clock_timestamp() + $2 * interval '1 millisecond' END "
        "WHERE id = ANY($1::bigint[])",
        array_literal(text), static_cast<long long>(delay_ms));
    tx.commit();
    return Status{};
  })
}

Result<std::int64_t> PgDatabase::count_pending(const std::string& mapping) {
  if (auto caught = catch_up(); !caught.ok()) return std::move(caught).error();
  HUBSYNC_PG_TRY("counting pending changes", {
    pqxx::nontransaction tx(conn());
    auto r = tx.exec_params("SELECT count(*) FROM hubsync.changelog WHERE mapping = $1", mapping);
    return r[0][0].as<std::int64_t>();
  })
}

Result<std::int64_t> PgDatabase::oldest_pending_ms(const std::string& mapping) {
  if (auto caught = catch_up(); !caught.ok()) return std::move(caught).error();
  HUBSYNC_PG_TRY("reading the oldest pending change", {
    pqxx::nontransaction tx(conn());
    auto r = tx.exec_params("SELECT coalesce((extract(epoch from min(changed_at)) * 1000)::bigint, 0) "
                            "FROM hubsync.changelog WHERE mapping = $1",
                            mapping);
    return r[0][0].as<std::int64_t>();
  })
}

Result<std::int64_t> PgDatabase::count_rows(const mapping::Mapping& m) {
  HUBSYNC_PG_TRY("mapping " + m.name + ": counting rows", {
    pqxx::nontransaction tx(conn());
    return tx.exec("SELECT count(*) FROM " + m.table.quoted())[0][0].as<std::int64_t>();
  })
}

Result<std::int64_t> PgDatabase::count_rows_holding(const mapping::Mapping& m, const std::string& column) {
  HUBSYNC_PG_TRY("mapping " + m.name + ": counting rows with " + column, {
    pqxx::nontransaction tx(conn());
    return tx.exec("SELECT count(" + quote_ident(column) + ") FROM " + m.table.quoted())[0][0].as<std::int64_t>();
  })
}

namespace {

// A key column that nothing but the key reads: never sent, never compared,
// so any value its type holds ('infinity', a BC date, NaN) is a key, kept
// as Postgres's text. Asked for every column of every row read: no
// allocation.
bool key_only(const mapping::Mapping& m, const std::string& col) {
  if (std::find(m.key.begin(), m.key.end(), col) == m.key.end() || m.field_for_column(col) ||
      col == m.soft_delete_column)
    return false;
  for (const auto& a : m.associations)
    if (a.column == col) return false;
  return !m.link || (m.link->from_column != col && m.link->to_column != col);
}

// Column `col` of m's table as to_row reads it.
Result<Value> read_value(const pqxx::field& f, const mapping::Mapping& m, const PgDatabase::Columns& cols,
                         const std::string& col) {
  if (key_only(m, col)) return f.is_null() ? Value::null() : Value::text(f.c_str());
  return convert(f, cols.at(col), col);
}

}  // namespace

Result<pipeline::Row> to_row(const pqxx::row& r, const mapping::Mapping& m,
                             const PgDatabase::Columns& cols) {
  pipeline::Row row;
  std::size_t i = 0;
  for (; i < m.key.size(); ++i) row.key.parts.push_back(r[static_cast<int>(i)].c_str());
  for (const auto& col : m.postgres_columns()) {
    auto v = read_value(r[static_cast<int>(i++)], m, cols, col);
    if (!v.ok()) {
      // One unreadable value spoils this row only: it is dead-lettered.
      if (!row.error) row.error = std::move(v).error();
      continue;
    }
    row.fields.emplace(col, std::move(*v));
  }
  for (const auto& col : ref_columns(m)) {
    const auto& f = r[static_cast<int>(i++)];
    row.ref_keys[col] = f.is_null() ? std::nullopt : std::optional<std::string>(f.c_str());
  }
  row.in_filter = r[static_cast<int>(i++)].as<bool>();
  row.version = r[static_cast<int>(i)].c_str();
  return row;
}


std::vector<std::string> read_back_columns(const mapping::Mapping& m, const PgDatabase::Columns& cols,
                                           const std::vector<std::string>& written, bool insert) {
  static const std::set<std::string> kExact = {"text", "varchar", "int2", "int4", "int8", "bool"};
  std::vector<std::string> out;
  for (const auto& col : m.postgres_columns()) {
    const bool wrote = std::find(written.begin(), written.end(), col) != written.end();
    if (wrote ? !kExact.count(cols.at(col).typname) : insert) out.push_back(col);
  }
  return out;
}

std::string mapped_columns_sql(const std::vector<std::string>& columns, const PgDatabase::Columns& cols,
                               const std::string& alias) {
  std::string sql;
  for (const auto& col : columns) sql += (sql.empty() ? "" : ", ") + alias + "." + read_expr(col, cols.at(col));
  return sql;
}

model::Fields mapped_fields(const pqxx::row& r, int at, const mapping::Mapping& m,
                            const std::vector<std::string>& columns, const PgDatabase::Columns& cols) {
  model::Fields out;
  for (const auto& col : columns) {
    auto v = read_value(r[at++], m, cols, col);
    if (!v.ok()) return {};
    out.emplace(col, std::move(*v));
  }
  return out;
}

Result<std::map<std::string, pipeline::Row>> PgDatabase::read_rows(
    const mapping::Mapping& m, const std::vector<model::RecordKey>& keys) {
  std::map<std::string, pipeline::Row> out;
  std::vector<const model::RecordKey*> wanted;  // a truncate's empty key names no row
  for (const auto& key : keys)
    if (key.parts.size() == m.key.size()) wanted.push_back(&key);
  if (wanted.empty()) return out;
  auto cols = columns_of(m);
  if (!cols.ok()) return std::move(cols).error();
  // One text[] parameter per key column, cast to the column's type so the
  // comparison uses the primary-key index.
  std::string unnest, key_tuple;
  std::vector<std::string> params;
  for (std::size_t k = 0; k < m.key.size(); ++k) {
    std::vector<std::string> values;
    for (const auto* key : wanted) values.push_back(key->parts[k]);
    params.push_back(array_literal(values));
    unnest += std::string(k ? ", " : "") + "$" + std::to_string(k + 1) + "::" +
              (*cols)->at(m.key[k]).type + "[]";
    key_tuple += std::string(k ? ", " : "") + "t." + quote_ident(m.key[k]);
  }
  const std::string sql = "SELECT " + select_list(m, **cols) + " FROM " + m.table.quoted() + " AS t" +
                          " WHERE (" + key_tuple + ") IN (SELECT * FROM unnest(" + unnest + "))";
  HUBSYNC_PG_TRY("mapping " + m.name + ": reading rows", {
    // Read-only: the mapping's filter is SQL from a file, and must not write.
    pqxx::read_transaction tx(conn());
    pqxx::result r;
    switch (params.size()) {
      case 1: r = tx.exec_params(sql, params[0]); break;
      case 2: r = tx.exec_params(sql, params[0], params[1]); break;
      case 3: r = tx.exec_params(sql, params[0], params[1], params[2]); break;
      case 4: r = tx.exec_params(sql, params[0], params[1], params[2], params[3]); break;
      default:
        return model::make_error(ErrorKind::fatal, "mapping " + m.name + ": keys of more than 4 columns are not supported");
    }
    for (const auto& row : r) {
      auto converted = to_row(row, m, **cols);
      if (!converted.ok()) return std::move(converted).error();
      std::string k = converted->key.encoded();
      out.emplace(std::move(k), std::move(*converted));
    }
    return out;
  })
}

Status PgDatabase::scan_rows(const mapping::Mapping& m, const model::RecordKey& after,
                             std::size_t batch,
                             const std::function<Status(std::vector<pipeline::Row>&)>& fn) {
  auto cols = columns_of(m);
  if (!cols.ok()) return std::move(cols).error();
  std::string key_tuple, after_tuple;
  for (std::size_t k = 0; k < m.key.size(); ++k) {
    key_tuple += std::string(k ? ", " : "") + "t." + quote_ident(m.key[k]);
    after_tuple += std::string(k ? ", " : "") + "($" + std::to_string(k + 2) + ")::" +
                   (*cols)->at(m.key[k]).type;
  }
  const std::string base = "SELECT " + select_list(m, **cols) + " FROM " + m.table.quoted() + " AS t";
  const std::string order = " ORDER BY " + key_tuple + " LIMIT $1";
  model::RecordKey cursor = after;
  while (true) {
    std::vector<pipeline::Row> rows;
    HUBSYNC_PG_TRY("mapping " + m.name + ": scanning rows", {
      pqxx::read_transaction tx(conn());  // read-only, as in read_rows
      pqxx::result r;
      const long long n = static_cast<long long>(batch);
      if (cursor.parts.empty()) {
        r = tx.exec_params(base + order, n);
      } else {
        const std::string sql = base + " WHERE (" + key_tuple + ") > (" + after_tuple + ")" + order;
        const auto& p = cursor.parts;
        switch (p.size()) {
          case 1: r = tx.exec_params(sql, n, p[0]); break;
          case 2: r = tx.exec_params(sql, n, p[0], p[1]); break;
          case 3: r = tx.exec_params(sql, n, p[0], p[1], p[2]); break;
          case 4: r = tx.exec_params(sql, n, p[0], p[1], p[2], p[3]); break;
          default:
            return model::make_error(ErrorKind::fatal, "mapping " + m.name + ": keys of more than 4 columns are not supported");
        }
      }
      rows.reserve(r.size());
      for (const auto& row : r) {
        auto converted = to_row(row, m, **cols);
        if (!converted.ok()) return std::move(converted).error();
        rows.push_back(std::move(*converted));
      }
    })
    if (rows.empty()) return {};
    cursor = rows.back().key;
    const bool last = rows.size() < batch;
    if (auto st = fn(rows); !st.ok()) return st;
    if (last) return {};
  }
}

}  // namespace hubsync::postgres
