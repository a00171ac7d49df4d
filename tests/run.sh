#!/usr/bin/env bash
# The one test command: installs what is missing, builds with -Werror, starts
# the throwaway PostgreSQL (a ctest fixture) and runs every test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/install-deps.sh
cmake --workflow --preset ci
