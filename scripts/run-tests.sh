#!/usr/bin/env bash
# Integration and browser tests against real PostgreSQL, the SQS emulator and the
# real binaries (every suite starts its own throwaway stack, see tests/lib/stack.mjs).
#   scripts/run-tests.sh [BUILD_DIR]      (make test runs it after the unit tests)
set -euo pipefail
cd "$(dirname "$0")/.."
export BUILD_DIR=${1:-${BUILD_DIR:-build}}
suites=(tests/integration/*.test.mjs)
if [ -f web/out/index.html ] && [ -d tests/e2e/node_modules ]; then
  suites+=(tests/e2e/*.test.mjs)
elif [ "${CI:-}" = "true" ]; then
  echo "run-tests: the web UI is not built (web/out) or tests/e2e is not installed" >&2
  exit 1
fi
# Suites run one at a time: each starts a whole stack, and this machine has 2 cores.
exec node --test --test-concurrency=1 --test-timeout=900000 "${suites[@]}"
