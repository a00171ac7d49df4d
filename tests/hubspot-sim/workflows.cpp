#include "tests/hubspot-sim/workflows.h"

#include <curl/curl.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "tests/hubspot-sim/json.h"
#include "tests/hubspot-sim/model.h"
#include "tests/hubspot-sim/signatures.h"

namespace hubsync::sim {
namespace {
namespace action_calls {

constexpr std::size_t kMaxAnswerBytes = 1 << 20;
// HubSpot retries for days; the backoff here doubles from 1 s up to 8 h.
constexpr double kMaxBackoffMs = 8 * 3600 * 1000.0;

struct CallState {
  std::string body;
  std::int64_t retry_after_s = -1;
  const std::atomic<bool>* abort = nullptr;
};

size_t on_body(char* p, size_t size, size_t n, void* user) {
  auto* st = static_cast<CallState*>(user);
  if (st->body.size() < kMaxAnswerBytes) st->body.append(p, std::min(size * n, kMaxAnswerBytes - st->body.size()));
  return size * n;
}

size_t on_header(char* p, size_t size, size_t n, void* user) {
  std::string line(p, size * n);
  auto colon = line.find(':');
  if (colon == std::string::npos) return size * n;
  std::string name = line.substr(0, colon);
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (name == "retry-after") {
    try {
      static_cast<CallState*>(user)->retry_after_s = std::stoll(line.substr(colon + 1));
    } catch (const std::exception&) {
      // An HTTP-date or garbage: HubSpot's own backoff applies.
    }
  }
  return size * n;
}

int on_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  return static_cast<CallState*>(user)->abort->load() ? 1 : 0;
}

bool settled(const ActionExecution& e) { return e.state != "pending" && e.state != "running"; }

}  // namespace action_calls
}  // namespace

std::string action_request_body(const ActionOrigin& o, const WorkflowEnrollment& e) {
  rapidjson::Document inputs;
  inputs.Parse(e.input_fields_json.empty() ? "{}" : e.input_fields_json.c_str());
  rapidjson::StringBuffer sb;
  JsonWriter w(sb);
  w.StartObject();
  w.Key("callbackId");
  write_str(w, o.callback_id);
  w.Key("origin");
  w.StartObject();
  w.Key("portalId");
  w.Int64(o.portal_id);
  w.Key("actionDefinitionId");
  w.Int64(o.definition_id);
  w.Key("actionDefinitionVersion");
  w.Int64(o.revision);
  w.EndObject();
  w.Key("context");
  w.StartObject();
  w.Key("source");
  w.String("WORKFLOWS");
  w.Key("workflowId");
  w.Int64(e.workflow_id);
  w.EndObject();
  w.Key("object");
  w.StartObject();
  w.Key("objectId");
  w.Uint64(std::stoull(e.object_id));
  w.Key("objectType");
  write_str(w, e.object_type);
  if (o.object_properties) {
    w.Key("properties");
    w.StartObject();
    for (const auto& [name, value] : *o.object_properties) {
      write_str(w, name);
      if (value) write_str(w, *value);
      else w.Null();
    }
    w.EndObject();
  }
  w.EndObject();
  w.Key("inputFields");
  inputs.Accept(w);
  w.EndObject();
  return done(sb);
}

ActionExecutor::ActionExecutor(Config cfg) : cfg_(std::move(cfg)) {
  if (cfg_.compression <= 0) cfg_.compression = 1;
  cfg_.max_attempts = std::max(1, cfg_.max_attempts);
}

ActionExecutor::~ActionExecutor() { stop(); }

void ActionExecutor::start() {
  std::lock_guard lock(mu_);
  if (!workers_.empty()) return;
  stopping_ = false;
  abort_calls_ = false;
  for (int i = 0; i < cfg_.concurrency; ++i) workers_.emplace_back([this] { worker(); });
}

void ActionExecutor::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    abort_calls_ = true;
  }
  cv_.notify_all();
  for (auto& t : workers_) t.join();
  workers_.clear();
  std::lock_guard lock(mu_);
  while (!queue_.empty()) queue_.pop();
}

std::string ActionExecutor::next_callback_id() {
  std::lock_guard lock(mu_);
  return "ap-" + std::to_string(cfg_.portal_id) + "-" + std::to_string(next_callback_++) + "-1-0";
}

void ActionExecutor::submit(Job job) {
  std::lock_guard lock(mu_);
  std::string id = job.execution.callback_id;
  Entry& e = entries_[id];
  e.execution = std::move(job.execution);
  e.execution.state = "pending";
  e.url = std::move(job.url);
  e.body = std::move(job.body);
  e.lose_left = std::max(0, job.lose_responses);
  order_.push_back(id);
  queue_.push(Attempt{std::chrono::steady_clock::now(), id});
  executions_++;
  cv_.notify_all();
  changed_cv_.notify_all();
}

