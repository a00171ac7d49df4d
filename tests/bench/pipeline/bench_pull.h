#pragma once

// bench_pull's scenario 3 (pull_changes.cpp): a two-way change set.
#include <string>

namespace hubsync::bench {

/// On `synced` contacts both sides already agree on: `hs` edited in HubSpot,
/// `pg` in Postgres, `both` on both sides (the same field: conflicts, half
/// newer in HubSpot, half in Postgres), `deleted` deleted on each side.
struct ChangeSet {
  int synced = 10000;
  int hs = 500, pg = 500, both = 50, deleted = 20;
  bool rerun_at_once = false;  ///< the no-op rerun inside the search index lag
  bool fits() const { return hs + pg + both + 2 * deleted <= synced; }
};

/// Reads "HS,PG,BOTH,DELETED" (e.g. "500,500,50,20"); false when malformed.
bool parse_changes(const std::string& text, ChangeSet& out);

/// Syncs `c.synced` contacts (pull backfill, push initial load), makes the
/// changes, runs pull then push and prints calls per changed object by kind
/// against the ideal, then a no-op rerun's calls. Throws on failure.
void scenario_changes(const std::string& server_dsn, const ChangeSet& c);

}  // namespace hubsync::bench
