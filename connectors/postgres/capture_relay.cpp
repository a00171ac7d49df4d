#include "connectors/postgres/capture_relay.h"

#include <algorithm>
#include <map>
#include <set>

#include <pqxx/pqxx>

#include "connectors/postgres/pgoutput.h"
#include "connectors/postgres/relay_batch.h"
#include "connectors/postgres/sql.h"

namespace hubsync::postgres {

namespace {

// Shared by every hubsync process: "hubsync:relay".
constexpr long long kRelayLockKey = 0x6875627379'726cLL;
// Changes asked of the slot per round: whole transactions always come.
constexpr long long kPeekChanges = 10000;

}  // namespace

std::vector<RelayTarget> read_relay_targets(pqxx::transaction_base& tx) {
  auto r = tx.exec(
      "SELECT c.mapping, c.table_schema, c.table_name, k.col, format_type(a.atttypid, a.atttypmod), t.typname "
      "FROM hubsync.captures c CROSS JOIN LATERAL unnest(c.key_columns) WITH ORDINALITY AS k(col, o) "
      "LEFT JOIN pg_attribute a ON a.attrelid = to_regclass(quote_ident(c.table_schema) || '.' || "
      "  quote_ident(c.table_name)) AND a.attname = k.col AND NOT a.attisdropped "
      "LEFT JOIN pg_type t ON t.oid = a.atttypid "
      "WHERE c.method = 'logical' ORDER BY c.mapping, k.o");
  std::vector<RelayTarget> out;
  for (const auto& row : r) {
    if (out.empty() || out.back().mapping != row[0].c_str())
      out.push_back({row[0].c_str(), row[1].c_str(), row[2].c_str(), {}, {}, {}});
    if (row[4].is_null())
      throw RelayFailure("mapping " + out.back().mapping + ": table " + out.back().schema + "." +
                         out.back().table + " or its key column " + row[3].c_str() +
                         " is gone: fix the mapping or the table, then run `hubsync migrate`");
    out.back().key_columns.push_back(row[3].c_str());
    out.back().key_types.push_back(row[4].c_str());
    out.back().key_typnames.push_back(row[5].c_str());
  }
  return out;
}

namespace {

// Decodes what the slot holds up to the WAL flushed now (at most
// kPeekChanges rows) and writes it, in one transaction. Returns the LSN the
// slot may start from next; sets `drained` when nothing decoded is left.
std::uint64_t relay_round(pqxx::connection& c, const std::optional<std::vector<RelayTarget>>& given,
                          RelayReport& report, bool& drained, std::string& slot_name) {
  pqxx::work tx(c);
  tx.exec("SET LOCAL search_path = pg_catalog, pg_temp");
  const auto slot = recorded_slot(tx);
  if (!slot) {
    drained = true;
    return 0;
  }
  slot_name = slot->name;
  const auto targets = given ? *given : read_relay_targets(tx);
  const std::string flush = tx.exec("SELECT pg_current_wal_flush_lsn()::text")[0][0].c_str();
  auto changes = tx.exec_params(
      "SELECT data FROM pg_logical_slot_peek_binary_changes($1, $2::pg_lsn, $3, 'proto_version', '1', "
      "'publication_names', $4, 'messages', 'true')",
      slot->name, flush, kPeekChanges, kCapturePublication);
  RelayBatch batch(targets, slot->relayed);
  const std::size_t before = report.changes;
  for (const auto& row : changes) {
    pqxx::binarystring data(row[0]);
    auto m = pgoutput::decode(std::string_view(reinterpret_cast<const char*>(data.data()), data.size()));
    if (!m.ok()) throw RelayFailure("slot " + slot->name + ": " + m.error().message);
    batch.take(std::move(*m), report);
  }
  batch.write(tx);
  drained = changes.size() < static_cast<std::size_t>(kPeekChanges);
  std::uint64_t next = std::max(slot->relayed, batch.last_commit());
  if (drained) next = std::max(next, pgoutput::parse_lsn(flush).value_or(0));
  // Only what wrote rows needs remembering (and a write per call would
  // itself make WAL for the next call to read).
  if (report.changes > before)
    tx.exec_params("UPDATE hubsync.capture_relay SET relayed_lsn = $1::pg_lsn, relayed_at = now()",
                   pgoutput::lsn_text(next));
  tx.commit();
  return next;
}

// Commits made with synchronous_commit off may not be flushed yet, and
// decoding reads only flushed WAL: a transaction that writes a WAL record
// and commits with synchronous_commit on flushes everything before it.
void flush_wal(pqxx::connection& c) {
  pqxx::work tx(c);
  if (!tx.exec("SELECT pg_catalog.pg_current_wal_insert_lsn() > pg_catalog.pg_current_wal_flush_lsn()")[0][0].as<bool>())
    return;
  tx.exec("SET LOCAL synchronous_commit = on");
  tx.exec("SELECT pg_catalog.pg_logical_emit_message(true, 'hubsync.flush', '')");
  tx.commit();
}

bool slot_recorded(pqxx::connection& c) {
  pqxx::read_transaction tx(c);
  return recorded_slot(tx).has_value();
}

// The relay's session locks, given back however the relay ends: the
// stream's lock shared (a stream holds it exclusive for its life: then this
// relay has nothing to do), then the relayers' own, so SQL relays take turns.
class RelayLock {
 public:
  explicit RelayLock(pqxx::connection& c) : c_(c) {
    pqxx::nontransaction tx(c_);
    stream_free_ = tx.exec("SELECT pg_try_advisory_lock_shared(" + std::to_string(kStreamLockKey) + ")")[0][0]
                       .as<bool>();
    if (stream_free_) tx.exec("SELECT pg_advisory_lock(" + std::to_string(kRelayLockKey) + ")");
  }
  ~RelayLock() {
    try {
      if (c_.is_open() && stream_free_)
        pqxx::nontransaction(c_).exec("SELECT pg_advisory_unlock(" + std::to_string(kRelayLockKey) +
                                      "), pg_advisory_unlock_shared(" + std::to_string(kStreamLockKey) + ")");
    } catch (...) {  // the connection is gone, and the locks with it
    }
  }
  RelayLock(const RelayLock&) = delete;
  RelayLock& operator=(const RelayLock&) = delete;
  bool stream_free() const { return stream_free_; }  ///< false: a CaptureStream relays

