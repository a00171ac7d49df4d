#pragma once

// Change capture by logical decoding (config postgres.capture: logical):
// what it needs of the server and of each table, and how to tell whether
// what is installed (publication `hubsync`, the slot hubsync.capture_relay
// records) is what the mappings need. capture_relay.h moves the slot's
// changes into hubsync.changelog.

#include <string>
#include <vector>

#include <pqxx/transaction_base>

#include "connectors/postgres/capture_state.h"

namespace hubsync::postgres {

/// Throws CaptureError, naming the mapping and the fix, when the table's
/// replica identity does not hold every key column: a DELETE (or a key
/// change) would then not say which row it was, and, once the table is
/// published, PostgreSQL refuses the application's UPDATEs and DELETEs of
/// a table with no identity at all.
void check_replica_identity(pqxx::transaction_base& tx, const CaptureDesign& d);

/// Fills state.published, slot and slot_exists (schema at migration 0005).
void read_logical_state(pqxx::transaction_base& tx, CaptureState& state);

/// Why the installed logical capture `in` of `d.mapping` is not what `d`
/// needs: its table or key, the table missing from the publication, the
/// slot missing. Empty when current.
std::vector<std::string> logical_differences(const CaptureDesign& d, const InstalledCapture& in,
                                             const CaptureState& state);

/// What keeps this server and role from capture by logical decoding
/// (wal_level, the REPLICATION attribute), each with its fix; empty when
/// nothing does.
std::vector<std::string> logical_server_problems(pqxx::transaction_base& tx);

/// True when `name` can name a replication slot: 1-63 of [a-z0-9_].
bool valid_slot_name(const std::string& name);

}  // namespace hubsync::postgres
