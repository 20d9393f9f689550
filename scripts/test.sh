#!/usr/bin/env bash
# Run every test: install what is missing, build (warnings are errors), build the
# web UI, then the C unit tests and the integration and browser suites against
# real PostgreSQL, the SQS emulator, the real binaries and headless Chromium.
# Prints a summary per stage and exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
export NEXT_TELEMETRY_DISABLED=1
scripts/install-deps.sh
make -j"$(nproc)" WERROR=1
if [ -f web/package.json ]; then
  (cd web && npm run build --silent)
fi
make test WERROR=1
# The upload, search and version-content suites once more with the S3 upload store (issue 17;
# about 110 s): every stored upload is read back through the emulator's S3 API
# (tests/lib/upload-store.mjs).
STACK_UPLOAD_STORE=s3 BUILD_DIR=build node --test --test-concurrency=1 --test-timeout=900000 \
  tests/integration/ingest.test.mjs tests/integration/search.test.mjs tests/integration/documents_content.test.mjs
