#!/usr/bin/env bash
# Builds one libFuzzer target of tests/fuzz with clang (ASan + UBSan) into
# <work dir> and runs it for <seconds>, seeded from the code base. Fails on
# any crash, leak, hang (-timeout) or broken invariant the harness checks.
#   run_fuzz.sh <source dir> <work dir> [seconds] [target]
# Targets (default mapping):
#   mapping           engine/mapping's parser (mapping_fuzz.cpp)
#   webhook           webhook bodies, action requests, signatures (webhook_fuzz.cpp)
#   hubspot_response  every decoder of HubSpot's answers (hubspot_response_fuzz.cpp)
#   pgoutput          the decoder of PostgreSQL's logical replication messages (pgoutput_fuzz.cpp)
# A target compiles as a few unity units (one translation unit #including
# several .cpp files: the RapidJSON/fmt/spdlog/std templates are then parsed
# and instrumented once per unit rather than once per file, about half the
# compile time), two or three per target so 2 jobs have work. Units live in
# <work dir>/../.fuzz-obj/<hash of compiler and flags>/, shared by the
# targets built next to each other with the same flags: the connector core
# (engine/model, json.cpp, action_codec.cpp) is compiled once for webhook and
# hubspot_response. A unit is rebuilt only when its list of files, one of
# those files, a header they include (compiler depfiles) or the flags
# change. Targets built at the same time take turns through a lock next to
# the work dir (it also guards the shared units), so at most 2 compile jobs
# run.
# Inputs of tests/fuzz/regressions/<target>/ (crashes found before) run
# first on every run.
set -euo pipefail
src=$(cd "$1" && pwd)
work=$2
seconds=${3:-30}
target=${4:-mapping}
mkdir -p "$work/corpus"
work=$(cd "$work" && pwd)
rm -rf "$work/obj" "$work/flags"  # per-file objects of an older run_fuzz.sh

cxx=${HUBSYNC_FUZZ_CXX:-clang++}
cxx=$(command -v "$cxx") || { echo "run_fuzz: $cxx not found (install clang and libclang-rt-14-dev)" >&2; exit 1; }
# The spdlog macros matter to hubspot_response only; every target passes them
# so the targets' flags (hence their shared units) stay the same.
flags=(-std=c++20 -gline-tables-only -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined
       -fno-sanitize-recover=undefined -fsanitize-ignorelist="$src/tests/fuzz/ubsan_ignore.txt" -I"$src"
       -DSPDLOG_SHARED_LIB -DSPDLOG_COMPILED_LIB -DSPDLOG_FMT_EXTERNAL)
