// `hubsync serve` fed by the simulator's signed webhooks over loopback: UI
// edits reach Postgres through the inbox (the sweep is set an hour away, so
// only a webhook can explain them), repeated deliveries apply once, SIGHUP
// reloads mappings or keeps them (and refuses another database).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <pqxx/pqxx>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include "engine/webhook/signature.h"
#include "tests/integration/push/push_harness.h"
#include "tests/integration/serve/serve_support.h"
#include "tests/support/prom_text.h"

namespace hubsync::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

class ServeWebhooks : public ServeFixture {};

TEST_F(ServeWebhooks, AHundredUiEditsReachPostgresThroughWebhooks) {
  const auto id = h_->sim.ui_create("contacts", {{"email", "w@x.io"}, {"firstname", "v0"}});
  ASSERT_TRUE(eventually([&] { return pg("SELECT name FROM people WHERE email = 'w@x.io'") == "v0"; }))
      << log_tail(log_);
  std::vector<double> ms;
  for (int i = 1; i <= 100; ++i) {
    const std::string v = "v" + std::to_string(i);
    const auto t0 = Clock::now();
    h_->sim.ui_edit("contacts", id, {{"firstname", v}});
    ASSERT_TRUE(eventually([&] { return pg("SELECT name FROM people WHERE email = 'w@x.io'") == v; }))
        << "edit " << i << " never arrived\n" << log_tail(log_);
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
  }
  std::sort(ms.begin(), ms.end());
  std::printf("HubSpot edit -> Postgres through webhooks: p50 %.0f ms, p99 %.0f ms (100 edits, inbox_every_ms 100)\n",
              ms[49], ms[98]);
  EXPECT_EQ(pg("SELECT count(*) FROM people"), "1");
  // Nothing pulled was echoed back as a change to push.
  EXPECT_EQ(pg("SELECT count(*) FROM hubsync.changelog"), "0");
}

// With hubspot.portal_id unset, the portal HubSpot says the token is for is
// the one served: another portal's events (the app installed there too,
// signing with the same secret) are acknowledged and never stored.
TEST_F(ServeWebhooks, WithoutAPortalIdTheTokensPortalIsTheOneWhoseEventsAreStored) {
  std::string yaml = file_text(config_);
  const std::string configured = "portal_id: 62515, ";
  ASSERT_NE(yaml.find(configured), std::string::npos) << yaml;
  yaml.erase(yaml.find(configured), configured.size());
  std::ofstream(config_) << yaml;
  restart();
  const std::string url = "http://127.0.0.1/webhooks/hubspot";  // as http_post's Host header names it
  const auto post = [&](const std::string& portal, int event_id) {
    const std::string body = R"([{"eventId":)" + std::to_string(event_id) + R"(,"subscriptionId":5,"portalId":)" +
                             portal + R"(,"appId":1001,"occurredAt":1700000000000,"subscriptionType":"contact.creation",)"
                             R"("attemptNumber":0,"objectId":4242}])";
    const std::string ts = std::to_string(ratelimit::SystemClock().wall_ms());
    return http_post(port_, "/webhooks/hubspot", body,
                     "X-HubSpot-Signature-v3: " + webhook::sign_v3(sim::kOAuthClientSecret, "POST", url, body, ts) +
                         "\r\nX-HubSpot-Request-Timestamp: " + ts + "\r\n");
  };
  const auto other = post("99999", 1);
  EXPECT_EQ(other.first, 200) << other.second;
  EXPECT_EQ(other.second, R"({"events":1,"new":0})");
  const auto own = post("62515", 2);
  EXPECT_EQ(own.first, 200) << own.second;
  EXPECT_EQ(own.second, R"({"events":1,"new":1})");
  EXPECT_THAT(log_tail(log_, 400), testing::HasSubstr("webhook events of another portal dropped n=1 portal=99999 "
                                                      "expected_portal=62515"));
  EXPECT_THAT(log_tail(log_, 400), testing::Not(testing::HasSubstr("hubspot.portal_id is not set")));
}

