#pragma once

// Internal to PgDatabase's .cpp files.
#include <pqxx/pqxx>

#include "connectors/postgres/pg_database.h"
#include "connectors/postgres/sql.h"

namespace hubsync::postgres {
struct PgDatabase::Conn {
  pqxx::connection c;
  bool logical_wal = false;  ///< wal_level is logical: own writes carry the relay's loop-guard message
  explicit Conn(const std::string& dsn) : c(dsn) {}
};
/// A result row of PgDatabase::select_list as an engine Row (keys, values
/// by column type, references, the filter); a value that cannot be read
/// sets Row::error instead of failing the read.
model::Result<pipeline::Row> to_row(const pqxx::row& r, const mapping::Mapping& m,
                                    const PgDatabase::Columns& cols);
/// Of the mapped columns of `m` (postgres_columns order), those a write of
/// `written` may leave holding other than what it wrote: the ones it left
/// out of an insert (their defaults), and written ones whose type can store
/// a value otherwise (numeric's scale, timestamps' precision, char(n)'s
/// padding, jsonb's form, a domain...). Text, varchar, integers and
/// booleans store the text written exactly, and are not read back.
std::vector<std::string> read_back_columns(const mapping::Mapping& m, const PgDatabase::Columns& cols,
                                           const std::vector<std::string>& written, bool insert);
/// `columns` read as to_row reads them, each qualified by `alias` ("t"),
/// for a RETURNING list.
std::string mapped_columns_sql(const std::vector<std::string>& columns, const PgDatabase::Columns& cols,
                               const std::string& alias);
/// Those columns of result row `r`, from column `at` on; empty when one
/// cannot be read (the caller keeps what it wrote).
model::Fields mapped_fields(const pqxx::row& r, int at, const mapping::Mapping& m,
                            const std::vector<std::string>& columns, const PgDatabase::Columns& cols);
/// Appends changelog rows (op update) for `keys` of `m` inside `tx`, claimable
/// after `delay_ms` (> 0) or at once: DatabasePort::enqueue, and the rows an
/// apply_rows write asks to push, in the write's own transaction.
void enqueue_in(pqxx::transaction_base& tx, const mapping::Mapping& m, const std::vector<model::RecordKey>& keys,
                std::int64_t delay_ms);
/// Records in `tx` that rows' keys changed (pairs of old and new key) as
/// the capture records an UPDATE of a key column: a delete of the old key
/// with moved_to, for the push (Pusher::follow_key_changes). The pull's own
/// key writes are not captured; this keeps its link move safe if the state
/// commit after `tx` never happens.
void enqueue_moves_in(pqxx::transaction_base& tx, const mapping::Mapping& m,
                      const std::vector<std::pair<model::RecordKey, model::RecordKey>>& moves);
/// A new lease holder id, '<host>/<pid>/<random hex>' (pg_lease.cpp).
std::string new_lease_holder();
}  // namespace hubsync::postgres

// Runs `body` (a braced block returning a Result) in a PgDatabase member,
// translating libpqxx exceptions; drops a broken connection so the next
// call reconnects.
#define HUBSYNC_PG_TRY(context, ...)                                                    \
  try __VA_ARGS__ catch (const pqxx::broken_connection& e) {                           \
    conn_.reset();                                                                      \
    return translate_exception(e, context);                                             \
  } catch (const pqxx::pqxx_exception& e) {                                             \
    if (dynamic_cast<const pqxx::broken_connection*>(&e.base())) conn_.reset();        \
    return translate_exception(e.base(), context);                                      \
  } catch (const std::exception& e) {                                                   \
    return model::make_error(model::ErrorKind::fatal, std::string(context) + ": " + e.what()); \
  }
