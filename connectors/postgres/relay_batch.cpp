#include "connectors/postgres/relay_batch.h"

#include <algorithm>
#include <pqxx/pqxx>

#include "connectors/postgres/sql.h"

namespace hubsync::postgres {

using pgoutput::Kind;
using pgoutput::Message;

namespace {

// A key change's delete (moved "t") takes the next row's key, its insert's,
// as moved_to (migration 0007).
template <class Rows>
void insert_rows(pqxx::work& tx, const RelayTarget& t, const Rows& r) {
  if (r.ops.empty()) return;
  std::string columns = "op, xid, us, moved", arrays = "$4::text[], $5::bigint[], $6::bigint[], $7::boolean[]", pk;
  for (std::size_t k = 0; k < t.key_columns.size(); ++k) {
    const std::string name = "k" + std::to_string(k);
    columns += ", " + name;
    arrays += ", $" + std::to_string(8 + k) + "::text[]";
    pk += (k ? ", " : "") + quote_literal(t.key_columns[k]) + ", " +
          key_text_sql("(c." + name + ")::" + t.key_types[k], t.key_typnames[k]);
  }
  const std::string sql =
      "INSERT INTO hubsync.changelog (mapping, table_schema, table_name, pk, op, txid, changed_at, moved_to)\n"
      "SELECT $1, $2, $3, r.pk, r.op::hubsync.change_op, r.xid,\n"
      "       timestamptz '2000-01-01 00:00:00+00' + r.us * interval '1 microsecond',\n"
      "       CASE WHEN r.moved THEN lead(r.pk) OVER (ORDER BY r.o) END\n"
      "FROM (SELECT CASE WHEN c.op = 'truncate' THEN '{}'::jsonb ELSE jsonb_build_object(" + pk + ") END AS pk,\n"
      "             c.op, c.xid, c.us, c.moved, c.o\n"
      "      FROM unnest(" + arrays + ") WITH ORDINALITY AS c(" + columns + ", o)) r ORDER BY r.o";
  std::vector<std::string> params = {t.mapping,          t.schema,           t.table,
                                     array_literal(r.ops), array_literal(r.xids), array_literal(r.times),
                                     array_literal(r.moved)};
  for (const auto& k : r.keys) params.push_back(array_literal(k));
  tx.exec_params(sql, pqxx::prepare::make_dynamic_params(params));
}

}  // namespace

RelayBatch::RelayBatch(std::vector<RelayTarget> targets, std::uint64_t relayed) : relayed_(relayed) {
  set_targets(std::move(targets));
}

void RelayBatch::set_targets(std::vector<RelayTarget> targets) {
  targets_ = std::move(targets);
  clear();
}

void RelayBatch::clear() {
  rows_.assign(targets_.size(), TargetRows{});
  for (std::size_t i = 0; i < targets_.size(); ++i) rows_[i].keys.resize(targets_[i].key_columns.size());
  pending_ = 0;
}

void RelayBatch::take(Message m, RelayReport& report) {
  switch (m.kind) {
    case Kind::relation:
      relations_[m.relation_oid] = std::move(m);
      return;
    case Kind::begin:
      txn_ = Txn{m.xid, m.commit_time_us, {}, {}};
      in_txn_ = true;
      return;
    case Kind::message:
      if (m.transactional && m.prefix == kOwnWriteMessage) txn_.own.insert(m.content);
      return;
    case Kind::insert:
    case Kind::update:
    case Kind::del:
    case Kind::truncate:
      txn_.changes.push_back(std::move(m));
      return;
    case Kind::commit:
      if (m.end_lsn > relayed_ && !txn_.changes.empty()) {
        emit(report);
        ++report.transactions;
      }
      last_commit_ = std::max(last_commit_, m.end_lsn);
      in_txn_ = false;
      txn_ = Txn{};
      return;
    case Kind::origin:
    case Kind::type:
      return;
  }
}

void RelayBatch::write(pqxx::work& tx) const {
  for (std::size_t t = 0; t < targets_.size(); ++t) insert_rows(tx, targets_[t], rows_[t]);
}

const Message& RelayBatch::relation(std::uint32_t oid) const {
  auto it = relations_.find(oid);
  if (it == relations_.end())
    throw RelayFailure("a change of relation " + std::to_string(oid) + " came before its description");
  return it->second;
}

void RelayBatch::emit(RelayReport& report) {
  for (const auto& c : txn_.changes) {
    if (c.kind == Kind::truncate) {
      for (auto oid : c.relations) report.changes += emit_truncate(relation(oid));
      continue;
    }
    const Message& rel = relation(c.relation_oid);
    if (txn_.own.count(quote_qualified(rel.schema, rel.table))) {
      ++report.own_writes;
      continue;
    }
    for (std::size_t t = 0; t < targets_.size(); ++t)
      if (targets_[t].schema == rel.schema && targets_[t].table == rel.table) report.changes += emit_change(t, rel, c);
  }
}

std::size_t RelayBatch::emit_truncate(const Message& rel) {
  std::size_t n = 0;
  for (std::size_t t = 0; t < targets_.size(); ++t)
    if (targets_[t].schema == rel.schema && targets_[t].table == rel.table)
      n += add(t, "truncate", std::vector<std::optional<std::string>>(targets_[t].key_columns.size()));
  return n;
}

std::size_t RelayBatch::emit_change(std::size_t t, const Message& rel, const Message& c) {
  if (c.kind == Kind::insert) return add(t, "insert", key_of(t, rel, c.new_tuple, 0, nullptr));
  if (c.kind == Kind::del) return add(t, "delete", key_of(t, rel, c.old_tuple, c.old_kind, nullptr));
  const auto* old = c.old_kind ? &c.old_tuple : nullptr;
  auto now = key_of(t, rel, c.new_tuple, 0, old);
  if (old) {
    auto before = key_of(t, rel, c.old_tuple, c.old_kind, nullptr);
    if (before != now) return add(t, "delete", std::move(before), true) + add(t, "insert", std::move(now));
  }
  return add(t, "update", std::move(now));
}

// The mapping's key from a tuple; a TOASTed key the change did not touch
// is read from `fallback` (the old tuple) when there is one.
std::vector<std::optional<std::string>> RelayBatch::key_of(std::size_t t, const Message& rel,
                                                           const pgoutput::Tuple& tuple, char kind,
                                                           const pgoutput::Tuple* fallback) const {
  std::vector<std::optional<std::string>> key;
  for (const auto& col : targets_[t].key_columns) {
    auto it = std::find_if(rel.columns.begin(), rel.columns.end(), [&](const auto& c) { return c.name == col; });
    if (it == rel.columns.end() || tuple.size() != rel.columns.size())
      throw RelayFailure(("table " + rel.schema + "." + rel.table) + " has no column " + col +
                         " in the decoded change");
    const auto i = static_cast<std::size_t>(it - rel.columns.begin());
    if (kind == 'K' && !it->in_identity)
      throw RelayFailure(("table " + rel.schema + "." + rel.table) +
                         ": its replica identity does not hold key column " + col +
                         ", so a delete or key change does not say which row it was: give the table "
                         "a replica identity that does, then run `hubsync migrate`");
    const pgoutput::Value* v = &tuple[i];
    if (v->form == pgoutput::Value::Form::unchanged_toast && fallback) v = &(*fallback)[i];
    if (v->form == pgoutput::Value::Form::unchanged_toast)
      throw RelayFailure(("table " + rel.schema + "." + rel.table) + ": key column " + col +
                         " came TOASTed and unsent");
    key.push_back(v->form == pgoutput::Value::Form::text ? std::optional<std::string>(v->text) : std::nullopt);
  }
  return key;
}

std::size_t RelayBatch::add(std::size_t t, const char* op, std::vector<std::optional<std::string>> key, bool moved) {
  auto& r = rows_[t];
  r.ops.emplace_back(op);
  r.moved.emplace_back(moved ? "t" : "f");
  r.xids.push_back(std::to_string(txn_.xid));
  r.times.push_back(std::to_string(txn_.commit_us));
  for (std::size_t k = 0; k < key.size(); ++k) r.keys[k].push_back(std::move(key[k]));
  ++pending_;
  return 1;
}

std::optional<RecordedSlot> recorded_slot(pqxx::transaction_base& tx) {
  if (!tx.exec("SELECT to_regclass('hubsync.capture_relay') IS NOT NULL")[0][0].as<bool>()) return {};
  auto r = tx.exec("SELECT slot, relayed_lsn::text FROM hubsync.capture_relay");
  if (r.empty()) return {};
  return RecordedSlot{r[0][0].c_str(), pgoutput::parse_lsn(r[0][1].c_str()).value_or(0)};
}

}  // namespace hubsync::postgres