TEST_F(ServeWebhooks, DeletesAndRedeliveredBatchesApplyOnce) {
  const auto a = h_->sim.ui_create("contacts", {{"email", "a@x.io"}, {"firstname", "A"}});
  h_->sim.ui_create("contacts", {{"email", "b@x.io"}, {"firstname", "B"}});
  ASSERT_TRUE(eventually([&] { return pg("SELECT count(*) FROM people") == "2"; })) << log_tail(log_);
  h_->sim.ui_delete("contacts", a);
  EXPECT_TRUE(eventually([&] { return pg("SELECT count(*) FROM people WHERE email = 'a@x.io'") == "0"; }))
      << log_tail(log_);
  EXPECT_EQ(pg("SELECT count(*) FROM people"), "1");
  EXPECT_GE(h_->sim.counters().webhook_deliveries, 3);
}

TEST_F(ServeWebhooks, TheSameBatchDeliveredTwentyTimesIsAppliedOnce) {
  // Every write to the table is counted, hubsync's own included.
  h_->db.exec("CREATE TABLE people_writes (email text); "
              "CREATE FUNCTION count_write() RETURNS trigger LANGUAGE plpgsql AS "
              "$$BEGIN INSERT INTO people_writes VALUES (NEW.email); RETURN NEW; END$$; "
              "CREATE TRIGGER people_count AFTER INSERT OR UPDATE ON people FOR EACH ROW EXECUTE FUNCTION count_write()");
  h_->sim.set_webhook_copies(20);
  const auto metric = [&](const std::string& name, const std::map<std::string, std::string>& labels = {}) {
    return parse_prometheus_text(http_get(port_, "/metrics").second).value(name, labels).value_or(-1);
  };
  const auto all_delivered = [&](std::int64_t deliveries) {
    return h_->sim.counters().webhook_deliveries >= deliveries &&
           metric("hubsync_inbox_pending_events") == 0.0 &&
           metric("hubsync_webhook_events_received_total") ==
               20 * metric("hubsync_webhook_events_stored_total", {{"result", "new"}});
  };
  const auto id = h_->sim.ui_create("contacts", {{"email", "twenty@x.io"}, {"firstname", "A"}});
  ASSERT_TRUE(eventually([&] { return all_delivered(20) && pg("SELECT count(*) FROM people") == "1"; }, 30s))
      << h_->sim.counters().webhook_deliveries << "\n" << http_get(port_, "/metrics").second << log_tail(log_);
  h_->sim.ui_edit("contacts", id, {{"firstname", "B"}});
  ASSERT_TRUE(eventually([&] { return all_delivered(40) && pg("SELECT name FROM people") == "B"; }, 30s))
      << http_get(port_, "/metrics").second << log_tail(log_);
  EXPECT_GT(metric("hubsync_webhook_events_stored_total", {{"result", "duplicate"}}), 0.0);
  EXPECT_EQ(pg("SELECT count(*) FROM people_writes"), "2") << "one insert, one update: each change applied once";
  EXPECT_EQ(pg("SELECT count(*) FROM hubsync.changelog"), "0") << "nothing echoed back";
}

TEST_F(ServeWebhooks, SighupAppliesAGoodMappingAndKeepsTheOldOneWhenBroken) {
  // A broken mapping file: serve says why and keeps syncing with the old one.
  std::ofstream(h_->dir / "mappings" / "people.yaml") << "name: people\npostgres: {table: public.people\n";
  kill(pid_, SIGHUP);
  EXPECT_TRUE(eventually([&] { return log_tail(log_).find("still serving the previous config") != std::string::npos; }))
      << log_tail(log_);
  EXPECT_NE(log_tail(log_).find("people.yaml:"), std::string::npos) << "the finding names the file";
  const auto id = h_->sim.ui_create("contacts", {{"email", "after@x.io"}, {"firstname", "Old"}});
  EXPECT_TRUE(eventually([&] { return pg("SELECT name FROM people WHERE email = 'after@x.io'") == "Old"; }))
      << log_tail(log_);
  // A good one (firstname now comes from a new column) is applied.
  h_->db.exec("ALTER TABLE people ADD COLUMN nick text");
  std::string good = kServePeople;
  good.replace(good.find("{column: name, property: firstname}"), 35, "{column: nick, property: firstname}");
  std::ofstream(h_->dir / "mappings" / "people.yaml") << good;
  // Before `migrate` its capture is not current: refused, and said so as a
  // reload's refusal, not as a run that synced nothing.
  kill(pid_, SIGHUP);
  EXPECT_TRUE(eventually([&] {
    return log_tail(log_, 100000).find("the change capture is not current (run `hubsync migrate`)") != std::string::npos;
  })) << log_tail(log_);
  EXPECT_EQ(log_tail(log_, 100000).find("nothing was synced"), std::string::npos) << log_tail(log_);
  const std::string cmd = "'" HUBSYNC_BIN "' --config '" + config_.string() + "' migrate >/dev/null 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  kill(pid_, SIGHUP);
  EXPECT_TRUE(eventually([&] { return log_tail(log_).find("and 1 mapping(s)") != std::string::npos; }))
      << log_tail(log_);
  h_->sim.ui_edit("contacts", id, {{"firstname", "New"}});
  EXPECT_TRUE(eventually([&] { return pg("SELECT nick FROM people WHERE email = 'after@x.io'") == "New"; }))
      << log_tail(log_);
}

