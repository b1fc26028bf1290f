#!/usr/bin/env bash
# Installs Responder from this checkout: npm packages, the build, ansible-playbook and OPA, and a
# `responder` command (scripts/install-command.sh: /usr/local/bin as root, else ~/.local/bin, or
# $RESPONDER_BIN_DIR). Afterwards `npm start` (or `responder serve --init`) runs it on the embedded default.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/install-deps.sh
npm ci
npm run build
# Not fatal: `npm start` and `node dist/src/cli/main.js` work without it; the script says what stopped it.
bash scripts/install-command.sh || true
