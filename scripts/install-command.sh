#!/usr/bin/env bash
# Puts a `responder` command on PATH: a small wrapper that runs this checkout's built CLI with the Node
# that ran the install (so it also works under sudo and systemd, whose PATH may not have that Node).
#   bash scripts/install-command.sh
# Where: $RESPONDER_BIN_DIR, else /usr/local/bin as root, else ~/.local/bin. Run again after moving the checkout.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
log() { printf '[install] %s\n' "$*"; }

if [ -n "${RESPONDER_BIN_DIR:-}" ]; then
  BIN_DIR="$RESPONDER_BIN_DIR"
elif [ "$(id -u)" -eq 0 ]; then
  BIN_DIR=/usr/local/bin
else
  BIN_DIR="$HOME/.local/bin"
fi
NODE="$(command -v node)"
MARK='written by responder scripts/install-command.sh'
target="$BIN_DIR/responder"

if [ -e "$target" ] && ! grep -q "$MARK" "$target" 2>/dev/null; then
  log "$target exists and was not written by this script; left alone. Run the CLI as: node $REPO_ROOT/dist/src/cli/main.js"
  exit 1
fi

# For sh: the text in single quotes, each ' written as '\''.
shquote() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"; }

mkdir -p "$BIN_DIR"
{
  printf '#!/bin/sh\n# %s for %s\n' "$MARK" "$REPO_ROOT"
  printf 'node=%s\n[ -x "$node" ] || node=node\n' "$(shquote "$NODE")"
  printf 'exec "$node" %s "$@"\n' "$(shquote "$REPO_ROOT/dist/src/cli/main.js")"
} >"$target.tmp"
chmod 755 "$target.tmp"
mv "$target.tmp" "$target"

case ":$PATH:" in
  *":$BIN_DIR:"*) log "responder command: $target" ;;
  *) log "responder command: $target, but $BIN_DIR is not on PATH; add it: export PATH=\"$BIN_DIR:\$PATH\" (e.g. in ~/.profile)" ;;
esac
