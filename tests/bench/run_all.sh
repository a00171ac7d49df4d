#!/usr/bin/env bash
# Every benchmark under tests/bench in one run, one Markdown table.
#
#   tests/bench/run_all.sh [--quick] [--build-dir DIR] [--out FILE]
#                          [--pg-dsn DSN] [--only LIST] [--logs DIR]
#
# Runs bench_sim, bench_hubspot_push (with the shared-budget run:
# --other-share 0.3), bench_pipeline_push, bench_pull, bench_ingest,
# bench_serve and bench_capture from DIR (default build/release; build them
# first: cmake --build --preset release --target bench_sim bench_hubspot_push
# bench_pipeline_push bench_pull bench_ingest bench_serve bench_capture
# hubsync hubspot-sim), reads the `RESULT key=value unit=...` lines each one
# prints, and prints one table: | measure | value | goal / bound | ratio |
# command |. With --out the table also goes to FILE with the commit, the
# date, the machine and the load, ready for BENCHMARKS.md.
#
#   --quick      sizes for a run of about 10 minutes on 2 cores (else the
#                sizes BENCHMARKS.md uses, about half an hour)
#   --pg-dsn     the PostgreSQL server for bench_pull, bench_serve and
#                bench_pipeline_push (default $HUBSYNC_TEST_PG_DSN, else a
#                throwaway cluster, tests/pg/throwaway-pg.sh, stopped at the
#                end); bench_capture always makes its own (durable and fast)
#   --only       a comma-separated subset of: sim,push,pipeline,pull,ingest,serve,capture
#   --logs       where each benchmark's whole output goes (default a fresh
#                directory under $TMPDIR, kept and named at the end)
#
# Exit status: 0 when every benchmark ran, 1 when one failed (its rows then
# say "not measured"), 2 on a usage error or missing binaries.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
quick=0 build="$root/build/release" out="" pg_dsn="${HUBSYNC_TEST_PG_DSN:-}" only="" logs=""
usage() {
  sed -n '2,/^set -uo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2
  exit 2
}
while [[ $# -gt 0 ]]; do
  case "$1" in
    --quick) quick=1; shift ;;
    --build-dir) build=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --pg-dsn) pg_dsn=$2; shift 2 ;;
    --only) only=$2; shift 2 ;;
    --logs) logs=$2; shift 2 ;;
    -h|--help) usage ;;
    *) echo "run_all: unknown argument '$1'" >&2; usage ;;
  esac
done
[[ -d "$build" ]] || { echo "run_all: no build directory $build" >&2; exit 2; }
build=$(cd "$build" && pwd)
wanted() { [[ -z "$only" || ",$only," == *",$1,"* ]]; }

# Sizes: --quick, then the ones BENCHMARKS.md uses.
if (( quick )); then
  args_sim="--seconds 5"
  args_push="--n 40000 --other-share 0.3 --shared-n 80000"
  args_pipeline="--rows 20000 --skip-latency"
  args_pull="--objects 20000 --latency-objects 5000 --synced 10000 --changes 500,500,50,20"
  args_ingest="--senders 10 --events 100 --seconds 4"
  args_serve="--edits 20 --rate 2 --soak-seconds 15 --soak-rate 2"
  args_capture="--rounds 2 --seconds 5 --compare-notify --compare-logical"
  limit=1200
else
  args_sim="--seconds 10"
  args_push="--n 100000 --other-share 0.3"
  args_pipeline="--rows 1000000 --latency-rows 100000"
  args_pull="--objects 100000 --latency-objects 20000 --synced 10000 --changes 500,500,50,20"
  args_ingest="--senders 10 --events 100 --seconds 8"
  args_serve="--edits 40 --soak-rate 3 --soak-seconds 90"
  args_capture="--rounds 5 --seconds 10 --compare-notify --compare-logical"
  limit=5400
fi

declare -A bin=(
  [sim]=tests/bench/sim/bench_sim
  [push]=tests/bench/hubspot/bench_hubspot_push
  [pipeline]=tests/bench/pipeline/bench_pipeline_push
  [pull]=tests/bench/pipeline/bench_pull
  [ingest]=tests/bench/webhook/bench_ingest
  [serve]=tests/bench/serve/bench_serve
  [capture]=tests/bench/capture/bench_capture
)
declare -A args=([sim]=$args_sim [push]=$args_push [pipeline]=$args_pipeline [pull]=$args_pull
                 [ingest]=$args_ingest [serve]=$args_serve [capture]=$args_capture)
