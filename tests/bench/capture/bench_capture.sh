#!/usr/bin/env bash
# What hubsync's change capture costs the application that writes the table.
#
#   bench_capture.sh --hubsync PATH --relay PATH [--seconds N] [--rows N] [--clients N]
#                    [--rounds N] [--modes "durable fast"] [--compare-v1]
#                    [--compare-notify] [--compare-logical] [--after-migrate SQL]
#                    [--variant SQL]...
#
# For each mode, on a throwaway cluster of its own (tests/pg/throwaway-pg.sh;
# durable: fsync, synchronous_commit and full_page_writes on; fast: all off):
# a table of --rows rows (bigint key + 4 columns, one an integer the mapping
# watches), then pgbench with --clients clients for --seconds seconds of
#   UPDATE bench_t SET n = n + 1 WHERE id = <random id>
# without capture ("none") and with the capture the real `hubsync migrate`
# installs ("v2"; removed again by migrating with no mapping), --rounds
# times, in a rotating order so that drift in the machine's speed (and the
# disk's flush latency above all) falls on every side alike.
# --compare-v1 adds a third side: the generic trigger of hubsync's first
# schema (migrations/postgres/0001_changelog.sql) in place of v2's.
# --compare-notify adds a side "v2n": what `hubsync migrate` installs with
# `postgres.notify: true` (the function also NOTIFYs hubsync_changes), so
# that the trigger's cost and the NOTIFY's are told apart.
# --compare-logical adds two sides of capture by logical decoding, as
# `hubsync migrate` installs it with `postgres.capture: logical` (no
# trigger; publication hubsync and a pgoutput slot), with hubsync's relay
# (--relay: bench_relay, the shipped relay code) moving the slot's changes
# into hubsync.changelog while pgbench runs, so the decoding and the
# changelog's inserts are on the cluster's bill too: "lg", serve's default
# relay (postgres.relay: stream; one replication stream, written every
# 100 ms), and "lq<N>" for each N of --sql-every-ms (default "200 1000"):
# the SQL functions called every N ms, as serve's relay with
# postgres.relay: sql and serve.change_poll_ms: N (its default 200), the
# relay run --once makes before each read of the changelog.
# --after-migrate runs SQL after each install of v2, to measure a variant of
# hubsync's schema (e.g. "DROP INDEX IF EXISTS hubsync.changelog_mapping_id").
# --variant SQL (repeatable) adds a side "x<N>" instead, the N-th variant:
# v2 with SQL run after its install, measured beside v2 in the same rounds.
#
# Prints, per mode and side: mean TPS, its ratio to "none", the median and
# every round's ratio (each to the "none" run of the same round), and the
# CPU the cluster spent per transaction, which other load on the machine
# and the disk's moods disturb far less than TPS; then the same as
# `RESULT capture.<mode>.<side>.<figure>=value unit=...` lines for
# tests/bench/run_all.sh.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
hubsync="" relay="" sql_every="200 1000" logical=0 variants=() seconds=20 rows=100000 clients=4 rounds=2 modes="durable fast" after="" sides="none v2"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --hubsync) hubsync=$2; shift 2 ;;
    --relay) relay=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --rows) rows=$2; shift 2 ;;
    --clients) clients=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --modes) modes=$2; shift 2 ;;
    --compare-v1) sides="$sides v1"; shift ;;
    --compare-notify) sides="$sides v2n"; shift ;;
    --compare-logical) logical=1; shift ;;
    --sql-every-ms) sql_every=$2; shift 2 ;;
    --after-migrate) after=$2; shift 2 ;;
    --variant) variants+=("$2"); sides="$sides x${#variants[@]}"; shift 2 ;;
    *) echo "usage: $0 --hubsync PATH [--seconds N] [--rows N] [--clients N] [--rounds N]" \
            "[--modes 'durable fast'] [--compare-v1] [--compare-notify] [--compare-logical [--sql-every-ms '200 1000']]" \
            "[--after-migrate SQL] [--variant SQL]..." >&2
       exit 2 ;;
  esac
done
[[ -x "$hubsync" ]] || { echo "bench_capture: --hubsync must name the hubsync binary" >&2; exit 2; }
if ((logical)); then
  sides="$sides lg"
  for ms in $sql_every; do
    [[ $ms =~ ^[1-9][0-9]*$ ]] || { echo "bench_capture: --sql-every-ms takes milliseconds, not '$ms'" >&2; exit 2; }
    sides="$sides lq$ms"
  done
fi
[[ "$sides" != *lg* || -x "$relay" ]] || { echo "bench_capture: --compare-logical needs --relay (bench_relay)" >&2; exit 2; }
command -v pgbench >/dev/null ||
  { echo "bench_capture: pgbench missing (postgresql-client-15, deploy/install-deps.sh)" >&2; exit 1; }

