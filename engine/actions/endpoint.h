#pragma once

// serve's action endpoint: POST {actions.path}/{action name}, called by
// HubSpot workflows. Authenticates the raw bytes (X-HubSpot-Signature v2,
// or v3 where present, with the webhook code's constant-time check),
// answers a retried callbackId with the recorded outputs, hands new
// executions to the worker (Executor) and answers within
// `answer_within`, or BLOCK (completed later through the callback API).
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include <spdlog/logger.h>

#include "engine/actions/executor.h"
#include "engine/ops/metrics.h"
#include "engine/webhook/http_types.h"
#include "engine/webhook/receiver.h"

namespace hubsync::actions {

struct EndpointOptions {
  /// The URL HubSpot calls without the action name (config::actions_base_url):
  /// the signed URI is this + "/" + name + the request's query. Empty:
  /// `http://` + the Host header + the request target.
  std::string public_base;
  std::string path = "/hubspot/actions";  ///< the local path prefix the server routes here
  webhook::SecretProvider secrets;         ///< the app's client secret(s)
  std::int64_t max_skew_ms = 300000;       ///< v3 timestamps
  std::chrono::milliseconds answer_within{3000};
  /// hubspot.portal_id: a call whose origin.portalId is another portal's is
  /// refused (every portal that installs the app sends calls signed with the
  /// same secret); 0: calls from any portal run.
  std::int64_t portal_id = 0;
  RequestDecoder decoder;
  AnswerEncoder encoder;
  const ratelimit::Clock* clock = nullptr;  ///< nullptr: the system clock
  std::shared_ptr<spdlog::logger> log;      ///< nullptr: the "actions" logger
};

class Endpoint {
 public:
  /// `executor` and `store` must outlive the endpoint; counters go to `metrics`.
  Endpoint(EndpointOptions options, Executor& executor, state::StateStore& store, ops::Registry& metrics);
  ~Endpoint();

  /// Handles one whole request on an io thread (thread-safe; blocks up to
  /// answer_within): 401 for a missing, forged, v1 or stale signature; 400
  /// for an unknown action, a body that is not an execution request, or an
  /// object type the action's mapping does not sync; 403 for a call from
  /// another portal than `portal_id` (when set); 503 when the state
  /// store or the run failed in a way HubSpot's retry can cure; else 200
  /// with {"outputFields": {...}}. Nothing is written before the signature
  /// is verified, nor anything read, written or stored for a refused call.
  webhook::Response handle(const webhook::Request& request);

 private:
  webhook::Response answer(const std::string& action, const Outputs& outputs, const char* how);
  webhook::Response refuse(const webhook::RequestHead& head, int status, const char* outcome,
                           const std::string& reason);
  std::string signed_uri(const webhook::RequestHead& head) const;

  EndpointOptions opt_;
  Executor& executor_;
  state::StateStore& store_;
  std::unique_ptr<ratelimit::SystemClock> own_clock_;
  ops::Family<ops::Counter>* requests_ = nullptr;
};

}  // namespace hubsync::actions
