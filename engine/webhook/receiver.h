#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine/ratelimit/clock.h"
#include "engine/state/state_store.h"
#include "engine/webhook/event_decoder.h"
#include "engine/webhook/http_types.h"

namespace spdlog {
class logger;
}

namespace hubsync::ops {
class Counter;
class Histogram;
class Registry;
}  // namespace hubsync::ops

namespace hubsync::webhook {

/// The secrets that may sign webhooks, asked for on every request (so a
/// rotated secret takes effect at once). Must be thread-safe and cheap; the
/// values are secrets: never log them.
using SecretProvider = std::function<std::vector<std::string>()>;

/// How a request to the webhook path ended: the `outcome` label of
/// `hubsync_webhook_requests_total`.
enum class Outcome {
  accepted,           ///< stored (or all duplicates), answered 200
  bad_signature,      ///< 401: missing, unknown-version or wrong signature
  stale,              ///< 401: a correct v3 signature outside the timestamp window
  malformed,          ///< 400: not a JSON array of events (or unparsable HTTP body)
  too_large,          ///< 413: body over max_body_bytes
  too_many_events,    ///< 400: more than max_events events
  method,             ///< 405: not POST
  inbox_unavailable,  ///< 503: the inbox could not be written; HubSpot retries
  unavailable,        ///< 503: the server is draining (stopping); HubSpot retries
  truncated,          ///< the peer closed before the whole body arrived (no answer)
  body_timeout,       ///< the body did not arrive within body_timeout (no answer)
};
const char* to_string(Outcome o);

struct ReceiverOptions {
  /// The URL HubSpot calls (e.g. https://sync.example.com/webhooks/hubspot),
  /// without a query. The signed URI is this plus the request's query
  /// string. Empty: `http://` + the Host header + the request target (only
  /// right when nothing rewrites the request between HubSpot and hubsync).
  std::string public_url;
  SecretProvider secrets;
  bool accept_v1_v2 = false;
  std::int64_t max_skew_ms = 300000;
  std::size_t max_events = 100;
  /// hubspot.portal_id: events of any other portal are dropped (counted,
  /// not stored, still answered 200); 0: events of every portal are stored.
  std::int64_t portal_id = 0;
  EventDecoder decoder;
  state::StateStore* store = nullptr;  ///< must outlive the receiver
  /// Wall time for the timestamp window; nullptr: the system clock. Must
  /// outlive the receiver.
  const ratelimit::Clock* clock = nullptr;
  std::shared_ptr<spdlog::logger> log;  ///< nullptr: the "webhook" logger
};

/// HubSpot's webhook endpoint, independent of the HTTP server: checks the
/// signature over the raw bytes, decodes, appends the events to the durable
/// inbox in one transaction and only then answers 200. Nothing from a
/// rejected request is stored; every rejection is counted once
/// (`hubsync_webhook_requests_total{outcome}`) and logged once, without the
/// body. Also counts `hubsync_webhook_events_received_total`,
/// `hubsync_webhook_events_stored_total{result=new|duplicate}`,
/// `hubsync_webhook_events_ignored_total`, `hubsync_webhook_events_own_total`
/// (hubsync's own writes, not stored), `hubsync_webhook_events_other_portal_total`
/// (events of another portal than `portal_id`, not stored) and the histogram
/// `hubsync_webhook_ack_latency_seconds` (header received to 200 ready).
/// Thread-safe.
class Receiver {
 public:
  /// Registers its metrics in `metrics` (which must outlive it). Throws
  /// std::invalid_argument when store or decoder or secrets is missing (a
  /// wiring bug).
  Receiver(ReceiverOptions options, ops::Registry& metrics);
  ~Receiver();
  Receiver(const Receiver&) = delete;
  Receiver& operator=(const Receiver&) = delete;

  /// Handles a complete POST: 200 once the events are durably in the inbox
  /// (duplicates included), 401 bad or stale signature, 400 malformed or
  /// too many events, 503 when the inbox cannot be written (nothing is
  /// acknowledged that is not stored).
  Response handle(const Request& request);
  /// Answers (and counts) a request that is refused before its body is
  /// read: `method` (405) or `unavailable` (503).
  Response refuse(const RequestHead& head, Outcome outcome);
  /// Counts and logs a request the server ended itself (too_large,
  /// truncated, body_timeout, malformed).
  void record(const RequestHead& head, Outcome outcome, const std::string& reason);

 private:
  Response reject(const RequestHead& head, std::size_t bytes, Outcome outcome, int status,
                  const std::string& reason);
  std::string signed_uri(const RequestHead& head) const;

  ReceiverOptions opt_;
  std::unique_ptr<ratelimit::SystemClock> own_clock_;
  std::vector<ops::Counter*> requests_;  // by Outcome
  ops::Counter* received_;
  ops::Counter* stored_new_;
  ops::Counter* stored_duplicate_;
  ops::Counter* ignored_;
  ops::Counter* own_;
  ops::Counter* other_portal_;
  ops::Histogram* ack_latency_;
};

}  // namespace hubsync::webhook
