#include "engine/actions/endpoint.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "engine/ops/logging.h"
#include "engine/webhook/signature.h"

namespace hubsync::actions {

namespace {

std::optional<std::string_view> header_view(const webhook::RequestHead& head, std::string_view name) {
  const std::string* v = head.header(name);
  if (v == nullptr) return std::nullopt;
  return std::string_view(*v);
}

webhook::Response json(int status, std::string body) {
  webhook::Response r;
  r.status = status;
  r.content_type = "application/json";
  r.body = std::move(body);
  return r;
}

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') out += '\\', out += static_cast<char>(c);
    else if (c < 0x20) out += fmt::format("\\u{:04x}", c);
    else out += static_cast<char>(c);
  }
  return out + "\"";
}

}  // namespace

Endpoint::Endpoint(EndpointOptions options, Executor& executor, state::StateStore& store, ops::Registry& metrics)
    : opt_(std::move(options)), executor_(executor), store_(store) {
  if (opt_.clock == nullptr) {
    own_clock_ = std::make_unique<ratelimit::SystemClock>();
    opt_.clock = own_clock_.get();
  }
  if (!opt_.log) opt_.log = ops::logger("actions");
  requests_ = &metrics.counter("hubsync_action_requests_total",
                               "Workflow action requests, by action and outcome (answered, replayed, blocked, "
                               "forged, bad_request, other_portal, unavailable).",
                               {"action", "outcome"});
}

Endpoint::~Endpoint() = default;

std::string Endpoint::signed_uri(const webhook::RequestHead& head) const {
  if (!opt_.public_base.empty()) return opt_.public_base + head.target.substr(opt_.path.size());
  const auto* host = head.header("host");
  return "http://" + (host != nullptr ? *host : std::string()) + head.target;
}

webhook::Response Endpoint::refuse(const webhook::RequestHead& head, int status, const char* outcome,
                                   const std::string& reason) {
  const std::string name = head.path.substr(std::min(head.path.size(), opt_.path.size() + 1));
  requests_->with({executor_.find(name) ? name : std::string("unknown"), outcome}).inc();
  opt_.log->warn("action request refused status={} outcome={} remote={} reason={}", status, outcome, head.remote,
                 reason);
  auto r = json(status, "{\"status\":\"error\",\"message\":" + json_string(reason) + "}");
  if (status == 503) r.headers.emplace_back("Retry-After", "5");
  return r;
}

webhook::Response Endpoint::answer(const std::string& action, const Outputs& outputs, const char* how) {
  requests_->with({action, how}).inc();
  return json(200, opt_.encoder(outputs));
}

webhook::Response Endpoint::handle(const webhook::Request& request) {
  const auto& head = request.head;
  // 1. Authenticate the raw bytes before anything else. Actions are signed
  //    v2 (v3 where present); a v1 signature does not cover the URL.
  const std::string uri = signed_uri(head);
  webhook::SignedRequest sr{head.method, uri, request.body,
                            header_view(head, "x-hubspot-signature-v3"),
                            header_view(head, "x-hubspot-request-timestamp"),
                            header_view(head, "x-hubspot-signature"),
                            header_view(head, "x-hubspot-signature-version")};
  webhook::VerifyOptions vo{opt_.secrets ? opt_.secrets() : std::vector<std::string>{}, true, opt_.max_skew_ms};
  const auto v = webhook::verify(sr, vo, opt_.clock->wall_ms());
  if (v.verdict != webhook::Verdict::valid || v.version == "v1")
    return refuse(head, 401, "forged", v.verdict == webhook::Verdict::valid ? "v1 signature (actions need v2 or v3)" : v.reason);

  // 2. Which action, and a well-formed request for its object type.
  const std::string name = head.path.substr(opt_.path.size() + 1);
  const auto action = executor_.find(name);
  if (!action) return refuse(head, 400, "bad_request", "no action named '" + name + "' is declared");
  auto req = opt_.decoder(request.body);
  if (!req) return refuse(head, 400, "bad_request", req.error().message);
  if (opt_.portal_id != 0 && req->portal_id != opt_.portal_id)
    return refuse(head, 403, "other_portal",
                  fmt::format("the call is from portal {}, not portal {} that hubsync syncs", req->portal_id,
                              opt_.portal_id));
  const std::string want = object_type_of(action->mapping->object);
  if (req->object_type != want && req->object_type != action->mapping->object.object_type_id)
    return refuse(head, 400, "bad_request", "action " + name + " takes " + want + " records, not " + req->object_type);

  // 3. A retry of a finished execution gets the recorded answer.
  state::ActionExecution e;
  e.callback_id = req->callback_id;
  e.action = name;
  e.object_id = req->object_id;
  e.request_body = request.body;
  auto begun = store_.begin_action(e);
  if (!begun) return refuse(head, 503, "unavailable", "state store: " + begun.error().message);
  if (begun->first.done) return answer(name, begun->first.outputs, "replayed");

  // 4. Run it on the worker; wait a while, else answer BLOCK.
  auto pending = executor_.submit(*req, *action);
  const auto deadline = head.received_at + opt_.answer_within;
  // The caller is told what the log says: never HubSpot's own message.
  const auto failed = [&] {
    return refuse(head, 503, "unavailable", pending->error ? model::describe(*pending->error) : "the run failed");
  };
  if (pending->wait_until(deadline)) {
    std::lock_guard lock(pending->mu);
    if (pending->outputs) return answer(name, *pending->outputs, "answered");
    return failed();
  }
  {
    std::lock_guard lock(pending->mu);
    if (pending->finished && pending->outputs) return answer(name, *pending->outputs, "answered");
    if (pending->finished) return failed();
    pending->blocked = true;
  }
  if (auto b = store_.block_action(req->callback_id); !b)
    opt_.log->warn("action {} callback={}: BLOCK not recorded: {}", name, req->callback_id, b.error().message);
  opt_.log->info("action {} callback={} answered BLOCK: still running after {} ms", name, req->callback_id,
                 opt_.answer_within.count());
  return answer(name, {{kExecutionState, "BLOCK"}, {kExpiration, "P1D"}}, "blocked");
}

}  // namespace hubsync::actions
