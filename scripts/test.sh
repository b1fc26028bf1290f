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

if [ -d policies ] && find policies -name '*.rego' -print -quit | grep -q .; then
  step "opa test"
  "$OPA_BIN" test policies/ -v
else
  step "opa test skipped: no .rego files under policies/"
fi

step "build (the crash tests run the built CLI as a child process)"
npm run build

step "vitest"
npx vitest run
