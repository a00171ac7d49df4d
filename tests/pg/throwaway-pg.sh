#!/usr/bin/env bash
# A throwaway PostgreSQL 15 cluster for tests and the demo.
#
#   throwaway-pg.sh start STATE_DIR [--durable]
#                                     create + start a cluster, print its DSN
#   throwaway-pg.sh stop  STATE_DIR   stop it and remove its files
#   throwaway-pg.sh dsn   STATE_DIR   print the DSN of a running cluster
#   throwaway-pg.sh crash STATE_DIR   stop it at once (immediate shutdown), keep its files
#   throwaway-pg.sh resume STATE_DIR  start a crashed cluster again on the same port
#
# STATE_DIR (created if missing) receives `dsn` and `datadir`. The cluster
# itself lives in a fresh directory under ${TMPDIR:-/tmp}, owned by the
# `postgres` user when run as root (initdb refuses root), by the caller
# otherwise. It listens on a Unix socket in its own directory and on a free
# loopback port, with wal_level=logical, and trusts local connections only.
# Durability is off (fsync, synchronous_commit, full_page_writes) unless
# --durable is given: benchmarks of write costs need a durable cluster.
set -euo pipefail

cmd=${1:-}
state=${2:-}
option=${3:-}
[[ -n "$cmd" && -n "$state" ]] || { echo "usage: $0 start|stop|dsn STATE_DIR [--durable]" >&2; exit 2; }
[[ -z "$option" || ( "$cmd" == start && "$option" == --durable ) ]] || {
  echo "throwaway-pg: unknown option '$option' (only 'start STATE_DIR --durable')" >&2; exit 2; }

find_bindir() {
  if [[ -n "${HUBSYNC_PG_BINDIR:-}" ]]; then echo "$HUBSYNC_PG_BINDIR"; return; fi
  for d in /usr/lib/postgresql/15/bin /usr/lib/postgresql/*/bin; do
    [[ -x "$d/initdb" ]] && { echo "$d"; return; }
  done
  command -v initdb >/dev/null && { dirname "$(command -v initdb)"; return; }
  echo "throwaway-pg: no PostgreSQL server binaries found (install postgresql-15, see deploy/install-deps.sh)" >&2
  exit 1
}

as_owner() {
  if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# Durability is off unless the cluster was started --durable: the cluster
# is thrown away, speed matters more.
server_options() {
  local durability="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
  [[ -f "$state/durable" ]] && durability="-c fsync=on -c synchronous_commit=on -c full_page_writes=on"
  echo "-p $1 -k $2 -c listen_addresses=127.0.0.1 -c wal_level=logical $durability" \
       "-c max_connections=200 -c max_wal_senders=4 -c max_replication_slots=32"
}

free_port() {
  # Ask the kernel for a free port: bind port 0 on loopback and read it back.
  local p
  for _ in $(seq 1 50); do
    p=$(( 20000 + RANDOM % 40000 ))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
  done
  echo "throwaway-pg: no free port found" >&2; exit 1
}

start() {
  mkdir -p "$state"
  if [[ -f "$state/datadir" ]] && [[ -d "$(cat "$state/datadir")" ]]; then
    stop_cluster quiet
  fi
  local bindir dir port
  bindir=$(find_bindir)
  rm -f "$state/durable"
  [[ "$option" == --durable ]] && touch "$state/durable"
  dir=$(mktemp -d "${TMPDIR:-/tmp}/hubsync-pg.XXXXXX")
  chmod 755 "$dir"
  if [[ $(id -u) -eq 0 ]]; then
    id postgres >/dev/null 2>&1 || { echo "throwaway-pg: running as root needs the 'postgres' user (install postgresql-15)" >&2; exit 1; }
    chown postgres: "$dir"
  fi
  echo "$dir" > "$state/datadir"
  as_owner "$bindir/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --no-locale \
    --no-sync >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
  local attempt
  for attempt in 1 2 3 4 5; do
    port=$(free_port)
    if as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start \
        -o "$(server_options "$port" "$dir")" \
        >/dev/null 2>&1; then
      break
    fi
    if [[ $attempt -eq 5 ]]; then
      echo "throwaway-pg: server did not start:" >&2; tail -20 "$dir/server.log" >&2; exit 1
    fi
  done
  as_owner "$bindir/psql" -h "$dir" -p "$port" -U postgres -d postgres -qAt \
    -c "CREATE DATABASE hubsync" >/dev/null
  local dsn="postgresql://postgres@127.0.0.1:$port/hubsync"
  echo "$dsn" > "$state/dsn"
  echo "$port" > "$state/port"
  echo "$dir" > "$state/socketdir"
  echo "$dsn"
}

stop_cluster() {
  [[ -f "$state/datadir" ]] || return 0
  local dir bindir
  dir=$(cat "$state/datadir")
  bindir=$(find_bindir)
  if [[ -d "$dir/data" ]]; then
    as_owner "$bindir/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  case "$dir" in
    */hubsync-pg.*) rm -rf "$dir" ;;
  esac
  rm -f "$state/datadir" "$state/dsn" "$state/port" "$state/socketdir" "$state/durable"
  [[ "${1:-}" == quiet ]] || echo "stopped"
}

crash_cluster() {
  local dir bindir
  dir=$(cat "$state/datadir")
  bindir=$(find_bindir)
  as_owner "$bindir/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null
}

resume_cluster() {
  local dir bindir port
  dir=$(cat "$state/datadir")
  port=$(cat "$state/port")
  bindir=$(find_bindir)
  as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start \
    -o "$(server_options "$port" "$dir")" \
    >/dev/null
}

case "$cmd" in
  start) start ;;
  crash) crash_cluster ;;
  resume) resume_cluster ;;
  stop) stop_cluster ;;
  dsn) cat "$state/dsn" ;;
  *) echo "usage: $0 start|stop|dsn|crash|resume STATE_DIR" >&2; exit 2 ;;
esac
