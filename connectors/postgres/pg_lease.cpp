// Mapping leases (hubsync.leases, migration 0003): which PgDatabase syncs a
// mapping. See DatabasePort::lock_mapping.
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <random>

#include "connectors/postgres/pg_try.h"

namespace hubsync::postgres {

using model::ErrorKind;
using model::Status;

namespace {

// How long a lease lasts without a renewal: a holder on another host that
// died is replaced after this; one on this host as soon as its pid is gone.
constexpr int kLeaseTtlSeconds = 120;

std::string host_name() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0) return "unknown-host";
  return buf;
}

bool process_alive(int pid) { return pid > 0 && (kill(pid, 0) == 0 || errno == EPERM); }

// Takes the lease when it is free, expired, ours, or `dead_holder`'s.
// Returns the previous holder ("" when the row is new), or nullopt when
// another holder keeps it.
std::optional<std::string> try_take(pqxx::work& tx, const std::string& mapping, const std::string& holder,
                                    const std::string& dead_holder) {
  auto r = tx.exec_params(
      "WITH prev AS (SELECT holder FROM hubsync.leases WHERE mapping = $1 FOR UPDATE) "
      "INSERT INTO hubsync.leases AS l (mapping, holder, host, pid, expires_at) "
      "VALUES ($1, $2, $3, $4, clock_timestamp() + $5 * interval '1 second') "
      "ON CONFLICT (mapping) DO UPDATE SET holder = EXCLUDED.holder, host = EXCLUDED.host, "
      "  pid = EXCLUDED.pid, expires_at = EXCLUDED.expires_at, "
      "  taken_at = CASE WHEN l.holder = EXCLUDED.holder THEN l.taken_at ELSE clock_timestamp() END "
      "WHERE l.holder = EXCLUDED.holder OR l.expires_at < clock_timestamp() OR l.holder = $6 "
      "RETURNING coalesce((SELECT holder FROM prev), '')",
      mapping, holder, host_name(), static_cast<int>(getpid()), kLeaseTtlSeconds, dead_holder);
  if (r.empty()) return std::nullopt;
  return std::string(r[0][0].c_str());
}

}  // namespace

std::string new_lease_holder() {
  std::random_device rd;
  const std::uint64_t nonce = (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(nonce));
  return host_name() + "/" + std::to_string(getpid()) + "/" + hex;
}

Status PgDatabase::lock_mapping(const std::string& mapping) {
  HUBSYNC_PG_TRY("mapping " + mapping + ": taking the sync lease", {
    pqxx::work tx(conn());
    auto prev = try_take(tx, mapping, holder_, "");
    if (!prev) {
      auto r = tx.exec_params("SELECT holder, host, pid FROM hubsync.leases WHERE mapping = $1", mapping);
      const std::string other = r.empty() ? "" : r[0][0].c_str();
      // A holder on this host whose process is gone died without giving
      // the lease back: take it over now rather than when it expires.
      if (!r.empty() && r[0][1].c_str() == host_name() && !process_alive(r[0][2].as<int>()))
        prev = try_take(tx, mapping, holder_, other);
      if (!prev)
        return model::make_error(ErrorKind::conflict, "mapping " + mapping +
                                                          ": another hubsync process is syncing it (" +
                                                          other + ")");
    }
    if (*prev != holder_) {
      // The lease was someone else's (dead or expired): the changelog rows
      // their pusher claimed are ours to claim now.
      tx.exec_params("UPDATE hubsync.changelog SET claimed_by = NULL, claimed_until = NULL "
                     "WHERE mapping = $1 AND claimed_by IS NOT NULL",
                     mapping);
    }
    tx.commit();
    leased_.insert(mapping);
    lost_.erase(mapping);
    return Status{};
  })
}

std::optional<model::Error> PgDatabase::renew_lease(pqxx::transaction_base& tx, const std::string& mapping) {
  auto lost = [&] {
    return model::make_error(ErrorKind::conflict, "mapping " + mapping +
                                                      ": the sync lease was lost (it expired and another "
                                                      "hubsync process took it)");
  };
  // Once lost, every claim and write is refused until lock_mapping again.
  if (lost_.count(mapping)) return lost();
  if (!leased_.count(mapping)) return std::nullopt;
  auto r = tx.exec_params("UPDATE hubsync.leases SET expires_at = clock_timestamp() + $3 * interval '1 second' "
                          "WHERE mapping = $1 AND holder = $2",
                          mapping, holder_, kLeaseTtlSeconds);
  if (r.affected_rows() == 1) return std::nullopt;
  leased_.erase(mapping);
  lost_.insert(mapping);
  return lost();
}

Status PgDatabase::release_mappings() {
  if (leased_.empty()) return {};
  HUBSYNC_PG_TRY("giving back the sync leases", {
    pqxx::work tx(conn());
    tx.exec_params("DELETE FROM hubsync.leases WHERE holder = $1", holder_);
    tx.commit();
    leased_.clear();
    return Status{};
  })
}

}  // namespace hubsync::postgres
