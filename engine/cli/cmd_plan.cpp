// `hubsync plan`: what `run --once` would do now, in both directions, and
// nothing done. The pull and push run as they would, against dry-run ports
// (pipeline/dry_run.h: reads for real, writes recorded) and a copy of the
// state store; HubSpot, Postgres and the state file are never written.
#include <stdlib.h>

#include <filesystem>
#include <iostream>
#include <map>

#include "connectors/postgres/pg_database.h"
#include "engine/cli/app.h"
#include "engine/cli/capture_check.h"
#include "engine/cli/hubspot_stack.h"
#include "engine/cli/mappings.h"
#include "engine/cli/runtime.h"
#include "engine/ops/logging.h"
#include "engine/pipeline/dry_run.h"
#include "engine/pipeline/pull.h"
#include "engine/pipeline/push.h"
#include "engine/pipeline/resync.h"

namespace hubsync::cli {

namespace {

namespace fs = std::filesystem;

// A scratch directory, removed with its contents.
struct Scratch {
  fs::path dir;
  Scratch() {
    std::string tmpl = (fs::temp_directory_path() / "hubsync-plan-XXXXXX").string();
    if (mkdtemp(tmpl.data()) != nullptr) dir = tmpl;
  }
  ~Scratch() {
    std::error_code ec;
    if (!dir.empty()) fs::remove_all(dir, ec);
  }
};

// The state store the plan runs against: a copy of the real one (or a new
// one when nothing has run yet).
std::unique_ptr<state::SqliteStateStore> state_copy(const config::Config& cfg, const Scratch& scratch) {
  if (scratch.dir.empty()) {
    std::cerr << "plan: could not make a scratch directory in " << fs::temp_directory_path() << '\n';
    return nullptr;
  }
  const std::string copy = (scratch.dir / "state.db").string();
  if (fs::exists(cfg.state.path))
    if (auto st = state::SqliteStateStore::copy_file(cfg.state.path, copy); !st.ok()) {
      std::cerr << "plan: copying the state store: " << st.error().message << '\n';
      return nullptr;
    }
  config::Config scratch_cfg = cfg;
  scratch_cfg.state.path = copy;
  return open_state(scratch_cfg, /*read_only=*/false);
}

std::string counts(const std::map<std::string, int>& by_kind) {
  std::string out;
  for (const char* k : {"create", "update", "delete", "archive", "associate", "unassociate"})
    if (auto it = by_kind.find(k); it != by_kind.end())
      out += std::string(out.empty() ? "" : ", ") + std::to_string(it->second) + " " + k;
  return out.empty() ? "nothing" : out;
}

std::string shown(const std::optional<std::string>& v) { return v ? "\"" + *v + "\"" : "(not read)"; }

// Up to `limit` planned changes per side, field by field; values only when
// asked for.
void print_samples(const pipeline::Plan& plan, std::size_t limit, bool values) {
  std::map<std::string, std::size_t> printed;
  for (const auto& c : plan.changes) {
    if (printed[c.side]++ >= limit) continue;
    std::cout << "  " << (c.side == "hubspot" ? "to HubSpot:  " : "to Postgres: ") << c.kind << " " << c.target;
    if (c.fields.empty()) std::cout << '\n';
    else std::cout << ":";
    for (std::size_t i = 0; i < c.fields.size(); ++i) {
      const auto& f = c.fields[i];
      std::cout << (i ? "," : "") << " " << f.name;
      if (!values) continue;
      if (c.kind == "create") std::cout << " \"" << f.after << "\"";
      else std::cout << " " << shown(f.before) << " -> \"" << f.after << "\"";
    }
    if (!c.fields.empty()) std::cout << '\n';
  }
  for (const auto& [side, n] : printed)
    if (n > limit) std::cout << "  ... and " << n - limit << " more to " << (side == "hubspot" ? "HubSpot" : "Postgres") << '\n';
}

// Runs one pass (`pass`: a Puller's or a Pusher's) against the dry-run
// ports and prints what it would have written; false when it could not.
template <class Pass>
bool plan_one(const config::Config& cfg, const std::string& what, pipeline::Plan& plan, Pass pass) {
  const std::size_t from = plan.changes.size();
  auto s = pass();
  if (!s.ok()) {
    std::cout << what << ": cannot plan: " << config::redact(cfg, s.error().message) << '\n';
    return false;
  }
  std::map<std::string, int> hubspot_kinds, postgres_kinds;
  for (std::size_t i = from; i < plan.changes.size(); ++i)
    ++(plan.changes[i].side == "hubspot" ? hubspot_kinds : postgres_kinds)[plan.changes[i].kind];
  std::cout << what << ": Postgres " << counts(postgres_kinds) << "; HubSpot " << counts(hubspot_kinds)
            << "; conflicts " << s->conflicts << ", dead letters " << s->dead_lettered;
  if (s->held > 0)
    std::cout << "; " << s->held << " deletion(s) would be HELD (over max_deletes: `hubsync deletes list` after a run)";
  std::cout << '\n';
  return true;
}

// Says when a pending `hubsync resync` makes this pass look at everything.
void say_resync(state::StateStore& store, const std::string& mapping, state::Direction d) {
  auto asked = pipeline::resync_request(store, mapping, d);
  if (!asked.ok() || *asked == pipeline::ResyncRequest::none) return;
  std::cout << mapping << " (" << state::to_string(d) << "): resync asked: "
            << (d == state::Direction::to_hubspot ? "every row is loaded again"
                                                  : "every object is read again and the association pass runs")
            << (*asked == pipeline::ResyncRequest::overwrite ? ", one-way fields' values sent again" : "") << '\n';
}

}  // namespace

int cmd_plan(const GlobalOptions& global, const PlanOptions& options) {
  Workload w;
  if (int rc = load_workload(global, options.mapping, "plan", w); rc != kExitOk) return rc;
  const config::Config& cfg = w.cfg;
  const auto& by_name = w.by_name;
  Scratch scratch;
  auto store = state_copy(cfg, scratch);
  if (!store) return kExitUnavailable;
  // On the copy: the plan shows what a run after this mapping edit would do.
  const auto to_stderr = [](const std::string& line, bool error) {
    std::cerr << "plan: " << (error ? "" : "warning: ") << line << '\n';
  };
  postgres::PgDatabase real_db(cfg.postgres.dsn.value, ops::logger("postgres"));
  real_db.skip_relay();  // a plan writes nothing, so changes the slot still holds are not in it
  ratelimit::SystemClock clock;
  HubSpotStack hubspot(cfg, store.get(), clock);
  PortalIdentity portal;
  if (int rc = learn_portal(cfg, hubspot.client, store.get(), /*record=*/true, to_stderr, portal); rc != kExitOk) return rc;
  if (int rc = check_fingerprints(cfg, w.mappings, options.mapping, *store, real_db, portal, to_stderr);
      rc != kExitOk)
    return rc;
  pipeline::Plan plan;
  pipeline::DryRunDatabase db(real_db, plan);
  pipeline::DryRunCrm crm(hubspot.crm, plan);
  pipeline::PullOptions pull_options = cli::pull_options(cfg);
  pull_options.write_hubspot = options.direction != "to_postgres";

  int rc = kExitOk;
  for (const mapping::Mapping* m : pipeline::push_order(w.mappings)) {
    if (!options.mapping.empty() && m->name != options.mapping) continue;
    if (m->pulls() && options.direction != "to_hubspot") {
      say_resync(*store, m->name, state::Direction::to_postgres);
      pipeline::Puller puller(*m, by_name, db, crm, *store, clock, ops::logger("pull"), pull_options);
      if (!plan_one(cfg, m->name + " (to_postgres)", plan, [&] { return puller.run(); })) rc = kExitUnavailable;
    }
    if (m->pushes() && options.direction != "to_postgres") {
      say_resync(*store, m->name, state::Direction::to_hubspot);
      pipeline::Pusher pusher(*m, by_name, db, crm, *store, clock, ops::logger("push"));
      if (!plan_one(cfg, m->name + " (to_hubspot)", plan, [&] { return pusher.run(); })) rc = kExitUnavailable;
    }
  }
  if (!plan.changes.empty()) {
    std::cout << "samples" << (options.show_values ? "" : " (values hidden: --show-values shows them)") << ":\n";
    print_samples(plan, options.limit, options.show_values);
  }
  std::cout << "plan: nothing was written (HubSpot, Postgres and the state store are as they were)\n";
  return rc;
}

}  // namespace hubsync::cli
