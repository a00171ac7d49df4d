#!/usr/bin/env bash
# The hubsync demo, both ways: a throwaway PostgreSQL 15 loaded with
# mappings/demo.sql and the bundled HubSpot simulator, synced by the real
# `hubsync` binary with the example mappings.
#
# Some records exist only in Postgres, some only in HubSpot (created "in the
# UI" through the simulator), some in both with different or missing values;
# one sync links and completes them. Then both sides are edited (a Postgres
# update, a HubSpot edit, the same fields edited on both sides, a contact
# and a company deleted in HubSpot, a contact moved to another company in
# HubSpot) and a second sync reconciles them. Every table printed is read back from the two
# systems (psql, and HubSpot's own API on the simulator), never echoed from
# what the script wrote. Leaves nothing running.
#
#   bash deploy/demo.sh            # install what is missing, build, run
#   KEEP=1 bash deploy/demo.sh     # keep the work folder (config, state, logs)
#
# Exit code: 0 when every step succeeded. A failing setup step (config
# check, schema apply, validate, migrate, a curl) stops the demo with its
# exit code; a `hubsync run` that exits non-zero (README, "Exit codes") is
# shown, the demo goes on, and exits with that code.
#
# For tests (tests/integration/cli/demo_test.cpp), all optional:
#   HUBSYNC_BIN=PATH            use this hubsync binary: no install, no build
#   HUBSPOT_SIM_BIN=PATH        the simulator binary to start
#   HUBSYNC_DEMO_PG_DSN=DSN     an empty database to use instead of a throwaway cluster
#   HUBSYNC_DEMO_SIM_URL=URL    a fresh, running simulator to use instead of starting one
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
say() { printf '%s\n' "$*"; }

build=build/release
if [[ -n ${HUBSYNC_BIN:-} ]]; then
  hubsync=$HUBSYNC_BIN
  sim_bin=${HUBSPOT_SIM_BIN:-$root/$build/tests/hubspot-sim/hubspot-sim}
else
  bash deploy/install-deps.sh
  if [[ ! -x $build/engine/cli/hubsync || ! -x $build/tests/hubspot-sim/hubspot-sim ]] ||
     [[ -n $(find engine connectors tests/hubspot-sim migrations -newer $build/engine/cli/hubsync -type f 2>/dev/null | head -1) ]]; then
    step "building hubsync and the HubSpot simulator (release)"
    cmake --preset release >/dev/null
    cmake --build --preset release --target hubsync hubspot-sim
  fi
  hubsync="$root/$build/engine/cli/hubsync"
  sim_bin="$root/$build/tests/hubspot-sim/hubspot-sim"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/hubsync-demo.XXXXXX")
