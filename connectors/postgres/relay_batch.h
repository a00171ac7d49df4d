#pragma once

// Internal to the relays of capture by logical decoding (capture_relay.cpp
// over the SQL functions, capture_stream.cpp over the replication
// protocol): decoded messages in, changelog rows out.

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include <pqxx/transaction>

#include "connectors/postgres/capture_relay.h"
#include "connectors/postgres/pgoutput.h"

namespace hubsync::postgres {

/// A decoded change the relay cannot record (the message names the table).
struct RelayFailure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// Turns the messages of a slot, in slot order, into changelog rows for
/// `targets`: each committed transaction after `relayed` that changed a
/// target's table, less the tables hubsync itself wrote in it (loop guard).
/// Relation descriptions are kept for the batch's life (a stream sends
/// each once). Not thread-safe.
class RelayBatch {
 public:
  RelayBatch(std::vector<RelayTarget> targets, std::uint64_t relayed);

  /// Takes one message; throws RelayFailure for a change whose key cannot
  /// be read (see key_of) or of a relation never described.
  void take(pgoutput::Message m, RelayReport& report);
  /// Inserts every row taken since the last clear() into hubsync.changelog.
  void write(pqxx::work& tx) const;
  /// Forgets the rows (after write() committed); keeps relations.
  void clear();
  /// New targets (mappings changed); only between transactions, rows cleared.
  void set_targets(std::vector<RelayTarget> targets);

  std::uint64_t last_commit() const { return last_commit_; }  ///< end LSN of the last commit seen
  bool in_transaction() const { return in_txn_; }             ///< between a begin and its commit
  std::size_t pending() const { return pending_; }            ///< rows taken since clear()

 private:
  struct TargetRows {  // one mapping's rows, column by column (unnest's arrays)
    std::vector<std::string> ops, xids, times, moved;  // moved: "t" on a key change's delete
    std::vector<std::vector<std::optional<std::string>>> keys;  // [key column][row]
  };
  struct Txn {  // the transaction being received
    std::uint32_t xid = 0;
    std::int64_t commit_us = 0;
    std::set<std::string> own;  // tables hubsync itself wrote in it (quoted)
    std::vector<pgoutput::Message> changes;
  };

  const pgoutput::Message& relation(std::uint32_t oid) const;
  void emit(RelayReport& report);
  std::size_t emit_truncate(const pgoutput::Message& rel);
  std::size_t emit_change(std::size_t t, const pgoutput::Message& rel, const pgoutput::Message& c);
  std::vector<std::optional<std::string>> key_of(std::size_t t, const pgoutput::Message& rel,
                                                 const pgoutput::Tuple& tuple, char kind,
                                                 const pgoutput::Tuple* fallback) const;
  /// Adds one changelog row; `moved`: the delete of a key change, whose
  /// insert is the next row added (the new key, moved_to).
  std::size_t add(std::size_t t, const char* op, std::vector<std::optional<std::string>> key, bool moved = false);

  std::vector<RelayTarget> targets_;
  std::uint64_t relayed_;
  std::vector<TargetRows> rows_;
  std::map<std::uint32_t, pgoutput::Message> relations_;
  Txn txn_;
  bool in_txn_ = false;
  std::uint64_t last_commit_ = 0;
  std::size_t pending_ = 0;
};

/// Session advisory lock a CaptureStream holds exclusive for its life, and
/// each relay_captured_changes() call shared: so at most one of them has
/// read relayed_lsn and writes rows at a time ("hubsync:strm").
inline constexpr long long kStreamLockKey = 0x6875627379'7374LL;

/// The slot hubsync.capture_relay records, and how far its changes are in
/// the changelog; nullopt when none (or before migration 0005).
struct RecordedSlot {
  std::string name;
  std::uint64_t relayed = 0;
};
std::optional<RecordedSlot> recorded_slot(pqxx::transaction_base& tx);

}  // namespace hubsync::postgres