# v1: the generic function as 0001 created it, and its single trigger, instead of v2's three.
v1_function=$(sed -n '/^CREATE FUNCTION hubsync.capture()/,/^\$fn\$;/p' "$root/migrations/postgres/0001_changelog.sql")
[[ -n "$v1_function" ]] || { echo "bench_capture: no v1 function in 0001_changelog.sql" >&2; exit 1; }
v1_install="DROP TRIGGER hubsync_capture_bench_iud ON bench_t; DROP TRIGGER hubsync_capture_bench_upd ON bench_t;
  DROP TRIGGER hubsync_capture_bench_trunc ON bench_t; ${v1_function/CREATE FUNCTION/CREATE OR REPLACE FUNCTION}
  CREATE TRIGGER hubsync_capture_bench AFTER INSERT OR UPDATE OR DELETE ON bench_t FOR EACH ROW
    EXECUTE FUNCTION hubsync.capture('bench', '{id}', '{email,id,n}')"
# v2n: the capture with postgres.notify; checked to be what was installed.
has_notify="SELECT pg_catalog.strpos(prosrc, 'pg_catalog.pg_notify(') > 0 FROM pg_catalog.pg_proc
  WHERE proname = 'capture_bench'"

relay_pid=""

work=$(mktemp -d "${TMPDIR:-/tmp}/hubsync-bench-capture.XXXXXX")
state="$work/pg"
cleanup() {
  [[ -z "$relay_pid" ]] || kill "$relay_pid" 2>/dev/null || true
  "$root/tests/pg/throwaway-pg.sh" stop "$state" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

mkdir -p "$work/mappings" "$work/none"
cat > "$work/mappings/bench.yaml" <<'EOF'
name: bench
postgres: {table: public.bench_t, key: id}
hubspot: {object: contacts, match: email}
direction: to_hubspot
fields:
  - {column: email, property: email}
  - {column: n, property: bench_n, type: integer}
EOF
cat > "$work/update.sql" <<EOF
\set id random(1, $rows)
UPDATE bench_t SET n = n + 1 WHERE id = :id;
EOF

sql() { psql "$dsn" -qAt -v ON_ERROR_STOP=1 -c "$1"; }

hubsync_migrate() {  # $1: mappings dir, $2: postgres.notify (default false), $3: postgres.capture
  printf 'postgres: {dsn_env: BENCH_PG, notify: %s, capture: %s}\nhubspot: {token_env: BENCH_TOKEN}\nmappings: {dir: %s}\nstate: {path: %s}\n' \
    "${2:-false}" "${3:-trigger}" "$1" "$work/state.db" > "$work/hubsync.yaml"
  BENCH_PG=$dsn BENCH_TOKEN=pat-na1-bench "$hubsync" --config "$work/hubsync.yaml" migrate \
    >"$work/migrate.log" 2>&1 || { cat "$work/migrate.log" >&2; exit 1; }
}

install() {  # none | v2 | v1 | v2n | lg | lq<ms> | x<N>
  # Each side starts from no capture (a side's --after-migrate or v1 SQL
  # would otherwise stay in place).
  hubsync_migrate "$work/none"
  case "$1" in
    none) ;;
    lg|lq*) hubsync_migrate "$work/mappings" false logical
        if [[ $1 == lg ]]; then set -- stream 100; else set -- sql "${1#lq}"; fi
        "$relay" --dsn "$dsn" --mode "$1" --every-ms "$2" \
          2>"$work/relay.log" &
        relay_pid=$! ;;
    v2) hubsync_migrate "$work/mappings"; [[ -z "$after" ]] || sql "$after" ;;
    v1) hubsync_migrate "$work/mappings"; sql "$v1_install" ;;
    x*) hubsync_migrate "$work/mappings"; sql "${variants[${1#x} - 1]}" ;;
    v2n) hubsync_migrate "$work/mappings" true; [[ -z "$after" ]] || sql "$after"
         [[ $(sql "$has_notify") == t ]] || { echo "bench_capture: postgres.notify installed no pg_notify()" >&2; exit 1; } ;;
  esac
}

uninstall() {  # what install started that must not outlive its side (the slot goes with the next migrate)
  [[ $1 == lg || $1 == lq* ]] || return 0
  kill -TERM "$relay_pid"
  wait "$relay_pid" || { cat "$work/relay.log" >&2; exit 1; }
  relay_pid=""
}

# CPU ticks used by the cluster: its live processes and the backends it has reaped.
server_ticks() {
  local pm t p
  pm=$(head -1 "$(cat "$state/datadir")/data/postmaster.pid")
  t=$(awk '{ print $16 + $17 }' "/proc/$pm/stat")
  for p in $(pgrep -P "$pm"); do t=$(( t + $(awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null || echo 0) )); done
  echo "$t"
}

run() {  # one pgbench run; prints its TPS and the server's CPU microseconds per transaction
  local before after_ticks out n
  sql "TRUNCATE hubsync.changelog"
  sql "VACUUM ANALYZE bench_t" && sql "CHECKPOINT"
  before=$(server_ticks)
  out=$(pgbench -n -c "$clients" -j "$(( clients < 2 ? clients : 2 ))" -T "$seconds" -f "$work/update.sql" "$dsn" 2>/dev/null)
  sleep 0.5  # let the postmaster reap the benchmark's backends
  after_ticks=$(server_ticks)
  n=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' <<<"$out")
  echo "$(sed -n 's/^tps = \([0-9.]*\) .*without initial connection time.*/\1/p' <<<"$out")" \
       "$(( (after_ticks - before) * 1000000 / $(getconf CLK_TCK) / n ))"
}

