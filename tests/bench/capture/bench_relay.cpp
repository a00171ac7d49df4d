// The relay of capture by logical decoding exactly as `hubsync` runs it,
// until SIGTERM or SIGINT: `--mode stream` (default) is serve's
// (connectors/postgres/capture_stream.h: one replication connection,
// changes written every --every-ms); `--mode sql` is run --once's
// (capture_relay.h: the SQL functions, called every --every-ms).
// bench_capture.sh runs it beside pgbench so that the decoding and the
// changelog's inserts are on the cluster's bill.
//
//   bench_relay --dsn DSN [--mode stream|sql] [--every-ms 100]
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <thread>

#include <pqxx/pqxx>
#include <spdlog/spdlog.h>

#include "connectors/postgres/capture_relay.h"
#include "connectors/postgres/capture_stream.h"

namespace {

std::atomic<bool> stop{false};

void on_signal(int) { stop = true; }

int run_sql(const std::string& dsn, int every_ms) {
  pqxx::connection c(dsn);
  std::size_t changes = 0;
  auto once = [&] {
    auto r = hubsync::postgres::relay_captured_changes(c);
    if (!r.ok()) std::cerr << "bench_relay: " << r.error().message << '\n';
    else changes += r->changes;
    return r.ok();
  };
  while (!stop) {
    if (!once()) return 1;
    std::this_thread::sleep_for(std::chrono::milliseconds(every_ms));
  }
  if (!once()) return 1;
  std::cerr << "bench_relay: sql changes=" << changes << '\n';
  return 0;
}

int run_stream(const std::string& dsn, int every_ms) {
  hubsync::postgres::CaptureStream s(dsn, spdlog::default_logger(), std::chrono::milliseconds(every_ms));
  auto r = s.run(stop);
  if (!r.ok()) {
    std::cerr << "bench_relay: " << r.error().message << '\n';
    return 1;
  }
  std::cerr << "bench_relay: stream changes=" << r->changes << " lsn=" << r->relayed_lsn << '\n';
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string dsn, mode = "stream";
  int every_ms = 100;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--dsn")) dsn = argv[i + 1];
    else if (!std::strcmp(argv[i], "--mode")) mode = argv[i + 1];
    else if (!std::strcmp(argv[i], "--every-ms")) every_ms = std::atoi(argv[i + 1]);
  }
  if (dsn.empty() || every_ms <= 0 || (mode != "stream" && mode != "sql")) {
    std::cerr << "usage: bench_relay --dsn DSN [--mode stream|sql] [--every-ms 100]\n";
    return 2;
  }
  std::signal(SIGTERM, on_signal);
  std::signal(SIGINT, on_signal);
  return mode == "sql" ? run_sql(dsn, every_ms) : run_stream(dsn, every_ms);
}
