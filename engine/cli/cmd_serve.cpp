// `hubsync serve`: the long-lived service (engine/service) with its HTTP
// endpoint (webhooks, health, metrics), signals and reloads.
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <iostream>
#include <random>
#include <thread>

#include "connectors/hubspot/webhook_codec.h"
#include "connectors/postgres/capture_stream.h"
#include "connectors/postgres/pg_database.h"
#include "connectors/postgres/pg_changelog_watch.h"
#include "connectors/postgres/pg_listener.h"
#include "engine/cli/app.h"
#include "engine/cli/capture_check.h"
#include "engine/cli/hubspot_stack.h"
#include "engine/cli/mappings.h"
#include "engine/cli/runtime.h"
#include "engine/cli/serve_actions.h"
#include "engine/cli/serve_reload.h"
#include "engine/model/value.h"
#include "engine/ops/logging.h"
#include "engine/ops/metrics.h"
#include "engine/ops/progress.h"
#include "engine/pipeline/clock_frames.h"
#include "engine/cli/health_page.h"
#include "engine/service/health_board.h"
#include "engine/service/service.h"
#include "engine/service/service_metrics.h"
#include "engine/webhook/server.h"

namespace hubsync::cli {

namespace {

service::ServiceOptions service_options(const config::Config& cfg) {
  service::ServiceOptions o;
  o.debounce = std::chrono::milliseconds(cfg.serve.debounce_ms);
  o.poll_every = std::chrono::seconds(cfg.serve.poll_s);
  o.inbox_every = std::chrono::milliseconds(cfg.serve.inbox_every_ms);
  o.sweep_every = std::chrono::seconds(cfg.serve.sweep_every_s);
  o.reconcile_every = std::chrono::seconds(cfg.serve.reconcile_every_s);
  o.reconcile_window_ms = cfg.serve.reconcile_window_s * 1000LL;
  o.push.worker = "hubsync-serve-" + std::to_string(getpid());
  o.pull = cli::pull_options(cfg);
  o.redact = [cfg](std::string text) { return config::redact(cfg, std::move(text)); };
  return o;
}

// SIGTERM/SIGINT stop the service, SIGHUP reloads config and mappings; a
// thread of its own waits for them (they are blocked everywhere else).
class Signals {
 public:
  Signals() {
    sigemptyset(&set_);
    for (int s : {SIGTERM, SIGINT, SIGHUP, SIGUSR2}) sigaddset(&set_, s);
    pthread_sigmask(SIG_BLOCK, &set_, nullptr);
    thread_ = std::thread([this] { loop(); });
  }
  ~Signals() {
    closing_ = true;
    pthread_kill(thread_.native_handle(), SIGUSR2);  // ends loop()
    thread_.join();
    pthread_sigmask(SIG_UNBLOCK, &set_, nullptr);
  }
  /// Called (on the signal thread) when a stop signal arrives, before the
  /// service is asked to stop: the webhook endpoint starts answering 503.
  std::function<void()> on_stop;
  void attach(service::Service* s) {
    std::lock_guard lock(mu_);
    current_ = s;
    if (s && (stop.load() || reload.load())) s->stop();
  }
  std::atomic<bool> stop{false};
  std::atomic<bool> reload{false};

