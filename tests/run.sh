#!/usr/bin/env bash
# The one test command: installs what is missing, builds with -Werror, starts
# the throwaway PostgreSQL (a ctest fixture) and runs every test suite, in a
# release build and again under AddressSanitizer + UndefinedBehaviorSanitizer.
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/install-deps.sh
# Release build and every suite, then the unit, integration and conformance
# suites under ASan + UBSan (the reliability suite's kill-timing trials are
# calibrated for the optimised build: under ASan they measure its slowness).
cmake --workflow --preset ci
cmake --workflow --preset asan
