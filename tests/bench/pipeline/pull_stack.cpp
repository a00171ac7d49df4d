#include "tests/bench/pipeline/pull_stack.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <random>
#include <stdexcept>

#include "connectors/postgres/migrator.h"
#include "engine/mapping/parser.h"
#include "engine/ops/logging.h"

namespace hubsync::bench {

namespace fs = std::filesystem;

namespace {

constexpr const char* kTable =
    "CREATE TABLE public.people (id bigserial PRIMARY KEY, email text NOT NULL UNIQUE, first_name text,"
    " last_name text, city text, phone text, job_title text)";

// The index the pull's match lookup needs (hubsync migrate warns without it).
constexpr const char* kMatchIndex = "CREATE INDEX people_email_lower_idx ON public.people (lower(btrim(email, E' \\t\\n\\r')))";

constexpr const char* kMapping = R"(name: people
postgres: {table: public.people, key: id}
hubspot: {object: contacts, match: email}
direction: both
fields:
  - {column: email, property: email}
  - {column: first_name, property: firstname}
  - {column: last_name, property: lastname}
  - {column: city, property: city}
  - {column: phone, property: phone}
  - {column: job_title, property: jobtitle}
)";

}  // namespace

PullStack::PullStack(const std::string& server_dsn, const std::string& sim_url,
                     std::optional<ratelimit::LimiterConfig> limits, bool match_index)
    : db(server_dsn) {
  db.exec(kTable);
  if (match_index) db.exec(kMatchIndex);
  auto parsed = mapping::parse_mapping(kMapping, "people.yaml");
  if (!parsed.ok()) throw std::runtime_error("the benchmark's mapping does not parse");
  m_ = std::move(*parsed.mapping);
  all_ = {{m_.name, &m_}};
  auto migrated = postgres::Migrator(db.dsn(), ops::logger("postgres"))
                      .run({{m_.name, m_.table.schema, m_.table.table, m_.key, m_.postgres_columns(),
                             !m_.pg_filter.empty()}},
                           false);
  if (!migrated.ok()) throw std::runtime_error(migrated.error().message);

  std::random_device rd;
  dir_ = fs::temp_directory_path() / ("hubsync-bench-pull-" + std::to_string(getpid()) + "-" + std::to_string(rd()));
  fs::create_directories(dir_);
  cfg.postgres.dsn.value = db.dsn();
  cfg.hubspot.base_url = sim_url;
  cfg.hubspot.portal_id = 62515;
  cfg.hubspot.token.value = "pat-sim-hubsync";
  cfg.state.path = (dir_ / "state.db").string();
  state::SqliteOptions so;
  so.path = cfg.state.path;
  auto opened = state::SqliteStateStore::open(so);
  if (!opened.ok()) throw std::runtime_error(opened.error().message);
  store = std::move(*opened);
  hubspot = std::make_unique<cli::HubSpotStack>(cfg, store.get(), clock, limits);
  pg = std::make_unique<postgres::PgDatabase>(db.dsn(), ops::logger("postgres"));
  crm = std::make_unique<TimedCrm>(hubspot->crm);
}

PullStack::~PullStack() {
  crm.reset();
  pg.reset();
  hubspot.reset();
  store.reset();
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

pipeline::PullStats PullStack::pull(int sweep_windows) {
  pipeline::PullOptions o;
  o.sweep_windows = sweep_windows;
  o.overlap_ms = cfg.pull.overlap_s * 1000LL;
  o.association_pass_every_ms = cfg.pull.association_pass_every_s * 1000LL;
  pipeline::Puller puller(m_, all_, *pg, *crm, *store, clock, ops::logger("pull"), o);
  if (auto retried = puller.retry_dead_letters(false); !retried.ok())
    throw std::runtime_error("pull: " + retried.error().message);
  auto stats = puller.run();
  if (!stats.ok()) throw std::runtime_error("pull: " + stats.error().message);
  if (stats->unreachable) throw std::runtime_error("pull: HubSpot unreachable: " + stats->unreachable->message);
  return *stats;
}

pipeline::PushStats PullStack::push() {
  pipeline::PushOptions o;
  o.worker = "hubsync-bench";
  pipeline::Pusher pusher(m_, all_, *pg, *crm, *store, clock, ops::logger("push"), o);
  if (auto due = pusher.requeue_dead_letters(false); !due.ok())
    throw std::runtime_error("push: " + due.error().message);
  auto stats = pusher.run();
  if (!stats.ok()) throw std::runtime_error("push: " + stats.error().message);
  if (stats->unreachable) throw std::runtime_error("push: HubSpot unreachable: " + stats->unreachable->message);
  return *stats;
}

PullStack::PgMark PullStack::pg_mark() {
  PgMark m;
  m.next_xid = std::stoll(db.scalar("SELECT pg_snapshot_xmax(pg_current_snapshot())::text"));
  m.rows = std::stoll(db.scalar("SELECT count(*) FROM people"));
  return m;
}

std::int64_t PullStack::pg_writes_since(const PgMark& m) {
  // xmin is the 32-bit transaction id that wrote a row's current version.
  const std::int64_t written = std::stoll(db.scalar("SELECT count(*) FROM people WHERE xmin::text::bigint >= " +
                                                    std::to_string(m.next_xid % 4294967296LL)));
  const std::int64_t rows = std::stoll(db.scalar("SELECT count(*) FROM people"));
  return written + std::max<std::int64_t>(0, m.rows - rows);
}

template <typename F>
auto TimedCrm::timed(F&& f) -> decltype(f()) {
  {
    std::lock_guard lock(mu_);
    if (in_flight_++ == 0) since_ = std::chrono::steady_clock::now();
  }
  auto r = f();
  std::lock_guard lock(mu_);
  if (--in_flight_ == 0) seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - since_).count();
  return r;
}