std::vector<ActionExecution> ActionExecutor::executions() const {
  std::lock_guard lock(mu_);
  std::vector<ActionExecution> out;
  for (const auto& id : order_) out.push_back(entries_.at(id).execution);
  return out;
}

std::optional<ActionExecution> ActionExecutor::find(const std::string& callback_id) const {
  std::lock_guard lock(mu_);
  auto it = entries_.find(callback_id);
  if (it == entries_.end()) return std::nullopt;
  return it->second.execution;
}

std::optional<ActionExecution> ActionExecutor::wait(const std::string& callback_id, std::chrono::milliseconds timeout,
                                                    const std::function<bool(const ActionExecution&)>& done) const {
  std::unique_lock lock(mu_);
  changed_cv_.wait_for(lock, timeout, [&] {
    auto it = entries_.find(callback_id);
    return it == entries_.end() || (done ? done(it->second.execution) : action_calls::settled(it->second.execution));
  });
  auto it = entries_.find(callback_id);
  if (it == entries_.end()) return std::nullopt;
  return it->second.execution;
}

void ActionExecutor::complete(const std::vector<CallbackCompletion>& completions) {
  std::lock_guard lock(mu_);
  std::set<std::string> seen;
  for (const auto& c : completions) {
    auto it = entries_.find(c.callback_id);
    if (it == entries_.end())
      throw make_api_error(404, "OBJECT_NOT_FOUND", "Callback " + c.callback_id + " not found");
    if (it->second.execution.state != "blocked")
      throw make_api_error(400, "VALIDATION_ERROR",
                           "Callback " + c.callback_id + " is not waiting for completion (state " +
                               it->second.execution.state + ")");
    if (!seen.insert(c.callback_id).second)
      throw make_api_error(400, "VALIDATION_ERROR", "Callback " + c.callback_id + " appears twice in the batch");
  }
  for (const auto& c : completions) {
    ActionExecution& x = entries_.at(c.callback_id).execution;
    x.state = "completed";
    x.output_fields = c.output_fields;
    x.completed_by = "callback";
  }
  changed_cv_.notify_all();
}

void ActionExecutor::reset() {
  std::lock_guard lock(mu_);
  entries_.clear();
  order_.clear();
  while (!queue_.empty()) queue_.pop();
  changed_cv_.notify_all();
}

void ActionExecutor::worker() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    if (queue_.empty()) {
      cv_.wait(lock);
      continue;
    }
    auto due = queue_.top().due;
    if (due > std::chrono::steady_clock::now()) {
      cv_.wait_until(lock, due);
      continue;
    }
    Attempt at = queue_.top();
    queue_.pop();
    auto it = entries_.find(at.callback_id);
    if (it == entries_.end()) continue;  // reset since
    it->second.execution.state = "running";
    std::string url = it->second.url, body = it->second.body;
    changed_cv_.notify_all();
    calls_++;
    lock.unlock();
    Answer a = call(url, body);
    lock.lock();
    auto again = entries_.find(at.callback_id);
    if (stopping_ || again == entries_.end()) continue;
    settle_locked(again->second, a);
    changed_cv_.notify_all();
  }
}

ActionExecutor::Answer ActionExecutor::call(const std::string& url, const std::string& body) {
  // Signed on the portal's clock, as HubSpot signs on its own.
  const std::int64_t ts = cfg_.now ? cfg_.now()
                                   : std::chrono::duration_cast<std::chrono::milliseconds>(
                                         std::chrono::system_clock::now().time_since_epoch())
                                         .count();
  action_calls::CallState st;
  st.abort = &abort_calls_;
  CURL* curl = curl_easy_init();
  if (!curl) return {};
  curl_slist* headers = nullptr;
  headers = curl_slist_append(headers, "Content-Type: application/json");
  headers = curl_slist_append(headers, ("X-HubSpot-Signature: " + signature_v2(cfg_.secret, "POST", url, body)).c_str());
  headers = curl_slist_append(headers, "X-HubSpot-Signature-Version: v2");
  headers = curl_slist_append(headers,
                              ("X-HubSpot-Signature-v3: " + signature_v3(cfg_.secret, "POST", url, body, ts)).c_str());
  headers = curl_slist_append(headers, ("X-HubSpot-Request-Timestamp: " + std::to_string(ts)).c_str());
  headers = curl_slist_append(headers, "Expect:");
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_POST, 1L);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.c_str());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(std::max(1, cfg_.timeout_ms)));
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_USERAGENT, "HubSpot Connect 2.0 (http://dev.hubspot.com/) (namespace: automation-actions)");
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, action_calls::on_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &st);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, action_calls::on_header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &st);
  curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, action_calls::on_progress);
  curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &st);
  CURLcode rc = curl_easy_perform(curl);
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  Answer a;
  if (rc != CURLE_OK) return a;  // timeout, refused, reset: no answer
  a.status = static_cast<int>(status);
  a.body = std::move(st.body);
  a.retry_after_s = st.retry_after_s;
  return a;
}

