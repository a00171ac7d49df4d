// Simulator's public API: lifecycle and the test knobs.
#include <algorithm>
#include <stdexcept>

#include "tests/hubspot-sim/impl.h"
#include "tests/hubspot-sim/simulator.h"
#include "tests/hubspot-sim/validation.h"

namespace hubsync::sim {

// ---- Simulator ------------------------------------------------------------

namespace {
[[noreturn]] void throw_knob_error(const ApiError& e) {
  throw SimulatorError(e.http_status, e.category, e.message);
}
}  // namespace

Simulator::Simulator(SimulatorOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {
  impl_->self = this;
  if (!impl_->opts.snapshot_file.empty()) impl_->load_snapshot();
}

Simulator::~Simulator() { stop(); }

std::uint16_t Simulator::start() {
  if (impl_->server) return impl_->port;
  impl_->webhooks.start();
  impl_->executions.start();
  impl_->server = std::make_unique<HttpServer>([this](HttpRequest& r) { return impl_->handle(r); },
                                              impl_->opts.threads, [this](HttpRequest& r) { impl_->admit(r); });
  try {
    impl_->port = impl_->server->listen(impl_->opts.port);
  } catch (const std::exception& e) {
    impl_->server.reset();
    throw std::runtime_error(std::string("hubspot-sim: cannot listen: ") + e.what());
  }
  impl_->log->info("listening port={} portal={} tier={} index_lag_ms={} threads={}", impl_->port,
                   impl_->opts.portal_id, impl_->opts.tier, impl_->opts.index_lag_ms, impl_->opts.threads);
  return impl_->port;
}

void Simulator::stop() {
  if (!impl_) return;
  if (impl_->server) {
    impl_->server->stop();
    impl_->server.reset();
    if (!impl_->opts.snapshot_file.empty()) impl_->save_snapshot();
  }
  impl_->webhooks.stop();
  impl_->executions.stop();
}

std::uint16_t Simulator::port() const { return impl_->port; }
std::string Simulator::base_url() const { return "http://127.0.0.1:" + std::to_string(impl_->port); }
const SimulatorOptions& Simulator::options() const { return impl_->opts; }

void Simulator::reset() {
  impl_->portal.reset();
  impl_->limiter.reset();
  {
    std::lock_guard lock(impl_->auth_mu);
    impl_->access_tokens.clear();
    impl_->refresh_tokens.clear();
    impl_->auth_codes.clear();
  }
  {
    std::lock_guard lock(impl_->fault_mu);
    impl_->faults.clear();
  }
  impl_->webhooks.clear_subscriptions();
  impl_->actions.reset();
  impl_->executions.reset();
  reset_counters();
}

std::vector<std::string> Simulator::seed(const std::string& type, int n, std::uint64_t seed) {
  try {
    std::vector<ChangeEvent> events;
    WriteSource src{"IMPORT", "import:" + std::to_string(seed), 0};
    auto ids = impl_->portal.seed(type, n, seed, src, events);
    impl_->emit(events);
    std::vector<std::string> out;
    for (auto id : ids) out.push_back(std::to_string(id));
    return out;
  } catch (const ApiError& e) {
    throw_knob_error(e);
  }
}

void Simulator::set_faults(std::vector<FaultRule> rules) {
  std::lock_guard lock(impl_->fault_mu);
  impl_->faults = std::move(rules);
}

void Simulator::set_tier(int n) { impl_->limiter.set_tier(n); }
void Simulator::set_rate_limits_enabled(bool on) { impl_->rate_limits_on = on; }
void Simulator::set_index_lag_ms(std::int64_t ms) { impl_->portal.set_index_lag_ms(ms); }
void Simulator::set_token_expiry(std::int64_t s) { impl_->oauth_expires_in_s = s; }

void Simulator::expire_oauth_tokens() {
  std::lock_guard lock(impl_->auth_mu);
  for (auto& [k, t] : impl_->access_tokens) t.expires_at_ms = impl_->now() - 1;
}

CountersSnapshot Simulator::counters() const {
  CountersSnapshot c;
  {
    std::lock_guard lock(impl_->counter_mu);
    c = impl_->counts;
  }
  impl_->webhooks.add_stats(c);
  impl_->executions.add_stats(c);
  return c;
}

void Simulator::reset_counters() {
  {
    std::lock_guard lock(impl_->counter_mu);
    impl_->counts = CountersSnapshot{};
  }
  impl_->webhooks.reset_stats();
  impl_->executions.reset_stats();
}

std::string Simulator::dump_json(const std::string& type) const {
  try {
    auto views = impl_->portal.dump(type);
    rapidjson::StringBuffer sb;
    JsonWriter w(sb);
    w.StartObject();
    w.Key("objectTypeId");
    write_str(w, impl_->portal.resolve_type(type));
    w.Key("results");
    w.StartArray();
    for (const auto& v : views) {
      std::vector<std::string> all;
      for (const auto& [k, val] : *v.props) all.push_back(k);
      write_object(w, v, all, all, false);
    }
    w.EndArray();
    w.EndObject();
    return {sb.GetString(), sb.GetSize()};
  } catch (const ApiError& e) {
    throw_knob_error(e);
  }
}

namespace {
// The one simulated HubSpot user who acts in the UI.
WriteSource ui_source(Simulator::Impl&) { return WriteSource{"CRM_UI", "userId:9000", 0}; }
}  // namespace

void Simulator::ui_edit(const std::string& type, const std::string& id, const std::map<std::string, std::string>& props) {
  try {
    std::vector<WriteInput> in(1);
    in[0].id = id;
    in[0].props = props;
    std::vector<ChangeEvent> events;
    impl_->portal.write(type, WriteOp::kUpdate, in, false, ui_source(*impl_), events);
    impl_->emit(events);
  } catch (const ApiError& e) {
    throw_knob_error(e);
  }
}

std::string Simulator::ui_create(const std::string& type, const std::map<std::string, std::string>& props) {
  try {
    std::vector<WriteInput> in(1);
    in[0].props = props;
    std::vector<ChangeEvent> events;
    auto out = impl_->portal.write(type, WriteOp::kCreate, in, false, ui_source(*impl_), events);
    impl_->emit(events);
    return std::to_string(out[0].view->id);
  } catch (const ApiError& e) {
    throw_knob_error(e);
  }
}

void Simulator::ui_delete(const std::string& type, const std::string& id) {
  try {
    std::vector<ChangeEvent> events;
    impl_->portal.archive(type, {id}, ui_source(*impl_), events);
    impl_->emit(events);
  } catch (const ApiError& e) {
    throw_knob_error(e);
  }
}

void Simulator::ui_restore(const std::string& type, const std::string& id) {
  try {
    std::vector<ChangeEvent> events;
    impl_->portal.restore(type, id, ui_source(*impl_), events);
    impl_->emit(events);
  } catch (const ApiError& e) {
    throw_knob_error(e);
  }
}

std::string Simulator::ui_merge(const std::string& type, const std::string& primary, const std::string& merged) {
  try {
    std::vector<ChangeEvent> events;
    auto v = impl_->portal.merge(type, primary, merged, ui_source(*impl_), events);
    impl_->emit(events);
    return std::to_string(v.id);
  } catch (const ApiError& e) {
    throw_knob_error(e);
  }
}

std::vector<std::string> Simulator::ui_bulk_import(const std::string& type,
                                                   const std::vector<std::map<std::string, std::string>>& rows,
                                                   std::int64_t modified_ms) {
  try {
    std::vector<WriteInput> in;
    for (const auto& r : rows) {
      WriteInput w;
      w.props = r;
      auto email = r.find("email");
      if (email != r.end() && impl_->portal.resolve_type(type) == "0-1") {
        w.id = email->second;
        w.id_property = "email";
      }
      in.push_back(std::move(w));
    }
    std::vector<ChangeEvent> events;
    WriteSource src{"IMPORT", "import:" + std::to_string(modified_ms), 0};
    std::vector<WriteOutcome> out;
    bool upsert = !in.empty() && !in[0].id_property.empty();
    out = impl_->portal.write(type, upsert ? WriteOp::kUpsert : WriteOp::kCreate, in, false, src, events);
    std::vector<std::uint64_t> ids;
    std::vector<std::string> sids;
    for (const auto& o : out) {
      ids.push_back(o.view->id);
      sids.push_back(std::to_string(o.view->id));
    }
    impl_->portal.stamp_modified(type, ids, modified_ms);
    impl_->count_inputs(impl_->portal.resolve_type(type), static_cast<std::int64_t>(ids.size()));
    impl_->emit(events);
    return sids;
  } catch (const ApiError& e) {
    throw_knob_error(e);
  }
}

std::int64_t Simulator::add_webhook_subscription(WebhookSubscription sub) {
  return impl_->webhooks.add_subscription(std::move(sub));
}
void Simulator::clear_webhook_subscriptions() { impl_->webhooks.clear_subscriptions(); }
void Simulator::set_webhook_target(const std::string& url) { impl_->webhooks.set_target(url); }
void Simulator::set_webhook_loss(int pct) { impl_->webhooks.set_loss_pct(std::clamp(pct, 0, 100)); }
void Simulator::set_webhook_copies(int copies) { impl_->webhooks.set_copies(std::clamp(copies, 1, 100)); }

// ---- workflow custom actions ----------------------------------------------

std::string Simulator::enroll_in_workflow(const WorkflowEnrollment& e) {
  auto def = impl_->actions.find_live(e.definition_id);
  if (!def) throw SimulatorError(404, "OBJECT_NOT_FOUND", "Action definition " + e.definition_id + " not found");
  if (e.object_id.empty() || e.object_id.size() > 18 || e.object_id.find_first_not_of("0123456789") != std::string::npos)
    throw SimulatorError(400, "VALIDATION_ERROR", "objectId must be a record id (digits), got " + e.object_id);
  if (std::find(def->object_types.begin(), def->object_types.end(), e.object_type) == def->object_types.end())
    throw SimulatorError(400, "VALIDATION_ERROR",
                         "objectType " + e.object_type + " is not one of the action's objectTypes");
  rapidjson::Document inputs;
  inputs.Parse(e.input_fields_json.empty() ? "{}" : e.input_fields_json.c_str());
  if (inputs.HasParseError() || !inputs.IsObject())
    throw SimulatorError(400, "VALIDATION_ERROR", "inputFields must be a JSON object");
  if (e.lose_responses < 0) throw SimulatorError(400, "VALIDATION_ERROR", "lose_responses must be >= 0");
  ActionExecutor::Job job;
  job.execution.callback_id = impl_->executions.next_callback_id();
  job.execution.definition_id = def->id;
  job.execution.object_id = e.object_id;
  job.execution.object_type = e.object_type;
  job.url = def->action_url;
  ActionOrigin origin{job.execution.callback_id, impl_->opts.portal_id, std::stoll(def->id), def->current.revision,
                      std::nullopt};
  if (!def->object_properties.empty()) {
    // HubSpot reads the enrolled record for objectRequestOptions: it must exist.
    ObjectView record;
    try {
      record = impl_->portal.get(e.object_type, e.object_id, "", false, {});
    } catch (const ApiError& err) {
      throw_knob_error(err);
    }
    origin.object_properties.emplace();
    for (const auto& p : def->object_properties) {
      auto it = record.props->find(p);
      origin.object_properties->emplace_back(p, it == record.props->end() ? std::nullopt
                                                                          : std::optional<std::string>(it->second));
    }
  }
  job.body = action_request_body(origin, e);
  job.lose_responses = e.lose_responses;
  std::string id = job.execution.callback_id;
  impl_->executions.submit(std::move(job));
  return id;
}

std::vector<ActionExecution> Simulator::action_executions() const { return impl_->executions.executions(); }

ActionExecution Simulator::action_execution(const std::string& callback_id) const {
  auto x = impl_->executions.find(callback_id);
  if (!x) throw SimulatorError(404, "OBJECT_NOT_FOUND", "No action execution with callbackId " + callback_id);
  return *x;
}

ActionExecution Simulator::wait_execution(const std::string& callback_id, std::chrono::milliseconds timeout,
                                          const std::function<bool(const ActionExecution&)>& done) const {
  auto x = impl_->executions.wait(callback_id, timeout, done);
  if (!x) throw SimulatorError(404, "OBJECT_NOT_FOUND", "No action execution with callbackId " + callback_id);
  return *x;
}

}  // namespace hubsync::sim
