#pragma once

#include <cstdint>
#include <functional>
#include <memory>

#include "tests/hubspot-sim/http_types.h"

namespace hubsync::sim {

/// A keep-alive HTTP/1.1 server on 127.0.0.1 over Boost.Beast. At most
/// `threads` handlers run at once, on `threads` + 1 io threads, so some
/// thread is always free to read (and admit) requests, however long the
/// handlers take; a request that finds every handler busy waits its turn.
class HttpServer {
 public:
  /// Answers a request; runs on an io thread and must be thread-safe.
  using Handler = std::function<HttpResponse(HttpRequest&)>;
  /// Runs on the io thread as soon as a request has been read, in the order
  /// requests arrive, before the request waits for a worker: what a real
  /// service does at its edge (HubSpot counts a request against the rate
  /// limit when it arrives). May set HttpRequest::admission for the
  /// handler. Must be quick and thread-safe; must not throw.
  using Admit = std::function<void(HttpRequest&)>;
  HttpServer(Handler handler, int threads, Admit admit = {});
  ~HttpServer();
  /// Binds and starts serving; returns the bound port. Throws on failure.
  std::uint16_t listen(std::uint16_t port);
  /// Closes the acceptor and every connection, joins threads. Idempotent.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace hubsync::sim
