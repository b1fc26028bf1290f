#!/usr/bin/env bash
# Installs Responder from this checkout: npm packages, the build, ansible-playbook and OPA.
# Afterwards `npm start` runs it on the embedded default.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/install-deps.sh
npm ci
npm run build
