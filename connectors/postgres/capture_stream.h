#pragma once

// The relay of capture by logical decoding for a long-lived process
// (`serve`): one streaming replication connection (START_REPLICATION ...
// LOGICAL, the walsender), so the server decodes each WAL record once. The
// SQL functions relay_captured_changes() uses decode again, on every call,
// from the slot's restart point, which lags by up to the 15 s between the
// server's running-transactions records: fine for a batch run, a cost that
// grows with the write rate for a service that relays every 100 ms.

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include <spdlog/logger.h>

#include "connectors/postgres/capture_relay.h"

namespace hubsync::postgres {

class CaptureStream {
 public:
  /// `flush_every`: how long decoded changes wait for more before they are
  /// written to the changelog (also at 10,000 rows).
  CaptureStream(std::string dsn, std::shared_ptr<spdlog::logger> log,
                std::chrono::milliseconds flush_every = std::chrono::milliseconds(100));
  ~CaptureStream();  ///< stop()s
  CaptureStream(const CaptureStream&) = delete;
  CaptureStream& operator=(const CaptureStream&) = delete;

  /// Streams on a thread of its own until stop(): each flush writes the
  /// rows of the transactions committed since (as relay_captured_changes
  /// would: same rows, same key text, loop guard) and relayed_lsn in one
  /// transaction, then confirms that position to the server, so the slot
  /// keeps no WAL already relayed; with nothing to relay it confirms what
  /// the server has decoded. Exactly once across restarts (relayed_lsn).
  /// Reconnects after an error (logged, 2 s apart); waits while the
  /// database records no slot. Not thread-safe: one owner.
  void start();
  /// Ends the stream after writing what it decoded; joins the thread.
  void stop();

  /// One streaming session on the calling thread, until `stop` is set:
  /// what start()'s thread runs. Returns what it relayed; relayed_lsn empty
  /// when no slot is recorded. Errors: transient (connection, server),
  /// fatal (a change the relay cannot record, see relay_captured_changes).
  model::Result<RelayReport> run(const std::atomic<bool>& stop);

 private:
  std::string dsn_;
  std::shared_ptr<spdlog::logger> log_;
  std::chrono::milliseconds flush_every_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace hubsync::postgres
