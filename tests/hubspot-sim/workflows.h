#pragma once

// Runs custom workflow actions like HubSpot: POSTs the execution request to
// the definition's actionUrl on background threads, signed v2 and v3 with
// the app's client secret, follows the answer (SUCCESS, FAIL_CONTINUE,
// BLOCK), retries 5xx / 429 / timeouts / connection failures with backoff,
// and completes blocked executions from callbacks.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <queue>
#include <string>
#include <thread>
#include <vector>

#include <spdlog/spdlog.h>

#include "tests/hubspot-sim/simulator.h"

namespace hubsync::sim {

/// One callback completion (`POST /automation/v4/actions/callbacks/...`).
struct CallbackCompletion {
  std::string callback_id;
  std::map<std::string, std::string> output_fields;
};

/// Where an execution request comes from, besides the enrollment.
struct ActionOrigin {
  std::string callback_id;
  std::int64_t portal_id = 0;
  std::int64_t definition_id = 0;
  std::int64_t revision = 0;
  /// objectRequestOptions: the record's requested properties, nullopt for
  /// one without a value. Sent as `object.properties` only when asked for.
  std::optional<std::vector<std::pair<std::string, std::optional<std::string>>>> object_properties;
};

/// The JSON body HubSpot POSTs to an actionUrl. `e.input_fields_json` must
/// be a JSON object and `e.object_id` digits.
std::string action_request_body(const ActionOrigin& o, const WorkflowEnrollment& e);

class ActionExecutor {
 public:
  struct Config {
    std::int64_t portal_id = 0;
    std::string secret;
    double compression = 1;  ///< divides retry backoff and Retry-After
    int timeout_ms = 20000;
    int max_attempts = 5;
    int concurrency = 4;
    std::shared_ptr<spdlog::logger> log;  ///< never null
    /// The portal's wall clock (ms), which HubSpot signs its requests' timestamps
    /// with; empty: the system clock.
    std::function<std::int64_t()> now;
  };
  /// What an enrollment hands over: the execution (state pending) and the
  /// request to send for it.
  struct Job {
    ActionExecution execution;
    std::string url;
    std::string body;
    int lose_responses = 0;
  };

  explicit ActionExecutor(Config cfg);
  ~ActionExecutor();
  ActionExecutor(const ActionExecutor&) = delete;
  ActionExecutor& operator=(const ActionExecutor&) = delete;

  void start();
  /// Stops the workers, aborting calls in flight; queued attempts are
  /// dropped. Idempotent.
  void stop();
  /// "ap-<portal>-<n>-1-0", n counting from 1 for the process's lifetime.
  std::string next_callback_id();
  /// Records the execution and queues its first attempt now.
  void submit(Job job);
  std::vector<ActionExecution> executions() const;
  std::optional<ActionExecution> find(const std::string& callback_id) const;
  /// Waits until `done` holds (or `timeout`); nullopt for an unknown id.
  std::optional<ActionExecution> wait(const std::string& callback_id, std::chrono::milliseconds timeout,
                                      const std::function<bool(const ActionExecution&)>& done) const;
  /// Completes blocked executions, all or nothing: an unknown callbackId
  /// throws 404 OBJECT_NOT_FOUND, one that is not blocked (still running,
  /// finished, already completed) 400 VALIDATION_ERROR; nothing changes then.
  void complete(const std::vector<CallbackCompletion>& completions);
  /// Forgets every execution and queued attempt (calls in flight finish
  /// unrecorded).
  void reset();
  void add_stats(CountersSnapshot& c) const;
  void reset_stats();

 private:
  struct Entry {
    ActionExecution execution;
    std::string url;
    std::string body;
    int lose_left = 0;
  };
  struct Attempt {
    std::chrono::steady_clock::time_point due;
    std::string callback_id;
  };
  struct Later {
    bool operator()(const Attempt& a, const Attempt& b) const { return a.due > b.due; }
  };
  /// What one call came back with.
  struct Answer {
    int status = 0;  ///< 0: no answer (timeout, connection failure)
    std::string body;
    std::int64_t retry_after_s = -1;
  };

  void worker();
  Answer call(const std::string& url, const std::string& body);
  /// Applies one attempt's answer to the execution (lock held).
  void settle_locked(Entry& e, const Answer& a);
  void retry_or_fail_locked(Entry& e, std::int64_t delay_ms);
  void finish_locked(Entry& e, const std::string& state);

  Config cfg_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  mutable std::condition_variable changed_cv_;
  std::priority_queue<Attempt, std::vector<Attempt>, Later> queue_;
  std::map<std::string, Entry> entries_;
  std::vector<std::string> order_;  ///< callback ids in enrollment order
  std::uint64_t next_callback_ = 1;
  bool stopping_ = false;
  std::atomic<bool> abort_calls_{false};
  std::vector<std::thread> workers_;
  std::atomic<std::int64_t> executions_{0}, calls_{0}, deliveries_{0}, failures_{0}, retries_{0}, failed_{0};
};

}  // namespace hubsync::sim
