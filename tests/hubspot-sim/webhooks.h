#pragma once

// Delivers change events to the webhook target like HubSpot: JSON arrays of
// at most 100 events, up to 10 requests in flight, signed v1 and v3 with the
// app's client secret, retried on non-2xx / connection failure / >5 s with
// exponential backoff up to max_attempts (time divided by `compression`).
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <queue>
#include <string>
#include <thread>
#include <vector>

#include <spdlog/spdlog.h>

#include "tests/hubspot-sim/model.h"
#include "tests/hubspot-sim/simulator.h"

namespace hubsync::sim {

class WebhookDispatcher {
 public:
  struct Config {
    std::int64_t portal_id = 0;
    std::int64_t app_id = 0;
    std::string secret;
    double compression = 1;
    int max_attempts = 10;
    int concurrency = 10;
    std::shared_ptr<spdlog::logger> log;  ///< never null
    /// The portal's wall clock (ms), which HubSpot signs its requests' timestamps
    /// with; empty: the system clock.
    std::function<std::int64_t()> now;
  };
  explicit WebhookDispatcher(Config cfg);
  ~WebhookDispatcher();

  void start();
  /// Stops the workers; undelivered batches are dropped. Idempotent.
  void stop();
  void set_target(const std::string& url);
  /// From now on this percentage of events (0..100) is never sent, as if
  /// HubSpot lost them: what the subscriber's safety nets must repair.
  void set_loss_pct(int pct) { loss_pct_ = pct; }
  /// From now on every batch is delivered `copies` times (HubSpot delivers
  /// at least once; the same events may come again at any time).
  void set_copies(int copies) { copies_ = copies; }
  std::string target() const;
  std::int64_t add_subscription(WebhookSubscription sub);
  bool remove_subscription(std::int64_t id);
  void clear_subscriptions();
  std::vector<WebhookSubscription> subscriptions() const;
  /// True when events could be delivered (a target and a subscription).
  bool active() const { return active_.load(); }
  /// Matches events against subscriptions and queues signed batches.
  void enqueue(const std::vector<ChangeEvent>& events);
  /// Blocks until nothing is queued or in flight, or `timeout` passes.
  bool wait_idle(std::chrono::milliseconds timeout);
  void add_stats(CountersSnapshot& c) const;
  void reset_stats();

 private:
  struct Batch {
    std::chrono::steady_clock::time_point due;
    std::string events_json_prefix;  ///< not used
    std::vector<std::string> events;  ///< each event object without attemptNumber
    int attempt = 0;
  };
  struct Later {
    bool operator()(const Batch& a, const Batch& b) const { return a.due > b.due; }
  };
  void worker();
  bool deliver(const Batch& b, const std::string& url);
  void refresh_active_locked();

  Config cfg_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::condition_variable idle_cv_;
  std::priority_queue<Batch, std::vector<Batch>, Later> queue_;
  std::vector<WebhookSubscription> subs_;
  std::string target_;
  std::int64_t next_sub_id_ = 1;
  std::int64_t next_event_id_ = 1;
  int in_flight_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> workers_;
  std::atomic<bool> active_{false};
  std::atomic<std::int64_t> events_{0}, deliveries_{0}, failures_{0}, retries_{0}, dropped_{0}, lost_{0};
  std::atomic<int> loss_pct_{0};
  std::atomic<int> copies_{1};
  std::uint64_t loss_state_ = 0x9e3779b97f4a7c15ULL;  // guarded by mu_: a fixed sequence, reproducible
};

}  // namespace hubsync::sim