model::Result<std::vector<pipeline::WriteOutcome>> TimedCrm::upsert(const std::string& t, const std::string& id_property,
                                                                    const std::vector<pipeline::UpsertInput>& in) {
  return timed([&] { return inner_.upsert(t, id_property, in); });
}
model::Result<std::vector<pipeline::WriteOutcome>> TimedCrm::update(const std::string& t,
                                                                    const std::vector<pipeline::UpdateInput>& in) {
  return timed([&] { return inner_.update(t, in); });
}
model::Result<std::vector<pipeline::WriteOutcome>> TimedCrm::archive(const std::string& t,
                                                                     const std::vector<std::string>& ids) {
  return timed([&] { return inner_.archive(t, ids); });
}
model::Result<std::vector<pipeline::ReadOutcome>> TimedCrm::read_objects(const std::string& t,
                                                                         const std::vector<std::string>& ids,
                                                                         const pipeline::ReadRequest& r) {
  return timed([&] { return inner_.read_objects(t, ids, r); });
}
model::Result<pipeline::ArchivedPage> TimedCrm::list_archived(const std::string& t, const std::string& after,
                                                              const std::vector<std::string>& props) {
  return timed([&] { return inner_.list_archived(t, after, props); });
}
model::Result<pipeline::SweepPage> TimedCrm::sweep(const std::string& t, const pipeline::SweepCursor& from,
                                                   const std::vector<std::string>& props, int page_size,
                                                   const std::vector<mapping::HubspotFilter>& filters) {
  return timed([&] { return inner_.sweep(t, from, props, page_size, filters); });
}
model::Result<std::vector<pipeline::WriteOutcome>> TimedCrm::associate(
    const std::string& from, const std::string& to, const std::vector<pipeline::AssociationInput>& in) {
  return timed([&] { return inner_.associate(from, to, in); });
}
model::Result<std::vector<pipeline::Associated>> TimedCrm::associations(const std::string& from, const std::string& to,
                                                                        const std::vector<std::string>& ids) {
  return timed([&] { return inner_.associations(from, to, ids); });
}
model::Status TimedCrm::unassociate(const std::string& from, const std::string& to,
                                    const std::vector<std::pair<std::string, std::string>>& pairs) {
  return timed([&] { return inner_.unassociate(from, to, pairs); });
}
model::Status TimedCrm::unassociate_types(const std::string& from, const std::string& to,
                                          const std::vector<pipeline::AssociationInput>& in) {
  return timed([&] { return inner_.unassociate_types(from, to, in); });
}
model::Result<std::optional<pipeline::AssociationType>> TimedCrm::association_type(const std::string& from,
                                                                                   const std::string& to,
                                                                                   const std::string& label) {
  return timed([&] { return inner_.association_type(from, to, label); });
}

std::string pull_line(const pipeline::PullStats& s) {
  return "read " + std::to_string(s.read) + ", created " + std::to_string(s.created) + ", updated " +
         std::to_string(s.updated) + ", deleted " + std::to_string(s.deleted) + ", linked " +
         std::to_string(s.linked) + ", unchanged " + std::to_string(s.unchanged) + ", conflicts " +
         std::to_string(s.conflicts) + ", written back to HubSpot " + std::to_string(s.hubspot_updates) +
         ", dead-lettered " + std::to_string(s.dead_lettered);
}

std::string push_line(const pipeline::PushStats& s) {
  return "created " + std::to_string(s.created) + ", updated " + std::to_string(s.updated) + ", unchanged " +
         std::to_string(s.unchanged) + ", archived " + std::to_string(s.archived) + ", dead-lettered " +
         std::to_string(s.dead_lettered) + ", deleted in Postgres " + std::to_string(s.deleted_in_postgres);
}

}  // namespace hubsync::bench
