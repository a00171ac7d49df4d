#pragma once

#include <cstdint>
#include <functional>
#include <memory>

#include "tests/hubspot-sim/http_types.h"

namespace hubsync::sim {

/// A keep-alive HTTP/1.1 server on 127.0.0.1 over Boost.Beast with several
/// io threads. The handler runs on an io thread and must be thread-safe.
class HttpServer {
 public:
  using Handler = std::function<HttpResponse(HttpRequest&)>;
  HttpServer(Handler handler, int threads);
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
