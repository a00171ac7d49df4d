// The real webhook server over real sockets and a real SQLite inbox: what is
// accepted lands in the inbox before the 200, what is rejected stores
// nothing and is counted once, the service endpoints answer.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

#include "engine/config/config.h"
#include "engine/webhook/signature.h"
#include "tests/integration/webhook/webhook_harness.h"

namespace hubsync::webhook::test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST_F(ServerTest, SignedBatchIsInTheInboxBeforeThe200AndRedeliveryIsStoredOnce) {
  start(options());
  const std::string body = events_body(8);
  const Reply r = post_signed(body, now_ms());
  ASSERT_EQ(r.status, 200) << r.head << r.body;
  EXPECT_EQ(r.body, R"({"events":8,"new":8})");
  // The answer came after the commit: the events are there now.
  EXPECT_EQ(inbox(), 8u);

  // HubSpot redelivers (a lost answer): same events, new timestamp.
  const Reply again = post_signed(body, now_ms());
  EXPECT_EQ(again.status, 200);
  EXPECT_EQ(again.body, R"({"events":8,"new":0})");
  EXPECT_EQ(inbox(), 8u);

  auto claimed = store_->claim_inbox(100, now_ms(), 60000);
  ASSERT_TRUE(claimed.ok()) << claimed.error().message;
  ASSERT_EQ(claimed->size(), 8u);
  std::set<std::string> types, object_types;
  for (const auto& e : *claimed) {
    types.insert(e.subscription_type);
    object_types.insert(e.object_type);
  }
  EXPECT_EQ(types, (std::set<std::string>{"contact.creation", "company.propertyChange", "deal.deletion",
                                          "ticket.merge", "contact.restore", "object.associationChange",
                                          "contact.privacyDeletion", "object.creation"}));
  EXPECT_EQ(object_types, (std::set<std::string>{"contacts", "companies", "deals", "tickets", "2-4711"}));

  const auto m = scrape();
  EXPECT_EQ(m.value("hubsync_webhook_requests_total", {{"outcome", "accepted"}}), 2);
  EXPECT_EQ(m.value("hubsync_webhook_events_stored_total", {{"result", "new"}}), 8);
  EXPECT_EQ(m.value("hubsync_webhook_events_stored_total", {{"result", "duplicate"}}), 8);
}

