#!/usr/bin/env bash
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT"

step() { printf '\n==> %s\n' "$*"; }

step "install test dependencies"
bash scripts/install-deps.sh --test

export OPA_BIN="$REPO_ROOT/.tools/bin/opa"
export PATH="$REPO_ROOT/.tools/bin:$PATH"

if [ ! -d node_modules ]; then
  step "npm ci"
  npm ci
fi

step "typecheck"
npx tsc --noEmit

step "lint"
npx eslint .

step "layers"
node scripts/check-layers.mjs

if [ -d policies ] && find policies -name '*.rego' -print -quit | grep -q .; then
  step "opa test"
  "$OPA_BIN" test policies/ -v
else
  step "opa test skipped: no .rego files under policies/"
fi

step "build (the crash tests run the built CLI as a child process)"
npm run build

step "vitest"
results="$(mktemp)"
status=0
npx vitest run --reporter=default --reporter=json --outputFile="$results" || status=$?
# One plain closing line a CI reader understands whatever the runner: "tests: N passed, N failed".
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const skipped = r.numPendingTests + r.numTodoTests;
  console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed` + (skipped ? `, ${skipped} skipped` : ""));
' "$results" || true
rm -f "$results"
exit "$status"
