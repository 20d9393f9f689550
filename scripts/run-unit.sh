#!/usr/bin/env bash
# Run each unit-test binary in its own process (a crash fails one file, not the run)
# and print one summary line.
set -u
pass=0 fail=0 failed=()
for t in "$@"; do
  if out=$("$t" 2>&1); then
    pass=$((pass + 1))
  else
    fail=$((fail + 1))
    failed+=("$t")
    printf '%s\n' "$out"
  fi
done
echo "unit test programs: ${pass} passed, ${fail} failed"
[ "$fail" -eq 0 ] || { printf 'failed: %s\n' "${failed[@]}"; exit 1; }