TEST_F(ServerTest, EveryRejectionStoresNothingAndIsCountedAndLoggedOnce) {
  start(options());
  const std::string body = events_body(3);
  const std::string marker_body = events_body(2, 40) + " ";  // signed, but not what is sent
  auto forged = v3_headers(body, now_ms());
  forged[0].second = sign_v3("another-secret", "POST", kPublicUrl, body, forged[1].second);
  EXPECT_EQ(roundtrip(port_, raw_request("POST", kPath, body, forged)).status, 401);
  // Tampered: signed over other bytes.
  EXPECT_EQ(roundtrip(port_, raw_request("POST", kPath, body, v3_headers(marker_body, now_ms()))).status, 401);
  // Signed for the local address, not the public URL HubSpot calls.
  auto local = v3_headers(body, now_ms());
  local[0].second = sign_v3(kSecret, "POST", "http://127.0.0.1/webhooks/hubspot", body, local[1].second);
  EXPECT_EQ(roundtrip(port_, raw_request("POST", kPath, body, local)).status, 401);
  EXPECT_EQ(post_signed(body, now_ms() - 301000).status, 401);  // stale
  EXPECT_EQ(post_signed(body, now_ms() + 301000).status, 401);  // from the future
  // v1 and v2, correctly signed, refused: only v3 is configured.
  const std::string uri = kPublicUrl;
  EXPECT_EQ(roundtrip(port_, raw_request("POST", kPath, body,
                                        {{"X-HubSpot-Signature", sign_v1(kSecret, body)},
                                         {"X-HubSpot-Signature-Version", "v1"}}))
                .status,
            401);
  EXPECT_EQ(roundtrip(port_, raw_request("POST", kPath, body,
                                        {{"X-HubSpot-Signature", sign_v2(kSecret, "POST", uri, body)},
                                         {"X-HubSpot-Signature-Version", "v2"}}))
                .status,
            401);
  EXPECT_EQ(roundtrip(port_, raw_request("POST", kPath, body)).status, 401);  // unsigned
  EXPECT_EQ(post_signed("[{\"eventId\":1,", now_ms()).status, 400);           // malformed
  EXPECT_EQ(post_signed(events_body(101), now_ms()).status, 400);             // too many events
  const Reply method = get(kPath);
  EXPECT_EQ(method.status, 405);
  EXPECT_TRUE(method.has_header("Allow: POST")) << method.head;
  EXPECT_EQ(inbox(), 0u);

  const auto m = scrape();
  auto n = [&](const char* o) { return m.value("hubsync_webhook_requests_total", {{"outcome", o}}); };
  EXPECT_EQ(n("bad_signature"), 6);
  EXPECT_EQ(n("stale"), 2);
  EXPECT_EQ(n("malformed"), 1);
  EXPECT_EQ(n("too_many_events"), 1);
  EXPECT_EQ(n("method"), 1);
  EXPECT_EQ(n("accepted"), 0);
  const std::string logs = sink_->text();
  std::size_t lines = 0;
  for (auto p = logs.find("webhook rejected"); p != std::string::npos; p = logs.find("webhook rejected", p + 1))
    ++lines;
  EXPECT_EQ(lines, 11u) << logs;
  EXPECT_THAT(logs, Not(HasSubstr("\"eventId\""))) << "no body in the log";
}

TEST_F(ServerTest, V1AndV2OnlyWhenConfigured) {
  auto o = options();
  o.accept_v1_v2 = true;
  start(std::move(o));
  const std::string b1 = events_body(1, 1), b2 = events_body(1, 2);
  EXPECT_EQ(roundtrip(port_, raw_request("POST", kPath, b1,
                                        {{"X-HubSpot-Signature", sign_v1(kSecret, b1)},
                                         {"X-HubSpot-Signature-Version", "v1"}}))
                .status,
            200);
  // v2 signs the public URL plus the request's query.
  const std::string target = std::string(kPath) + "?portal=62515";
  const std::string uri = std::string(kPublicUrl) + "?portal=62515";
  EXPECT_EQ(roundtrip(port_, raw_request("POST", target, b2,
                                        {{"X-HubSpot-Signature", sign_v2(kSecret, "POST", uri, b2)},
                                         {"X-HubSpot-Signature-Version", "v2"}}))
                .status,
            200);
  EXPECT_EQ(roundtrip(port_, raw_request("POST", kPath, b2,
                                        {{"X-HubSpot-Signature", sign_v1(kSecret, b1)},
                                         {"X-HubSpot-Signature-Version", "v1"}}))
                .status,
            401);
  EXPECT_EQ(inbox(), 2u);
}

