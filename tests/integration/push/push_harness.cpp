#include "tests/integration/push/push_harness.h"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <thread>
#include <random>
#include <stdexcept>

#include "connectors/hubspot/json.h"
#include "connectors/hubspot/properties.h"
#include "connectors/postgres/migrator.h"
#include "engine/mapping/parser.h"
#include "engine/ops/logging.h"

namespace hubsync::test {

namespace fs = std::filesystem;

namespace {
sim::SimulatorOptions started(sim::SimulatorOptions o) { return o; }
}  // namespace

PushHarness::PushHarness(const std::string& server_dsn, const std::string& sql,
                         const std::vector<std::string>& mapping_yamls,
                         sim::SimulatorOptions sim_options, int burst_limit)
    : db(server_dsn), sim(started(std::move(sim_options))) {
  sim.start();
  std::random_device rd;
  dir = fs::temp_directory_path() / ("hubsync-push-" + std::to_string(rd()));
  fs::create_directories(dir);
  if (!sql.empty()) db.exec(sql);

  for (std::size_t i = 0; i < mapping_yamls.size(); ++i) {
    auto parsed = mapping::parse_mapping(mapping_yamls[i], "mapping" + std::to_string(i) + ".yaml");
    if (!parsed.ok()) {
      std::string all;
      for (const auto& f : parsed.findings) all += f.to_string() + "\n";
      throw std::runtime_error("test mapping does not parse:\n" + all);
    }
    mappings.push_back(std::move(*parsed.mapping));
  }
  for (const auto& m : mappings) by_name[m.name] = &m;

  cfg.postgres.dsn.value = db.dsn();
  cfg.hubspot.base_url = sim.base_url();
  cfg.hubspot.portal_id = 62515;
  cfg.hubspot.token.value = sim::kHubsyncToken;
  cfg.state.path = (dir / "state.db").string();
  cfg.rate_limit.max_in_flight = 8;

  state::SqliteOptions so;
  so.path = cfg.state.path;
  auto opened = state::SqliteStateStore::open(so);
  if (!opened.ok()) throw std::runtime_error(opened.error().message);
  store = std::move(*opened);
  ratelimit::LimiterConfig limits;
  limits.burst_limit = burst_limit;
  limits.headroom = 0.05;
  limits.learn_from_headers = false;
  limits.search_limit = burst_limit >= 1000 ? 100 : limits.search_limit;  // tests of behaviour: no 5/s wait
  hubspot = std::make_unique<cli::HubSpotStack>(cfg, store.get(), clock, limits);
  pg = std::make_unique<postgres::PgDatabase>(db.dsn(), ops::logger("postgres"));
}

PushHarness::~PushHarness() {
  pg.reset();
  hubspot.reset();
  store.reset();
  sim.stop();
  std::error_code ec;
  fs::remove_all(dir, ec);
}

void PushHarness::migrate(bool logical) {
  std::vector<postgres::CaptureSpec> specs;
  for (const auto& m : mappings)
    specs.push_back({m.name, m.table.schema, m.table.table, m.key, m.postgres_columns(), !m.pg_filter.empty(), false,
                     logical});
  postgres::Migrator migrator(db.dsn(), ops::logger("postgres"), db.name());
  auto r = migrator.run(specs, false);
  if (!r.ok()) throw std::runtime_error(r.error().message);
}

model::Result<pipeline::PushStats> PushHarness::push(const std::string& name,
                                                     pipeline::PushOptions options) {
  pipeline::Pusher pusher(mapping(name), by_name, *pg, hubspot->crm, *store, clock,
                          ops::logger("push"), std::move(options));
  return pusher.run();
}

model::Result<pipeline::PullStats> PushHarness::pull(const std::string& name,
                                                     pipeline::PullOptions options) {
  pipeline::Puller puller(mapping(name), by_name, *pg, hubspot->crm, *store, clock,
                          ops::logger("pull"), options);
  return puller.run();
}

const mapping::Mapping& PushHarness::mapping(const std::string& name) const {
  auto it = by_name.find(name);
  if (it == by_name.end()) throw std::runtime_error("no mapping " + name);
  return *it->second;
}

std::vector<SimObject> PushHarness::dump(const std::string& type) {
  rapidjson::Document d;
  const std::string text = sim.dump_json(type);
  d.Parse(text.c_str(), text.size());
  if (d.HasParseError() || !d.IsObject()) throw std::runtime_error("bad dump json");
  std::vector<SimObject> out;
  for (const auto& o : d["results"].GetArray()) {
    SimObject obj;
    obj.id = o["id"].GetString();
    obj.archived = o.HasMember("archived") && o["archived"].GetBool();
    for (const auto& p : o["properties"].GetObject())
      if (p.value.IsString()) obj.props[p.name.GetString()] = p.value.GetString();
    out.push_back(std::move(obj));
  }
  return out;
}

std::map<std::string, SimObject> PushHarness::live_by(const std::string& type,
                                                      const std::string& property) {
  std::map<std::string, SimObject> out;
  for (auto& o : dump(type)) {
    if (o.archived) continue;
    std::string key = o.props[property];
    if (out.count(key)) throw std::runtime_error("duplicate " + property + " " + key);
    out.emplace(key, std::move(o));
  }
  return out;
}

std::int64_t PushHarness::calls(const std::string& route_part) {
  std::int64_t n = 0;
  for (const auto& [route, statuses] : sim.counters().requests)
    if (route.find(route_part) != std::string::npos)
      for (const auto& [status, count] : statuses) n += count;
  return n;
}

std::string PushHarness::config_yaml(bool logical_capture, const std::string& postgres_extra) const {
  return "postgres: {dsn: '" + db.dsn() + "'" +
         (logical_capture ? ", capture: logical, slot: " + db.name() : std::string()) +
         (postgres_extra.empty() ? "" : ", " + postgres_extra) + "}\n"
         "hubspot: {base_url: '" + sim.base_url() + "', portal_id: 62515, token: " +
         sim::kHubsyncToken + "}\n"
         "rate_limit: {tier: 250, headroom: 0.0}\n"
         "state: {path: '" + (dir / "cli-state.db").string() + "'}\n"
         "mappings: {dir: '" + (dir / "mappings").string() + "'}\n"
         "log: {level: warn}\n";
}

void PushHarness::create_text_property(const std::string& type, const std::string& name,
                                       bool unique) {
  create_property(type, name, "string", "text", {}, unique);
}

void PushHarness::create_property(const std::string& type, const std::string& name, const std::string& hs_type,
                                  const std::string& field_type,
                                  const std::vector<hubspot::PropertyOption>& options, bool unique) {
  hubspot::PropertyDef d;
  d.name = name;
  d.label = name;
  d.type = hs_type;
  d.field_type = field_type;
  d.options = options;
  d.group_name = type == "companies" ? "companyinformation" : "contactinformation";
  d.has_unique_value = unique;
  auto created = hubspot->crm.properties().create(type, d);
  ASSERT_TRUE(created.ok()) << name << ": " << created.error().message;
}

sim::SimulatorOptions quick_sim_options() {
  sim::SimulatorOptions so;
  so.rate_limits = false;
  so.index_lag_ms = 0;
  return so;
}

std::unique_ptr<PushHarness> quick_harness(const std::string& server_dsn, const std::string& sql,
                                           const std::vector<std::string>& mapping_yamls) {
  return std::make_unique<PushHarness>(server_dsn, sql, mapping_yamls, quick_sim_options());
}

SyncedAnn synced_ann(const std::string& server_dsn, const std::string& sql, const std::string& mapping_yaml,
                     sim::SimulatorOptions sim_options) {
  SyncedAnn a{std::make_unique<PushHarness>(server_dsn, sql, std::vector<std::string>{mapping_yaml}, sim_options), ""};
  a.h->db.exec("INSERT INTO people (email, first_name, last_name) VALUES ('a@x.io', 'Ann', 'Lee')");
  a.h->migrate();
  push_ok(*a.h, "people");
  pull_ok(*a.h, "people");
  a.id = a.h->live_by("contacts", "email").at("a@x.io").id;
  return a;
}

pipeline::PushStats push_ok(PushHarness& h, const std::string& mapping) {
  auto r = h.push(mapping);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  return r.ok() ? *r : pipeline::PushStats{};
}

pipeline::PullStats pull_ok(PushHarness& h, const std::string& mapping) {
  pipeline::PullOptions o;
  o.overlap_ms = 0;
  auto r = h.pull(mapping, o);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  return r.ok() ? *r : pipeline::PullStats{};
}

std::vector<state::DeadLetter> dead_letters(PushHarness& h) {
  auto list = h.store->list_dead_letters({});
  EXPECT_TRUE(list.ok());
  return list.ok() ? *list : std::vector<state::DeadLetter>{};
}

std::map<std::string, std::string> conflict_rules(PushHarness& h, const std::string& mapping) {
  auto recorded = h.store->list_conflicts(mapping, 10);
  EXPECT_TRUE(recorded.ok());
  std::map<std::string, std::string> rules;
  if (recorded.ok())
    for (const auto& r : *recorded) rules[r.field] += r.rule + ":" + state::to_string(r.winner);
  return rules;
}

}  // namespace hubsync::test