TEST_F(ServeWebhooks, SighupReloadsTheConfigAndKeepsItWhenBroken) {
  std::string text = file_text(config_);
  const auto log_has = [&](const std::string& s) { return log_tail(log_, 100000).find(s) != std::string::npos; };
  // A broken config: every finding with file:line:col, the old one kept.
  std::string broken = text;
  broken.replace(broken.find("sweep_every_s: 3600"), 19, "sweep_every_s: soon");
  std::ofstream(config_) << broken;
  kill(pid_, SIGHUP);
  EXPECT_TRUE(eventually([&] { return log_has("reload refused"); })) << log_tail(log_);
  EXPECT_TRUE(std::regex_search(log_tail(log_, 100000), std::regex("hubsync\\.yaml:[0-9]+:[0-9]+: error: serve\\.sweep_every_s")))
      << log_tail(log_);
  h_->db.exec("INSERT INTO people (email, name) VALUES ('still@x.io', 'S')");
  EXPECT_TRUE(eventually([&] { return h_->live_by("contacts", "email").count("still@x.io") > 0; })) << log_tail(log_);
  // A good one: a sweep every second applies at once (webhooks stop coming,
  // so only that sweep can bring HubSpot's edits); a new token needs a
  // restart, which the log says without showing it.
  h_->sim.set_webhook_loss(100);
  std::string good = text;
  good.replace(good.find("sweep_every_s: 3600"), 19, "sweep_every_s: 1");
  good.replace(good.find(sim::kHubsyncToken), std::string(sim::kHubsyncToken).size(), "pat-na1-rotated-SECRETVALUE");
  std::ofstream(config_) << good;
  kill(pid_, SIGHUP);
  EXPECT_TRUE(eventually([&] { return log_has("and 1 mapping(s)"); })) << log_tail(log_);
  EXPECT_TRUE(log_has("hubspot.token changed; it takes effect when serve restarts")) << log_tail(log_);
  EXPECT_FALSE(log_has("SECRETVALUE")) << "a secret never reaches the log";
  const auto id = h_->sim.ui_create("contacts", {{"email", "hup@x.io"}, {"firstname", "A"}});
  EXPECT_TRUE(eventually([&] { return pg("SELECT name FROM people WHERE email = 'hup@x.io'") == "A"; }, 15s))
      << log_tail(log_);
  for (const auto* v : {"B", "C"}) {  // each a second or more after the reload's own catch-up sweep
    h_->sim.ui_edit("contacts", id, {{"firstname", v}});
    EXPECT_TRUE(eventually([&] { return pg("SELECT name FROM people WHERE email = 'hup@x.io'") == v; }, 15s))
        << "still talking to HubSpot with the running token\n" << log_tail(log_);
  }
  EXPECT_GT(h_->sim.counters().webhook_lost, 0) << "the edits came by the sweep: their webhooks were lost";
}

TEST_F(ServeWebhooks, AHundredPostgresEditsReachHubSpotThroughNotify) {
  h_->db.exec("INSERT INTO people (email, name) VALUES ('p@x.io', 'v0')");
  auto name_in_hubspot = [&] { return h_->live_by("contacts", "email")["p@x.io"].props["firstname"]; };
  ASSERT_TRUE(eventually([&] { return name_in_hubspot() == "v0"; })) << log_tail(log_);
  std::vector<double> ms;
  for (int i = 1; i <= 100; ++i) {
    const std::string v = "v" + std::to_string(i);
    const auto t0 = Clock::now();
    h_->db.exec("UPDATE people SET name = '" + v + "' WHERE email = 'p@x.io'");
    ASSERT_TRUE(eventually([&] { return name_in_hubspot() == v; }, 10s)) << "edit " << i << "\n" << log_tail(log_);
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
  }
  std::sort(ms.begin(), ms.end());
  std::printf("Postgres edit -> HubSpot: p50 %.0f ms, p99 %.0f ms (100 edits, debounce 250 ms, poll 3600 s)\n",
              ms[49], ms[98]);
  EXPECT_EQ(h_->dump("contacts").size(), 1u);
}

