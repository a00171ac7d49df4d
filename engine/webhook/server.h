#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "engine/config/config.h"
#include "engine/model/result.h"
#include "engine/ratelimit/clock.h"
#include "engine/state/state_store.h"
#include "engine/webhook/event_decoder.h"
#include "engine/webhook/receiver.h"

namespace spdlog {
class logger;
}

namespace hubsync::ops {
class Registry;
}

namespace hubsync::webhook {

/// What the service reports on /readyz.
struct Readiness {
  bool ready = false;
  /// One line per problem ("postgres: connection refused"); shown to
  /// whoever can reach the port, so no secret and no field value.
  std::string detail;
};

/// Asked on every GET /readyz, on an io thread: must be thread-safe, must
/// not throw (an exception counts as not ready) and should be cheap (answer
/// from state the service keeps, not by probing on each call).
using ReadinessCheck = std::function<Readiness()>;

struct ServerOptions {
  /// host:port; IPv6 as [::1]:8080; port 0 picks a free port (start()
  /// returns it). Loopback by default: expose it through a reverse proxy.
  std::string listen = "127.0.0.1:8080";
  std::string path = "/webhooks/hubspot";  ///< where HubSpot POSTs
  /// The URL HubSpot calls, without a query (see ReceiverOptions).
  std::string public_url;
  SecretProvider secrets;
  /// False when no secret HubSpot knows is configured (every webhook is
  /// refused): then nothing warns about how signatures are checked.
  bool webhooks_on = true;
  bool accept_v1_v2 = false;
  std::int64_t max_skew_ms = 300000;
  std::size_t max_body_bytes = 1024 * 1024;
  std::size_t max_events = 100;
  /// hubspot.portal_id: events of other portals are dropped (ReceiverOptions).
  std::int64_t portal_id = 0;
  std::size_t max_connections = 64;
  std::chrono::milliseconds header_timeout{5000};
  std::chrono::milliseconds body_timeout{5000};
  /// How long stop() waits for webhook requests being handled to finish.
  std::chrono::milliseconds stop_grace{5000};
  int io_threads = 2;

  EventDecoder decoder;                ///< required (hubspot::decode_webhook_events)
  state::StateStore* store = nullptr;  ///< required; must outlive the server
  ReadinessCheck readiness;            ///< empty: ready whenever the server runs
  /// Where the server's own metrics go and what /metrics renders; the
  /// service registers its metrics here too. nullptr: the server owns one
  /// (metrics() returns it). Must outlive the server.
  ops::Registry* metrics = nullptr;
  /// GET /: the sync-health page (HTML), rendered on an io thread (must be
  /// thread-safe). Empty: no page (404). Served only when `listen` is a
  /// loopback address or `page_auth` is set: it shows mapping names,
  /// figures, row keys and dead letters' reasons.
  std::function<std::string()> page;
  /// "user:password" for HTTP basic auth on GET / (compared in constant
  /// time); empty: none (loopback only).
  std::string page_auth;
  /// POST {actions_path}/{name}: HubSpot workflow actions, answered by
  /// `actions` on one of `action_threads` threads of their own (it may
  /// block up to its answer time, and a burst of them must not delay
  /// webhooks or health checks; it authenticates requests itself). Empty
  /// `actions`: no such route.
  std::string actions_path;
  std::function<Response(const Request&)> actions;
  int action_threads = 16;
  const ratelimit::Clock* clock = nullptr;  ///< nullptr: the system clock
  std::shared_ptr<spdlog::logger> logger;   ///< nullptr: the "webhook" logger
};

/// ServerOptions from the configuration's `webhook` section: listen, path,
/// public_url, the secret (webhook.client_secret, else
/// hubspot.client_secret), accept_v1_v2, max_skew_ms, limits and timeouts,
/// and hubspot.portal_id.
/// The caller still sets decoder, store, readiness and metrics.
ServerOptions options_from_config(const config::Config& config);

/// hubsync's HTTP endpoint for `serve`, on one listen address:
/// - POST {path}: HubSpot's webhooks (Receiver): 200 only once the events
///   are durably in the state store's inbox;
/// - GET /healthz: 200 while the process serves;
/// - GET /readyz: 200, or 503 with the readiness detail (and 503 while
///   draining);
/// - GET /metrics: the registry in Prometheus text format 0.0.4;
/// - GET /: the sync-health page (ServerOptions::page), on a loopback
///   listener or behind basic auth;
/// - POST {actions_path}/{name}: workflow actions (503 while draining).
/// Anything else: 404, or 405 for a wrong method. Beast stays inside
/// http_server.cpp. Thread-safe.
class Server {
 public:
  /// Checks the options: `fatal` naming each problem (no store, no
  /// decoder, no secret, path not starting with '/', public_url with a
  /// query, limits of 0, listen not host:port).
  static model::Result<std::unique_ptr<Server>> create(ServerOptions options);
  /// Stops (see stop()).
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  /// Binds and serves; returns the bound port. `fatal` if the address
  /// cannot be bound or no secret is available. Call once.
  model::Result<std::uint16_t> start();
  /// From now on the webhook path answers 503 (HubSpot retries later) and
  /// /readyz 503; everything else keeps working. Idempotent, thread-safe.
  void begin_drain();
  /// begin_drain(), stop accepting connections, wait up to stop_grace for
  /// webhook requests in progress (their events are stored and answered),
  /// then close every connection and join the io threads. Idempotent; must
  /// not be called from a readiness callback.
  void stop();

  bool draining() const;
  /// The bound port (0 before start()).
  std::uint16_t port() const;
  /// The registry /metrics renders.
  ops::Registry& metrics();

 private:
  struct Impl;
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace hubsync::webhook
