#!/usr/bin/env bash
# Run each unit-test binary in its own process (a crash fails one file, not the run)
# and print one summary line.
#
# Each binary gets at most UNIT_TEST_TIMEOUT seconds (default 60; 0 means no
# limit), like libuv's test runner: an overrun is sent TERM, then KILL
# KILL_AFTER seconds later, reported as "timed out after N s: <binary>" and
# counted as failed. Output goes to a file, not a pipe, so a child that left
# the test's process group (the extraction sandbox does) cannot hold the runner.
set -u
limit=${UNIT_TEST_TIMEOUT:-60}
KILL_AFTER=2
if ! [[ $limit =~ ^[0-9]+$ ]]; then
  echo "run-unit.sh: UNIT_TEST_TIMEOUT must be a whole number of seconds, not '${limit}'" >&2
  exit 2
fi
log=$(mktemp) || exit 2
child=
# timeout runs the test in a process group of its own, out of reach of the
# terminal's Ctrl-C: pass INT and TERM on (timeout forwards them to the test).
trap 'rm -f "$log"' EXIT
trap '[ -n "$child" ] && kill -TERM "$child" 2>/dev/null; wait; exit 130' INT TERM

pass=0 fail=0 failed=()
for t in "$@"; do
  start=$SECONDS
  timeout --kill-after="$KILL_AFTER" "$limit" "$t" >"$log" 2>&1 &
  child=$!
  wait "$child" 2>/dev/null   # no "Killed" job notice: the line below says it
  rc=$?
  child=
  if [ "$rc" -eq 0 ]; then
    pass=$((pass + 1))
    continue
  fi
  fail=$((fail + 1))
  failed+=("$t")
  cat "$log"
  # 124: timeout sent TERM; 128+9: it had to send KILL as well. The clock tells
  # them from a test that exits 124 or is killed (out of memory) on its own.
  if [ "$limit" -gt 0 ] && { [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; } \
     && [ $((SECONDS - start)) -ge "$limit" ]; then
    echo "timed out after ${limit} s: ${t}"
  fi
done
echo "unit test programs: ${pass} passed, ${fail} failed"
[ "$fail" -eq 0 ] || { printf 'failed: %s\n' "${failed[@]}"; exit 1; }