// A steady stream of Postgres edits keeps the changelog from ever being
// empty while each push round waits on HubSpot; the push yields to webhook
// events between rounds, so a HubSpot edit still reaches Postgres while the
// stream goes on (before, the push drained the changelog first: the edit
// waited for the stream to stop).
TEST_F(ServeWebhooks, AUiEditReachesPostgresWhilePostgresEditsKeepTheChangelogBusy) {
  for (int i = 0; i < 5; ++i)
    h_->db.exec("INSERT INTO people (email, name) VALUES ('pg" + std::to_string(i) + "@x.io', 'v0')");
  const auto id = h_->sim.ui_create("contacts", {{"email", "ui@x.io"}, {"firstname", "seed"}});
  ASSERT_TRUE(eventually([&] {
    return pg("SELECT count(*) FROM people") == "6" && h_->live_by("contacts", "email").size() == 6;
  })) << log_tail(log_);
  sim::FaultRule slow;
  slow.latency_min_ms = 200;
  slow.latency_max_ms = 300;
  h_->sim.set_faults({slow});
  std::atomic<bool> stop{false}, writing{true};
  std::atomic<int> written{0};
  std::thread writer([&] {
    pqxx::connection c{h_->db.dsn()};
    const auto until = Clock::now() + 40s;
    for (int i = 1; !stop && Clock::now() < until; ++i) {
      pqxx::work w{c};
      w.exec0("UPDATE people SET name = 'w" + std::to_string(i) + "' WHERE email = 'pg" + std::to_string(i % 5) +
              "@x.io'");
      w.commit();
      ++written;
      std::this_thread::sleep_for(50ms);
    }
    writing = false;
  });
  std::this_thread::sleep_for(1500ms);  // pushes are under way
  h_->sim.ui_edit("contacts", id, {{"firstname", "from-hubspot"}});
  const bool arrived = eventually([&] { return pg("SELECT name FROM people WHERE email = 'ui@x.io'") == "from-hubspot"; },
                                  30s, 50ms);
  const bool while_writing = writing.load();
  stop = true;
  writer.join();
  EXPECT_TRUE(arrived) << log_tail(log_);
  EXPECT_TRUE(while_writing) << "the HubSpot edit arrived only after the Postgres edits stopped\n" << log_tail(log_);
  h_->sim.set_faults({});
  // Every Postgres edit still reaches HubSpot.
  EXPECT_TRUE(eventually([&] {
    auto live = h_->live_by("contacts", "email");
    for (int i = 0; i < 5; ++i)
      if (live["pg" + std::to_string(i) + "@x.io"].props["firstname"] !=
          pg("SELECT name FROM people WHERE email = 'pg" + std::to_string(i) + "@x.io'"))
        return false;
    return true;
  })) << log_tail(log_);
  EXPECT_GT(written.load(), 20);
  EXPECT_EQ(h_->dump("contacts").size(), 6u);
}

TEST_F(ServeWebhooks, LostWebhooksAreRepairedByTheSweep) {
  // HubSpot loses 40% of the events; the sweep runs every second here.
  kill(pid_, SIGTERM);
  ASSERT_EQ(wait_for_exit(pid_, 30000), 0);
  std::string text = file_text(config_);
  text.replace(text.find("sweep_every_s: 3600"), 19, "sweep_every_s: 1");
  std::ofstream(config_) << text << "pull: {overlap_s: 0}\n";
  pid_ = spawn_hubsync(HUBSYNC_BIN, {"--config", config_.string(), "serve"}, log_);
  target_serve();
  h_->sim.set_webhook_loss(40);
  std::vector<std::string> ids;
  for (int i = 0; i < 50; ++i)
    ids.push_back(h_->sim.ui_create("contacts", {{"email", "l" + std::to_string(i) + "@x.io"}, {"firstname", "L"}}));
  for (const auto& id : ids) h_->sim.ui_edit("contacts", id, {{"firstname", "M"}});
  EXPECT_TRUE(eventually([&] { return pg("SELECT count(*) FROM people WHERE name = 'M'") == "50"; }, 30s))
      << pg("SELECT count(*) FROM people WHERE name = 'M'") << "\n" << log_tail(log_);
  EXPECT_GT(h_->sim.counters().webhook_lost, 0);
  EXPECT_EQ(pg("SELECT count(*) FROM people"), "50");
}

