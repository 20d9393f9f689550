#!/usr/bin/env python3
"""Regenerate docs/configuration.md from `core-api config` and `ingest-worker config`.
Run after changing the table in src/common/config.c (tests/integration/docs.test.mjs
fails while a variable is missing from the page)."""
import re
import subprocess
import sys

build = sys.argv[1] if len(sys.argv) > 1 else 'build'


def table(prog):
    out = subprocess.run([f'{build}/{prog}', 'config'], capture_output=True, text=True, check=True).stdout
    return [m.groups() for m in (re.match(r'(\S+)\s+(\S+)\s+default=(\S+)\s+(.*)', l) for l in out.splitlines()) if m]


names = {}
for prog in ('core-api', 'ingest-worker'):
    for r in table(prog):
        names.setdefault(r[0], [r, set()])[1].add(prog)

pipe = '\\|'
lines = ["# Configuration", "",
         "Every setting is an environment variable. Both programs read them from one declarative",
         "table (`src/common/config.c`: name, type, bounds, default, which program) and validate all",
         "of them at start-up: a missing or malformed value stops the program with exit code 2 and one",
         "line that names the variable and what it accepts. `core-api config` and `ingest-worker config`",
         "print the table this page is generated from (`scripts/gen-config-doc.py`; a test checks that",
         "every variable is listed here).", "",
         "Types: *duration* takes plain seconds or a unit (`500ms`, `90s`, `15m`, `2h`, `1d`); *bytes*",
         "takes a number with an optional `K`, `M`, `G`, `T` suffix (binary units); *boolean* takes",
         "`true|false|1|0|yes|no`.", "",
         "| variable | read by | type | default | meaning |", "|---|---|---|---|---|"]
for n, (r, progs) in names.items():
    d = r[2]
    d = '(required)' if d == '(required)' else ('`""`' if d == '""' else '`' + d + '`')
    lines.append('| `%s` | %s | %s | %s | %s |' % (n, ', '.join(sorted(progs)), r[1], d, r[3].replace('|', pipe)))
lines += ["", "## Outside the table", "",
          "| variable | used by | meaning |", "|---|---|---|",
          "| `API_DATABASE_URL`, `WORKER_DATABASE_URL` | core-api, ingest-worker | per-program override of `DATABASE_URL` (e.g. separate logins) |",
          "| `MIGRATE_DATABASE_URL` | `core-api migrate` | owner login for migrations (default `DATABASE_URL`) |",
          "| `MIGRATIONS_DIR` | `core-api migrate` | folder of the SQL migrations (default `db/migrations`) |",
          "| `MIGRATE_ON_START` | `core-api serve` | `true`: apply migrations at start (development) |",
          "| `BOOTSTRAP_PASSWORD` | `core-api bootstrap` | the first admin's password (else read from stdin) |",
          "| `DEV_API_PORT`, `DEV_PG_PORT`, `DEV_SQS_PORT` | `scripts/dev.sh` | local ports (8000, 55432, 4566) |",
          "| `DEV_TENANT`, `DEV_ADMIN_EMAIL`, `DEV_ADMIN_PASSWORD` | `scripts/dev.sh` | the demo tenant and its admin |",
          "| `DEV_VAR_DIR` | `scripts/dev.sh` | where the local state lives: database, uploads, logs, pid (default `var`) |",
          "| `BUILD_DIR` | tests, scripts | which build to run (`build`, or `build-san` for the sanitizer build) |",
          "| `STACK_LOG_LEVEL`, `KEEP_STACK` | tests | log level of the programs under test; keep the throwaway stack's folder |",
          "| `PG_BINDIR` | tests, scripts | PostgreSQL server binaries (default: found under /usr/lib/postgresql) |",
          ""]
open('docs/configuration.md', 'w').write('\n'.join(lines))