 private:
  pqxx::connection& c_;
  bool stream_free_ = false;
};

}  // namespace

model::Result<RelayReport> relay_captured_changes(pqxx::connection& c,
                                                  const std::optional<std::vector<RelayTarget>>& targets) {
  RelayReport report;
  try {
    if (!slot_recorded(c)) return report;
    RelayLock lock(c);
    if (!lock.stream_free()) return report;
    flush_wal(c);
    for (bool drained = false; !drained;) {
      std::string slot;
      const auto next = relay_round(c, targets, report, drained, slot);
      if (slot.empty()) return report;
      report.relayed_lsn = pgoutput::lsn_text(next);
      // After the commit: a crash before this only makes the next round skip
      // what relayed_lsn already covers.
      pqxx::nontransaction(c).exec_params(
          "SELECT pg_catalog.pg_replication_slot_advance(slot_name, $2::pg_lsn) FROM pg_catalog.pg_replication_slots "
          "WHERE slot_name = $1 AND confirmed_flush_lsn < $2::pg_lsn",
          slot, report.relayed_lsn);
    }
    return report;
  } catch (const RelayFailure& e) {
    return model::make_error(model::ErrorKind::fatal, std::string("relaying captured changes: ") + e.what());
  } catch (const pqxx::sql_error& e) {
    // 55006: the slot is active, streamed by a CaptureStream (serve), which relays.
    if (e.sqlstate() == "55006") return RelayReport{};
    return translate_exception(e, "relaying captured changes");
  } catch (const std::exception& e) {
    return translate_exception(e, "relaying captured changes");
  }
}

model::Result<std::optional<SlotLag>> capture_slot_lag(pqxx::connection& c) {
  try {
    pqxx::read_transaction tx(c);
    const auto slot = recorded_slot(tx);
    if (!slot) return std::optional<SlotLag>{};
    auto r = tx.exec_params(
        "SELECT pg_catalog.pg_wal_lsn_diff(pg_catalog.pg_current_wal_lsn(), restart_lsn)::bigint "
        "FROM pg_catalog.pg_replication_slots WHERE slot_name = $1",
        slot->name);
    SlotLag lag{slot->name, 0, !r.empty()};
    if (!r.empty() && !r[0][0].is_null()) lag.retained_bytes = r[0][0].as<std::int64_t>();
    return std::optional<SlotLag>{lag};
  } catch (const std::exception& e) {
    return translate_exception(e, "reading the capture slot");
  }
}

}  // namespace hubsync::postgres