 private:
  void loop() {
    for (;;) {
      int sig = 0;
      if (sigwait(&set_, &sig) != 0) return;
      if (sig == SIGUSR2) {
        if (closing_) return;
        continue;  // not ours
      }
      if (sig == SIGHUP) {
        reload = true;
      } else {
        stop = true;
        if (on_stop) on_stop();
      }
      ops::logger("serve")->info("{} received: {}", sig == SIGHUP ? "SIGHUP" : "signal",
                                 sig == SIGHUP ? "reloading the config and mapping files" : "stopping");
      std::lock_guard lock(mu_);
      if (current_) current_->stop();
    }
  }
  sigset_t set_;
  std::atomic<bool> closing_{false};
  std::thread thread_;
  std::mutex mu_;
  service::Service* current_ = nullptr;
};

// The HTTP endpoint: webhooks into the inbox, /healthz, /readyz, /metrics
// and the health page at /.
std::unique_ptr<webhook::Server> start_endpoint(const config::Config& cfg, state::StateStore& store,
                                                ops::Registry& registry, const service::ServiceStats& stats,
                                                const service::HealthBoard& board, ServeActions& actions,
                                                bool any_actions, std::int64_t portal_id,
                                                const ratelimit::Clock& hubspot_time) {
  auto o = webhook::options_from_config(cfg);
  o.portal_id = portal_id;
  // Signed timestamps are HubSpot's: the window is centred on its clock.
  o.clock = &hubspot_time;
  if (!o.secrets) {
    // No app secret (a private-app setup): nothing can sign a webhook, so
    // HubSpot's changes come by the sweep alone. The endpoint still serves
    // health and metrics; a POST is refused (a secret nobody knows).
    ops::logger("serve")->warn("webhooks off: no webhook.client_secret (or hubspot.client_secret); HubSpot changes "
                               "arrive by the sweep every {} s (serve.sweep_every_s)", cfg.serve.sweep_every_s);
    std::random_device rd;
    std::string unknowable;
    for (int i = 0; i < 8; ++i) unknowable += std::to_string(rd());
    o.secrets = [unknowable] { return std::vector<std::string>{unknowable}; };
    o.webhooks_on = false;
  }
  if (portal_id == 0 && (o.webhooks_on || any_actions))
    ops::logger("serve")->warn("hubspot.portal_id is not set, and HubSpot did not say whose the token is: webhooks "
                               "and workflow action calls from any portal that installed the app (all signed with "
                               "the same client secret) are accepted");
  o.decoder = hubspot::decode_webhook_events;
  o.store = &store;
  o.metrics = &registry;
  o.logger = ops::logger("webhook");
  o.readiness = [&stats]() {
    std::string detail;
    if (!stats.postgres_ok) detail += "postgres: unreachable\n";
    if (!stats.hubspot_ok) detail += "hubspot: unreachable\n";
    return webhook::Readiness{detail.empty(), detail};
  };
  o.page = [&board, &store] {
    const std::int64_t now = ratelimit::SystemClock().wall_ms();
    return render_health_page(board.view(now), store, now);
  };
  o.page_auth = cfg.serve.health_auth.value;
  o.actions_path = cfg.actions.path;
  o.actions = [&actions](const webhook::Request& r) { return actions.handle(r); };
  auto server = webhook::Server::create(std::move(o));
  if (!server.ok()) {
    std::cerr << "serve: " << server.error().message << '\n';
    return nullptr;
  }
  auto port = (*server)->start();
  if (!port.ok()) {
    std::cerr << "serve: " << port.error().message << '\n';
    return nullptr;
  }
  std::cout << "hubsync serve: listening on port " << *port << " (" << cfg.webhook.path
            << ", " << cfg.actions.path << "/{action}, /healthz, /readyz, /metrics, and the health page at /)"
            << std::endl;
  return std::move(*server);
}

// The portal the state store is checked against (learn_portal). A token
// new to the store is asked of HubSpot by a client that gives up within
// seconds: a serve that cannot start exits at once, and systemd's restart
// asks again. The probe holds no OAuth tokens (learn_portal asks nothing
// for an OAuth login): a second token provider could rotate the refresh
// token under the service's.
int serve_portal(const config::Config& cfg, state::StateStore& store, const Report& report, PortalIdentity& out) {
  ratelimit::SystemClock clock;
  HubSpotStack probe(cfg, nullptr, clock, std::nullopt, /*interactive=*/true);
  return learn_portal(cfg, probe.client, &store, /*record=*/true, report, out);
}

}  // namespace

int cmd_serve(const GlobalOptions& global) {
  Serving serving;
  if (!load_config_or_report(global, serving.config)) return kExitError;
  if (int rc = load_serving(serving.config, serving.mappings); rc != kExitOk) return rc;
  const config::Config& cfg = serving.config;  // what the connections were made from
  Signals signals;
  auto store = open_state(cfg, /*read_only=*/false);
  if (!store) return kExitUnavailable;
  const auto to_stderr = [](const std::string& line, bool error) {
    std::cerr << "serve: " << (error ? "" : "warning: ") << line << '\n';
  };
  postgres::PgDatabase db(cfg.postgres.dsn.value, ops::logger("postgres"));
  if (int rc = serve_portal(cfg, *store, to_stderr, serving.portal); rc != kExitOk) return rc;
  if (int rc = check_fingerprints(cfg, serving.mappings, "", *store, db, serving.portal, to_stderr); rc != kExitOk)
    return rc;
  ratelimit::SystemClock clock;
  HubSpotStack hubspot(cfg, store.get(), clock);
  // What wakes the pushes: the capture trigger's NOTIFY (postgres.notify),
  // else a look at the changelog every serve.change_poll_ms (which first
  // relays the slot's changes with postgres.capture: logical).
  std::unique_ptr<service::ChangeNotifier> listener;
  if (cfg.postgres.notify && !cfg.postgres.logical)
    listener = std::make_unique<postgres::PgListener>(cfg.postgres.dsn.value, ops::logger("postgres"));
  else
    listener = std::make_unique<postgres::PgChangelogWatcher>(
        cfg.postgres.dsn.value, std::chrono::milliseconds(cfg.serve.change_poll_ms), ops::logger("postgres"));
  // postgres.capture logical with postgres.relay stream: one stream relays
  // the slot for the whole service (capture_stream.h); the claims' and the
  // watcher's own relays find the slot in use and leave it to it. With
  // relay sql the watcher alone relays (the SQL functions), once every
  // change_poll_ms: each call decodes again from the slot's restart point,
  // so relaying before every read of the changelog as well would cost the
  // server that much again for changes at most one poll older.
  if (cfg.postgres.logical && !cfg.postgres.relay_stream) db.skip_relay();
  std::unique_ptr<postgres::CaptureStream> capture_stream;
  if (cfg.postgres.logical && cfg.postgres.relay_stream) {
    capture_stream = std::make_unique<postgres::CaptureStream>(cfg.postgres.dsn.value, ops::logger("postgres"));
    capture_stream->start();
  }
  auto log = ops::logger("serve");
  ops::Registry registry;
  service::ServiceMetrics metrics(registry);
  service::ServiceStats stats;  // outlives every Service: /readyz reads it
  service::HealthBoard board;   // the health page's figures
  // Webhooks and action calls of another portal are refused: that of
  // hubspot.portal_id, else the one HubSpot said the token is for.
  std::int64_t portal_id = cfg.hubspot.portal_id;
  if (portal_id == 0 && serving.portal.from_token)
    if (auto learned = model::parse_integer(serving.portal.portal); learned.ok()) portal_id = *learned;
  ServeActions actions(cfg, *store, registry, hubspot, portal_id);
  bool any_actions = false;
  for (const auto& m : serving.mappings) any_actions = any_actions || !m.actions.empty();
  pipeline::HubSpotClock hubspot_time(hubspot.crm, clock);
  auto server = start_endpoint(cfg, *store, registry, stats, board, actions, any_actions, portal_id, hubspot_time);
  if (!server) return kExitError;
  signals.on_stop = [&] { server->begin_drain(); };
  std::cout << "hubsync serve: syncing " << serving.mappings.size() << " mapping(s)" << std::endl;
  // Long operations (an initial load, a backfill swept a few pages per
  // step, the association pass) log their progress every 5 s.
  ops::ProgressPrinter printer([&clock] { return clock.monotonic(); }, /*tty=*/false, nullptr,
                               [](const std::string& text) { ops::logger("serve")->info("progress {}", text); });
  ops::StepCarrier progress([&printer](const std::string& what, const std::string& m, std::int64_t d,
                                       std::int64_t t) { printer.update(what, m, d, t); });
  std::atomic<service::Service*> running{nullptr};  // what an action's submit wakes
  int rc = kExitOk;
  while (!signals.stop) {
    auto options = service_options(serving.config);
    options.push.progress = options.pull.progress = [&progress](const std::string& what, const std::string& m,
                                                                std::int64_t d, std::int64_t t) {
      progress.update(what, m, d, t);
    };
    options.publish = [&](const service::ServiceStats& s, service::Snapshot& snap) {
      snap.limiter = hubspot.limiter.stats();
      const auto c = hubspot.client.counters();
      snap.api = {c.requests, c.responses_429, c.retries(), c.failures, c.exchanges};
      metrics.publish(s, snap);
      board.record(clock.wall_ms(), s, snap);
    };
    options.stats = &stats;
    options.check_identity = identity_guard(serving.config, db, *store, serving.portal);
    actions.attach(
        serving.mappings, options, db, hubspot.crm, clock,
        [&running] {
          if (auto* s = running.load()) s->wake();
        },
        [&running](const std::string& m) {
          if (auto* s = running.load()) s->push_soon(m);
        });
    service::Service svc(serving.mappings, db, hubspot.crm, *store, clock, *listener, log, options);
    running = &svc;
    signals.attach(&svc);
    svc.run();
    running = nullptr;
    signals.attach(nullptr);
    if (svc.fatal_error()) {
      std::cerr << "serve: " << svc.fatal_error()->message << '\n';
      rc = kExitError;
      break;
    }
    if (signals.stop) break;
    if (signals.reload.exchange(false)) {
      if (auto next = reload_serving(global, serving, *store, *log)) serving = std::move(*next);
    }
  }
  server->stop();
  if (capture_stream) capture_stream->stop();  // writes what it decoded first
  std::cout << "hubsync serve: stopped" << std::endl;
  return rc;
}

}  // namespace hubsync::cli
