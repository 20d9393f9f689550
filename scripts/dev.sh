#!/usr/bin/env bash
# Bring the whole system up locally: install what is missing, build core-api,
# ingest-worker and the web UI, then start PostgreSQL, the SQS emulator (ingest
# queue + DLQ), migrations, core-api on http://127.0.0.1:8000 and one worker.
#
#   scripts/dev.sh             foreground; Ctrl-C stops everything
#   scripts/dev.sh --detach    in the background (output in $VAR/stack.log)
#   scripts/dev.sh stop        stop the detached stack
#   scripts/dev.sh status
set -euo pipefail
cd "$(dirname "$0")/.."
# State (database, uploads, logs, pid) lives here; DEV_VAR_DIR moves it (tests do).
VAR=${DEV_VAR_DIR:-var}
export DEV_VAR_DIR=$VAR

case "${1:-}" in
  stop)
    if [ -f "$VAR"/stack.pid ] && kill -0 "$(cat "$VAR"/stack.pid)" 2>/dev/null; then
      pid=$(cat "$VAR"/stack.pid)
      kill -TERM "$pid"
      for _ in $(seq 1 80); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
      if kill -0 "$pid" 2>/dev/null; then echo "dev: stack (pid $pid) did not stop in 40 s" >&2; exit 1; fi
      rm -f "$VAR"/stack.pid
      echo "dev: stopped"
    else
      rm -f "$VAR"/stack.pid
      echo "dev: not running"
    fi
    exit 0 ;;
  status)
    exec node scripts/stack.mjs status ;;
  ""|--detach) ;;
  *)
    echo "usage: scripts/dev.sh [--detach | stop | status]" >&2
    exit 2 ;;
esac

if [ -f "$VAR"/stack.pid ] && kill -0 "$(cat "$VAR"/stack.pid)" 2>/dev/null; then
  echo "dev: already running (pid $(cat "$VAR"/stack.pid)); scripts/dev.sh stop first" >&2
  exit 1
fi

scripts/install-deps.sh
make -j"$(nproc)"
if [ -f web/package.json ]; then
  (cd web && NEXT_TELEMETRY_DISABLED=1 npm run build --silent)
fi
mkdir -p "$VAR"
# The dev profile serves plain http on loopback: a Secure session cookie (the
# default) would not come back from every browser. Never set this in production.
export COOKIE_SECURE=${COOKIE_SECURE:-false}

if [ "${1:-}" = "--detach" ]; then
  nohup node scripts/stack.mjs up >"$VAR"/stack.log 2>&1 &
  echo $! >"$VAR"/stack.pid
  for _ in $(seq 1 120); do
    grep -q '\[stack\] ready' "$VAR"/stack.log 2>/dev/null && { cat "$VAR"/stack.log; exit 0; }
    kill -0 "$(cat "$VAR"/stack.pid)" 2>/dev/null || { cat "$VAR"/stack.log; rm -f "$VAR"/stack.pid; exit 1; }
    sleep 0.5
  done
  echo "dev: the stack did not become ready in 60 s; see $VAR/stack.log" >&2
  exit 1
fi
exec node scripts/stack.mjs up