// Another connection holds SQLite's write lock (a backup, an operator's
// sqlite3 shell) past the store's busy timeout: the inbox cannot be written.
TEST_F(ServerTest, UnwritableInboxAnswers503AndHubSpotsRetryThenLands) {
  start(options());
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(dir_.file("state.db").c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  const std::string body = events_body(4);
  const Reply r = post_signed(body, now_ms());
  EXPECT_EQ(r.status, 503) << r.head << r.body;
  ASSERT_EQ(sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(other);
  EXPECT_EQ(inbox(), 0u);
  EXPECT_EQ(outcome("inbox_unavailable"), 1);

  EXPECT_EQ(post_signed(body, now_ms()).status, 200);  // HubSpot's retry
  EXPECT_EQ(inbox(), 4u);
}

TEST_F(ServerTest, ServiceEndpointsReadinessAndDrain) {
  auto o = options();
  std::atomic<bool> ready{false};
  o.readiness = [&] { return Readiness{ready.load(), ready.load() ? "" : "postgres: not connected"}; };
  start(std::move(o));
  EXPECT_EQ(get("/healthz").status, 200);
  const Reply not_ready = get("/readyz");
  EXPECT_EQ(not_ready.status, 503);
  EXPECT_THAT(not_ready.body, HasSubstr("postgres: not connected"));
  ready = true;
  EXPECT_EQ(get("/readyz").status, 200);
  EXPECT_EQ(get("/nope").status, 404);
  EXPECT_EQ(roundtrip(port_, raw_request("POST", "/metrics", "")).status, 405);

  server_->begin_drain();
  EXPECT_EQ(get("/readyz").status, 503);
  EXPECT_EQ(get("/healthz").status, 200);
  const Reply drained = post_signed(events_body(1), now_ms());
  EXPECT_EQ(drained.status, 503);
  EXPECT_TRUE(drained.has_header("Retry-After")) << drained.head;
  EXPECT_EQ(inbox(), 0u);
  EXPECT_EQ(outcome("unavailable"), 1);
}

// Workflow actions may wait seconds for their answer. However many wait at
// once, webhooks, health checks and metrics are answered meanwhile: the
// actions wait on threads of their own, not on the io threads.
TEST_F(ServerTest, ActionsWaitingForTheirAnswerDelayNoOtherRequest) {
  std::mutex mu;
  std::condition_variable cv;
  int waiting = 0;
  bool release = false;
  auto o = options();
  o.actions_path = "/hubspot/actions";
  o.actions = [&](const Request&) {
    std::unique_lock lock(mu);
    ++waiting;
    cv.notify_all();
    cv.wait_for(lock, std::chrono::seconds(20), [&] { return release; });
    Response r;
    r.content_type = "application/json";
    r.body = R"({"outputFields":{"hs_execution_state":"SUCCESS"}})";
    return r;
  };
  start(std::move(o));
  constexpr int kActions = 6;  // more than the io threads
  std::vector<Reply> answers(kActions);
  std::vector<std::thread> callers;
  for (int i = 0; i < kActions; ++i)
    callers.emplace_back([&, i] { answers[i] = roundtrip(port_, raw_request("POST", "/hubspot/actions/a", "{}")); });
  {
    std::unique_lock lock(mu);
    EXPECT_TRUE(cv.wait_for(lock, std::chrono::seconds(5), [&] { return waiting == kActions; }))
        << waiting << " of " << kActions << " actions reached their handler at once";
  }
  EXPECT_EQ(get("/healthz").status, 200);
  EXPECT_EQ(get("/readyz").status, 200);
  EXPECT_EQ(post_signed(events_body(2), now_ms()).status, 200);
  EXPECT_EQ(inbox(), 2u);
  EXPECT_GE(scrape().value("hubsync_http_connections_open").value_or(0), kActions);  // and the scrape's own
  {
    std::lock_guard lock(mu);
    release = true;
  }
  cv.notify_all();
  for (auto& t : callers) t.join();
  for (const auto& a : answers) {
    EXPECT_EQ(a.status, 200);
    EXPECT_THAT(a.body, HasSubstr("SUCCESS"));
  }
}

// The health page shows record keys and dead letters' reasons: served on a
// loopback listener, or behind basic auth; never to whoever reaches a
// public port without credentials.
TEST_F(ServerTest, TheHealthPageIsLoopbackOnlyOrBehindBasicAuth) {
  auto o = options();
  EXPECT_EQ((start(options()), get("/").status), 404);  // no page configured
  o.page = [] { return std::string("<!doctype html><p>figures</p>"); };
  start(std::move(o));
  const Reply page = get("/");
  EXPECT_EQ(page.status, 200);
  EXPECT_THAT(page.head, HasSubstr("text/html; charset=utf-8"));
  EXPECT_THAT(page.head, HasSubstr("Content-Security-Policy: default-src 'none'"));
  EXPECT_THAT(page.head, HasSubstr("Cache-Control: no-store"));
  EXPECT_EQ(page.body, "<!doctype html><p>figures</p>");
  EXPECT_EQ(roundtrip(port_, raw_request("POST", "/", "")).status, 405);

  // Every interface, no credentials: refused, naming the setting.
  auto open = options();
  open.listen = "0.0.0.0:0";
  open.page = [] { return std::string("<p>secret-ish</p>"); };
  start(std::move(open));
  const Reply refused = get("/");
  EXPECT_EQ(refused.status, 403);
  EXPECT_THAT(refused.body, HasSubstr("serve.health_auth"));
  EXPECT_THAT(refused.body, Not(HasSubstr("secret-ish")));

  // With credentials: 401 and a challenge without them or with wrong ones.
  auto authed = options();
  authed.listen = "0.0.0.0:0";
  authed.page = [] { return std::string("<p>figures</p>"); };
  authed.page_auth = "ops:s3cret-pass";
  start(std::move(authed));
  const Reply challenge = get("/");
  EXPECT_EQ(challenge.status, 401);
  EXPECT_TRUE(challenge.has_header("WWW-Authenticate: Basic realm=\"hubsync\"")) << challenge.head;
  auto with = [&](const std::string& user_pass) {
    return roundtrip(port_, raw_request("GET", "/", "", {{"Authorization", "Basic " + base64(user_pass)}}));
  };
  EXPECT_EQ(with("ops:wrong").status, 401);
  const Reply ok = with("ops:s3cret-pass");
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.body, "<p>figures</p>");
  EXPECT_THAT(sink_->text(), Not(HasSubstr("s3cret-pass")));
}

TEST_F(ServerTest, ConfigSecretsNeverReachMetricsOrLogs) {
  config::Config c;
  c.webhook.listen = "127.0.0.1:0";
  c.webhook.public_url = kPublicUrl;
  c.webhook.client_secret = {kSecret, "env HUBSPOT_CLIENT_SECRET"};
  c.hubspot.token = {"pat-na1-token-never-logged", "config file"};
  c.webhook.header_timeout_ms = 300;
  c.webhook.body_timeout_ms = 300;
  auto o = options_from_config(c);
  ASSERT_TRUE(o.secrets);
  EXPECT_EQ(o.secrets(), std::vector<std::string>{kSecret});
  o.decoder = options().decoder;
  o.store = store_.get();
  o.logger = log_;
  start(std::move(o));
  EXPECT_EQ(post_signed(events_body(2), now_ms()).status, 200);
  auto forged = v3_headers(events_body(1), now_ms());
  forged[0].second = std::string(kSecret);  // a client sending the secret itself
  EXPECT_EQ(roundtrip(port_, raw_request("POST", kPath, events_body(1), forged)).status, 401);
  EXPECT_EQ(post_signed("not json", now_ms()).status, 400);
  const Reply metrics = get("/metrics");
  EXPECT_THAT(metrics.body, Not(HasSubstr(kSecret)));
  EXPECT_THAT(metrics.body, Not(HasSubstr("pat-na1")));
  server_->stop();
  const std::string logs = sink_->text();
  EXPECT_THAT(logs, HasSubstr("webhook server listening"));
  EXPECT_THAT(logs, Not(HasSubstr(kSecret)));
  EXPECT_THAT(logs, Not(HasSubstr("pat-na1")));
}

TEST_F(ServerTest, CreateRefusesBadOptionsNamingEachProblem) {
  auto o = options();
  o.path = "hooks";
  o.public_url = "https://x.example.com/h?a=b";
  o.secrets = nullptr;
  o.listen = "nowhere";
  auto s = Server::create(std::move(o));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().kind, model::ErrorKind::fatal);
  for (const char* what : {"listen", "path", "public_url", "secret"})
    EXPECT_THAT(s.error().message, HasSubstr(what));
}

}  // namespace
}  // namespace hubsync::webhook::test
