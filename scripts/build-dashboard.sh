#!/usr/bin/env bash
# Builds the web console into dashboard/dist, which storeplane serves at "/".
#
# Called by the project's setup and CI; safe to run again at any time. Installs the locked
# npm dependencies only when dashboard/node_modules is missing or package-lock.json changed
# since the last install, then generates the typed API client from storeplane's OpenAPI
# schema (needs .venv) and runs tsc + vite build.
set -euo pipefail

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
say "done: $(du -sh dist | cut -f1) in dashboard/dist"
