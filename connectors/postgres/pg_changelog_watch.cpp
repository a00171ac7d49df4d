#include "connectors/postgres/pg_changelog_watch.h"

#include <thread>

#include <pqxx/pqxx>

#include "connectors/postgres/capture_relay.h"
#include "connectors/postgres/sql.h"

namespace hubsync::postgres {

namespace {

using SteadyClock = std::chrono::steady_clock;

// Per installed capture with a change waiting that claim_changes would
// take, how long the first such change has waited (ms, by the server's
// clock): the (mapping, id) index finds the first unclaimed row at once;
// rows a running push holds are skipped over.
constexpr const char* kClaimable =
    "SELECT c.mapping, GREATEST(0, (EXTRACT(EPOCH FROM pg_catalog.clock_timestamp() - l.changed_at) * 1000))::bigint "
    "FROM hubsync.captures c CROSS JOIN LATERAL (SELECT changed_at FROM hubsync.changelog l "
    "WHERE l.mapping = c.mapping AND (l.claimed_until IS NULL OR l.claimed_until < pg_catalog.clock_timestamp()) "
    "ORDER BY l.id LIMIT 1) l";

}  // namespace

struct PgChangelogWatcher::Impl {
  std::string dsn;
  std::chrono::milliseconds every;
  std::shared_ptr<spdlog::logger> log;
  std::unique_ptr<pqxx::connection> conn;
  SteadyClock::time_point next_look{};
  SteadyClock::time_point no_slot_until{};
  bool was_lost = false;

  // With capture by logical decoding, what the slot decoded reaches the
  // changelog first (the claims would relay it too, but nothing would wake them).
  void relay() {
    if (SteadyClock::now() < no_slot_until) return;
    auto r = relay_captured_changes(*conn);
    if (!r.ok()) throw std::runtime_error(r.error().message);
    if (r->relayed_lsn.empty()) no_slot_until = SteadyClock::now() + std::chrono::seconds(5);
  }

  // The mappings with changes to claim, and how long the oldest has waited.
  service::Wakeup look() {
    relay();
    pqxx::nontransaction tx(*conn);
    service::Wakeup w;
    for (const auto& r : tx.exec(kClaimable)) {
      w.mappings.insert(r[0].c_str());
      w.waited = std::max(w.waited, std::chrono::milliseconds(r[1].as<std::int64_t>()));
    }
    return w;
  }
};

PgChangelogWatcher::PgChangelogWatcher(std::string dsn, std::chrono::milliseconds every,
                                       std::shared_ptr<spdlog::logger> log)
    : impl_(std::make_unique<Impl>()) {
  impl_->dsn = std::move(dsn);
  impl_->every = every;
  impl_->log = std::move(log);
}

PgChangelogWatcher::~PgChangelogWatcher() {
  try {
    impl_->conn.reset();
  } catch (...) {
  }
}

model::Result<service::Wakeup> PgChangelogWatcher::wait(std::chrono::milliseconds timeout) {
  Impl& i = *impl_;
  try {
    if (!i.conn) {
      i.conn = std::make_unique<pqxx::connection>(i.dsn);
      if (i.was_lost) i.log->info("watching the changelog again after a lost connection");
      i.was_lost = false;
      i.next_look = SteadyClock::now() + i.every;
      service::Wakeup w;
      w.all = true;  // every mapping catches up from the changelog
      return w;
    }
    const auto deadline = SteadyClock::now() + timeout;
    while (true) {
      if (SteadyClock::now() >= i.next_look) {
        i.next_look = SteadyClock::now() + i.every;
        auto w = i.look();
        if (!w.mappings.empty()) return w;
      }
      if (i.next_look >= deadline) {
        std::this_thread::sleep_until(deadline);
        return service::Wakeup{};
      }
      std::this_thread::sleep_until(i.next_look);
    }
  } catch (const std::exception& e) {
    i.conn.reset();
    auto err = translate_exception(e, "watching the changelog");
    err.kind = model::ErrorKind::transient;  // the loop reconnects on its next call
    if (!i.was_lost) i.log->warn("{}", err.message);
    i.was_lost = true;
    return err;
  }
}

}  // namespace hubsync::postgres
