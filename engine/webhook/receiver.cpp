#include "engine/webhook/receiver.h"

#include <stdexcept>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "engine/ops/logging.h"
#include "engine/ops/metrics.h"
#include "engine/webhook/signature.h"

namespace hubsync::webhook {

namespace {

constexpr Outcome kAllOutcomes[] = {
    Outcome::accepted,        Outcome::bad_signature,     Outcome::stale,
    Outcome::malformed,       Outcome::too_large,         Outcome::too_many_events,
    Outcome::method,          Outcome::inbox_unavailable, Outcome::unavailable,
    Outcome::truncated,       Outcome::body_timeout};

std::optional<std::string_view> header_view(const RequestHead& h, std::string_view name) {
  if (const auto* v = h.header(name)) return std::string_view(*v);
  return std::nullopt;
}

Response text(int status, std::string body) {
  Response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

}  // namespace

const char* to_string(Outcome o) {
  switch (o) {
    case Outcome::accepted: return "accepted";
    case Outcome::bad_signature: return "bad_signature";
    case Outcome::stale: return "stale";
    case Outcome::malformed: return "malformed";
    case Outcome::too_large: return "too_large";
    case Outcome::too_many_events: return "too_many_events";
    case Outcome::method: return "method";
    case Outcome::inbox_unavailable: return "inbox_unavailable";
    case Outcome::unavailable: return "unavailable";
    case Outcome::truncated: return "truncated";
    case Outcome::body_timeout: return "body_timeout";
  }
  return "unknown";
}

Receiver::Receiver(ReceiverOptions options, ops::Registry& metrics) : opt_(std::move(options)) {
  if (opt_.store == nullptr) throw std::invalid_argument("webhook receiver: no state store");
  if (!opt_.decoder) throw std::invalid_argument("webhook receiver: no event decoder");
  if (!opt_.secrets) throw std::invalid_argument("webhook receiver: no secret provider");
  if (opt_.clock == nullptr) {
    own_clock_ = std::make_unique<ratelimit::SystemClock>();
    opt_.clock = own_clock_.get();
  }
  if (!opt_.log) opt_.log = ops::logger("webhook");

  auto& req = metrics.counter("hubsync_webhook_requests_total",
                              "Requests to the webhook path, by outcome.", {"outcome"});
  for (auto o : kAllOutcomes) requests_.push_back(&req.with({to_string(o)}));
  received_ = &metrics
                   .counter("hubsync_webhook_events_received_total",
                            "Events in authenticated, well-formed webhook bodies.")
                   .get();
  auto& stored = metrics.counter("hubsync_webhook_events_stored_total",
                                 "Events appended to the inbox: new, or already there (HubSpot "
                                 "retried or repeated them).",
                                 {"result"});
  stored_new_ = &stored.with({"new"});
  stored_duplicate_ = &stored.with({"duplicate"});
  own_ = &metrics
              .counter("hubsync_webhook_events_own_total",
                       "Events of hubsync's own writes (acknowledged, not stored: its state has them).")
              .get();
  other_portal_ = &metrics
                       .counter("hubsync_webhook_events_other_portal_total",
                                "Events of another HubSpot portal than the one hubsync syncs (hubspot.portal_id, "
                                "or the token's; acknowledged, not stored).")
                       .get();
  ignored_ = &metrics
                  .counter("hubsync_webhook_events_ignored_total",
                           "Events of subscription types hubsync does not handle (acknowledged, "
                           "not stored).")
                  .get();
  ack_latency_ = &metrics
                      .histogram("hubsync_webhook_ack_latency_seconds",
                                 "From a webhook request's header to its 200 (events durably "
                                 "stored); HubSpot gives up after 5 s.",
                                 {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
                                  2.5, 5, 10})
                      .get();
}

Receiver::~Receiver() = default;

std::string Receiver::signed_uri(const RequestHead& head) const {
  if (!opt_.public_url.empty()) return opt_.public_url + head.query;
  const auto* host = head.header("host");
  return "http://" + (host != nullptr ? *host : std::string()) + head.target;
}

Response Receiver::reject(const RequestHead& head, std::size_t bytes, Outcome outcome, int status,
                          const std::string& reason) {
  requests_[static_cast<std::size_t>(outcome)]->inc();
  const auto level =
      outcome == Outcome::inbox_unavailable ? spdlog::level::err : spdlog::level::warn;
  opt_.log->log(level, "webhook rejected outcome={} status={} remote={} bytes={} reason={}",
                to_string(outcome), status, head.remote, bytes, reason);
  return text(status, std::string(to_string(outcome)) + "\n");
}

void Receiver::record(const RequestHead& head, Outcome outcome, const std::string& reason) {
  const int status = outcome == Outcome::too_large ? 413 : outcome == Outcome::malformed ? 400 : 0;
  (void)reject(head, head.content_length.value_or(0), outcome, status, reason);
}

Response Receiver::refuse(const RequestHead& head, Outcome outcome) {
  if (outcome == Outcome::method) {
    auto r = reject(head, head.content_length.value_or(0), outcome, 405,
                    "method " + head.method + " (only POST)");
    r.status = 405;
    r.headers.emplace_back("Allow", "POST");
    return r;
  }
  auto r = reject(head, head.content_length.value_or(0), outcome, 503, "server is stopping");
  r.headers.emplace_back("Retry-After", "5");
  return r;
}

Response Receiver::handle(const Request& request) {
  const auto& head = request.head;
  const std::size_t bytes = request.body.size();

  // 1. Authenticate the raw bytes before parsing anything.
  const std::string uri = signed_uri(head);
  SignedRequest sr;
  sr.method = head.method;
  sr.uri = uri;
  sr.body = request.body;
  sr.signature_v3 = header_view(head, "x-hubspot-signature-v3");
  sr.timestamp = header_view(head, "x-hubspot-request-timestamp");
  sr.signature = header_view(head, "x-hubspot-signature");
  sr.signature_version = header_view(head, "x-hubspot-signature-version");
  VerifyOptions vo;
  vo.secrets = opt_.secrets();
  vo.accept_v1_v2 = opt_.accept_v1_v2;
  vo.max_skew_ms = opt_.max_skew_ms;
  const Verification v = verify(sr, vo, opt_.clock->wall_ms());
  if (v.verdict == Verdict::stale) return reject(head, bytes, Outcome::stale, 401, v.reason);
  if (v.verdict != Verdict::valid) return reject(head, bytes, Outcome::bad_signature, 401, v.reason);

  // 2. Decode.
  auto decoded = opt_.decoder(request.body, opt_.portal_id);
  if (!decoded) return reject(head, bytes, Outcome::malformed, 400, decoded.error().message);
  if (decoded->total > opt_.max_events) {
    return reject(head, bytes, Outcome::too_many_events, 400,
                  fmt::format("{} events, at most {}", decoded->total, opt_.max_events));
  }

  // 3. Store durably, then acknowledge.
  std::size_t added = 0;
  if (!decoded->events.empty()) {
    auto r = opt_.store->append_inbox(decoded->events);
    if (!r) {
      if (r.error().kind == model::ErrorKind::invalid_record)
        return reject(head, bytes, Outcome::malformed, 400, r.error().message);
      return reject(head, bytes, Outcome::inbox_unavailable, 503, r.error().message);
    }
    added = *r;
  }
  const std::size_t duplicates = decoded->events.size() - added;
  received_->inc(decoded->total);
  stored_new_->inc(added);
  stored_duplicate_->inc(duplicates);
  ignored_->inc(decoded->ignored_types.size());
  own_->inc(decoded->own_writes);
  other_portal_->inc(decoded->other_portals.size());
  // Signed with the app's secret, which every portal that installed the app
  // shares: another portal's events are answered (HubSpot would retry them)
  // but never reach the inbox.
  if (!decoded->other_portals.empty())
    opt_.log->warn("webhook events of another portal dropped n={} portal={} expected_portal={} remote={}",
                   decoded->other_portals.size(), decoded->other_portals.front(), opt_.portal_id, head.remote);
  requests_[static_cast<std::size_t>(Outcome::accepted)]->inc();
  const double took =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - head.received_at).count();
  ack_latency_->observe(took);
  opt_.log->info(
      "webhook accepted signature={} events={} new={} duplicate={} own={} ignored={} other_portal={} took_ms={}",
      v.version, decoded->total, added, duplicates, decoded->own_writes, decoded->ignored_types.size(),
      decoded->other_portals.size(), static_cast<std::int64_t>(took * 1000));
  for (const auto& t : decoded->ignored_types)
    opt_.log->debug("webhook event ignored subscription_type={}", t);

  Response ok;
  ok.content_type = "application/json";
  ok.body = fmt::format("{{\"events\":{},\"new\":{}}}", decoded->total, added);
  return ok;
}

}  // namespace hubsync::webhook
