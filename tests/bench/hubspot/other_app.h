#pragma once

// bench_hubspot_push's "another integration": steady traffic from a second
// private app on the same portal, which spends the portal's rate limit that
// hubsync shares and can only learn of from X-HubSpot-RateLimit-Remaining
// and 429s.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "connectors/hubspot/curl_transport.h"

namespace hubsync::bench {

class OtherApp {
 public:
  struct Counts {
    std::int64_t sent = 0, ok = 0, r429 = 0, failed = 0;
    Counts operator-(const Counts& earlier) const {
      return {sent - earlier.sent, ok - earlier.ok, r429 - earlier.r429, failed - earlier.failed};
    }
  };

  /// `per_window` cheap GETs (`GET /crm/v3/objects/contacts?limit=1`) per
  /// `window` with `token`, one every window / per_window, sent on a fixed
  /// schedule by `threads` threads so that a slow answer never delays the
  /// next request. A 429 is counted, not retried (the schedule goes on).
  OtherApp(std::string base_url, std::string token, int per_window, std::chrono::milliseconds window,
           int threads = 4);
  /// Stops the senders (stop()).
  ~OtherApp();
  OtherApp(const OtherApp&) = delete;
  OtherApp& operator=(const OtherApp&) = delete;

  /// Starts sending; call once.
  void start();
  /// Stops after the requests in flight; idempotent.
  void stop();
  /// What was sent so far; thread-safe.
  Counts counts() const;
  /// When each 429 came; thread-safe.
  std::vector<std::chrono::steady_clock::time_point> refused() const;

 private:
  void sender(int index, std::chrono::steady_clock::time_point t0);

  std::string url_, token_;
  std::chrono::nanoseconds gap_;
  int threads_;
  hubspot::CurlTransport http_;
  std::atomic<bool> stop_{false};
  std::atomic<std::int64_t> sent_{0}, ok_{0}, r429_{0}, failed_{0};
  std::vector<std::thread> senders_;
  mutable std::mutex mu_;
  std::vector<std::chrono::steady_clock::time_point> refused_;  // guarded by mu_
};

}  // namespace hubsync::bench
