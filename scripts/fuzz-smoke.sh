#!/usr/bin/env bash
# Build the libFuzzer targets (make fuzz) and run each one for SECONDS (default 20)
# on a scratch copy of its seed corpus (tests/fuzz/corpus/<target>/), with ASan
# leak detection on and UBSan reports fatal. A target fails when it crashes, leaks,
# hits undefined behaviour, runs out of memory or hangs; its reproducer is kept in
# build-fuzz/crashes/<target>/ (rerun: build-fuzz/<target> <file>).
# Prints one summary line; exits 1 if any target failed.
#
#   scripts/fuzz-smoke.sh [SECONDS]        CI: scripts/fuzz-smoke.sh 10
set -u
cd "$(dirname "$0")/.."
secs=${1:-20}
case $secs in
  '' | *[!0-9]*) echo "usage: $0 [SECONDS]" >&2; exit 2 ;;
esac

make -j"$(nproc)" WERROR=1 fuzz || { echo "fuzz targets: build failed"; exit 1; }

export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:symbolize=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="halt_on_error=1:abort_on_error=1:print_stacktrace=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"

work=$(mktemp -d "${TMPDIR:-/tmp}/fuzz-smoke.XXXXXX")
trap 'rm -rf "$work"' EXIT

pass=0 fail=0 failed=()
for bin in build-fuzz/fuzz_*; do
  [ -x "$bin" ] || continue
  name=$(basename "$bin")
  corpus="$work/$name"
  mkdir -p "$corpus"
  [ -d "tests/fuzz/corpus/$name" ] && cp -R "tests/fuzz/corpus/$name/." "$corpus/"
  crashes="build-fuzz/crashes/$name"
  mkdir -p "$crashes"
  log="$work/$name.log"
  if "$bin" -max_total_time="$secs" -max_len=65536 -rss_limit_mb=2048 -timeout=30 \
       -detect_leaks=1 -artifact_prefix="$crashes/" "$corpus" >"$log" 2>&1; then
    runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$log" | tail -1)
    printf '  ok     %-20s %s runs in %ss\n' "$name" "${runs:-?}" "$secs"
    pass=$((pass + 1))
    rmdir "$crashes" 2>/dev/null
  else
    printf '  FAIL   %-20s (log tail below; reproducer in %s/)\n' "$name" "$crashes"
    tail -n 60 "$log"
    fail=$((fail + 1))
    failed+=("$name")
  fi
done
rmdir build-fuzz/crashes 2>/dev/null

echo "fuzz targets: ${pass} passed, ${fail} failed"
[ "$fail" -eq 0 ] || { printf 'failed: %s\n' "${failed[@]}"; exit 1; }
