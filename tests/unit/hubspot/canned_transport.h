// A transport that answers every request with one canned answer and keeps
// what was sent, and a client on it: for HubSpot answers the simulator does
// not give.
#pragma once

#include <mutex>
#include <string>
#include <vector>

#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include "connectors/hubspot/auth.h"
#include "connectors/hubspot/client.h"
#include "engine/ratelimit/fake_clock.h"

namespace hubsync::hubspot {

class CannedTransport final : public HttpTransport {
 public:
  /// Answers `req` with `status` and `body`; thread-safe.
  model::Result<HttpResponse> send(const HttpRequest& req) override {
    std::lock_guard lock(mu_);
    sent.push_back(req);
    return HttpResponse{status, {}, body, std::chrono::milliseconds(0)};
  }
  int status = 200;
  std::string body;
  std::vector<HttpRequest> sent;

 private:
  std::mutex mu_;
};

/// A HubSpot client on a canned transport, for test fixtures to derive from.
struct CannedHubSpot {
  CannedHubSpot()
      : limiter(clock, {.burst_limit = 100}),
        client(http, token, limiter, clock, {.base_url = "http://hubspot.test", .seed = 1},
               std::make_shared<spdlog::logger>("t", std::make_shared<spdlog::sinks::null_sink_mt>())) {}

  ratelimit::FakeClock clock;
  CannedTransport http;
  PrivateAppToken token{"pat-test"};
  ratelimit::RateLimiter limiter;
  HubSpotClient client;
};

}  // namespace hubsync::hubspot
