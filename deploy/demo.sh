#!/usr/bin/env bash
# The hubsync demo on the embedded default: a throwaway PostgreSQL 15 loaded
# with mappings/demo.sql and the bundled HubSpot simulator, synced by the real
# `hubsync` binary with the example mappings. Prints every step and what
# hubsync did; leaves nothing running.
#
#   bash deploy/demo.sh            # install what is missing, build, run
#   KEEP=1 bash deploy/demo.sh     # keep the work folder (config, state, logs)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

bash deploy/install-deps.sh
build=build/release
if [[ ! -x $build/engine/cli/hubsync || ! -x $build/tests/hubspot-sim/hubspot-sim ]] ||
   [[ -n $(find engine connectors tests/hubspot-sim migrations -newer $build/engine/cli/hubsync -type f 2>/dev/null | head -1) ]]; then
  step "building hubsync and the HubSpot simulator (release)"
  cmake --preset release >/dev/null
  cmake --build --preset release --target hubsync hubspot-sim
fi
hubsync="$root/$build/engine/cli/hubsync"
sim_bin="$root/$build/tests/hubspot-sim/hubspot-sim"

work=$(mktemp -d "${TMPDIR:-/tmp}/hubsync-demo.XXXXXX")
chmod 755 "$work"
sim_pid=""
cleanup() {
  [[ -n $sim_pid ]] && kill "$sim_pid" 2>/dev/null || true
  bash tests/pg/throwaway-pg.sh stop "$work/pg" >/dev/null 2>&1 || true
  if [[ -n ${KEEP:-} ]]; then echo "work folder kept: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

step "starting a throwaway PostgreSQL 15 and loading mappings/demo.sql"
dsn=$(bash tests/pg/throwaway-pg.sh start "$work/pg")
psql -q "$dsn" -v ON_ERROR_STOP=1 -f mappings/demo.sql >/dev/null 2>&1
psql "$dsn" -c "SELECT id, email, first_name, stage, account_id FROM customers ORDER BY id"

step "starting the HubSpot simulator (tier 190 requests / 10 s)"
"$sim_bin" --port 0 --tier 190 >"$work/sim.out" 2>"$work/sim.log" &
sim_pid=$!
for _ in $(seq 1 100); do grep -q listening "$work/sim.out" 2>/dev/null && break; sleep 0.05; done
sim_url=$(grep -o 'http://[0-9.:]*' "$work/sim.out")
echo "simulator at $sim_url"
# A contact that already exists in HubSpot with the same email as a customer:
# hubsync must update it, never create a duplicate.
curl -sf -X POST "$sim_url/_sim/ui/create" -H 'Content-Type: application/json' \
  -d '{"type":"contacts","properties":{"email":"ada@acme.example","firstname":"Ada (from the HubSpot UI)"}}' >/dev/null
echo "HubSpot already holds a contact ada@acme.example, created by a person in the UI"

cp -r mappings "$work/mappings"
cat >"$work/hubsync.yaml" <<YAML
postgres:
  dsn_env: DEMO_PG_DSN
hubspot:
  base_url: $sim_url
  portal_id: 62515
  token_env: DEMO_HUBSPOT_TOKEN
rate_limit:
  tier: 190
state:
  path: state.db
mappings:
  dir: mappings
log:
  level: warn
YAML
export DEMO_PG_DSN="$dsn" DEMO_HUBSPOT_TOKEN=pat-sim-hubsync
hs() { echo "\$ hubsync $*"; "$hubsync" --config "$work/hubsync.yaml" "$@"; }

step "hubsync config check"
hs config check
step "hubsync schema apply: create the custom object and properties the mappings declare"
hs schema apply
step "hubsync validate: mappings against the live database and HubSpot"
hs validate
step "hubsync migrate: install the change-capture triggers"
hs migrate
step "hubsync run --once: initial load, Postgres -> HubSpot"
hs run --once || true

step "changing Postgres: an update, an insert, a deleted customer, a cancelled registration"
psql -q "$dsn" <<'SQL'
UPDATE customers SET first_name = 'Augusta Ada', stage = 'customer' WHERE email = 'ada@acme.example';
INSERT INTO customers (email, first_name, last_name, stage, account_id) VALUES ('barbara@globex.example', 'Barbara', 'Liskov', 'qualified', 2);
DELETE FROM registrations WHERE event_id = 2 AND customer_id = 3;
DELETE FROM customers WHERE email = 'edsger@acme.example';
SQL
step "hubsync run --once: only what changed goes out"
hs run --once || true

step "what hubsync recorded for each captured change (hubsync.changelog_archive)"
psql "$dsn" -c "SELECT mapping, op, pk::text AS key, outcome, coalesce(detail, '') AS detail FROM hubsync.changelog_archive ORDER BY id"
step "HubSpot contacts now (from the simulator)"
curl -sf "$sim_url/crm/v3/objects/contacts?limit=100&properties=email,firstname,lifecyclestage" \
  -H "Authorization: Bearer pat-sim-hubsync" | tr '{' '\n' | grep -o '"email":"[^"]*","firstname":"[^"]*"' || true
step "requests hubsync made (simulator counters)"
curl -sf "$sim_url/_sim/counters" | tr ',' '\n' | grep -E '"(POST|GET|PUT|DELETE) ' || true
step "dead letters"
hs dead-letters list

echo
echo "Pull (HubSpot -> Postgres) is not built yet: this demo syncs Postgres -> HubSpot only."