// The figures /metrics shows once a row went each way and one value was
// the same on both sides (parsed strictly; the text is read until they show).
PromText metrics_after_work(int port) {
  PromText prom;
  const std::map<std::string, std::string> pushed = {{"mapping", "people"}, {"direction", "to_hubspot"}, {"outcome", "created"}};
  const std::map<std::string, std::string> pulled = {{"mapping", "people"}, {"direction", "to_postgres"}, {"outcome", "created"}};
  eventually([&] {
    prom = parse_prometheus_text(http_get(port, "/metrics").second);
    return prom.ok() && prom.value("hubsync_records_total", pushed).value_or(0) >= 1 &&
           prom.value("hubsync_records_total", pulled).value_or(0) >= 1;
  }, 30s);
  return prom;
}

TEST_F(ServeWebhooks, MetricsParseAndReadinessFollowsPostgres) {
  ASSERT_TRUE(eventually([&] { return http_get(port_, "/readyz").first == 200; })) << http_get(port_, "/readyz").second;
  EXPECT_EQ(http_get(port_, "/healthz").first, 200);
  h_->db.exec("INSERT INTO people (email, name) VALUES ('metric-pg@x.io', 'P')");
  h_->sim.ui_create("contacts", {{"email", "metric-ui@x.io"}, {"firstname", "U"}});
  const auto prom = metrics_after_work(port_);
  const auto text = http_get(port_, "/metrics").second;
  ASSERT_TRUE(prom.ok()) << prom.error << "\n" << text;
  for (const char* family :
       {"hubsync_webhook_requests_total", "hubsync_inbox_pending_events", "hubsync_backlog_changes",
        "hubsync_lag_seconds", "hubsync_dead_letters", "hubsync_rate_budget_burst_remaining",
        "hubsync_rate_budget_daily_remaining", "hubsync_rate_budget_search_remaining", "hubsync_api_requests_total",
        "hubsync_api_rate_limited_total", "hubsync_api_retries_total", "hubsync_api_exchanges_total",
        "hubsync_api_batch_calls_total", "hubsync_records_total", "hubsync_changes_captured_total",
        "hubsync_conflicts_total", "hubsync_pushed_records_total", "hubsync_inbox_events_processed_total",
        "hubsync_up_postgres"})
    EXPECT_TRUE(prom.families.count(family)) << family << " missing\n" << text;
  EXPECT_GE(prom.value("hubsync_changes_captured_total", {{"mapping", "people"}}).value_or(0), 1.0) << text;
  // Every family serve publishes is in README's metrics table.
  std::ifstream readme(HUBSYNC_README);
  const std::string doc(std::istreambuf_iterator<char>(readme), {});
  for (const auto& [family, f] : prom.families)
    EXPECT_NE(doc.find("`" + family), std::string::npos) << family << " is not documented in README";
  // The pushed row came back as webhook events of hubsync's own write:
  // acknowledged, not stored, never read back.
  EXPECT_TRUE(eventually([&] {
    return parse_prometheus_text(http_get(port_, "/metrics").second).value("hubsync_webhook_events_own_total").value_or(0) >= 1;
  })) << http_get(port_, "/metrics").second;
  for (const auto& dir : {"to_hubspot", "to_postgres"}) {
    EXPECT_TRUE(prom.value("hubsync_backlog_changes", {{"direction", dir}, {"mapping", "people"}})) << dir;
    EXPECT_TRUE(prom.value("hubsync_lag_seconds", {{"direction", dir}, {"mapping", "people"}})) << dir;
  }
  // Calls by route and status: the upsert by email answered 200, and no label
  // names a record (no id, no email).
  EXPECT_GE(prom.value("hubsync_api_exchanges_total", {{"method", "POST"}, {"route", "/crm/v3/objects/contacts/batch/upsert"},
                                                        {"status", "200"}}).value_or(0), 1.0) << text;
  EXPECT_GE(prom.value("hubsync_api_batch_calls_total").value_or(0), 1.0);
  for (const auto& s : prom.families.at("hubsync_api_exchanges_total").samples)
    EXPECT_TRUE(std::regex_match(s.labels.at("route"), std::regex("(/([a-z_0-9-]+|\\{id\\}))+"))) << s.labels.at("route");
  EXPECT_EQ(text.find("metric-"), std::string::npos) << "no field value in any label";
  EXPECT_EQ(text.find(sim::kHubsyncToken), std::string::npos);
  EXPECT_EQ(text.find(sim::kOAuthClientSecret), std::string::npos);

  // Postgres goes away for hubsync (this database refuses connections and
  // drops the ones it has): /readyz says so; it comes back: ready again.
  pqxx::connection admin(server_);
  pqxx::nontransaction(admin).exec("ALTER DATABASE " + admin.quote_name(h_->db.name()) + " ALLOW_CONNECTIONS false");
  pqxx::nontransaction(admin).exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = " +
                                   admin.quote(h_->db.name()));
  EXPECT_TRUE(eventually([&] { return http_get(port_, "/readyz").first == 503; }, 15s)) << log_tail(log_);
  EXPECT_NE(http_get(port_, "/readyz").second.find("postgres"), std::string::npos);
  pqxx::nontransaction(admin).exec("ALTER DATABASE " + admin.quote_name(h_->db.name()) + " ALLOW_CONNECTIONS true");
  EXPECT_TRUE(eventually([&] { return http_get(port_, "/readyz").first == 200; }, 15s)) << log_tail(log_);
}