mean() { awk -v f="$1" '{ s += $f; n++ } END { printf "%.0f", s / n }'; }

declare -A results  # "mode side" -> lines "tps cpu_us", one per round
declare -A per_round  # "mode side" -> ratios to none, one per round
for mode in $modes; do
  flag=""; [[ "$mode" == durable ]] && flag="--durable"
  dsn=$("$root/tests/pg/throwaway-pg.sh" start "$state" $flag)
  sql "CREATE TABLE bench_t (id bigint PRIMARY KEY, n integer NOT NULL DEFAULT 0, email text,
         name text, updated_at timestamptz NOT NULL DEFAULT now());
       INSERT INTO bench_t (id, email, name)
         SELECT g, 'user' || g || '@example.com', 'Name ' || g FROM generate_series(1, $rows) g"
  read -r -a order <<<"$sides"
  for round in $(seq 1 "$rounds"); do
    declare -A this=()
    for side in "${order[@]}"; do
      install "$side"
      this[$side]=$(run)
      uninstall "$side"
      results["$mode $side"]+="${this[$side]}"$'\n'
      [[ $side == none || $(sql "SELECT count(*) > 0 FROM hubsync.changelog") == t ]] ||
        { echo "bench_capture: $side captured nothing" >&2; exit 1; }
    done
    for side in "${order[@]}"; do
      per_round["$mode $side"]+=$(awk -v a="${this[$side]% *}" -v b="${this[none]% *}" 'BEGIN { printf "%.2f ", a / b }')
    done
    order=("${order[@]:1}" "${order[0]}")  # rotate
  done
  "$root/tests/pg/throwaway-pg.sh" stop "$state" >/dev/null
done

echo "capture cost: pgbench, $clients clients, ${seconds} s x $rounds round(s) per side, $rows rows," \
     "UPDATE of one watched integer"
[[ -z "$after" ]] || echo "v2 variant: after migrate: $after"
for i in "${!variants[@]}"; do echo "x$((i + 1)): v2, then: ${variants[$i]}"; done
median() { tr ' ' '\n' | grep . | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

printf '%-8s | %-6s | %8s | %-9s | %-12s | %-28s | %s\n' mode side TPS "TPS ratio" "median ratio" \
  "ratio per round" "server CPU us/tx"
printf '%-8s-+-%-6s-+-%8s-+-%-9s-+-%-12s-+-%-28s-+-%s\n' -------- ------ -------- --------- ------------ \
  ---------------------------- ----------------
for mode in $modes; do
  base=$(printf '%s' "${results["$mode none"]}" | mean 1)
  for side in $sides; do
    tps=$(printf '%s' "${results["$mode $side"]}" | mean 1)
    printf '%-8s | %-6s | %8s | %-9s | %-12s | %-28s | %s\n' "$mode" "$side" "$tps" \
      "$(awk -v a="$tps" -v b="$base" 'BEGIN { printf "%.2f", a / b }')" \
      "$(printf '%s' "${per_round["$mode $side"]}" | median)" "${per_round["$mode $side"]}" \
      "$(printf '%s' "${results["$mode $side"]}" | mean 2)"
  done
done
echo "(durable: fsync, synchronous_commit, full_page_writes on; fast: off." \
     "Load average after: $(cut -d' ' -f1-3 /proc/loadavg))"
echo "(v2: what \`hubsync migrate\` installs by default, no NOTIFY; v1: migration 0001's generic trigger;" \
     "v2n: v2 with postgres.notify, its pg_notify at commit; lg/lq<N>: postgres.capture: logical (no trigger)," \
     "relayed by a replication stream (serve's default) / the SQL functions every N ms (postgres.relay: sql), their decoding and inserts included)"
for mode in $modes; do
  base=$(printf '%s' "${results["$mode none"]}" | mean 1)
  for side in $sides; do
    tps=$(printf '%s' "${results["$mode $side"]}" | mean 1)
    echo "RESULT capture.$mode.$side.tps=$tps unit=tps"
    echo "RESULT capture.$mode.$side.tps_ratio=$(awk -v a="$tps" -v b="$base" 'BEGIN { printf "%.3f", a / b }') unit=ratio"
    echo "RESULT capture.$mode.$side.median_ratio=$(printf '%s' "${per_round["$mode $side"]}" | median) unit=ratio"
    echo "RESULT capture.$mode.$side.cpu_us_per_tx=$(printf '%s' "${results["$mode $side"]}" | mean 2) unit=us"
  done
done
echo "RESULT capture.rounds=$rounds unit=count"
echo "RESULT capture.seconds=$seconds unit=s"
