#include "engine/actions/executor.h"

#include <algorithm>

#include <spdlog/spdlog.h>

namespace hubsync::actions {

bool Pending::wait_until(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock lock(mu);
  return cv.wait_until(lock, deadline, [&] { return finished; });
}

Executor::Executor(const std::vector<mapping::Mapping>& mappings, state::StateStore& store,
                   ActionsPort* actions_port, ratelimit::Clock& clock, std::shared_ptr<spdlog::logger> log,
                   ExecutorOptions options)
    : store_(store), port_(actions_port), clock_(clock), log_(std::move(log)), opt_(options) {
  for (const auto& m : mappings)
    for (const auto& a : m.actions) declared_[a.name] = Declared{&m, &a};
}

std::optional<Declared> Executor::find(const std::string& name) const {
  auto it = declared_.find(name);
  if (it == declared_.end()) return std::nullopt;
  return it->second;
}

std::shared_ptr<Pending> Executor::submit(const ActionRequest& request, Declared action) {
  std::shared_ptr<Pending> p;
  {
    std::lock_guard lock(mu_);
    auto it = queue_.find(request.callback_id);
    if (it != queue_.end()) return it->second.pending;
    p = std::make_shared<Pending>();
    p->request = request;
    p->action = action;
    queue_[request.callback_id] = Queued{p, clock_.monotonic(), 0};
  }
  if (wake_) wake_();
  return p;
}

bool Executor::has_work() {
  const auto now = clock_.monotonic();
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, q] : queue_)
      if (q.due <= now) return true;
  }
  return port_ != nullptr && now >= next_callbacks_;
}

model::Status Executor::recover(const RequestDecoder& decode) {
  auto unfinished = store_.unfinished_blocked_actions();
  if (!unfinished) return std::move(unfinished).error();
  for (const auto& e : *unfinished) {
    auto action = find(e.action);
    auto request = decode(e.request_body);
    if (!action || !request) {
      log_->warn("action execution {} ({}) cannot be run again: {}", e.callback_id, e.action,
                 !action ? "the action is no longer declared" : request.error().message);
      continue;
    }
    auto p = submit(*request, *action);
    std::lock_guard lock(p->mu);
    p->blocked = true;
  }
  if (!unfinished->empty()) log_->info("actions: {} blocked execution(s) queued again", unfinished->size());
  return {};
}

std::size_t Executor::run_due(Runner& runner) {
  std::vector<std::shared_ptr<Pending>> due;
  const auto now = clock_.monotonic();
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, q] : queue_)
      if (q.due <= now) due.push_back(q.pending);
  }
  for (const auto& p : due) run_one(runner, p);
  return due.size() + deliver_callbacks();
}

void Executor::run_one(Runner& runner, const std::shared_ptr<Pending>& p) {
  const auto& r = p->request;
  auto out = runner.run(*p->action.mapping, *p->action.spec, r);
  if (out) {
    if (auto s = store_.finish_action(r.callback_id, *out); !s) {
      log_->warn("action {} callback={}: its outcome could not be recorded: {}", p->action.spec->name,
                 r.callback_id, s.error().message);
      out = s.error();
    }
  }
  if (out) {
    log_->info("action {} callback={} object={} outcome={}", p->action.spec->name, r.callback_id, r.object_id,
               out->count(kOutcome) ? out->at(kOutcome) : "?");
    return finish(p, std::move(*out));
  }
  // status and the health page count it as failing until a run finishes it.
  if (auto s = store_.fail_action(r.callback_id, model::describe(out.error())); !s)
    log_->warn("action {} callback={}: its failure could not be recorded: {}", p->action.spec->name, r.callback_id,
               s.error().message);
  {
    // Decided under the execution's lock: a request about to answer BLOCK
    // either sees it finished (and answers 503) or leaves it to us.
    std::unique_lock lock(p->mu);
    if (!p->blocked) {
      log_->warn("action {} callback={} failed: {} (answered 503: HubSpot retries it)", p->action.spec->name,
                 r.callback_id, model::describe(out.error()));
      p->finished = true;
      p->error = out.error();
      lock.unlock();
      p->cv.notify_all();
      std::lock_guard q(mu_);
      queue_.erase(r.callback_id);
      return;
    }
  }
  log_->warn("action {} callback={} failed: {} (blocked: retried here)", p->action.spec->name, r.callback_id,
             model::describe(out.error()));
  std::lock_guard lock(mu_);
  auto it = queue_.find(r.callback_id);
  if (it != queue_.end()) it->second.due = clock_.monotonic() + backoff(++it->second.failures);
}

void Executor::finish(const std::shared_ptr<Pending>& p, Outputs outputs) {
  {
    std::lock_guard lock(mu_);
    queue_.erase(p->request.callback_id);
  }
  {
    std::lock_guard lock(p->mu);
    p->finished = true;
    p->outputs = std::move(outputs);
  }
  p->cv.notify_all();
}

std::chrono::milliseconds Executor::backoff(int attempts) const {
  auto wait = opt_.retry_every;
  for (int i = 1; i < attempts && wait < opt_.max_retry_every; ++i) wait *= 2;
  return std::min(wait, opt_.max_retry_every);
}

std::size_t Executor::deliver_callbacks() {
  if (port_ == nullptr || clock_.monotonic() < next_callbacks_) return 0;
  auto due = store_.due_callbacks(clock_.wall_ms(), opt_.callbacks_per_step);
  if (!due) {
    log_->warn("actions: due callbacks could not be read: {}", due.error().message);
    next_callbacks_ = clock_.monotonic() + opt_.retry_every;
    return 0;
  }
  // Nothing due: look again after a short while, not on every step.
  next_callbacks_ = clock_.monotonic() + (due->empty() ? std::chrono::milliseconds(200) : std::chrono::milliseconds(0));
  for (const auto& e : *due) {
    auto s = port_->complete_callback(e.callback_id, e.outputs);
    std::string error;
    state::TimeMs next = 0;
    if (!s) {
      error = s.error().message;
      // A refusal (an unknown or expired callback; or one HubSpot has not
      // yet seen blocked) is retried a few times, then kept for the record.
      const bool refused = s.error().kind == model::ErrorKind::invalid_record;
      next = refused && e.callback_attempts + 1 >= opt_.max_refusals
                 ? INT64_MAX
                 : clock_.wall_ms() + backoff(e.callback_attempts + 1).count();
      // The state store keeps HubSpot's message (`error`); the log never does.
      log_->warn("action {} callback={}: completion failed (attempt {}): {}", e.action, e.callback_id,
                 e.callback_attempts + 1, model::describe(s.error()));
    } else {
      log_->info("action {} callback={}: completed through the callback API", e.action, e.callback_id);
    }
    if (auto r = store_.callback_attempted(e.callback_id, error, next); !r)
      log_->warn("action {} callback={}: delivery not recorded: {}", e.action, e.callback_id, r.error().message);
  }
  return due->size();
}

}  // namespace hubsync::actions
