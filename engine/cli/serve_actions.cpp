#include "engine/cli/serve_actions.h"

#include "connectors/hubspot/action_codec.h"
#include "engine/pipeline/clock_frames.h"
#include "engine/ops/logging.h"

namespace hubsync::cli {

struct ServeActions::Current {
  std::vector<mapping::Mapping> mappings;  // a copy: a reload replaces serve's while requests may still run
  std::map<std::string, const mapping::Mapping*> by_name;
  std::unique_ptr<actions::PropertyBook> properties;  // read again after a reload
  std::unique_ptr<actions::Executor> executor;
  std::unique_ptr<actions::Runner> runner;
  std::unique_ptr<pipeline::HubSpotClock> hubspot_time;  // the signed timestamps' window is on HubSpot's clock
  std::unique_ptr<actions::Endpoint> endpoint;
};

ServeActions::ServeActions(const config::Config& cfg, state::StateStore& store, ops::Registry& registry,
                           HubSpotStack& hubspot, std::int64_t portal_id)
    : cfg_(cfg), portal_id_(portal_id), store_(store), registry_(registry),
      api_({cfg.hubspot.base_url, cfg.actions.app_id, cfg.actions.developer_api_key.value}, hubspot.transport,
           &hubspot.client, ops::logger("hubspot")),
      catalog_(hubspot.client) {}

ServeActions::~ServeActions() = default;

webhook::Response ServeActions::handle(const webhook::Request& request) {
  std::shared_ptr<Current> c;
  {
    std::lock_guard lock(mu_);
    c = current_;
  }
  if (!c || !c->endpoint) {
    webhook::Response r;
    r.status = 503;
    r.content_type = "application/json";
    r.body = R"({"status":"error","message":"hubsync is starting: no actions are served yet"})";
    r.headers.emplace_back("Retry-After", "5");
    return r;
  }
  return c->endpoint->handle(request);
}

void ServeActions::attach(const std::vector<mapping::Mapping>& mappings, service::ServiceOptions& options,
                          pipeline::DatabasePort& db, pipeline::CrmPort& crm, ratelimit::Clock& clock,
                          std::function<void()> wake, std::function<void(const std::string&)> push_soon) {
  auto c = std::make_shared<Current>();
  c->mappings = mappings;
  for (const auto& m : c->mappings) c->by_name[m.name] = &m;
  auto log = ops::logger("actions");
  c->executor = std::make_unique<actions::Executor>(c->mappings, store_, &api_, clock, log);
  c->executor->set_waker(std::move(wake));
  c->properties = std::make_unique<actions::PropertyBook>(catalog_);
  c->runner = std::make_unique<actions::Runner>(actions::RunnerDeps{
      c->by_name, db, crm, store_, clock, log, options.pull, options.push, std::move(push_soon), c->properties.get()});
  actions::EndpointOptions eo;
  eo.public_base = config::actions_base_url(cfg_);
  eo.path = cfg_.actions.path;
  const std::string secret =
      cfg_.webhook.client_secret.set() ? cfg_.webhook.client_secret.value : cfg_.hubspot.client_secret.value;
  eo.secrets = [secret] { return secret.empty() ? std::vector<std::string>{} : std::vector<std::string>{secret}; };
  eo.max_skew_ms = cfg_.webhook.max_skew_ms;
  c->hubspot_time = std::make_unique<pipeline::HubSpotClock>(crm, clock);
  eo.clock = c->hubspot_time.get();
  eo.answer_within = std::chrono::milliseconds(cfg_.actions.answer_within_ms);
  eo.portal_id = portal_id_;
  eo.decoder = hubspot::decode_action_request;
  eo.encoder = hubspot::encode_action_answer;
  eo.log = log;
  c->endpoint = std::make_unique<actions::Endpoint>(std::move(eo), *c->executor, store_, registry_);
  if (auto r = c->executor->recover(hubspot::decode_action_request); !r)
    log->warn("actions: blocked executions could not be re-queued: {}", r.error().message);
  actions::Executor* ex = c->executor.get();
  actions::Runner* runner = c->runner.get();
  options.actions_due = [ex] { return ex->has_work(); };
  options.run_actions = [ex, runner] { ex->run_due(*runner); };
  std::lock_guard lock(mu_);
  current_ = std::move(c);
}

std::size_t ServeActions::count() const {
  std::lock_guard lock(mu_);
  std::size_t n = 0;
  if (current_)
    for (const auto& [name, m] : current_->by_name) n += m->actions.size();
  return n;
}

}  // namespace hubsync::cli
