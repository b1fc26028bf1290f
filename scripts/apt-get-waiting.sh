#!/usr/bin/env bash
# apt-get, waiting a bounded time while another apt or dpkg (unattended-upgrades, a desktop updater, a
# second install) holds the package lock, instead of failing at once.
#   bash scripts/apt-get-waiting.sh update -q
#   bash scripts/apt-get-waiting.sh install -y -q ansible-core
# APT_LOCK_WAIT_SECONDS (default 300) bounds the wait; APT_LOCK_POLL_SECONDS (default 5) is the retry interval.
set -uo pipefail

WAIT="${APT_LOCK_WAIT_SECONDS:-300}"
POLL="${APT_LOCK_POLL_SECONDS:-5}"

log() { printf '[install-deps] %s\n' "$*" >&2; }

output="$(mktemp)"
trap 'rm -f "$output"' EXIT

# "It is held by process 1234 (unattended-upgr)", as apt says it.
holder() { grep -oE 'held by process [0-9]+( \([^)]*\))?' "$output" | head -n 1 | sed 's/^held by //'; }

deadline=$((SECONDS + WAIT))
while :; do
  left=$((deadline - SECONDS))
  [ "$left" -lt 0 ] && left=0
  # apt waits for the dpkg frontend lock itself (install) for as long as it is told; it does not wait for
  # the lists lock (update), which the loop below covers.
  DEBIAN_FRONTEND=noninteractive apt-get -o "DPkg::Lock::Timeout=$left" "$@" 2>&1 | tee "$output"
  status="${PIPESTATUS[0]}"
  [ "$status" -eq 0 ] && exit 0
  if ! grep -qE 'Could not get lock|Unable to lock|Unable to acquire the dpkg frontend lock' "$output"; then
    exit "$status"
  fi
  who="$(holder)"
  if [ "$SECONDS" -ge "$deadline" ]; then
    log "the package lock is still held${who:+ by $who} after ${WAIT}s; giving up. Run this again when the other apt or dpkg has finished."
    exit "$status"
  fi
  log "the package lock is held${who:+ by $who}; waiting for it, at most $((deadline - SECONDS))s more (APT_LOCK_WAIT_SECONDS)"
  sleep "$POLL"
done
