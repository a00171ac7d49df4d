#!/usr/bin/env bash
# Installs every Debian 12 package that hubsync's build, tests and demo need.
# Idempotent and non-interactive: when nothing is missing it changes nothing
# and does not touch the package lists.
set -euo pipefail

packages=(
  # toolchain
  g++ cmake ninja-build pkg-config make lld
  # libraries (Boost 1.81 only: libboost-dev/libboost-all-dev pull 1.74 and conflict)
  libpqxx-dev libpq-dev libcurl4-openssl-dev rapidjson-dev libboost1.81-dev
  libyaml-cpp-dev libcli11-dev libspdlog-dev libfmt-dev libsqlite3-dev libssl-dev
  # tests: GoogleTest, a real PostgreSQL 15 server, the sqlite3 shell
  libgtest-dev libgmock-dev postgresql-15 postgresql-client-15 sqlite3
  # the HubSpot simulator's allocator (its cross-thread frees; see tests/hubspot-sim)
  libjemalloc-dev
  # the mapping parser's fuzz target (libFuzzer ships with clang's runtime)
  clang libclang-rt-14-dev
  # runuser/setpriv for starting PostgreSQL as the postgres user
  util-linux procps
  # the demo talks to the simulator with curl and reads its JSON answers with jq
  curl jq
  # deploy_test checks the systemd units with systemd-analyze verify
  systemd
  # the health page is tested in a real headless browser
  chromium
)

# Node.js and npm run the conformance suite (the official HubSpot client).
# A machine with a NodeSource nodejs already has npm inside it; Debian's own
# npm package would conflict with that, so only ask for it when node is absent.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  packages+=(nodejs npm)
fi

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [[ "$status" == installed ]] || missing+=("$p")
done

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

SUDO=()
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  SUDO=(sudo)
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
