#!/usr/bin/env bash
# Builds the mapping parser's libFuzzer target with clang (ASan + UBSan) into
# <work dir> and runs it for <seconds>, seeded from mappings/ and
# tests/data/mapping/. Fails on any crash, leak, hang (-timeout) or when the
# harness finds a failed parse without an error message.
#   run_fuzz.sh <source dir> <work dir> [seconds]
set -euo pipefail
src=$(cd "$1" && pwd)
work=$2
seconds=${3:-30}
mkdir -p "$work/obj" "$work/corpus" "$work/seeds"

cxx=${HUBSYNC_FUZZ_CXX:-clang++}
command -v "$cxx" >/dev/null || { echo "run_fuzz: $cxx not found (install clang and libclang-rt-14-dev)" >&2; exit 1; }
flags=(-std=c++20 -gline-tables-only -O0 -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined
       -fno-sanitize-recover=undefined -I"$src")

sources=("$src"/engine/model/*.cpp "$src"/engine/mapping/*.cpp)
# Rebuild an object when its source or any header it may include is newer.
newest_header=$(find "$src/engine/model" "$src/engine/mapping" -name '*.h' -newer "$work/stamp" 2>/dev/null | head -1 || true)
[[ -f "$work/stamp" ]] || newest_header=all
objects=()
pids=()
for s in "${sources[@]}"; do
  rel=${s#"$src"/}
  o="$work/obj/${rel//\//_}.o"
  objects+=("$o")
  if [[ -n "$newest_header" || ! -f "$o" || "$s" -nt "$o" ]]; then
    "$cxx" "${flags[@]}" -c "$s" -o "$o" &
    pids+=($!)
    if (( ${#pids[@]} >= 2 )); then wait "${pids[0]}"; pids=("${pids[@]:1}"); fi
  fi
done
for p in "${pids[@]}"; do wait "$p"; done
"$cxx" "${flags[@]}" -fsanitize=fuzzer "$src/tests/fuzz/mapping_fuzz.cpp" "${objects[@]}" \
  -lyaml-cpp -o "$work/mapping_fuzz"
touch "$work/stamp"

rm -rf "$work/seeds"/*
n=0
for f in "$src"/mappings/*.yaml "$src"/tests/data/mapping/*/*.yaml; do
  [[ -f "$f" ]] || continue
  cp "$f" "$work/seeds/seed_$n.yaml"
  n=$((n + 1))
done
echo "run_fuzz: $n seeds, ${seconds}s"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
cd "$work"
./mapping_fuzz -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=4096 \
  -dict="$src/tests/fuzz/mapping.dict" -print_final_stats=1 corpus seeds
