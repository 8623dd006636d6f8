#!/usr/bin/env bash
# Builds the web console into dashboard/dist, which storeplane serves at "/".
#
# Called by the project's setup and CI; safe to run again at any time. Installs the locked
# npm dependencies only when dashboard/node_modules is missing or package-lock.json changed
# since the last install, then generates the typed API client from storeplane's OpenAPI
# schema (needs .venv) and runs tsc + vite build.
#
#   scripts/build-dashboard.sh               always build
#   scripts/build-dashboard.sh --if-changed  skip when dashboard/dist was built from exactly the
#                                            current sources (scripts/dev.sh's quick restart)
#
# After each build the hash of the dashboard's sources (every file under dashboard/ except
# node_modules, dist, test output, tests, e2e/, docs and the generated API client) goes to
# dashboard/node_modules/.storeplane-dist-sha256 (not into dist, which storeplane serves).
# The generated client is left out on purpose: it holds types only, which vite erases, so a
# changed API schema alone cannot change dist (tsc checks it whenever the sources change, and
# scripts/test.sh always builds).
set -euo pipefail
IF_CHANGED=0
[[ "${1:-}" == "--if-changed" ]] && IF_CHANGED=1

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dashboard="$repo/dashboard"
say() { printf 'build-dashboard: %s\n' "$*"; }

command -v node >/dev/null || { say "node is not installed; install Node.js 20.19+ (e.g. apt-get install nodejs npm)"; exit 1; }
command -v npm >/dev/null || { say "npm is not installed; install npm 10+"; exit 1; }
node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' \
  || { say "node $(node -v) is too old; Vite needs 20.19 or newer"; exit 1; }
[ -x "$repo/.venv/bin/python" ] || [ -n "${STOREPLANE_PYTHON:-}" ] \
  || { say "no $repo/.venv/bin/python: create the Python environment first (it dumps the OpenAPI schema)"; exit 1; }

cd "$dashboard"
sources_hash() {
  # Tests, the e2e journeys and docs do not go into dist, so changing them does not rebuild.
  find . \( -path ./node_modules -o -path ./dist -o -path ./test-output -o -path ./src/api/generated \
    -o -path ./e2e -o -path ./src/test \) -prune \
    -o -type f ! -name openapi.json ! -name '*.test.ts' ! -name '*.test.tsx' ! -name '*.md' -print0 \
    | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1
}
built_stamp="node_modules/.storeplane-dist-sha256"  # not in dist: storeplane serves dist
sources="$(sources_hash)"
if [ "$IF_CHANGED" = 1 ] && [ -f dist/index.html ] && [ -f "$built_stamp" ] && [ "$(cat "$built_stamp")" = "$sources" ]; then
  say "dashboard/dist is up to date (sources unchanged since the last build); skipping the build"
  exit 0
fi

stamp="node_modules/.storeplane-lock-sha256"
want="$(sha256sum package-lock.json | cut -d' ' -f1)"
if [ -d node_modules ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  say "dependencies up to date (package-lock.json unchanged)"
else
  say "installing dependencies with npm ci ..."
  npm ci --no-audit --no-fund --loglevel=error
  echo "$want" > "$stamp"
fi

say "generating the API client and building (npm run build) ..."
npm run --silent build
echo "$sources" > "$built_stamp"
say "done: $(du -sh dist | cut -f1) in dashboard/dist"
