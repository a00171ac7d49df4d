// `hubsync serve`: the long-lived service (engine/service) with its HTTP
// endpoint (webhooks, health, metrics), signals and reloads.
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <iostream>
#include <thread>

#include "connectors/postgres/pg_database.h"
#include "connectors/postgres/pg_listener.h"
#include "engine/cli/app.h"
#include "engine/cli/capture_check.h"
#include "engine/cli/hubspot_stack.h"
#include "engine/cli/mappings.h"
#include "engine/cli/runtime.h"
#include "engine/ops/logging.h"
#include "engine/service/service.h"

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
  o.pull.overlap_ms = cfg.pull.overlap_s * 1000LL;
  o.pull.association_pass_every_ms = cfg.pull.association_pass_every_s * 1000LL;
  return o;
}

// SIGTERM/SIGINT stop the service, SIGHUP reloads the mapping files; a
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
      if (sig == SIGHUP) reload = true;
      else stop = true;
      ops::logger("serve")->info("{} received: {}", sig == SIGHUP ? "SIGHUP" : "signal",
                                 sig == SIGHUP ? "reloading the mapping files" : "stopping");
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

// The mapping files as they are now, if valid and their capture is current.
bool load_serving(const config::Config& cfg, std::vector<mapping::Mapping>& out) {
  std::vector<mapping::Mapping> mappings;
  if (!load_mappings(cfg.mappings.dir, {}, mappings)) return false;
  if (check_capture(cfg.postgres.dsn.value, mappings, "") != kExitOk) return false;
  out = std::move(mappings);
  return true;
}

}  // namespace

int cmd_serve(const GlobalOptions& global) {
  config::Config cfg;
  if (!load_config_or_report(global, cfg)) return kExitError;
  std::vector<mapping::Mapping> mappings;
  if (!load_serving(cfg, mappings)) return kExitError;
  Signals signals;
  auto store = open_state(cfg, /*read_only=*/false);
  if (!store) return kExitUnavailable;
  ratelimit::SystemClock clock;
  HubSpotStack hubspot(cfg, store.get(), clock);
  postgres::PgDatabase db(cfg.postgres.dsn.value, ops::logger("postgres"));
  postgres::PgListener listener(cfg.postgres.dsn.value, ops::logger("postgres"));
  auto log = ops::logger("serve");
  std::cout << "hubsync serve: syncing " << mappings.size() << " mapping(s)" << std::endl;
  while (!signals.stop) {
    service::Service svc(mappings, db, hubspot.crm, *store, clock, listener, log, service_options(cfg));
    signals.attach(&svc);
    svc.run();
    signals.attach(nullptr);
    if (signals.stop) break;
    if (signals.reload.exchange(false)) {
      std::vector<mapping::Mapping> next;
      if (load_serving(cfg, next)) {
        mappings = std::move(next);
        log->info("reloaded {} mapping(s)", mappings.size());
      } else {
        log->error("the mapping files have errors (above): still serving the previous ones");
      }
    }
  }
  std::cout << "hubsync serve: stopped" << std::endl;
  return kExitOk;
}

}  // namespace hubsync::cli
