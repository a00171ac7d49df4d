// Auth, OAuth, rate limits, faults and the /_sim/ admin API over real HTTP.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>

#include "tests/hubspot-sim/test/sim_fixture.h"

namespace hubsync::sim::test {
namespace {

class SimPlatform : public SimTest {};

TEST_F(SimPlatform, RateLimitHeadersAnd429Body) {
  sim_->set_tier(100);
  Response last;
  for (int i = 0; i < 100; ++i) {
    last = client_->get("/crm/v3/objects/contacts?limit=1");
    ASSERT_EQ(last.status, 200) << i;
  }
  EXPECT_EQ(last.header("x-hubspot-ratelimit-max"), "100");
  EXPECT_EQ(last.header("x-hubspot-ratelimit-remaining"), "0");
  EXPECT_EQ(last.header("x-hubspot-ratelimit-interval-milliseconds"), "10000");
  EXPECT_EQ(last.header("x-hubspot-ratelimit-daily"), "1000000");
  EXPECT_EQ(last.header("x-hubspot-ratelimit-daily-remaining"), "999900");
  auto r = client_->get("/crm/v3/objects/contacts?limit=1");
  ASSERT_EQ(r.status, 429);
  auto j = r.json();
  EXPECT_STREQ(j["status"].GetString(), "error");
  EXPECT_STREQ(j["message"].GetString(), "You have reached your ten_secondly_rolling limit.");
  EXPECT_STREQ(j["errorType"].GetString(), "RATE_LIMIT");
  EXPECT_STREQ(j["policyName"].GetString(), "TEN_SECONDLY_ROLLING");
  EXPECT_TRUE(j.HasMember("correlationId"));
  EXPECT_FALSE(r.has_header("retry-after")) << "HubSpot documents no Retry-After";
  EXPECT_EQ(sim_->counters().rate_limited, 1);
  advance(10000);
  EXPECT_EQ(client_->get("/crm/v3/objects/contacts?limit=1").status, 200) << "the window rolled";
}

// Every HubSpot answer carries a Date header (RFC 9110 IMF-fixdate) from the
// portal's clock: hubsync learns from it how far HubSpot's clock is from its own.
TEST_F(SimPlatform, EveryAnswerCarriesADateHeaderFromThePortalsClock) {
  EXPECT_EQ(client_->get("/crm/v3/objects/contacts?limit=1").header("date"), "Tue, 14 Nov 2023 22:13:20 GMT");
  advance(20 * 86'400'000LL + 999);
  EXPECT_EQ(client_->get("/crm/v3/objects/contacts/123").header("date"), "Mon, 04 Dec 2023 22:13:20 GMT");  // a 404
  advance(28 * 86'400'000LL + 3'600'000 + 1);
  sim_->set_tier(1);
  client_->get("/crm/v3/objects/contacts?limit=1");
  auto limited = client_->get("/crm/v3/objects/contacts?limit=1");
  ASSERT_EQ(limited.status, 429);
  EXPECT_EQ(limited.header("date"), "Mon, 01 Jan 2024 23:13:21 GMT");
}

TEST_F(SimPlatform, RetryAfterKnob) {
  SimulatorOptions o;
  o.retry_after = true;
  o.tier = 100;
  start(o);
  for (int i = 0; i < 100; ++i) ASSERT_EQ(client_->get("/crm/v3/objects/contacts").status, 200);
  advance(2500);
  auto r = client_->get("/crm/v3/objects/contacts");
  ASSERT_EQ(r.status, 429);
  EXPECT_EQ(r.header("retry-after"), "8");
}

TEST_F(SimPlatform, SearchIsLimitedToFivePerSecond) {
  for (int i = 0; i < 5; ++i) ASSERT_EQ(client_->post("/crm/v3/objects/contacts/search", "{}").status, 200);
  auto r = client_->post("/crm/v3/objects/contacts/search", "{}");
  ASSERT_EQ(r.status, 429);
  EXPECT_STREQ(r.json()["policyName"].GetString(), "SECONDLY");
  EXPECT_FALSE(r.has_header("x-hubspot-ratelimit-max"));
  EXPECT_EQ(client_->get("/crm/v3/objects/contacts").status, 200) << "other routes are unaffected";
  advance(1000);
  EXPECT_EQ(client_->post("/crm/v3/objects/contacts/search", "{}").status, 200);
}

TEST_F(SimPlatform, UnknownOrMissingTokenIs401) {
  Client anon(sim_->base_url(), "");
  auto r = anon.get("/crm/v3/objects/contacts");
  EXPECT_EQ(r.status, 401);
  EXPECT_STREQ(r.json()["category"].GetString(), "INVALID_AUTHENTICATION");
  Client wrong(sim_->base_url(), "pat-nope");
  EXPECT_EQ(wrong.get("/crm/v3/objects/contacts").status, 401);
}

TEST_F(SimPlatform, OAuthCodeFlowRefreshRotationAndExpiry) {
  auto auth = client_->get("/oauth/authorize?client_id=sim-client-id&scope=crm.objects.contacts.read&redirect_uri=http%3A%2F%2Flocalhost%2Fcb&state=xyz");
  ASSERT_EQ(auth.status, 302);
  std::string loc = auth.header("location");
  ASSERT_EQ(loc.rfind("http://localhost/cb?code=", 0), 0u) << loc;
  EXPECT_NE(loc.find("&state=xyz"), std::string::npos);
  std::string code = loc.substr(loc.find("code=") + 5, loc.find('&') - loc.find("code=") - 5);
  std::string creds = "client_id=sim-client-id&client_secret=sim-client-secret&redirect_uri=http%3A%2F%2Flocalhost%2Fcb";
  auto tok = client_->post_form("/oauth/v1/token", "grant_type=authorization_code&" + creds + "&code=" + code);
  ASSERT_EQ(tok.status, 200) << tok.body;
  auto tj = tok.json();
  EXPECT_EQ(tj["expires_in"].GetInt(), 1800);
  std::string access = tj["access_token"].GetString(), refresh = tj["refresh_token"].GetString();
  EXPECT_EQ(client_->post_form("/oauth/v1/token", "grant_type=authorization_code&" + creds + "&code=" + code).status, 400)
      << "a code is single-use";

  Client oauth(sim_->base_url(), access);
  auto ok = oauth.get("/crm/v3/objects/contacts");
  ASSERT_EQ(ok.status, 200);
  EXPECT_TRUE(ok.has_header("x-hubspot-ratelimit-max"));
  EXPECT_FALSE(ok.has_header("x-hubspot-ratelimit-daily")) << "no daily pair for OAuth calls";

  advance(1800 * 1000);
  auto expired = oauth.get("/crm/v3/objects/contacts");
  ASSERT_EQ(expired.status, 401);
  EXPECT_STREQ(expired.json()["category"].GetString(), "EXPIRED_AUTHENTICATION");

  auto ref = client_->post_form("/oauth/v1/token", "grant_type=refresh_token&" + creds + "&refresh_token=" + refresh);
  ASSERT_EQ(ref.status, 200) << ref.body;
  std::string refresh2 = ref.json()["refresh_token"].GetString();
  EXPECT_NE(refresh2, refresh) << "refresh tokens rotate";
  auto reused = client_->post_form("/oauth/v1/token", "grant_type=refresh_token&" + creds + "&refresh_token=" + refresh);
  EXPECT_EQ(reused.status, 400);
  EXPECT_STREQ(reused.json()["status"].GetString(), "BAD_REFRESH_TOKEN");
  oauth.set_token(ref.json()["access_token"].GetString());
  EXPECT_EQ(oauth.get("/crm/v3/objects/contacts").status, 200);
  sim_->expire_oauth_tokens();
  EXPECT_EQ(oauth.get("/crm/v3/objects/contacts").status, 401);
  auto bad_secret = client_->post_form("/oauth/v1/token", "grant_type=refresh_token&client_id=sim-client-id&client_secret=x&refresh_token=" + refresh2);
  EXPECT_EQ(bad_secret.status, 400);
}

TEST_F(SimPlatform, FaultsInjectErrorsAndAreCounted) {
  FaultRule f;
  f.route = "/crm/v3/objects/*/batch/*";
  f.pct_500 = 100;
  f.remaining = 2;
  sim_->set_faults({f});
  auto body = R"({"inputs":[{"properties":{"email":"f@x.com"}}]})";
  EXPECT_EQ(client_->post("/crm/v3/objects/contacts/batch/create", body).status, 500);
  EXPECT_EQ(client_->post("/crm/v3/objects/contacts/batch/create", body).status, 500);
  EXPECT_EQ(client_->post("/crm/v3/objects/contacts/batch/create", body).status, 201) << "fault budget spent";
  FaultRule locked;
  locked.pct_423 = 100;
  locked.route = "/crm/v3/objects/contacts";
  FaultRule limited;
  limited.pct_429 = 100;
  limited.route = "/crm/v3/objects/companies";
  sim_->set_faults({locked, limited});
  EXPECT_EQ(client_->get("/crm/v3/objects/contacts").status, 423);
  auto r = client_->get("/crm/v3/objects/companies");
  EXPECT_EQ(r.status, 429);
  EXPECT_STREQ(r.json()["policyName"].GetString(), "TEN_SECONDLY_ROLLING");
  FaultRule drop;
  drop.pct_drop = 100;
  drop.route = "/crm/v3/objects/deals";
  FaultRule bad_json;
  bad_json.pct_malformed = 100;
  bad_json.route = "/crm/v3/objects/tickets";
  sim_->set_faults({drop, bad_json});
  auto dropped = client_->get("/crm/v3/objects/deals");
  EXPECT_EQ(dropped.status, 0);
  EXPECT_NE(client_->last_error(), CURLE_OK);
  FaultRule reset;
  reset.pct_reset = 100;
  reset.route = "/crm/v3/objects/companies";
  sim_->set_faults({drop, bad_json, reset});
  EXPECT_EQ(client_->get("/crm/v3/objects/companies").status, 0);
  EXPECT_NE(client_->last_error(), CURLE_OK);
  auto malformed = client_->get("/crm/v3/objects/tickets");
  EXPECT_EQ(malformed.status, 200);
  EXPECT_TRUE(malformed.json().HasParseError());
  auto c = sim_->counters();
  EXPECT_EQ(c.requests["POST /crm/v3/objects/{type}/batch/create"][500], 2);
  EXPECT_EQ(c.requests["POST /crm/v3/objects/{type}/batch/create"][201], 1);
  EXPECT_EQ(c.requests["GET /crm/v3/objects/{type}"][423], 1);
  EXPECT_GE(c.rate_limited, 1);
}

TEST_F(SimPlatform, AdminApiOverHttp) {
  Client admin(sim_->base_url(), "");
  auto seeded = admin.post("/_sim/seed", R"({"type":"contacts","count":3,"seed":5})");
  ASSERT_EQ(seeded.status, 200) << seeded.body;
  std::string id = seeded.json()["ids"][0].GetString();
  EXPECT_EQ(admin.post("/_sim/ui/edit", R"({"type":"contacts","id":")" + id + R"(","properties":{"city":"Turin"}})").status, 204);
  EXPECT_EQ(admin.post("/_sim/ui/delete", R"({"type":"contacts","id":")" + id + "\"}").status, 204);
  auto dump = admin.get("/_sim/dump/contacts").json();
  ASSERT_EQ(dump["results"].Size(), 3u);
  bool seen = false;
  for (const auto& o : dump["results"].GetArray())
    if (std::string(o["id"].GetString()) == id) {
      seen = true;
      EXPECT_TRUE(o["archived"].GetBool());
      EXPECT_STREQ(o["properties"]["city"].GetString(), "Turin");
    }
  EXPECT_TRUE(seen);
  EXPECT_EQ(admin.post("/_sim/ui/restore", R"({"type":"contacts","id":")" + id + "\"}").status, 204);
  EXPECT_EQ(client_->get("/crm/v3/objects/contacts/" + id).status, 200);
  auto counters = admin.get("/_sim/counters").json();
  EXPECT_EQ(counters["requests"]["GET /crm/v3/objects/{type}/{id}"]["200"].GetInt(), 1);
  EXPECT_EQ(admin.put("/_sim/faults", R"({"rules":[{"route":"/crm/*","pct500":100}]})").status, 204);
  EXPECT_EQ(client_->get("/crm/v3/objects/contacts").status, 500);
  EXPECT_EQ(admin.del("/_sim/faults").status, 204);
  EXPECT_EQ(admin.post("/_sim/tier", R"({"tier":250})").status, 204);
  EXPECT_EQ(client_->get("/crm/v3/objects/contacts").header("x-hubspot-ratelimit-max"), "250");
  EXPECT_EQ(admin.post("/_sim/counters/reset", "").status, 204);
  EXPECT_EQ(admin.post("/_sim/reset", "").status, 204);
  EXPECT_EQ(admin.get("/_sim/dump/contacts").json()["results"].Size(), 0u);
  EXPECT_EQ(admin.get("/_sim/nope").status, 404);
  auto missing = admin.post("/_sim/ui/edit", R"({"type":"contacts","id":"42","properties":{"city":"X"}})");
  EXPECT_EQ(missing.status, 404);
  EXPECT_STREQ(missing.json()["category"].GetString(), "OBJECT_NOT_FOUND");
  try {
    sim_->ui_edit("contacts", "42", {{"city", "X"}});
    ADD_FAILURE() << "no SimulatorError";
  } catch (const SimulatorError& e) {
    EXPECT_EQ(e.status(), 404);
    EXPECT_EQ(e.category(), "OBJECT_NOT_FOUND");
  }
  EXPECT_THROW(sim_->seed("widgets", 1), SimulatorError);
}

TEST_F(SimPlatform, LatencyDelaysResponses) {
  SimulatorOptions o;
  o.latency_min_ms = 150;
  o.latency_max_ms = 200;
  start(o);
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(client_->get("/crm/v3/objects/contacts").status, 200);
  auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_GE(took, std::chrono::milliseconds(150));
}

TEST_F(SimPlatform, SnapshotSurvivesRestart) {
  std::string file = ::testing::TempDir() + "hubspot_sim_snapshot_" + std::to_string(::getpid()) + ".json";
  std::remove(file.c_str());
  // The simulator writes the file when it stops: stop it before the file
  // goes, however the test ends (the fixture's teardown wrote it again).
  struct Cleanup {
    std::unique_ptr<Simulator>& sim;
    std::string file;
    ~Cleanup() {
      if (sim) sim->stop();
      std::remove(file.c_str());
    }
  } cleanup{sim_, file};
  SimulatorOptions o;
  o.snapshot_file = file;
  start(o);
  ASSERT_EQ(client_->post("/crm/v3/properties/contacts",
                          R"({"name":"mrr","label":"MRR","type":"number","fieldType":"number","groupName":"contactinformation"})").status, 201);
  ASSERT_EQ(client_->post("/crm/v3/schemas", R"({"name":"pets","labels":{"singular":"Pet","plural":"Pets"},"properties":[{"name":"nick","label":"Nick","type":"string","fieldType":"text"}]})").status, 201);
  auto c = client_->post("/crm/v3/objects/contacts", R"({"properties":{"email":"snap@x.com","mrr":"5"}})").json();
  std::string id = c["id"].GetString();
  ASSERT_EQ(client_->post("/crm/v3/objects/pets", R"({"properties":{"nick":"Rex"}})").status, 201);
  sim_->stop();
  start(o);  // a new simulator on the same file
  auto back = client_->get("/crm/v3/objects/contacts/" + id + "?properties=email,mrr");
  ASSERT_EQ(back.status, 200) << back.body;
  EXPECT_STREQ(back.json()["properties"]["mrr"].GetString(), "5");
  EXPECT_EQ(client_->post("/crm/v3/objects/contacts", R"({"properties":{"email":"snap@x.com"}})").status, 409)
      << "unique index rebuilt";
  EXPECT_EQ(client_->get("/crm/v3/objects/pets").json()["results"].Size(), 1u);
  auto fresh = client_->post("/crm/v3/objects/contacts", R"({"properties":{"email":"new@x.com"}})").json();
  EXPECT_GT(std::stoull(fresh["id"].GetString()), std::stoull(id)) << "ids continue after the saved ones";
}

}  // namespace
}  // namespace hubsync::sim::test
