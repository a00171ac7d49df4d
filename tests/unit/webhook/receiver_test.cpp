// The receiver's decisions without HTTP: a real SQLite inbox in a temp
// directory, HubSpot's real decoder, a fake clock for the timestamp window.
#include "engine/webhook/receiver.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <sstream>

#include "connectors/hubspot/webhook_codec.h"
#include "engine/ops/metrics.h"
#include "engine/ratelimit/fake_clock.h"
#include "engine/state/sqlite_state_store.h"
#include "engine/webhook/signature.h"
#include "tests/support/prom_text.h"
#include "tests/unit/state/state_test_util.h"

namespace hubsync::webhook {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kSecret = "receiver-test-secret";
constexpr const char* kPublicUrl = "https://sync.example.com/hs/events";

std::string events_body(int n, int first_id = 1, const char* extra = "") {
  std::string b = "[";
  for (int i = 0; i < n; ++i) {
    if (i) b += ",";
    b += R"({"eventId":)" + std::to_string(first_id + i) +
         R"(,"subscriptionId":5,"portalId":62515,"occurredAt":1700000000000,)"
         R"("subscriptionType":"contact.propertyChange","attemptNumber":0,"objectId":)" +
         std::to_string(1000000 + i) + R"(,"propertyName":"city","propertyValue":"Oslo)" + extra +
         R"(","changeSource":"CRM_UI","sourceId":"userId:9000"})";
  }
  return b + "]";
}

class ReceiverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = state::SqliteStateStore::open(state::testing::options_for(dir_.file("state.db"), &clock_));
    ASSERT_TRUE(s.ok()) << s.error().message;
    store_ = std::move(*s);
    log_ = std::make_shared<spdlog::logger>(
        "webhook-test", std::make_shared<spdlog::sinks::ostream_sink_mt>(log_text_));
    receiver_ = make(store_.get());
  }

  std::unique_ptr<Receiver> make(state::StateStore* store, std::string public_url = kPublicUrl,
                                 std::int64_t portal_id = 0) {
    ReceiverOptions o;
    o.portal_id = portal_id;
    o.public_url = std::move(public_url);
    o.secrets = [] { return std::vector<std::string>{kSecret}; };
    o.decoder = hubspot::decode_webhook_events;
    o.store = store;
    o.clock = &clock_;
    o.log = log_;
    return std::make_unique<Receiver>(std::move(o), metrics_);
  }

  Request signed_request(const std::string& body, std::int64_t ts, const std::string& target,
                         const std::string& signed_uri) {
    Request r;
    r.head.method = "POST";
    r.head.target = target;
    const auto q = target.find('?');
    r.head.path = target.substr(0, q);
    if (q != std::string::npos) r.head.query = target.substr(q);
    r.head.headers = {{"host", "127.0.0.1:8080"},
                      {"content-type", "application/json"},
                      {"x-hubspot-signature-v3", sign_v3(kSecret, "POST", signed_uri, body, std::to_string(ts))},
                      {"x-hubspot-request-timestamp", std::to_string(ts)}};
    r.head.content_length = body.size();
    r.head.remote = "127.0.0.1:5555";
    r.head.received_at = std::chrono::steady_clock::now();
    r.body = body;
    return r;
  }

  Request request(const std::string& body, std::int64_t skew_ms = 0) {
    return signed_request(body, clock_.wall_ms() - skew_ms, "/webhooks/hubspot", kPublicUrl);
  }

  std::size_t inbox() { return *store_->count_inbox_pending(); }
  double metric(const std::string& name, const std::map<std::string, std::string>& labels = {}) {
    auto parsed = test::parse_prometheus_text(metrics_.render());
    EXPECT_TRUE(parsed.ok()) << parsed.error;
    return parsed.value(name, labels).value_or(-1);
  }
  double outcome(const char* o) { return metric("hubsync_webhook_requests_total", {{"outcome", o}}); }

  state::testing::TempDir dir_;
  ratelimit::FakeClock clock_;
  std::unique_ptr<state::SqliteStateStore> store_;
  std::ostringstream log_text_;
  std::shared_ptr<spdlog::logger> log_;
  ops::Registry metrics_;
  std::unique_ptr<Receiver> receiver_;
};