// HubSpot refuses every connection (no HTTP status at all): a push that
// gives up marks it down for /readyz and hubsync_up_hubspot, and pushes
// with nothing to send (no call made) neither mark it up again nor move
// the last success. Both did: readiness said 200 and the alert on the last
// success never fired while HubSpot was gone.
TEST_F(ServeWebhooks, ReadinessAndTheLastSuccessFollowHubSpotGoingAway) {
  std::string yaml = file_text(config_);
  yaml.replace(yaml.find("portal_id: 62515"), 16, "portal_id: 62515, retry_for_s: 1");
  std::ofstream(config_) << yaml;
  restart();
  ASSERT_TRUE(eventually([&] { return http_get(port_, "/readyz").first == 200; })) << log_tail(log_);
  auto metric = [&](const char* name) {
    return parse_prometheus_text(http_get(port_, "/metrics").second).value(name).value_or(-1);
  };
  sim::FaultRule gone;
  gone.pct_reset = 100;
  h_->sim.set_faults({gone});
  h_->db.exec("INSERT INTO people (email, name) VALUES ('down@x.io', 'D')");
  EXPECT_TRUE(eventually([&] { return http_get(port_, "/readyz").first == 503; }, 30s)) << log_tail(log_);
  EXPECT_NE(http_get(port_, "/readyz").second.find("hubspot"), std::string::npos);
  // Metrics are published every 5 s.
  EXPECT_TRUE(eventually([&] { return metric("hubsync_up_hubspot") == 0.0; }, 10s));
  const double last = metric("hubsync_last_success_timestamp_seconds");
  std::this_thread::sleep_for(6s);  // a publication later; pushes with nothing to send came and went
  EXPECT_EQ(metric("hubsync_last_success_timestamp_seconds"), last);
  EXPECT_EQ(metric("hubsync_up_hubspot"), 0.0);
  EXPECT_EQ(http_get(port_, "/readyz").first, 503);

  h_->sim.set_faults({});
  EXPECT_TRUE(eventually([&] { return http_get(port_, "/readyz").first == 200; }, 30s)) << log_tail(log_);
  EXPECT_TRUE(eventually([&] { return metric("hubsync_up_hubspot") == 1.0; }, 10s));
  EXPECT_TRUE(eventually([&] { return metric("hubsync_last_success_timestamp_seconds") > last; }, 10s));
  EXPECT_EQ(h_->live_by("contacts", "email").count("down@x.io"), 1u);
}

