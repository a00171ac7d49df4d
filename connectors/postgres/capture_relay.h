#pragma once

// Change capture by logical decoding (config postgres.capture: logical):
// the relay that moves what a logical replication slot decoded into
// hubsync.changelog, where the push claims it as it claims what the
// capture trigger records.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <pqxx/connection>
#include <pqxx/transaction_base>

#include "engine/model/result.h"

namespace hubsync::postgres {

/// The publication `hubsync migrate` keeps listing the tables captured by
/// logical decoding (one per database).
inline constexpr const char* kCapturePublication = "hubsync";

/// The prefix of the transactional logical decoding message hubsync's own
/// writes carry (pg_logical_emit_message), content the quoted table name:
/// the relay records nothing of that table in that transaction (loop guard
/// 1, as `hubsync.origin` is for the trigger).
inline constexpr const char* kOwnWriteMessage = "hubsync.origin";

/// What one mapping captured by logical decoding needs from a change.
struct RelayTarget {
  std::string mapping, schema, table;
  std::vector<std::string> key_columns;
  std::vector<std::string> key_types;     ///< format_type() with typmod, under search_path pg_catalog: castable
  std::vector<std::string> key_typnames;  ///< pg_type.typname: what key_text_sql() needs
};

/// The mappings hubsync.captures records as captured by logical decoding,
/// with their key columns' types as the catalog has them now. Expects
/// search_path pg_catalog (so types outside it come qualified). Throws
/// when a table or key column is gone.
std::vector<RelayTarget> read_relay_targets(pqxx::transaction_base& tx);

struct RelayReport {
  std::size_t transactions = 0;  ///< committed transactions that changed a published table
  std::size_t changes = 0;       ///< changelog rows written
  std::size_t own_writes = 0;    ///< changes left out as hubsync's own (loop guard)
  std::string relayed_lsn;       ///< where the slot now starts ("" when nothing is captured so)
};

/// Moves every change the slot of hubsync.capture_relay has decoded into
/// hubsync.changelog, one row per mapping of the changed table (`targets`,
/// or when absent the mappings hubsync.captures records with method
/// 'logical'), in commit order: an INSERT, an UPDATE (a key change: a
/// delete of the old key and an insert of the new), a DELETE, a TRUNCATE
/// (op truncate, pk {}). Each row keeps the writer's transaction id and
/// commit time. Key text is the trigger's (key_text_sql), computed by the
/// same session that decoded the value. An UPDATE is recorded whichever
/// columns it changed (the slot does not say): the push finds it unchanged.
///
/// Exactly once: rows and the slot's new start (relayed_lsn) commit in one
/// transaction; the slot is advanced after it, and a change at or before
/// relayed_lsn is never written again. Relayers of one database take turns
/// (a session advisory lock), so a call returns only after every change
/// committed (and flushed) before it began is in the changelog.
/// Does nothing, without error (relayed_lsn empty), when no slot is
/// recorded or when the slot is being streamed (CaptureStream, in `serve`:
/// that relays). Errors: a
/// decoded key that is NULL or not sent (the table's replica identity no
/// longer covers the key: fatal, naming the table), a lost connection
/// (transient). Not thread-safe: one connection, one caller.
model::Result<RelayReport> relay_captured_changes(pqxx::connection& c,
                                                  const std::optional<std::vector<RelayTarget>>& targets = {});

/// The slot's name and how many bytes of WAL it holds back
/// (pg_current_wal_lsn() - restart_lsn), or nullopt when no slot is
/// recorded. For `status` and the metrics: a hubsync that stops relaying
/// makes the server keep WAL until its disk fills.
struct SlotLag {
  std::string slot;
  std::int64_t retained_bytes = 0;
  bool exists = true;  ///< false: recorded, but the slot is gone (changes since were lost)
};
model::Result<std::optional<SlotLag>> capture_slot_lag(pqxx::connection& c);

}  // namespace hubsync::postgres