TEST_F(ReceiverTest, StoresThenAcknowledgesAndDeduplicates) {
  auto resp = receiver_->handle(request(events_body(3)));
  EXPECT_EQ(resp.status, 200);
  EXPECT_EQ(resp.body, R"({"events":3,"new":3})");
  EXPECT_EQ(inbox(), 3u);
  auto again = receiver_->handle(request(events_body(3)));
  EXPECT_EQ(again.status, 200);
  EXPECT_EQ(again.body, R"({"events":3,"new":0})");
  EXPECT_EQ(inbox(), 3u);

  auto claimed = store_->claim_inbox(10, clock_.wall_ms(), 1000);
  ASSERT_TRUE(claimed.ok());
  ASSERT_EQ(claimed->size(), 3u);
  const auto& e = claimed->front();
  EXPECT_EQ(e.object_type, "contacts");
  EXPECT_EQ(e.subscription_type, "contact.propertyChange");
  EXPECT_EQ(e.property_name, "city");
  EXPECT_EQ(e.received_at_ms, clock_.wall_ms());

  EXPECT_EQ(outcome("accepted"), 2);
  EXPECT_EQ(metric("hubsync_webhook_events_received_total"), 6);
  EXPECT_EQ(metric("hubsync_webhook_events_stored_total", {{"result", "new"}}), 3);
  EXPECT_EQ(metric("hubsync_webhook_events_stored_total", {{"result", "duplicate"}}), 3);
  EXPECT_EQ(metric("hubsync_webhook_ack_latency_seconds_count"), 2);
}

TEST_F(ReceiverTest, TimestampWindowOnTheFakeClock) {
  EXPECT_EQ(receiver_->handle(request(events_body(1, 1), 300000)).status, 200);
  EXPECT_EQ(receiver_->handle(request(events_body(1, 2), -300000)).status, 200);
  auto old = receiver_->handle(request(events_body(1, 3), 300001));
  EXPECT_EQ(old.status, 401);
  EXPECT_EQ(receiver_->handle(request(events_body(1, 4), -300001)).status, 401);
  EXPECT_EQ(inbox(), 2u);
  EXPECT_EQ(outcome("stale"), 2);
  // The same request, once fresh, then replayed after the window.
  auto fresh = request(events_body(1, 5));
  EXPECT_EQ(receiver_->handle(fresh).status, 200);
  clock_.advance(std::chrono::milliseconds(300001));
  EXPECT_EQ(receiver_->handle(fresh).status, 401);
  EXPECT_EQ(outcome("stale"), 3);
}

TEST_F(ReceiverTest, SignedUriIsThePublicUrlPlusTheRequestsQuery) {
  const std::string body = events_body(1);
  const auto ts = clock_.wall_ms();
  // Behind a proxy that rewrote /hs/events?portal=1 to /webhooks/hubspot?portal=1.
  EXPECT_EQ(receiver_->handle(signed_request(body, ts, "/webhooks/hubspot?portal=1",
                                             std::string(kPublicUrl) + "?portal=1"))
                .status,
            200);
  // Signed over what hubsync saw locally: not what HubSpot called.
  EXPECT_EQ(receiver_->handle(signed_request(body, ts, "/webhooks/hubspot?portal=1",
                                             "http://127.0.0.1:8080/webhooks/hubspot?portal=1"))
                .status,
            401);
  // The query is part of what is signed.
  EXPECT_EQ(receiver_->handle(signed_request(body, ts, "/webhooks/hubspot?portal=2",
                                             std::string(kPublicUrl) + "?portal=1"))
                .status,
            401);
  // Without public_url: http://<Host><target>.
  auto local = make(store_.get(), "");
  EXPECT_EQ(local->handle(signed_request(events_body(1, 9), ts, "/webhooks/hubspot?a=b",
                                         "http://127.0.0.1:8080/webhooks/hubspot?a=b"))
                .status,
            200);
  EXPECT_EQ(inbox(), 2u);
}

