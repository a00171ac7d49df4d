#include "connectors/postgres/capture_stream.h"

#include <poll.h>

#include <optional>
#include <stdexcept>

#include <libpq-fe.h>
#include <pqxx/pqxx>

#include "connectors/postgres/relay_batch.h"
#include "connectors/postgres/sql.h"

namespace hubsync::postgres {

namespace {

using Clock = std::chrono::steady_clock;

constexpr std::size_t kMaxRows = 10000;  // decoded rows written at once at most
constexpr auto kFeedbackEvery = std::chrono::seconds(10);
constexpr auto kTargetsEvery = std::chrono::seconds(5);
// The same text for the same value in both sessions: the walsender prints
// values, the writing session parses them back (key_text_sql).
constexpr const char* kSessionOptions = "-c TimeZone=UTC -c DateStyle=ISO,YMD -c IntervalStyle=iso_8601 "
                                        "-c extra_float_digits=3";

struct StreamError : std::runtime_error {  // the connection or the server: try again later
  using std::runtime_error::runtime_error;
};

struct PgFinish {
  void operator()(PGconn* c) const { PQfinish(c); }
};
using ReplicationConn = std::unique_ptr<PGconn, PgFinish>;

std::uint64_t be64(const char* p) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

void put64(std::string& out, std::uint64_t v) {
  for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

// Microseconds since 2000-01-01 UTC, PostgreSQL's epoch.
std::uint64_t now_pg_us() {
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
  return static_cast<std::uint64_t>(us - 946'684'800LL * 1'000'000LL);
}

std::string pq_error(PGconn* c) {
  std::string e = c ? PQerrorMessage(c) : "out of memory";
  while (!e.empty() && (e.back() == '\n' || e.back() == ' ')) e.pop_back();
  return e;
}

// One session: a normal connection that writes the changelog, a
// replication connection that streams the slot.
class Session {
 public:
  Session(const std::string& dsn, std::chrono::milliseconds flush_every)
      : dsn_(dsn), flush_every_(flush_every) {}

  // False when the database records no slot.
  bool open() {
    pg_.emplace(dsn_);
    pqxx::nontransaction(*pg_).exec("SET TIME ZONE 'UTC'; SET DateStyle = 'ISO, YMD'; "
                                    "SET IntervalStyle = 'iso_8601'; SET extra_float_digits = 3");
    // Before relayed_lsn is read: a relay of the SQL functions that read it
    // earlier has committed and let go of the slot (it holds this shared).
    pqxx::nontransaction(*pg_).exec("SELECT pg_advisory_lock(" + std::to_string(kStreamLockKey) + ")");
    std::vector<RelayTarget> targets;
    {
      pqxx::work tx(*pg_);
      tx.exec("SET LOCAL search_path = pg_catalog, pg_temp");
      auto slot = recorded_slot(tx);
      if (!slot) return false;
      slot_ = *slot;
      targets = read_relay_targets(tx);
      tx.commit();
    }
    relayed_ = slot_.relayed;
    batch_.emplace(std::move(targets), relayed_);
    start_replication();
    return true;
  }

  void loop(const std::atomic<bool>& stop) {
    auto last_flush = Clock::now(), last_feedback = last_flush, last_targets = last_flush;
    while (!stop.load()) {
      pollfd p{PQsocket(repl_.get()), POLLIN, 0};
      ::poll(&p, 1, 50);
      if (!PQconsumeInput(repl_.get())) throw StreamError("replication stream: " + pq_error(repl_.get()));
      drain();
      const auto now = Clock::now();
      if (batch_->pending() >= kMaxRows || (batch_->last_commit() > relayed_ && now - last_flush >= flush_every_)) {
        flush();
        last_flush = last_feedback = now;
      }
      if (now - last_feedback >= kFeedbackEvery) {
        feedback();
        last_feedback = now;
      }
      if (batch_->pending() == 0 && now - last_targets >= kTargetsEvery) {
        refresh_targets();
        last_targets = now;
      }
    }
    drain();
    flush();
  }

  std::uint64_t relayed() const { return relayed_; }
  RelayReport& report() { return report_; }

 private:
  void start_replication() {
    const char* keys[] = {"dbname", "replication", "options", nullptr};
    const char* values[] = {dsn_.c_str(), "database", kSessionOptions, nullptr};
    repl_.reset(PQconnectdbParams(keys, values, /*expand_dbname=*/1));
    if (!repl_ || PQstatus(repl_.get()) != CONNECTION_OK)
      throw StreamError("replication connection: " + pq_error(repl_.get()));
    const std::string start = "START_REPLICATION SLOT " + quote_ident(slot_.name) +
                              " LOGICAL 0/0 (proto_version '1', publication_names " +
                              quote_literal(kCapturePublication) + ", messages 'true')";
    PGresult* r = PQexec(repl_.get(), start.c_str());
    const bool streaming = PQresultStatus(r) == PGRES_COPY_BOTH;
    PQclear(r);
    if (!streaming) throw StreamError("slot " + slot_.name + ": " + pq_error(repl_.get()));
  }

  // Everything the server sent that has arrived.
  void drain() {
    for (;;) {
      char* buf = nullptr;
      const int n = PQgetCopyData(repl_.get(), &buf, /*async=*/1);
      if (n == 0) return;
      if (n < 0) {
        if (n == -1) PQclear(PQgetResult(repl_.get()));
        throw StreamError("replication stream ended: " + pq_error(repl_.get()));
      }
      std::unique_ptr<char, void (*)(void*)> hold(buf, PQfreemem);
      handle(buf, static_cast<std::size_t>(n));
    }
  }

  void handle(const char* buf, std::size_t n) {
    if (buf[0] == 'w') {  // XLogData: start, end, send time, one pgoutput message
      if (n < 25) throw StreamError("replication stream: a short XLogData message");
      auto m = pgoutput::decode(std::string_view(buf + 25, n - 25));
      if (!m.ok()) throw RelayFailure("slot " + slot_.name + ": " + m.error().message);
      batch_->take(std::move(*m), report_);
    } else if (buf[0] == 'k') {  // keepalive: the server's sent position, reply requested
      if (n < 18) throw StreamError("replication stream: a short keepalive message");
      server_sent_ = be64(buf + 1);
      if (buf[17]) feedback();
    }
  }

  // Writes the rows of the transactions received since the last flush, with
  // relayed_lsn, in one transaction; then tells the server.
  void flush() {
    const std::uint64_t upto = batch_->last_commit();
    if (batch_->pending() > 0) {
      pqxx::work tx(*pg_);
      tx.exec("SET LOCAL search_path = pg_catalog, pg_temp");
      batch_->write(tx);
      tx.exec_params("UPDATE hubsync.capture_relay SET relayed_lsn = $1::pg_lsn, relayed_at = now() WHERE slot = $2",
                     pgoutput::lsn_text(upto), slot_.name);
      tx.commit();
      batch_->clear();
    }
    relayed_ = std::max(relayed_, upto);
    feedback();
  }

  // Standby status update: what may go. With nothing received and unwritten,
  // all the server has sent (WAL of no published table included).
  void feedback() {
    std::uint64_t confirm = relayed_;
    if (batch_->pending() == 0 && !batch_->in_transaction() && batch_->last_commit() <= relayed_)
      confirm = std::max(confirm, server_sent_);
    std::string out(1, 'r');
    for (int i = 0; i < 3; ++i) put64(out, confirm);  // written, flushed, applied
    put64(out, now_pg_us());
    out.push_back(0);
    if (PQputCopyData(repl_.get(), out.data(), static_cast<int>(out.size())) != 1 || PQflush(repl_.get()) != 0)
      throw StreamError("replication stream: " + pq_error(repl_.get()));
  }

  void refresh_targets() {
    pqxx::work tx(*pg_);
    tx.exec("SET LOCAL search_path = pg_catalog, pg_temp");
    batch_->set_targets(read_relay_targets(tx));
    tx.commit();
  }

  std::string dsn_;
  std::chrono::milliseconds flush_every_;
  std::optional<pqxx::connection> pg_;
  ReplicationConn repl_;
  RecordedSlot slot_;
  std::optional<RelayBatch> batch_;
  RelayReport report_;
  std::uint64_t relayed_ = 0;
  std::uint64_t server_sent_ = 0;
};

}  // namespace

CaptureStream::CaptureStream(std::string dsn, std::shared_ptr<spdlog::logger> log,
                             std::chrono::milliseconds flush_every)
    : dsn_(std::move(dsn)), log_(std::move(log)), flush_every_(flush_every) {}

CaptureStream::~CaptureStream() { stop(); }

model::Result<RelayReport> CaptureStream::run(const std::atomic<bool>& stop) {
  try {
    Session s(dsn_, flush_every_);
    if (!s.open()) return RelayReport{};
    s.loop(stop);
    RelayReport report = s.report();
    report.relayed_lsn = pgoutput::lsn_text(s.relayed());
    return report;
  } catch (const RelayFailure& e) {
    return model::make_error(model::ErrorKind::fatal, std::string("relaying captured changes: ") + e.what());
  } catch (const StreamError& e) {
    return model::make_error(model::ErrorKind::transient, std::string("relaying captured changes: ") + e.what());
  } catch (const std::exception& e) {
    return translate_exception(e, "relaying captured changes");
  }
}

void CaptureStream::start() {
  stop_ = false;
  thread_ = std::thread([this] {
    auto pause = [this](std::chrono::seconds s) {
      for (auto until = Clock::now() + s; !stop_.load() && Clock::now() < until;)
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    };
    while (!stop_.load()) {
      auto r = run(stop_);
      if (!r.ok()) {
        log_->warn("capture stream: {} (again in 2 s)", r.error().message);
        pause(std::chrono::seconds(2));
      } else if (r->relayed_lsn.empty()) {
        pause(std::chrono::seconds(5));  // no slot recorded: migrate may make one
      }
    }
  });
}

void CaptureStream::stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

}  // namespace hubsync::postgres
