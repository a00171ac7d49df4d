#include "connectors/postgres/pg_listener.h"

#include <pqxx/pqxx>

#include "connectors/postgres/sql.h"

namespace hubsync::postgres {

namespace {

class Receiver final : public pqxx::notification_receiver {
 public:
  Receiver(pqxx::connection_base& c, std::set<std::string>& into)
      : pqxx::notification_receiver(c, PgListener::kChannel), into_(into) {}
  void operator()(const std::string& payload, int) override { into_.insert(payload); }

 private:
  std::set<std::string>& into_;
};

}  // namespace

struct PgListener::Impl {
  std::string dsn;
  std::shared_ptr<spdlog::logger> log;
  std::unique_ptr<pqxx::connection> conn;
  std::unique_ptr<Receiver> receiver;
  std::set<std::string> got;
  bool was_lost = false;

  void drop() {
    receiver.reset();
    conn.reset();
  }
};

PgListener::PgListener(std::string dsn, std::shared_ptr<spdlog::logger> log)
    : impl_(std::make_unique<Impl>()) {
  impl_->dsn = std::move(dsn);
  impl_->log = std::move(log);
}

PgListener::~PgListener() {
  try {
    impl_->drop();
  } catch (...) {
  }
}

model::Result<service::Wakeup> PgListener::wait(std::chrono::milliseconds timeout) {
  Impl& i = *impl_;
  try {
    if (!i.conn) {
      i.conn = std::make_unique<pqxx::connection>(i.dsn);
      i.receiver = std::make_unique<Receiver>(*i.conn, i.got);  // issues LISTEN
      if (i.was_lost) i.log->info("listening for changes again after a lost connection");
      i.was_lost = false;
      i.got.clear();
      service::Wakeup w;
      w.all = true;  // anything committed while not listening is in the changelog
      return w;
    }
    const auto us = std::chrono::duration_cast<std::chrono::microseconds>(timeout).count();
    i.conn->await_notification(static_cast<long>(us / 1'000'000), static_cast<long>(us % 1'000'000));
    i.conn->get_notifs();
    // libpqxx returns no notifications, rather than throwing, from a
    // connection libpq has already marked bad.
    if (!i.conn->is_open()) throw pqxx::broken_connection("connection lost");
    service::Wakeup w;
    w.mappings.swap(i.got);
    return w;
  } catch (const std::exception& e) {
    i.drop();
    auto err = translate_exception(e, "listening for changes");
    err.kind = model::ErrorKind::transient;  // the loop reconnects on its next call
    if (!i.was_lost) i.log->warn("{}", err.message);
    i.was_lost = true;
    return err;
  }
}

}  // namespace hubsync::postgres
