#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "engine/model/result.h"
#include "engine/webhook/http_types.h"

namespace spdlog {
class logger;
}

namespace hubsync::ops {
class Registry;
}

namespace hubsync::webhook {

struct HttpServerOptions {
  std::string host = "127.0.0.1";  ///< an IPv4 or IPv6 literal, or "localhost"
  std::uint16_t port = 0;          ///< 0: any free port (start() reports it)
  std::size_t max_header_bytes = 16 * 1024;
  std::size_t max_body_bytes = 1024 * 1024;
  /// From the start of a request (or the end of the previous one on a
  /// keep-alive connection) until its header block is complete.
  std::chrono::milliseconds header_timeout{5000};
  /// From the end of the header block until the body is complete; also
  /// bounds writing a response to a client that does not read it.
  std::chrono::milliseconds body_timeout{5000};
  /// Open connections at most; one more is answered 503 and closed.
  std::size_t max_connections = 64;
  int io_threads = 2;
  /// Threads for the requests HttpHandler::blocks says may block; more
  /// such requests wait for one (at most max_connections are open). 0:
  /// they run on an io thread like the rest.
  int worker_threads = 0;
};

/// A small HTTP/1.1 server (keep-alive, Content-Length and chunked bodies,
/// `Expect: 100-continue`) over Boost.Beast, which only http_server.cpp
/// includes. It enforces the limits of HttpServerOptions itself and leaves
/// routing to the HttpHandler. Metrics (when a registry is given):
/// `hubsync_http_connections_open` (gauge),
/// `hubsync_http_connections_refused_total`,
/// `hubsync_http_aborted_requests_total{reason}`.
class HttpServer {
 public:
  /// `handler` (and `metrics`, when not null) must outlive the server.
  HttpServer(HttpServerOptions options, HttpHandler& handler, std::shared_ptr<spdlog::logger> log,
             ops::Registry* metrics);
  /// Stops (see stop()).
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  /// Binds and listens, then serves on io_threads threads. Returns the bound
  /// port. `fatal` when the address is not usable or the port is taken.
  /// Call once.
  model::Result<std::uint16_t> start();
  /// Closes the listening socket: new connections are refused by the OS;
  /// open ones keep being served. Idempotent, thread-safe.
  void stop_accepting();
  /// Closes every connection and joins the io and worker threads; a request
  /// being handled finishes its handler call first, its answer may be lost;
  /// one still waiting for a worker is dropped unanswered.
  /// Idempotent; must not be called from a handler.
  void stop();
  /// Connections open now (thread-safe).
  std::size_t open_connections() const;

  struct Impl;  ///< defined in http_server.cpp, where the connections use it

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace hubsync::webhook
