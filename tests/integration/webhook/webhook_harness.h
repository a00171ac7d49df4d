#pragma once

// The real webhook::Server on 127.0.0.1:0 over a real SQLite state store,
// and a raw-socket HTTP/1.1 client that can misbehave on purpose (slow
// headers, lying Content-Length, chunked bodies).
#include <gtest/gtest.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/state/sqlite_state_store.h"
#include "engine/webhook/server.h"
#include "tests/support/prom_text.h"
#include "tests/unit/state/state_test_util.h"

namespace hubsync::webhook::test {

inline constexpr const char* kSecret = "whsec-integration-7f3c9d2e41";
/// What HubSpot calls; the server listens on another path (a proxy rewrites).
inline constexpr const char* kPublicUrl = "https://hubsync.example.com/hooks/hubspot";
inline constexpr const char* kPath = "/webhooks/hubspot";

/// Keeps every formatted log line, readable while the server logs.
class CaptureSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  std::string text() {
    std::lock_guard lock(mutex_);
    return text_;
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override;
  void flush_() override {}

 private:
  std::string text_;
};

/// One HTTP answer as the raw client read it.
struct Reply {
  int status = 0;  ///< 0: the connection closed without an answer
  std::string head;
  std::string body;
  bool has_header(std::string_view line) const { return head.find(line) != std::string::npos; }
};

/// A blocking TCP connection to 127.0.0.1 (receive timeout 5 s).
class Conn {
 public:
  explicit Conn(std::uint16_t port);
  ~Conn();
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;

  bool ok() const { return fd_ >= 0; }
  /// Sends everything; false once the peer has closed or reset.
  bool send(std::string_view bytes);
  /// Reads until the peer closes (requests say Connection: close) and parses.
  Reply read_reply();
  /// True when the peer closed (EOF or reset) within `wait`.
  bool closed_within(std::chrono::milliseconds wait);

 private:
  int fd_ = -1;
};

/// A request with `Connection: close`; Content-Length unless `headers` sets
/// Transfer-Encoding.
std::string raw_request(std::string_view method, std::string_view target, std::string_view body,
                        const std::vector<std::pair<std::string, std::string>>& headers = {});
/// Sends `request` on a new connection and reads the answer.
Reply roundtrip(std::uint16_t port, std::string_view request);

/// `n` events (types cycling through what hubsync handles), ids from `first`.
std::string events_body(int n, int first = 1);
/// Signature headers: v3 over kPublicUrl + query with timestamp `ts_ms`.
std::vector<std::pair<std::string, std::string>> v3_headers(std::string_view body, std::int64_t ts_ms,
                                                            std::string_view query = "");
std::int64_t now_ms();

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  /// Options for a test server: loopback port 0, the secret, short timeouts.
  ServerOptions options();
  /// Starts a server (replacing any running one) and returns its port.
  std::uint16_t start(ServerOptions o);
  /// A signed v3 POST of `body` to the webhook path.
  Reply post_signed(std::string_view body, std::int64_t ts_ms);
  Reply get(std::string_view target);
  std::size_t inbox();
  /// /metrics, fetched over HTTP and parsed strictly.
  hubsync::test::PromText scrape();
  double outcome(const char* o);
  /// Waits until the in-process registry shows `n` open connections.
  bool wait_open(double n);

  state::testing::TempDir dir_;
  std::unique_ptr<state::SqliteStateStore> store_;
  std::shared_ptr<CaptureSink> sink_;
  std::shared_ptr<spdlog::logger> log_;
  std::unique_ptr<Server> server_;
  std::uint16_t port_ = 0;
};

}  // namespace hubsync::webhook::test