TEST_F(ReceiverTest, RejectionsStoreNothingAndAreLoggedOnceWithoutTheBody) {
  // Forged: signed with another secret.
  auto forged = request(events_body(2, 1, "BODYMARKER"));
  forged.head.headers[2].second = sign_v3("not-the-secret", "POST", kPublicUrl, forged.body,
                                          forged.head.headers[3].second);
  EXPECT_EQ(receiver_->handle(forged).status, 401);
  // Unsigned.
  auto unsigned_req = request(events_body(1));
  unsigned_req.head.headers.resize(2);
  EXPECT_EQ(receiver_->handle(unsigned_req).status, 401);
  // Signed but not JSON / not events.
  EXPECT_EQ(receiver_->handle(request("BODYMARKER not json")).status, 400);
  EXPECT_EQ(receiver_->handle(request(R"({"BODYMARKER":1})")).status, 400);
  // Too many events: 101 refused, 100 accepted.
  EXPECT_EQ(receiver_->handle(request(events_body(101, 1, "BODYMARKER"))).status, 400);
  EXPECT_EQ(inbox(), 0u);
  EXPECT_EQ(receiver_->handle(request(events_body(100, 1000))).status, 200);
  EXPECT_EQ(inbox(), 100u);

  EXPECT_EQ(outcome("bad_signature"), 2);
  EXPECT_EQ(outcome("malformed"), 2);
  EXPECT_EQ(outcome("too_many_events"), 1);
  log_->flush();
  const std::string logs = log_text_.str();
  EXPECT_THAT(logs, Not(HasSubstr("BODYMARKER")));
  EXPECT_THAT(logs, Not(HasSubstr(kSecret)));
  std::size_t rejected = 0;
  for (std::size_t p = logs.find("webhook rejected"); p != std::string::npos;
       p = logs.find("webhook rejected", p + 1))
    ++rejected;
  EXPECT_EQ(rejected, 5u) << logs;
}

TEST_F(ReceiverTest, ReadOnlyInboxAnswers503AndAcknowledgesNothing) {
  store_.reset();
  auto o = state::testing::options_for(dir_.file("state.db"), &clock_);
  o.read_only = true;
  auto ro = state::SqliteStateStore::open(o);
  ASSERT_TRUE(ro.ok()) << ro.error().message;
  auto receiver = make(ro->get());
  auto resp = receiver->handle(request(events_body(2)));
  EXPECT_EQ(resp.status, 503);
  EXPECT_EQ(*(*ro)->count_inbox_pending(), 0u);
  EXPECT_EQ(outcome("inbox_unavailable"), 1);
  EXPECT_EQ(outcome("accepted"), 0);
  EXPECT_EQ(metric("hubsync_webhook_events_stored_total", {{"result", "new"}}), 0);
}

TEST_F(ReceiverTest, UnhandledTypesAreAcknowledgedAndCounted) {
  const std::string body =
      R"([{"eventId":1,"subscriptionId":1,"occurredAt":5,"subscriptionType":"conversation.creation","objectId":1},)"
      R"({"eventId":2,"subscriptionId":1,"occurredAt":5,"subscriptionType":"company.creation","objectId":2}])";
  EXPECT_EQ(receiver_->handle(request(body)).status, 200);
  EXPECT_EQ(inbox(), 1u);
  EXPECT_EQ(metric("hubsync_webhook_events_ignored_total"), 1);
  EXPECT_EQ(metric("hubsync_webhook_events_received_total"), 2);
}

TEST_F(ReceiverTest, EventsOfAnotherPortalAreAcknowledgedCountedAndNotStored) {
  auto ours = make(store_.get(), kPublicUrl, 62515);
  std::string theirs = events_body(1, 2);
  theirs.replace(theirs.find("62515"), 5, "77777");
  const std::string body = events_body(1, 1).substr(0, events_body(1, 1).size() - 1) + "," + theirs.substr(1);
  const auto resp = ours->handle(request(body));
  EXPECT_EQ(resp.status, 200) << "HubSpot retries anything else";
  EXPECT_EQ(resp.body, R"({"events":2,"new":1})");
  auto claimed = store_->claim_inbox(10, clock_.wall_ms(), 1000);
  ASSERT_TRUE(claimed.ok());
  ASSERT_EQ(claimed->size(), 1u);
  EXPECT_EQ(claimed->front().event_id, "1");
  EXPECT_EQ(metric("hubsync_webhook_events_other_portal_total"), 1);
  EXPECT_EQ(metric("hubsync_webhook_events_stored_total", {{"result", "new"}}), 1);
  EXPECT_THAT(log_text_.str(), HasSubstr("portal=77777 expected_portal=62515"));
}

TEST_F(ReceiverTest, RefusalsAreCounted) {
  RequestHead head;
  head.method = "GET";
  head.path = "/webhooks/hubspot";
  auto r = receiver_->refuse(head, Outcome::method);
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(receiver_->refuse(head, Outcome::unavailable).status, 503);
  EXPECT_EQ(outcome("method"), 1);
  EXPECT_EQ(outcome("unavailable"), 1);
}

}  // namespace
}  // namespace hubsync::webhook