TEST_F(ServeWebhooks, SigtermInABurstOfEventsLosesAndDoublesNothing) {
  constexpr int kN = 10000;
  std::vector<std::map<std::string, std::string>> rows;
  for (int i = 0; i < kN; ++i) rows.push_back({{"email", "burst" + std::to_string(i) + "@x.io"}, {"firstname", "B"}});
  h_->sim.ui_bulk_import("contacts", rows, std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count());
  // Stop as soon as some of it has landed, start again.
  ASSERT_TRUE(eventually([&] { return std::stoi(pg("SELECT count(*) FROM people")) > 0; })) << log_tail(log_);
  restart();
  EXPECT_TRUE(eventually([&] { return pg("SELECT count(*) FROM people") == std::to_string(kN); }, 120s))
      << pg("SELECT count(*) FROM people") << "\n" << log_tail(log_);
  EXPECT_EQ(pg("SELECT count(DISTINCT email) FROM people"), std::to_string(kN));
  EXPECT_EQ(h_->dump("contacts").size(), static_cast<std::size_t>(kN)) << "no object made twice";
}

// The database behind the running postgres.dsn is now another one (another
// tenant's dump restored over it): the state store's links name its rows
// by key value, so a reload is refused, naming both ids.
// Another database under a running serve (its id changed: another
// database's, as after a failover to the wrong host) stops it before its
// next step of work, exit 1; before, only a start or a SIGHUP checked.
TEST_F(ServeWebhooks, ADatabaseWhoseIdIsNotTheStateStoresStopsARunningServe) {
  h_->sim.ui_create("contacts", {{"email", "id@x.io"}, {"firstname", "A"}});
  ASSERT_TRUE(eventually([&] { return pg("SELECT count(*) FROM people") == "1"; })) << log_tail(log_);
  const std::string was = pg("SELECT value FROM hubsync.settings WHERE key = 'database_id'");
  h_->db.exec("UPDATE hubsync.settings SET value = 'another-database' WHERE key = 'database_id'");
  h_->db.exec("INSERT INTO people (email, name) VALUES ('new@x.io', 'N')");
  EXPECT_EQ(wait_for_exit(pid_, 30000), 1) << log_tail(log_);
  pid_ = -1;
  const auto log = log_tail(log_, 100000);
  EXPECT_NE(log.find("links (people: 1) made with database " + was + ", and this database is another-database"),
            std::string::npos)
      << log;
  EXPECT_EQ(h_->live_by("contacts", "email").count("new@x.io"), 0u) << "serve wrote after the check failed";
}

// The troubleshooting table's way out of a dead letter, with serve
// running (the service deployment): `dead-letters retry` and `discard`
// change the state store beside serve, which holds it, and serve retries.
TEST_F(ServeWebhooks, DeadLettersAreRetriedAndDiscardedBesideServe) {
  const auto cli = [&](const std::string& args) {
    return run_command("'" HUBSYNC_BIN "' --config '" + config_.string() + "' " + args + " 2>&1");
  };
  // How many times serve pushed the row and HubSpot refused it.
  const auto refusals = [&] {
    const std::string log = log_tail(log_, 1'000'000);
    std::size_t n = 0;
    for (auto at = log.find("dead-lettered mapping=people"); at != std::string::npos;
         at = log.find("dead-lettered mapping=people", at + 1))
      ++n;
    return n;
  };
  h_->db.exec("INSERT INTO people (email, name) VALUES ('not-an-email', 'X')");
  ASSERT_TRUE(eventually([&] { return refusals() > 0; })) << log_tail(log_);
  std::this_thread::sleep_for(std::chrono::seconds(1));
  const std::size_t before = refusals();  // its own next retry is a minute away
  const auto listed = cli("dead-letters list").out;
  const std::string id = listed.substr(listed.find('#') + 1, listed.find(' ', listed.find('#')) - listed.find('#') - 1);

  auto retried = cli("dead-letters retry " + id);
  EXPECT_EQ(retried.code, 0) << retried.out;
  EXPECT_THAT(retried.out, ::testing::HasSubstr("the running hubsync process (serve) retries them"));
  EXPECT_TRUE(eventually([&] { return refusals() > before; })) << log_tail(log_);  // retried now

  auto discarded = cli("dead-letters discard " + id + " --reason 'bad data'");
  EXPECT_EQ(discarded.code, 0) << discarded.out;
  EXPECT_THAT(cli("dead-letters list").out, ::testing::HasSubstr("no dead letters"));
  EXPECT_EQ(kill(pid_, 0), 0) << "serve still running";
}

}  // namespace
}  // namespace hubsync::test
