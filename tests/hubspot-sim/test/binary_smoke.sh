#!/usr/bin/env bash
# hubspot-sim as a process: the allocator it was built with (jemalloc, or
# the system's under the sanitizers), the ready line, SIGTERM saves the
# snapshot, a restart on the same snapshot serves the saved records.
set -euo pipefail
bin=$1
allocator=${2:-jemalloc}
work=$(mktemp -d)
pid=""
cleanup() { [[ -n $pid ]] && kill "$pid" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

start() {
  rm -f "$work/out"  # a stale ready line from the previous run must not count
  "$bin" --port 0 --snapshot "$work/state.json" --log-level warn >"$work/out" 2>"$work/err" &
  pid=$!
  for _ in $(seq 1 200); do grep -q 'listening.*[0-9]$' "$work/out" 2>/dev/null && break; sleep 0.05; done
  line=$(head -1 "$work/out")
  [[ $line =~ ^hubspot-sim\ listening\ on\ (http://127\.0\.0\.1:[0-9]+)$ ]] || { echo "bad ready line: '$line'"; exit 1; }
  base=${BASH_REMATCH[1]}
}
stop() {
  kill -TERM "$pid"
  wait "$pid"
  pid=""
}

version=$("$bin" --version)
case $allocator in
  jemalloc) [[ $version =~ \(allocator:\ jemalloc\ [0-9]+\.[0-9]+ ]] ;;
  *) [[ $version == *"(allocator: system malloc)"* ]] ;;
esac || { echo "expected the $allocator allocator, --version says: '$version'"; exit 1; }

start
id=$(curl -sf -X POST "$base/crm/v3/objects/contacts" -H 'Authorization: Bearer pat-sim-hubsync' \
       -H 'Content-Type: application/json' -d '{"properties":{"email":"smoke@example.com"}}' |
     sed -E 's/^\{"id":"([0-9]+)".*/\1/')
[[ $id =~ ^[0-9]+$ ]] || { echo "create failed"; exit 1; }
stop
grep -q 'smoke@example.com' "$work/state.json" || { echo "snapshot not saved on SIGTERM"; exit 1; }

start
code=$(curl -s -o "$work/get" -w '%{http_code}' "$base/crm/v3/objects/contacts/$id" -H 'Authorization: Bearer pat-sim-hubsync')
[[ $code == 200 ]] || { echo "restart lost the record: $code"; exit 1; }
grep -q 'smoke@example.com' "$work/get"
stop
echo "ok: $allocator allocator, ready line, snapshot on SIGTERM, restart from snapshot"
