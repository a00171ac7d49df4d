#pragma once

// One mapping's pipelines wired as `hubsync run --once` wires them (config
// defaults, HubSpotStack, PgDatabase, the SQLite state store), over a
// database of its own and a simulator process. For bench_pull.
#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "connectors/postgres/pg_database.h"
#include "engine/cli/hubspot_stack.h"
#include "engine/mapping/mapping.h"
#include "engine/pipeline/pull.h"
#include "engine/pipeline/push.h"
#include "engine/state/sqlite_state_store.h"
#include "tests/support/pg.h"

namespace hubsync::bench {

/// A CrmPort that forwards every call to `inner` unchanged and sums the
/// wall time during which at least one of them was in flight: the time
/// the pipeline waited for HubSpot (the simulator), so what is left is the
/// pipeline's own. Calls that overlap (the sweep's windows, a page asked
/// while another is reconciled) count once. Thread-safe.
class TimedCrm final : public pipeline::CrmPort {
 public:
  explicit TimedCrm(pipeline::CrmPort& inner) : inner_(inner) {}
  double seconds() const {
    std::lock_guard lock(mu_);
    return seconds_;
  }

  model::Result<std::vector<pipeline::WriteOutcome>> upsert(const std::string& t, const std::string& id_property,
                                                            const std::vector<pipeline::UpsertInput>& in) override;
  model::Result<std::vector<pipeline::WriteOutcome>> update(const std::string& t,
                                                            const std::vector<pipeline::UpdateInput>& in) override;
  model::Result<std::vector<pipeline::WriteOutcome>> archive(const std::string& t,
                                                             const std::vector<std::string>& ids) override;
  model::Result<std::vector<pipeline::ReadOutcome>> read_objects(const std::string& t,
                                                                 const std::vector<std::string>& ids,
                                                                 const pipeline::ReadRequest& r) override;
  model::Result<pipeline::ArchivedPage> list_archived(const std::string& t, const std::string& after,
                                                      const std::vector<std::string>& props) override;
  model::Result<pipeline::SweepPage> sweep(const std::string& t, const pipeline::SweepCursor& from,
                                           const std::vector<std::string>& props, int page_size,
                                           const std::vector<mapping::HubspotFilter>& filters) override;
  model::Result<std::vector<pipeline::WriteOutcome>> associate(
      const std::string& from, const std::string& to, const std::vector<pipeline::AssociationInput>& in) override;
  model::Result<std::vector<pipeline::Associated>> associations(const std::string& from, const std::string& to,
                                                                const std::vector<std::string>& ids) override;
  model::Status unassociate(const std::string& from, const std::string& to,
                            const std::vector<std::pair<std::string, std::string>>& pairs) override;
  model::Status unassociate_types(const std::string& from, const std::string& to,
                                  const std::vector<pipeline::AssociationInput>& in) override;
  model::Result<std::optional<pipeline::AssociationType>> association_type(const std::string& from,
                                                                           const std::string& to,
                                                                           const std::string& label) override;
  std::optional<model::ClockOffset> clock_offset() const override { return inner_.clock_offset(); }

 private:
  template <typename F>
  auto timed(F&& f) -> decltype(f());
  pipeline::CrmPort& inner_;
  mutable std::mutex mu_;
  int in_flight_ = 0;
  std::chrono::steady_clock::time_point since_;  // the first of the calls in flight began
  double seconds_ = 0;
};

/// A two-way contacts mapping: people(id bigserial, email unique, ...) <->
/// contacts matched by email, six fields, conflicts decided by `newest`.
/// The pipelines get hubspot->crm through a TimedCrm (a pass-through).
class PullStack {
 public:
  /// Creates the table and installs hubsync's schema and capture. `limits`
  /// replaces the limiter the configuration's defaults give (nullopt: the
  /// CLI's own). Without `match_index` the table lacks the index on
  /// lower(btrim(email)) the pull's match lookup needs (what hubsync migrate warns
  /// of). Throws std::runtime_error on failure.
  PullStack(const std::string& server_dsn, const std::string& sim_url,
            std::optional<ratelimit::LimiterConfig> limits, bool match_index = true);
  ~PullStack();
  PullStack(const PullStack&) = delete;
  PullStack& operator=(const PullStack&) = delete;

  /// One pull pass as `hubsync run` makes it (due dead letters, then run()).
  /// Throws on an error or when HubSpot was unreachable.
  pipeline::PullStats pull(int sweep_windows = pipeline::PullOptions{}.sweep_windows);
  /// One push pass likewise (requeue due dead letters, then run()).
  pipeline::PushStats push();
  const mapping::Mapping& mapping() const { return m_; }

  /// Where the mapped table stands now (the next transaction id, its rows),
  /// for pg_writes_since: Postgres writes read from the table itself, not
  /// from hubsync's stats.
  struct PgMark {
    std::int64_t next_xid = 0, rows = 0;
  };
  PgMark pg_mark();
  /// Row versions written (inserted or updated) in `people` since `m`, plus
  /// rows gone: 0 when nothing was written. Assumes no xid wraparound since
  /// the mark (a benchmark's cluster is young).
  std::int64_t pg_writes_since(const PgMark& m);

  test::TempDatabase db;
  config::Config cfg;
  ratelimit::SystemClock clock;
  std::unique_ptr<state::SqliteStateStore> store;
  std::unique_ptr<cli::HubSpotStack> hubspot;
  std::unique_ptr<postgres::PgDatabase> pg;
  /// What the pipelines call: hubspot->crm, timed.
  std::unique_ptr<TimedCrm> crm;

 private:
  std::filesystem::path dir_;
  mapping::Mapping m_;
  std::map<std::string, const mapping::Mapping*> all_;
};

std::string pull_line(const pipeline::PullStats& s);
std::string push_line(const pipeline::PushStats& s);

}  // namespace hubsync::bench