hs=$src/connectors/hubspot
harness=$src/tests/fuzz/${target}_fuzz.cpp
model=("$src"/engine/model/*.cpp)
# unit <name> <file>...: one unity unit of the target. Files keep this order
# in the unit; a name must mean the same files in every target using it.
# Units are listed largest first (the -j2 queue starts them in this order).
unit_names=()
unit_files=()
unit() { unit_names+=("$1"); shift; unit_files+=("$(printf '%s\n' "$@")"); }
case "$target" in
  mapping)
    # -O0: the parser is fast enough unoptimised, and -O1 triples the
    # compile time of its units.
    mp=("$src"/engine/mapping/*.cpp)
    half=$(( (${#mp[@]} + 1) / 2 ))
    unit mapping_a "${model[@]}" "${mp[@]:0:half}"
    unit mapping_b "${mp[@]:half}" "$harness"
    libs=(-lyaml-cpp)
    opt=-O0
    max_len=4096 ;;
  webhook)
    unit connector_core "${model[@]}" "$hs"/json.cpp "$hs"/action_codec.cpp
    unit webhook "$src"/engine/webhook/signature.cpp "$hs"/webhook_codec.cpp "$harness"
    libs=(-lfmt -lcrypto)
    opt=-O1
    max_len=8192 ;;
  hubspot_response)
    # The typed APIs run through HubSpotClient on a canned transport: no
    # libcurl (http_transport.cpp has the transport's header helpers).
    unit hubspot_response_a "$src"/engine/ratelimit/*.cpp "$hs"/errors.cpp "$hs"/codec.cpp \
         "$hs"/batch_codec.cpp "$hs"/objects.cpp "$hs"/search.cpp "$hs"/associations.cpp
    unit hubspot_response_b "$hs"/properties.cpp "$hs"/oauth.cpp "$hs"/auth.cpp "$hs"/client.cpp \
         "$hs"/routes.cpp "$hs"/http_transport.cpp "$hs"/http_date.cpp "$harness"
    unit connector_core "${model[@]}" "$hs"/json.cpp "$hs"/action_codec.cpp
    libs=(-lspdlog -lfmt -lcrypto -pthread)
    opt=-O1
    max_len=8192 ;;
  pgoutput)
    unit pgoutput "${model[@]}" "$src"/connectors/postgres/pgoutput.cpp "$harness"
    libs=()
    opt=-O1
    max_len=8192 ;;
  *) echo "run_fuzz: unknown target '$target' (mapping, webhook, hubspot_response, pgoutput)" >&2; exit 2 ;;
esac
# The connector targets run a lot of library code per input (strings,
# RapidJSON, a client per input): at -O0 they manage ~50-150 inputs/s, at
# -O1 ~800-2500, for half as much compile time again.
flags+=("$opt")
bin=$work/${target}_fuzz
# Different flags or compiler: a different unit directory.
key=$(printf '%s\n' "$cxx" "${flags[@]}" | cksum | cut -d' ' -f1)
obj=$(dirname "$work")/.fuzz-obj/$key

# ------------------------------------------------------------------ build
build_start=$(date +%s)
if command -v flock >/dev/null; then
  exec 9>"$(dirname "$work")/.fuzz-build.lock"
  flock 9
fi
mkdir -p "$obj"
echo "$cxx ${flags[*]}" >"$obj/flags"

# Whether object $1 is older than its source $2 or a header its depfile names.
stale() {
  local o=$1 s=$2 dep
  [[ -f "$o" && -f "$o.d" && ! "$s" -nt "$o" ]] || return 0
  for dep in $(sed -e 's/^[^:]*://' -e 's/\\$//' "$o.d"); do
    [[ "$dep" -nt "$o" || ! -e "$dep" ]] && return 0
  done
  return 1
}

objects=()
pids=()
compiled=0
for i in "${!unit_names[@]}"; do
  s="$obj/${unit_names[$i]}.cpp"
  o="$obj/${unit_names[$i]}.o"
  objects+=("$o")
  # The unit's source changes (so its object is stale) only when its file list does.
  sed 's/.*/#include "&"/' <<<"${unit_files[$i]}" >"$s.new"
  if cmp -s "$s.new" "$s"; then rm -f "$s.new"; else mv "$s.new" "$s"; fi
  if stale "$o" "$s"; then
    rm -f "$o"
    "$cxx" "${flags[@]}" -MMD -MF "$o.d" -c "$s" -o "$o" &
    pids+=($!)
    compiled=$((compiled + 1))
    if (( ${#pids[@]} >= 2 )); then wait "${pids[0]}"; pids=("${pids[@]:1}"); fi
  fi
done
for p in "${pids[@]}"; do wait "$p"; done
relink=0
[[ -x "$bin" ]] || relink=1
for o in "${objects[@]}"; do [[ "$o" -nt "$bin" ]] && relink=1; done
if (( relink )); then
  "$cxx" "${flags[@]}" -fsanitize=fuzzer "${objects[@]}" "${libs[@]}" -o "$bin"
fi
exec 9>&-
echo "run_fuzz: $target built in $(( $(date +%s) - build_start ))s ($compiled of ${#objects[@]} units compiled)"

# ------------------------------------------------------------------ seeds
# The webhook and hubspot_response harnesses read a first line naming what
# to decode: seeds/<target>/<mode>/<file> becomes "<mode>\n<file>" (for
# hubspot_response "<decoder> <status>\n\n<body>" from <status>_*.json, or
# "<decoder> <status>\n<headers, empty line, body>" from <status>_*.http).
rm -rf "$work/seeds"
mkdir -p "$work/seeds"
n=0
case "$target" in
  mapping)
    for f in "$src"/mappings/*.yaml "$src"/tests/data/mapping/*/*.yaml; do
      [[ -f "$f" ]] || continue
      cp "$f" "$work/seeds/seed_$n.yaml"
      n=$((n + 1))
    done ;;
  webhook)
    for f in "$src"/tests/fuzz/seeds/webhook/*/*; do
      [[ -f "$f" ]] || continue
      mode=$(basename "$(dirname "$f")")
      { printf '%s\n' "$mode"; cat "$f"; } >"$work/seeds/seed_$n"
      n=$((n + 1))
    done ;;
  hubspot_response)
    for f in "$src"/tests/fuzz/seeds/hubspot_response/*/*; do
      [[ -f "$f" ]] || continue
      decoder=$(basename "$(dirname "$f")")
      name=$(basename "$f")
      status=${name%%_*}
      [[ "$status" =~ ^[0-9]{3}$ ]] || status=200
      if [[ "$name" == *.http ]]; then
        { printf '%s %s\n' "$decoder" "$status"; cat "$f"; } >"$work/seeds/seed_$n"
      else
        { printf '%s %s\n\n' "$decoder" "$status"; cat "$f"; } >"$work/seeds/seed_$n"
      fi
      n=$((n + 1))
    done ;;
  pgoutput)
    for f in "$src"/tests/fuzz/seeds/pgoutput/*; do
      cp "$f" "$work/seeds/seed_$n"
      n=$((n + 1))
    done ;;
esac

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
cd "$work"

# ------------------------------------------------------------ regressions
# Each input that once failed runs alone, so the log names every one still
# failing; any failure ends the test before fuzzing.
failed=()
for f in "$src/tests/fuzz/regressions/$target"/*; do
  [[ -f "$f" ]] || continue
  if ! "$bin" -timeout=10 -rss_limit_mb=2048 "$f" >"$work/regression.log" 2>&1; then
    grep -E "runtime error|_fuzz \[|ERROR: |SUMMARY" "$work/regression.log" | head -5 >&2 || true
    echo "run_fuzz: regression ${f#"$src"/} fails" >&2
    failed+=("$f")
  fi
done
if (( ${#failed[@]} )); then
  echo "run_fuzz: ${#failed[@]} regression input(s) fail; reproduce with: $bin <file>" >&2
  exit 1
fi

# -------------------------------------------------------------------- run
echo "run_fuzz: $target, $n seeds, ${seconds}s"
"$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len="$max_len" \
  -dict="$src/tests/fuzz/$target.dict" -print_final_stats=1 corpus seeds