chmod 755 "$work"
sim_pid=""
own_pg=""
cleanup() {
  if [[ -n $sim_pid ]]; then kill "$sim_pid" 2>/dev/null || true; wait "$sim_pid" 2>/dev/null || true; fi
  if [[ -n $own_pg ]]; then bash tests/pg/throwaway-pg.sh stop "$work/pg" >/dev/null 2>&1 || true; fi
  if [[ -n ${KEEP:-} ]]; then echo "work folder kept: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

# ---- reading both systems -------------------------------------------------

# Tab-separated lines (the first is the header) as aligned columns, with a
# rule of dashes under the header. Cells are ASCII: awk counts bytes.
align() {
  awk -F'\t' '
    { n = NR; if (NF > nf) nf = NF
      for (i = 1; i <= NF; i++) { cell[NR, i] = $i; if (length($i) > w[i]) w[i] = length($i) } }
    END {
      for (r = 1; r <= n; r++) {
        line = ""
        for (i = 1; i <= nf; i++) line = line sprintf(i < nf ? "%-" w[i] "s  " : "%s", cell[r, i])
        sub(/ +$/, "", line); print "  " line
        if (r == 1) {
          line = ""
          for (i = 1; i <= nf; i++) { d = sprintf("%" w[i] "s", ""); gsub(/ /, "-", d); line = line d (i < nf ? "  " : "") }
          print "  " line
        }
      }
    }'
}

pg() { psql -X -q -At -F $'\t' -P null=- -v ON_ERROR_STOP=1 "$DEMO_PG_DSN" "$@"; }
# HubSpot's public API, as hubsync's private app sees it.
api() { curl -sS --fail-with-body -H "Authorization: Bearer $DEMO_HUBSPOT_TOKEN" -H 'Content-Type: application/json' "$@"; }
# The simulator's knobs: what a person does in the HubSpot UI.
ui() { curl -sS --fail-with-body -X POST "$sim_url/_sim/ui/$1" -H 'Content-Type: application/json' -d "$2"; }
# Another integration (not hubsync) calling HubSpot's API.
other_app() { curl -sS --fail-with-body -H "Authorization: Bearer pat-sim-other" -H 'Content-Type: application/json' "$@"; }

# jq helper: "-" for a missing or empty value.
jq_defs='def v: if . == null or . == "" then "-" else tostring end;'

# The objects of a type as HubSpot's API lists them: live ones, or archived
# ones with '&archived=true'; one page, as the demo has a dozen records.
hs_list() {  # type properties [extra query]
  api "$sim_url/crm/v3/objects/$1?limit=100&properties=$2${3:-}"
}

# One line per record in either system, keyed by the match value: the
# Postgres row, then the HubSpot object. `postgres` and `hubspot` are TSV
# files of "key<TAB>cells..." (HubSpot's archived objects carry id
# "archived"); a record one side lacks shows "(no row)" / "(none)".
side_by_side() {  # header postgres_tsv hubspot_tsv
  {
    printf '%s\n' "$1"
    cut -f1 "$2" "$3" | sort -u | awk -F'\t' -v OFS='\t' -v pgf="$2" -v hsf="$3" '
      FILENAME == pgf { rest = $0; sub(/^[^\t]*\t/, "", rest); pgrow[$1] = rest; next }
      FILENAME == hsf { rest = $0; sub(/^[^\t]*\t/, "", rest)
                        if ($2 != "archived" || !($1 in hsrow)) hsrow[$1] = rest; next }
      { print $0, "postgres", ($0 in pgrow ? pgrow[$0] : "(no row)")
        if (!($0 in hsrow)) print "", "hubspot", "(none)"
        else if (hsrow[$0] == "archived") print "", "hubspot", "(deleted)"
        else print "", "hubspot", hsrow[$0] }' "$2" "$3" -
  } | align
}

show_companies() {
  pg -c "SELECT code, id, name, coalesce(domain, '-'), coalesce(industry, '-'),
                coalesce(employees::text, '-'), CASE WHEN deleted_at IS NULL THEN '-' ELSE 'deleted_at set' END
           FROM accounts ORDER BY code" >"$work/pg.tsv"
  local props=hubsync_account_code,name,domain,industry,numberofemployees
  { hs_list companies "$props"; echo; hs_list companies hubsync_account_code '&archived=true'; } |
    jq -r "$jq_defs"' .results[] | .properties as $p |
      if .archived then [($p.hubsync_account_code | v), "archived"]
      else [($p.hubsync_account_code | v), .id, ($p.name | v), ($p.domain | v), ($p.industry | v),
            ($p.numberofemployees | v), "-"] end | @tsv' >"$work/hs.tsv"
  say "companies: Postgres public.accounts / HubSpot companies, by account code"
  side_by_side $'code\tside\tid\tname\tdomain\tindustry\temployees\tdeleted' "$work/pg.tsv" "$work/hs.tsv"
}

show_contacts() {
  pg -c "SELECT c.email, c.id, coalesce(c.first_name, '-'), coalesce(c.last_name, '-'),
                coalesce(c.phone, '-'), c.stage, coalesce(a.code, '-')
           FROM customers c LEFT JOIN accounts a ON a.id = c.account_id ORDER BY c.email" >"$work/pg.tsv"
  local codes
  codes=$(hs_list companies hubsync_account_code |
          jq -c '[.results[] | {key: .id, value: (.properties.hubsync_account_code // .id)}] | from_entries')
  { hs_list contacts email,firstname,lastname,phone,lifecyclestage '&associations=companies'; echo
    hs_list contacts email '&archived=true'; } |
    jq -r --argjson codes "$codes" "$jq_defs"' .results[] | .properties as $p |
      if .archived then [($p.email | v), "archived"]
      else [($p.email | v), .id, ($p.firstname | v), ($p.lastname | v), ($p.phone | v),
            ($p.lifecyclestage | v),
            ([.associations.companies.results[]?.id] | unique | map($codes[.] // .) | join(",") | v)] end
      | @tsv' >"$work/hs.tsv"
  say "contacts: Postgres public.customers / HubSpot contacts, by email (company: the account code)"
  side_by_side $'email\tside\tid\tfirst name\tlast name\tphone\tstage / lifecyclestage\tcompany' \
    "$work/pg.tsv" "$work/hs.tsv"
}

show_both() {
  step "$1: both systems, read back"
  show_companies
  echo
  show_contacts
}

# ---- the systems ----------------------------------------------------------

if [[ -n ${HUBSYNC_DEMO_PG_DSN:-} ]]; then
  step "PostgreSQL: the database given in HUBSYNC_DEMO_PG_DSN; loading mappings/demo.sql"
  dsn=$HUBSYNC_DEMO_PG_DSN
else
  step "starting a throwaway PostgreSQL 15 and loading mappings/demo.sql"
  own_pg=1
  dsn=$(bash tests/pg/throwaway-pg.sh start "$work/pg")
fi
export DEMO_PG_DSN="$dsn"
psql -X -q "$dsn" -v ON_ERROR_STOP=1 -f mappings/demo.sql >/dev/null 2>"$work/demo-sql.log" ||
  { cat "$work/demo-sql.log" >&2; exit 1; }
say "Postgres holds $(pg -c "SELECT count(*) FROM accounts") accounts and $(pg -c "SELECT count(*) FROM customers")"\
  "customers, $(pg -c "SELECT count(*) FROM customers WHERE status = 'test'") of them with status 'test' (the customers filter keeps those out of HubSpot)"

if [[ -n ${HUBSYNC_DEMO_SIM_URL:-} ]]; then
  sim_url=$HUBSYNC_DEMO_SIM_URL
  step "the HubSpot simulator given in HUBSYNC_DEMO_SIM_URL"
else
  step "starting the HubSpot simulator (tier 190 requests / 10 s)"
  "$sim_bin" --port 0 --tier 190 >"$work/sim.out" 2>"$work/sim.log" &
  sim_pid=$!
  for _ in $(seq 1 100); do grep -q listening "$work/sim.out" 2>/dev/null && break; sleep 0.05; done
  sim_url=$(grep -o 'http://[0-9.:]*' "$work/sim.out")
fi
say "simulator at $sim_url"
# HubSpot's search index lags writes (seconds in HubSpot, 300 ms in the
# simulator): the pull finds changed objects by search, so a sync started
# the instant after an edit would only see it on the next run.
wait_for_search_index() { sleep 1; }

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
pull:
  # Changing an association does not move either object's last-modified
  # time, so the sweep never sees it: the pull reads every linked object's
  # associations again in its periodic association pass (6 h by default).
  # 0 makes every run do the pass, so the demo's second run sees the move.
  association_pass_every_s: 0
state:
  path: state.db
mappings:
  dir: mappings
log:
  level: warn
YAML
export DEMO_HUBSPOT_TOKEN=pat-sim-hubsync
worst=0
hs() { echo "\$ hubsync $*"; "$hubsync" --config "$work/hubsync.yaml" "$@"; }
hs_quiet() { "$hubsync" --config "$work/hubsync.yaml" "$@"; }
# One `hubsync run --once`, its logs kept in the work folder; the
# simulator's request counters are zeroed before and saved after it, so they
# count hubsync's requests only.
run_sync() {  # N
  local rc=0
  curl -sS --fail-with-body -X POST "$sim_url/_sim/counters/reset" >/dev/null
  hs run --once 2>>"$work/hubsync.log" || rc=$?
  curl -sS --fail-with-body "$sim_url/_sim/counters" >"$work/counters-$1.json"
  say "(exit code $rc)"
  if [[ $rc -ne 0 && $worst -eq 0 ]]; then worst=$rc; fi
}

step "hubsync config check"
hs config check
step "hubsync schema apply: create the custom object and properties the mappings declare"
hs schema apply
step "hubsync validate: mappings against the live database and HubSpot"
hs validate
step "hubsync migrate: install the change-capture triggers"
hs migrate

# ---- seed HubSpot ---------------------------------------------------------

step "people create records in the HubSpot UI"
hooli=$(ui create '{"type":"companies","properties":{"hubsync_account_code":"HOOLI","name":"Hooli","domain":"hooli.example","industry":"COMPUTER_SOFTWARE","numberofemployees":"300"}}' | jq -r .id)
say "company HOOLI (Hooli): only in HubSpot"
ui create '{"type":"companies","properties":{"hubsync_account_code":"UMBRELLA","name":"Umbrella","domain":"umbrella.example"}}' >/dev/null
say "company UMBRELLA (Umbrella): only in HubSpot, no contacts"
ui create '{"type":"companies","properties":{"hubsync_account_code":"GLOBEX","name":"Globex","industry":"UTILITIES","numberofemployees":"2500"}}' >/dev/null
say "company GLOBEX: also in Postgres; HubSpot has no domain and says 2500 employees (Postgres: 2400)"
linus=$(ui create '{"type":"contacts","properties":{"email":"linus@hooli.example","firstname":"Linus","lastname":"Torvalds","phone":"+1 650 555 0100","lifecyclestage":"lead"}}' | jq -r .id)
other_app -X POST "$sim_url/crm/v4/associations/contacts/companies/batch/create" \
  -d '{"inputs":[{"from":{"id":"'"$linus"'"},"to":{"id":"'"$hooli"'"},"types":[{"associationCategory":"HUBSPOT_DEFINED","associationTypeId":279}]}]}' >/dev/null
say "contact linus@hooli.example at Hooli: only in HubSpot"
ui create '{"type":"contacts","properties":{"email":"grace@globex.example","lastname":"Hopper","phone":"+1 202 555 0143"}}' >/dev/null
say "contact grace@globex.example: also in Postgres; HubSpot has her phone (Postgres has none) but no first name"
ui create '{"type":"contacts","properties":{"email":"ada@acme.example","firstname":"Ada","lastname":"King"}}' >/dev/null
say "contact ada@acme.example: also in Postgres, where her last name is Lovelace (HubSpot: King)"

show_both "before the first sync"
say "Each record is two lines: its Postgres row and its HubSpot object. (no row): not in Postgres;"
say "(none): not in HubSpot; (deleted): in HubSpot's recycle bin; -: no value. stage is mapped through"
say "customers.yaml's value_map (prospect <-> lead, qualified <-> salesqualifiedlead, churned <-> other)."

# ---- sync 1 ---------------------------------------------------------------

step "hubsync run --once: HubSpot -> Postgres, then Postgres -> HubSpot, parents first"
wait_for_search_index
run_sync 1
show_both "after the first sync"

# ---- edits on both sides --------------------------------------------------

step "editing both sides"
id_of() {  # type unique_property value -> the live object's id, read from HubSpot
  api "$sim_url/crm/v3/objects/$1/$3?idProperty=$2" | jq -r .id
}
ada=$(id_of contacts email ada@acme.example)
grace=$(id_of contacts email grace@globex.example)
edsger=$(id_of contacts email edsger@acme.example)
acme=$(id_of companies hubsync_account_code ACME)
globex=$(id_of companies hubsync_account_code GLOBEX)

pg -c "UPDATE customers SET stage = 'customer' WHERE email = 'alan@initech.example'"
say "Postgres: alan@initech.example becomes a customer (stage prospect -> customer)"
pg -c "UPDATE customers SET first_name = 'Augusta Ada' WHERE email = 'ada@acme.example'"
pg -c "UPDATE accounts SET employees = 130 WHERE code = 'ACME'"
say "Postgres: ada's first name -> 'Augusta Ada'; ACME's employees -> 130"
sleep 1  # the HubSpot edits below are clearly the newer ones
ui edit '{"type":"contacts","id":"'"$ada"'","properties":{"firstname":"Countess Ada"}}' >/dev/null
ui edit '{"type":"companies","id":"'"$acme"'","properties":{"numberofemployees":"150"}}' >/dev/null
say "HubSpot UI, a second later: ada's first name -> 'Countess Ada'; ACME's employees -> 150 (two conflicts)"
ui edit '{"type":"contacts","id":"'"$grace"'","properties":{"lastname":"Murray Hopper"}}' >/dev/null
say "HubSpot UI: grace's last name -> 'Murray Hopper'"
ui delete '{"type":"contacts","id":"'"$edsger"'"}' >/dev/null
say "HubSpot UI: contact edsger@acme.example deleted"
ui delete '{"type":"companies","id":"'"$(id_of companies hubsync_account_code UMBRELLA)"'"}' >/dev/null
say "HubSpot UI: company UMBRELLA deleted (accounts.yaml says deletes: soft)"
other_app -X POST "$sim_url/crm/v4/associations/contacts/companies/batch/labels/archive" \
  -d '{"inputs":[{"from":{"id":"'"$grace"'"},"to":{"id":"'"$globex"'"},"types":[{"associationCategory":"HUBSPOT_DEFINED","associationTypeId":279}]}]}' >/dev/null
other_app -X POST "$sim_url/crm/v4/associations/contacts/companies/batch/create" \
  -d '{"inputs":[{"from":{"id":"'"$grace"'"},"to":{"id":"'"$acme"'"},"types":[{"associationCategory":"HUBSPOT_DEFINED","associationTypeId":279}]}]}' >/dev/null
say "HubSpot API (another app): grace moved from company GLOBEX to ACME (association type 279)"

show_both "before the second sync"

# ---- sync 2 ---------------------------------------------------------------

step "hubsync run --once again"
wait_for_search_index
run_sync 2
show_both "after the second sync"

step "hubsync conflicts list: each field both sides changed, and the rule that decided"
hs conflicts list
say "The rules are the mappings' \`conflict:\` settings (a field's own setting overrides its mapping's):"
grep -Hn 'conflict:' mappings/accounts.yaml mappings/customers.yaml | sed 's/^/  /'
say "newest: the side that changed the field last wins (Postgres: the captured change's time; HubSpot: the"
say "property's history). A side without a known time loses to one with; with neither (a first link of"
say "rows loaded before capture was installed) the tie goes to Postgres."
step "hubsync dead-letters list"
hs dead-letters list
step "requests hubsync made, per run (simulator counters)"
jq -rn --slurpfile one "$work/counters-1.json" --slurpfile two "$work/counters-2.json" '
  def rows($c): [$c.requests | to_entries[] | select(.key | test(" /_sim/") | not) | .key as $r
                 | .value | to_entries[] | {key: "\($r)\t\(.key)", value: .value}] | from_entries;
  rows($one[0]) as $a | rows($two[0]) as $b |
  (["request", "status", "run 1", "run 2"] | @tsv),
  (($a + $b) | keys[] as $k | ($k | split("\t")) + [($a[$k] // 0 | tostring), ($b[$k] // 0 | tostring)] | @tsv),
  (["total", "", ([$a[]] | add // 0 | tostring), ([$b[]] | add // 0 | tostring)] | @tsv),
  (["answered 429 (rate limited)", "", ($one[0].rateLimited | tostring), ($two[0].rateLimited | tostring)] | @tsv)' |
  align

# ---- summary, from what both systems hold now -----------------------------

step "summary"
contact() {  # email property -> HubSpot's value
  api "$sim_url/crm/v3/objects/contacts/$1?idProperty=email&properties=$2" | jq -r ".properties.$2 // \"-\""
}
company() {  # code property -> HubSpot's value
  api "$sim_url/crm/v3/objects/companies/$1?idProperty=hubsync_account_code&properties=$2" | jq -r ".properties.$2 // \"-\""
}
account_of() { pg -c "SELECT coalesce(a.code, '-') FROM customers c LEFT JOIN accounts a ON a.id = c.account_id WHERE c.email = '$1'"; }
n_pg=$(pg -c "SELECT count(*) FROM customers WHERE status <> 'test'")
n_hs=$(hs_list contacts email | jq '.results | length')
dups=$(hs_list contacts email | jq '[.results[].properties.email] | group_by(.) | map(select(length > 1)) | length')
n_acc=$(pg -c "SELECT count(*) FROM accounts WHERE deleted_at IS NULL")
n_co=$(hs_list companies name | jq '.results | length')
grace_phone=$(pg -c "SELECT coalesce(phone, '-') FROM customers WHERE email = 'grace@globex.example'")
grace_last=$(pg -c "SELECT coalesce(last_name, '-') FROM customers WHERE email = 'grace@globex.example'")
globex_domain=$(company GLOBEX domain)
alan_stage=$(contact alan@initech.example lifecyclestage)
linus_acc=$(account_of linus@hooli.example)
grace_acc=$(account_of grace@globex.example)
edsger_rows=$(pg -c "SELECT count(*) FROM customers WHERE email = 'edsger@acme.example'")
umbrella=$(pg -c "SELECT CASE WHEN deleted_at IS NULL THEN 'not set' ELSE 'set' END FROM accounts WHERE code = 'UMBRELLA'")
conflicts=$(hs_quiet conflicts list --json | jq -r 'reverse | map("\(.mapping).\(.field) of key \(.pg_key): \(.winner) won with \(if .winner == "postgres" then .postgres_value else .hubspot_value end | @json) (rule \(.rule))") | join("; ")')
n_conflicts=$(hs_quiet conflicts list --json | jq length)
n_dead=$(hs_quiet dead-letters list | grep -c '^#' || true)
say "The first run linked the records both systems already had (ada and grace by email, GLOBEX by account"\
 "code: HubSpot now holds $dups duplicate emails), filled the gaps each way (grace's phone, only in"\
 "HubSpot before, is in Postgres: $grace_phone; GLOBEX's domain, only in Postgres before, is in HubSpot:"\
 "$globex_domain), brought HubSpot-only records into Postgres (linus, at $linus_acc) and pushed"\
 "Postgres-only ones (the 'test' customer stays out: the customers filter). The second run carried"\
 "the Postgres update to HubSpot (alan's lifecyclestage: $alan_stage) and the HubSpot edit to"\
 "Postgres (grace's last name: $grace_last), deleted the row of the contact deleted in HubSpot"\
 "(edsger: $edsger_rows rows left), soft-deleted UMBRELLA's row (deleted_at $umbrella) and followed"\
 "grace's move in HubSpot (account now $grace_acc). The mappings' rules decided $n_conflicts"\
 "conflicts: $conflicts. Now Postgres has $n_pg syncable customers and $n_acc live accounts, HubSpot"\
 "$n_hs contacts and $n_co companies; $n_dead dead letters; $([[ $worst -eq 0 ]] && echo "both runs" \
 "exited 0" || echo "a run exited $worst (README: Exit codes)")." | fold -s -w 100
exit "$worst"