void ActionExecutor::settle_locked(Entry& e, const Answer& a) {
  ActionExecution& x = e.execution;
  x.attempts++;
  bool lost = a.status != 0 && e.lose_left > 0;
  if (lost) e.lose_left--;
  x.statuses.push_back(lost ? 0 : a.status);
  double backoff = std::min(1000.0 * std::pow(2.0, x.attempts - 1), action_calls::kMaxBackoffMs);
  if (lost || a.status == 0 || a.status >= 500) {
    failures_++;
    cfg_.log->warn("action call failed callback={} attempt={} status={}{}", x.callback_id, x.attempts,
                   lost ? 0 : a.status, lost ? " (answer lost)" : "");
    retry_or_fail_locked(e, static_cast<std::int64_t>(backoff));
    return;
  }
  if (a.status == 429) {
    failures_++;
    double wait = a.retry_after_s >= 0 ? static_cast<double>(a.retry_after_s) * 1000.0 : backoff;
    retry_or_fail_locked(e, static_cast<std::int64_t>(wait));
    return;
  }
  if (a.status < 200 || a.status >= 300) {
    failures_++;
    cfg_.log->warn("action call refused callback={} status={}: not retried", x.callback_id, a.status);
    finish_locked(e, "failed");
    return;
  }
  deliveries_++;
  x.output_fields.clear();
  rapidjson::Document d;
  d.Parse(a.body.c_str());
  if (!d.HasParseError() && d.IsObject())
    if (auto of = d.FindMember("outputFields"); of != d.MemberEnd() && of->value.IsObject())
      for (const auto& m : of->value.GetObject())
        x.output_fields[std::string(m.name.GetString(), m.name.GetStringLength())] = scalar_to_string(m.value);
  auto state = x.output_fields.find("hs_execution_state");
  std::string s = state == x.output_fields.end() ? "SUCCESS" : state->second;
  if (s == "BLOCK") {
    auto exp = x.output_fields.find("hs_expiration_duration");
    if (exp != x.output_fields.end()) x.expiration_duration = exp->second;
    finish_locked(e, "blocked");
  } else if (s == "SUCCESS" || s == "FAIL_CONTINUE") {
    finish_locked(e, s);
  } else {
    cfg_.log->warn("action answered an unknown hs_execution_state callback={} state={}", x.callback_id, s);
    finish_locked(e, "failed");
  }
}

void ActionExecutor::retry_or_fail_locked(Entry& e, std::int64_t delay_ms) {
  if (e.execution.attempts >= cfg_.max_attempts) {
    finish_locked(e, "failed");
    return;
  }
  retries_++;
  e.execution.state = "pending";
  auto scaled = std::chrono::microseconds(static_cast<std::int64_t>(static_cast<double>(delay_ms) * 1000.0 / cfg_.compression));
  queue_.push(Attempt{std::chrono::steady_clock::now() + scaled, e.execution.callback_id});
  cv_.notify_all();
}

void ActionExecutor::finish_locked(Entry& e, const std::string& state) {
  e.execution.state = state;
  e.execution.completed_by = state == "SUCCESS" || state == "FAIL_CONTINUE" ? "response" : "";
  if (state == "failed") {
    failed_++;
    cfg_.log->warn("action execution failed callback={} attempts={}", e.execution.callback_id, e.execution.attempts);
  } else {
    cfg_.log->debug("action execution settled callback={} state={} attempts={}", e.execution.callback_id, state,
                    e.execution.attempts);
  }
}

void ActionExecutor::add_stats(CountersSnapshot& c) const {
  c.action_executions = executions_;
  c.action_calls = calls_;
  c.action_deliveries = deliveries_;
  c.action_failures = failures_;
  c.action_retries = retries_;
  c.action_failed = failed_;
}

void ActionExecutor::reset_stats() {
  executions_ = 0;
  calls_ = 0;
  deliveries_ = 0;
  failures_ = 0;
  retries_ = 0;
  failed_ = 0;
}

}  // namespace hubsync::sim
