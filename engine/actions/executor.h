#pragma once

// The queue between serve's action endpoint (io threads) and its worker
// thread, which alone may use the DatabasePort: requests submit executions
// and wait for them a while; the worker runs them (Runner) and delivers the
// outputs of executions answered BLOCK through HubSpot's callback API,
// retrying until HubSpot accepts them.
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <spdlog/logger.h>

#include "engine/actions/action_types.h"
#include "engine/actions/runner.h"
#include "engine/ratelimit/clock.h"
#include "engine/state/state_store.h"

namespace hubsync::actions {

/// One declared action: its mapping and spec.
struct Declared {
  const mapping::Mapping* mapping = nullptr;
  const mapping::ActionSpec* spec = nullptr;
};

/// An execution queued for the worker, shared with the requests waiting for it.
struct Pending {
  ActionRequest request;
  Declared action;
  std::mutex mu;
  std::condition_variable cv;
  bool finished = false;                // guarded by mu
  std::optional<Outputs> outputs;       // guarded by mu: set when finished without error
  std::optional<model::Error> error;    // guarded by mu: the run failed and nobody will retry it here
  bool blocked = false;                 // guarded by mu: answered BLOCK; the worker retries failures
  /// Waits until finished or `deadline`; true when finished. Thread-safe.
  bool wait_until(std::chrono::steady_clock::time_point deadline);
};

struct ExecutorOptions {
  /// After a failed run of a blocked execution, or a refused callback.
  std::chrono::milliseconds retry_every{5'000};
  std::chrono::milliseconds max_retry_every{300'000};
  std::size_t callbacks_per_step = 50;
  /// A completion HubSpot refuses (4xx) is tried this many times in all.
  int max_refusals = 6;
};

class Executor {
 public:
  /// `actions_port` completes callbacks (nullptr: none are sent; they stay
  /// due). Every reference must outlive the Executor.
  Executor(const std::vector<mapping::Mapping>& mappings, state::StateStore& store, ActionsPort* actions_port,
           ratelimit::Clock& clock, std::shared_ptr<spdlog::logger> log, ExecutorOptions options = {});

  // --- any thread ---
  /// The action named `name`, or nullopt.
  std::optional<Declared> find(const std::string& name) const;
  /// Queues `request` for the worker, or returns the execution of the same
  /// callback id already queued or running (a HubSpot retry joins it).
  std::shared_ptr<Pending> submit(const ActionRequest& request, Declared action);
  /// Called after submit() (e.g. Service::wake). Set before serving.
  void set_waker(std::function<void()> wake) { wake_ = std::move(wake); }
  /// True when a queued execution or a callback delivery is due.
  bool has_work();

  // --- the worker thread ---
  /// Re-queues executions answered BLOCK that never finished (the process
  /// stopped meanwhile): their workflows still wait. `decode` reads their
  /// stored request bodies.
  model::Status recover(const RequestDecoder& decode);
  /// Runs every due execution with `runner`, then delivers due callbacks.
  /// Returns how many executions and callbacks it handled.
  std::size_t run_due(Runner& runner);

 private:
  void run_one(Runner& runner, const std::shared_ptr<Pending>& p);
  /// Records a successful run on `p` (its outputs are already in the store).
  void finish(const std::shared_ptr<Pending>& p, Outputs outputs);
  std::size_t deliver_callbacks();
  std::chrono::milliseconds backoff(int attempts) const;

  std::map<std::string, Declared> declared_;
  state::StateStore& store_;
  ActionsPort* port_;
  ratelimit::Clock& clock_;
  std::shared_ptr<spdlog::logger> log_;
  ExecutorOptions opt_;
  std::function<void()> wake_;

  struct Queued {
    std::shared_ptr<Pending> pending;
    ratelimit::Clock::Duration due{0};
    int failures = 0;
  };
  std::mutex mu_;
  std::map<std::string, Queued> queue_;  // guarded by mu_: callback id -> execution not finished
  ratelimit::Clock::Duration next_callbacks_{0};  // worker only
};

}  // namespace hubsync::actions
