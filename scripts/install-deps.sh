#!/usr/bin/env bash
# Install what building, running and testing need, on Debian 12: the C libraries,
# PostgreSQL 15, poppler-utils (pdftotext), Chromium for the browser tests, wrk and Go
# for the benchmarks, and
# the npm packages (SQS emulator, test tools, web UI). Safe to run again: it only
# installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  build-essential pkg-config clang libclang-rt-14-dev bear
  libmicrohttpd-dev libjansson-dev libpq-dev libcurl4-openssl-dev libssl-dev
  libargon2-dev libxml2-dev libzip-dev uuid-dev libcmocka-dev
  postgresql-15 postgresql-client-15 poppler-utils tesseract-ocr tesseract-ocr-eng
  libgmime-3.0-dev
  chromium nodejs npm curl ca-certificates procps iproute2 docker-compose
  # benches: wrk (bench/reads_bench.mjs), Go and pgx to build the spec's Go design it compares with
  wrk golang-go golang-github-jackc-pgx-v4-dev
  # real multi-hundred-page PDFs for the soak (tests/soak/soak.mjs): their manuals
  bash-doc gnuplot-doc libtasn1-doc valgrind
)
# Real manuals for bench/retrieval_eval.mjs and tests/integration/retrieval.test.mjs:
# the Debian Reference (HTML), the Bash and gnuplot manuals (PDF).
APT_PACKAGES+=(debian-reference-en bash-doc gnuplot-doc)
# WordNet 3.0 for search (SEARCH_WORDNET, SEARCH_SYNONYMS: docs/retrieval.md), read by core-api.
APT_PACKAGES+=(wordnet-base)
# The English Snowball stemmer for search snippets (src/api/handlers/snippet.c), linked by core-api.
APT_PACKAGES+=(libstemmer-dev)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  # nodejs/npm may come from elsewhere (the machine's own Node 20): accept a working binary.
  case "$p" in
    nodejs) command -v node >/dev/null && continue ;;
    npm) command -v npm >/dev/null && continue ;;
  esac
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: missing packages: ${missing[*]} (run as root, or: sudo apt-get install ${missing[*]})" >&2
    exit 1
  fi
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The Debian package creates the `postgres` system user; our clusters run as it
# (PostgreSQL refuses to run as root). Make sure it exists even without the package's
# postinst having run.
if ! id postgres >/dev/null 2>&1; then
  [ "$(id -u)" -eq 0 ] && useradd --system --home /var/lib/postgresql --shell /bin/bash postgres
fi

# npm packages, exactly as locked. `npm ci` when the lock matches, else install.
npm_install() {
  local dir=$1
  if [ -f "$dir/package-lock.json" ] && [ ! -d "$dir/node_modules" ]; then
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  elif [ ! -d "$dir/node_modules" ] || [ "$dir/package.json" -nt "$dir/node_modules" ]; then
    (cd "$dir" && npm install --no-audit --no-fund --loglevel=error)
  fi
}
npm_install .
[ -f web/package.json ] && npm_install web
[ -f tests/e2e/package.json ] && npm_install tests/e2e
echo "install-deps: ok"