order=(sim push pipeline pull ingest serve capture)
missing=()
for b in "${order[@]}"; do
  wanted "$b" && [[ ! -x "$build/${bin[$b]}" ]] && missing+=("$(basename "${bin[$b]}")")
done
if (( ${#missing[@]} )); then
  echo "run_all: not built in $build: ${missing[*]}" >&2
  echo "  cmake --build $build -j2 --target ${missing[*]} hubsync hubspot-sim" >&2
  exit 2
fi

# What was measured: the source the build came from (its CMakeCache), its
# commit, and whether it held changes not committed outside the benchmarks.
source_dir=$(sed -n 's/^CMAKE_HOME_DIRECTORY:INTERNAL=//p' "$build/CMakeCache.txt" 2>/dev/null)
[[ -n "$source_dir" ]] || source_dir=$root
if git -C "$source_dir" rev-parse --git-dir >/dev/null 2>&1; then
  commit=$(git -C "$source_dir" rev-parse --short HEAD)
  dirty=$(git -C "$source_dir" status --porcelain --untracked-files=no -- . ':!tests/bench' ':!BENCHMARKS.md' ':!README.md' |
          awk '{ print $2 }' | paste -sd, -)
  commit_note="commit $commit"
  [[ -z "$dirty" ]] || commit_note+=" with uncommitted changes in $dirty"
  bench_dirty=$(git -C "$source_dir" status --porcelain -- tests/bench | wc -l)
  (( bench_dirty == 0 )) || commit_note+=" (and in tests/bench)"
elif [[ -f "$source_dir/SOURCE_COMMIT" ]]; then
  commit=$(cat "$source_dir/SOURCE_COMMIT")
  commit_note="commit $commit (a copy of it, $source_dir, tests/bench from the working tree)"
else
  commit=unknown commit_note="source $source_dir (no git, no SOURCE_COMMIT)"
fi
cpu_model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
mem_gib=$(awk '/^MemTotal:/ { printf "%.0f", $2 / 1048576 }' /proc/meminfo)
machine="$(nproc) cores ($cpu_model), ${mem_gib} GiB"

[[ -n "$logs" ]] || logs=$(mktemp -d "${TMPDIR:-/tmp}/hubsync-bench-all.XXXXXX")
mkdir -p "$logs"

pg_state=""
stop_pg() { [[ -z "$pg_state" ]] || "$root/tests/pg/throwaway-pg.sh" stop "$pg_state" >/dev/null 2>&1 || true; }
trap stop_pg EXIT
if [[ -z "$pg_dsn" ]] && { wanted pipeline || wanted pull || wanted serve; }; then
  pg_state="$logs/pg"
  pg_dsn=$("$root/tests/pg/throwaway-pg.sh" start "$pg_state") || { echo "run_all: cannot start PostgreSQL" >&2; exit 1; }
fi
export HUBSYNC_TEST_PG_DSN=$pg_dsn

declare -A R          # RESULT key -> value
declare -A status     # bench -> "ok" or why not
declare -A took       # bench -> wall seconds
loads=()
load1() { cut -d' ' -f1 /proc/loadavg; }
started=$(date -u '+%Y-%m-%d %H:%M UTC')
t_start=$SECONDS
failed=0
for b in "${order[@]}"; do
  wanted "$b" || { status[$b]="not run (--only)"; continue; }
  log="$logs/$b.log"
  echo "run_all: $(basename "${bin[$b]}") ${args[$b]} (log: $log)" >&2
  loads+=("$(load1)")
  t0=$SECONDS
  # shellcheck disable=SC2086  # the arguments are words
  timeout -k 30 "$limit" "$build/${bin[$b]}" ${args[$b]} >"$log" 2>&1
  rc=$?
  took[$b]=$(( SECONDS - t0 ))
  loads+=("$(load1)")
  while IFS='=' read -r key value; do
    R[$key]=${value%% *}
  done < <(sed -n 's/^RESULT \([^ =]*=[^ ]*\).*/\1/p' "$log")
  if (( rc == 0 )); then status[$b]=ok
  elif (( rc == 124 || rc == 137 )); then status[$b]="timed out after ${limit} s"; failed=1
  else status[$b]="exited $rc, see $log"; failed=1
  fi
  echo "run_all:   ${status[$b]}, ${took[$b]} s" >&2
done
total=$(( SECONDS - t_start ))
load_range=$(printf '%s\n' "${loads[@]}" | sort -n | sed -n '1p;$p' | paste -sd' ' - | awk '{ print $1 "–" $2 }')

# ---- formatting -------------------------------------------------------------
has() { [[ -n "${R[$1]:-}" ]]; }
# num VALUE [DECIMALS]: thousands separators, rounded.
num() {
  awk -v v="$1" -v d="${2:-0}" 'BEGIN {
    s = sprintf("%." d "f", v); neg = (s ~ /^-/); if (neg) s = substr(s, 2)
    i = index(s, "."); ip = i ? substr(s, 1, i - 1) : s; fp = i ? substr(s, i) : ""
    out = ""; while (length(ip) > 3) { out = "," substr(ip, length(ip) - 2) out; ip = substr(ip, 1, length(ip) - 3) }
    print (neg ? "-" : "") ip out fp }'
}
div() { awk -v a="$1" -v b="$2" -v d="${3:-3}" 'BEGIN { if (b == 0) print "—"; else printf("%." d "f", a / b) }'; }
cmd() { echo "\`$(basename "${bin[$1]}") ${args[$1]}\`"; }
rows=()
row() { rows+=("| $1 | $2 | $3 | $4 | $5 |"); }
# not_measured MEASURE BENCH GOAL [REASON]
not_measured() {
  [[ "${status[$2]:-}" != "not run (--only)" ]] || return 0
  local why=${4:-}
  [[ -n "$why" ]] || why="not measured: ${status[$2]:-not run}"
  row "$1" "$why" "$3" "—" "$(cmd "$2")"
}
zero_or() { [[ "${1%.*}" == 0 ]] && echo "0" || echo "**$1**"; }

# ---- rows -----------------------------------------------------------------
if has push.hubsync.records_per_s; then
  v="$(num "${R[push.hubsync.records_per_s]}") records/s, $(zero_or "$(num "${R[push.hubsync.429s]}")") × 429"
  has push.hubsync.steady_records_per_s &&
    v+=" (past the first 10-s window: $(num "${R[push.hubsync.steady_records_per_s]}") records/s)"
  row "push at the rate limit, hubsync ($(num "${R[push.hubsync.n]}") contacts; tier 190, batches of 100, 150–400 ms)" \
      "$v" "1,900 records/s; goal ≥ 0.95, 0 × 429" "**$(num "${R[push.hubsync.of_bound]}" 3)**" "$(cmd push)"
else
  not_measured "push at the rate limit, hubsync" push "1,900 records/s"
fi
if has push.node.records_per_s; then
  row "push at the rate limit, \`@hubspot/api-client\` 13.5.0 (same run, same size)" \
      "$(num "${R[push.node.records_per_s]}") records/s, $(num "${R[push.node.429s]}") × 429" "1,900 records/s" \
      "$(num "${R[push.node.of_bound]}" 3); hubsync ÷ Node **$(num "${R[push.hubsync_over_node]}" 2)×**" "$(cmd push)"
else
  not_measured "push at the rate limit, \`@hubspot/api-client\`" push "1,900 records/s" \
    "not measured: ${status[push]:-not run}$([[ ${status[push]:-} == ok ]] && echo " (no Node client; see the log)")"
fi
if has push.shared.records_per_s; then
  v="$(num "${R[push.shared.records_per_s]}") records/s; hubsync $(zero_or "$(num "${R[push.shared.hubsync_429s]}")") × 429,"
  v+=" the other app $(zero_or "$(num "${R[push.shared.other_429s]}")") × 429 (its share measured $(num "${R[push.shared.other_share]}" 2))"
  has push.shared.busiest_window_requests &&
    v+="; hubsync's busiest whole 10-s window after the first: $(num "${R[push.shared.busiest_window_requests]}") requests, with the other app's $(num "${R[push.shared.other_per_window]}"): $(num "$(awk -v a="${R[push.shared.busiest_window_requests]}" -v b="${R[push.shared.other_per_window]}" 'BEGIN { print a + b }')") of 190"
  v+="; by its own count hubsync's limiter allows itself $(num "${R[push.shared.limiter_ceiling_of_left]}" 3) of what is left (its limit after the 5 % headroom, less the other app's requests)"
  row "push while another app spends 30 % of the burst budget ($(num "${R[push.shared.n]}") contacts; pat-sim-other, $(num "${R[push.shared.other_per_window]}") GETs per 10 s spread evenly)" \
      "$v" "what is left: $(num "${R[push.shared.left_records_per_s]}") records/s; goal ≥ 0.95, 0 × 429" \
      "**$(num "${R[push.shared.of_left]}" 3)**" "$(cmd push)"
else
  not_measured "push while another app spends 30 % of the burst budget" push "1,330 records/s"
fi
if has pull.search_limit.objects_per_s; then
  row "pull at the search limit ($(num "${R[pull.search_limit.objects]}") contacts modified over an hour, 150–400 ms; the sweep's windows side by side)" \
      "$(num "${R[pull.search_limit.objects_per_s]}") objects/s, $(num "${R[pull.search_limit.hubsync_429s]}") × 429; $(num "${R[pull.search_limit.searches_per_s]}" 2) searches/s, $(num "${R[pull.search_limit.objects_per_page]}" 0) objects per page; one window in the same run $(num "${R[pull.search_limit.one_window_of_bound]:-0}" 3) of the bound (windows ÷ one: $(num "${R[pull.search_limit.windows_vs_one]:-0}" 2)×)" \
      "1,000 objects/s (5 searches/s × 200)" "**$(num "${R[pull.search_limit.of_bound]}" 3)**" "$(cmd pull)"
else
  not_measured "pull at the search limit" pull "1,000 objects/s"
fi
if has pipeline.a.records_per_s; then
  rows_n=${R[pipeline.a.rows]}
  row "unthrottled push: initial load of $(num "$rows_n") rows (latency and limits off)" \
      "$(num "${R[pipeline.a.records_per_s]}") records/s, $(num "${R[pipeline.a.cpu_us_per_record]}" 1) µs CPU per record, peak RSS $(num "${R[pipeline.a.peak_rss_mib]}") MiB" \
      "—" "—" "$(cmd pipeline)"
else
  not_measured "unthrottled push: initial load" pipeline "—"
fi
if (( quick )) && wanted pipeline; then
  row "initial load of 1,000,000 rows" "not measured: --quick (the full run's \`--rows 1000000\`)" "—" "—" "$(cmd pipeline)"
elif [[ "${R[pipeline.a.rows]:-0}" != 1000000 ]] && has pipeline.a.rows; then
  row "initial load of 1,000,000 rows" "not measured: ${R[pipeline.a.rows]} rows loaded" "—" "—" "$(cmd pipeline)"
fi
if has pipeline.b.headroom_005.of_bound; then
  row "push pipeline at the rate limit ($(num "${R[pipeline.b.rows]}") rows, limiter headroom 0.05 / 0.00)" \
      "$(num "${R[pipeline.b.headroom_005.records_per_s]}") / $(num "${R[pipeline.b.headroom_000.records_per_s]}") records/s, $(num "${R[pipeline.b.headroom_005.429s]}") / $(num "${R[pipeline.b.headroom_000.429s]}") × 429" \
      "1,900 records/s" "$(num "${R[pipeline.b.headroom_005.of_bound]}" 3) / $(num "${R[pipeline.b.headroom_000.of_bound]}" 3)" "$(cmd pipeline)"
fi
if has pull.backfill.objects_per_s; then
  row "unthrottled pull: backfill of $(num "${R[pull.backfill.objects]}") contacts (latency and limits off)" \
      "$(num "${R[pull.backfill.objects_per_s]}") objects/s ($(num "${R[pull.backfill.own_objects_per_s]}") of hubsync's own time; $(num "${R[pull.backfill.hubspot_wait_share]}" 2) of the wall time waiting for the simulator), $(num "${R[pull.backfill.cpu_us_per_object]}" 1) µs CPU per object, peak RSS $(num "${R[pull.backfill.peak_rss_mib]}") MiB; without the index on the email form the match lookup needs, $(num "${R[pull.backfill.no_index.objects]:-0}") contacts: $(num "${R[pull.backfill.no_index.objects_per_s]:-0}") objects/s" \
      "—" "—" "$(cmd pull)"
else
  not_measured "unthrottled pull: backfill" pull "—"
fi
if has pull.changes.calls_per_changed; then
  row "API calls per changed record, two-way change set ($(num "${R[pull.changes.changed]}") changed of $(num "${R[pull.changes.synced]}"); pull then push)" \
      "$(num "${R[pull.changes.calls_per_changed]}" 4) ($(num "${R[pull.changes.calls]}") calls), $(num "${R[pull.changes.429s]}") × 429, $(num "${R[pull.changes.lines_differ]}") lines differ after" \
      "ideal $(num "${R[pull.changes.ideal_per_changed]}" 4) ($(num "${R[pull.changes.ideal_calls]}") calls)" \
      "$(div "${R[pull.changes.calls]}" "${R[pull.changes.ideal_calls]}" 2)× the ideal" "$(cmd pull)"
  row "API calls of a no-op rerun (pull then push, nothing changed)" \
      "HubSpot writes $(zero_or "$(num "${R[pull.noop.hubspot_write_requests]}")") (objects $(zero_or "$(num "${R[pull.noop.hubspot_objects_written]}")")), Postgres rows written $(zero_or "$(num "${R[pull.noop.pg_writes]}")"); $(num "${R[pull.noop.calls]}") read calls, $(num "${R[pull.noop.objects_read_again]}") objects read again" \
      "0 writes either side" "—" "$(cmd pull)"
else
  not_measured "API calls per changed record (two-way change set)" pull "—"
  not_measured "API calls of a no-op rerun" pull "0 writes"
fi
if has ingest.events_per_s; then
  row "webhook ingest ($(num "${R[ingest.senders]}") senders × batches of $(num "${R[ingest.events_per_batch]}"), into the durable inbox)" \
      "$(num "${R[ingest.events_per_s]}") events/s, ack p99 $(num "${R[ingest.ack_p99_ms]}" 1) ms (p50 $(num "${R[ingest.ack_p50_ms]}" 1)), $(num "${R[ingest.failed_requests]}") failed, every acked event in the inbox: $([[ ${R[ingest.all_in_inbox]} == 1 ]] && echo yes || echo **NO**)" \
      "≥ 10,000 events/s, p99 < 50 ms" \
      "$(div "${R[ingest.events_per_s]}" 10000 2)× rate; p99 $(div "${R[ingest.ack_p99_ms]}" 50 2) of bound" "$(cmd ingest)"
else
  not_measured "webhook ingest" ingest "≥ 10,000 events/s, p99 < 50 ms"
fi
if has serve.hs_to_pg.p50_ms; then
  never() { local n=${R[serve.$1.never_arrived]}; [[ "${n%.*}" == 0 ]] || echo ", **$n never arrived**"; }
  row "HubSpot edit → Postgres through \`serve\` (tier 190, 150–400 ms; $(num "${R[serve.rate_each_way]}") edits/s each way, $(num "${R[serve.hs_to_pg.edits]}") edits)" \
      "p50 $(num "${R[serve.hs_to_pg.p50_ms]}") ms, p99 $(num "${R[serve.hs_to_pg.p99_ms]}") ms$(never hs_to_pg)" \
      "p50 < 1,000 ms, p99 < 3,000 ms" \
      "p50 $(div "${R[serve.hs_to_pg.p50_ms]}" 1000 2), p99 $(div "${R[serve.hs_to_pg.p99_ms]}" 3000 2) of bound" "$(cmd serve)"
  row "Postgres edit → HubSpot through \`serve\` (same run)" \
      "p50 $(num "${R[serve.pg_to_hs.p50_ms]}") ms, p99 $(num "${R[serve.pg_to_hs.p99_ms]}") ms$(never pg_to_hs); afterwards $(num "${R[serve.differing]}") records differ, $(num "${R[serve.duplicates]}") duplicates" \
      "p50 < 1,000 ms" "p50 $(div "${R[serve.pg_to_hs.p50_ms]}" 1000 2) of bound" "$(cmd serve)"
else
  not_measured "HubSpot edit → Postgres, Postgres edit → HubSpot (\`serve\`)" serve "p50 < 1 s, p99 < 3 s"
fi
if has capture.durable.v2.tps_ratio; then
  nn() { has "capture.$1.v2n.tps_ratio" && echo "; with postgres.notify $(num "${R[capture.$1.v2n.tps_ratio]}" 2) ($(num "${R[capture.$1.v2n.tps]}") TPS, $(num "${R[capture.$1.v2n.cpu_us_per_tx]}") µs)"; }
  for mode in durable fast; do
    has "capture.$mode.v2.tps_ratio" || continue
    goal="—"; [[ $mode == durable ]] && goal="≥ 0.85 (durable)"
    row "capture overhead, $mode cluster: pgbench TPS with the trigger ÷ without ($(num "${R[capture.rounds]}") round(s) of $(num "${R[capture.seconds]}") s)" \
        "$(num "${R[capture.$mode.none.tps]}") → $(num "${R[capture.$mode.v2.tps]}") TPS with the trigger (server CPU $(num "${R[capture.$mode.none.cpu_us_per_tx]}") → $(num "${R[capture.$mode.v2.cpu_us_per_tx]}") µs/tx)$(nn $mode)" \
        "$goal" "**$(num "${R[capture.$mode.v2.tps_ratio]}" 2)**$(has "capture.$mode.v2n.tps_ratio" && echo " / $(num "${R[capture.$mode.v2n.tps_ratio]}" 2) with NOTIFY")" "$(cmd capture)"
    for side in lg $(printf '%s\n' "${!R[@]}" | sed -n "s/^capture\.$mode\.\(lq[0-9]*\)\.tps_ratio$/\1/p" | sort -V); do
      has "capture.$mode.$side.tps_ratio" || continue
      relay="serve's default relay, a replication stream"
      [[ $side == lq* ]] && relay="\`postgres.relay: sql\`, the SQL functions every ${side#lq} ms"
      row "capture by logical decoding (\`postgres.capture: logical\`, $relay), $mode cluster: pgbench TPS with it ÷ without, same rounds" \
          "$(num "${R[capture.$mode.$side.tps]}") TPS (server CPU $(num "${R[capture.$mode.$side.cpu_us_per_tx]}") µs/tx, the relay included)" \
          "$goal" "**$(num "${R[capture.$mode.$side.tps_ratio]}" 2)**" "$(cmd capture)"
    done
  done
else
  not_measured "capture overhead (pgbench TPS with / without the trigger, and with postgres.notify)" capture "≥ 0.85 (durable)"
fi
if has sim.requests_per_s; then
  row "simulator throughput (batch/upsert of 100, 4 connections, latency and limits off)" \
      "$(num "${R[sim.requests_per_s]}") requests/s, p99 $(num "${R[sim.latency_p99_ms]}" 2) ms, $(num "${R[sim.server_cpu_cores]}" 2) cores, $(num "${R[sim.server_cpu_us_per_request]}") µs CPU per request (jemalloc); on glibc's malloc $(num "${R[sim.glibc.requests_per_s]:-0}") requests/s, $(num "${R[sim.glibc.server_cpu_us_per_request]:-0}") µs" \
      "≥ 3,000 requests/s" "**$(div "${R[sim.requests_per_s]}" 3000 2)**" "$(cmd sim)"
else
  not_measured "simulator throughput" sim "≥ 3,000 requests/s"
fi

# ---- output ---------------------------------------------------------------
mode_word=full; (( quick )) && mode_word=quick
report() {
  echo "\`tests/bench/run_all.sh$( (( quick )) && echo " --quick")\` ($mode_word sizes), $started, $(( total / 60 )) min $(( total % 60 )) s;"
  echo "$commit_note; release flags (-O2 -g1); $machine; load average (1 min) $load_range during the run."
  echo
  echo "| measure | value | goal / bound | ratio | command |"
  echo "|---|---|---|---|---|"
  printf '%s\n' "${rows[@]}"
  echo
  local b line=""
  for b in "${order[@]}"; do
    line+="${line:+; }\`$(basename "${bin[$b]}")\` "
    [[ "${status[$b]:-}" == ok ]] && line+="${took[$b]} s" || line+="${status[$b]:-not run}"
  done
  echo "Wall time per benchmark: $line."
}
report
if [[ -n "$out" ]]; then
  report >"$out"
  echo "run_all: rows written to $out" >&2
fi
echo "run_all: logs in $logs" >&2
exit $failed
