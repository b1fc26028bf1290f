#!/usr/bin/env bash
# Installs what Responder runs with (ansible-playbook, OPA) and, with --test, the real servers the
# integration tests run against (Prometheus, Alertmanager, Chromium for the UI, Synapse for Matrix). CI starts from a fresh machine, so
# anything installed by hand on a developer box must also be installable from here.
#   bash scripts/install-deps.sh          # runtime only
#   bash scripts/install-deps.sh --test   # runtime + test servers
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OPA_VERSION="1.22.3"
TOOLS_BIN="$REPO_ROOT/.tools/bin"
OPA_BIN="$TOOLS_BIN/opa"

log() { printf '[install-deps] %s\n' "$*"; }

BINARIES=(ansible-playbook)
if [ "${1:-}" = "--test" ]; then
  # nft: block-host's playbook test runs the real nftables in a network namespace of its own.
  BINARIES+=(prometheus prometheus-alertmanager chromium nft)
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
  else
    log "not root and no sudo: apt packages can only be checked, not installed"
  fi
fi

# binary name -> Debian package that ships it
declare -A APT_FOR=(
  [prometheus]=prometheus
  [chromium]=chromium
  [prometheus-alertmanager]=prometheus-alertmanager
  [ansible-playbook]=ansible-core
  [nft]=nftables
)

missing=()
for bin in "${BINARIES[@]}"; do
  if command -v "$bin" >/dev/null 2>&1; then
    log "ok: $bin ($(command -v "$bin"))"
  else
    missing+=("${APT_FOR[$bin]}")
  fi
done

if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ] && [ -z "$SUDO" ]; then
    log "missing packages: ${missing[*]} (cannot install without root)"
    exit 1
  fi
  log "installing: ${missing[*]}"
  # The test servers are programs the tests start themselves, not services of this machine: their
  # packages must neither start them now nor at boot (on a systemd host they would listen on 9090/9093).
  # A policy-rc.d that says "no" keeps invoke-rc.d from starting them during the install (left alone when
  # one exists, as in Docker images); afterwards their units are disabled. Only services of packages
  # installed here are touched: an existing Prometheus stays as it is.
  services=()
  for package in "${missing[@]}"; do
    case "$package" in prometheus | prometheus-alertmanager) services+=("$package") ;; esac
  done
  POLICY_RC_D=/usr/sbin/policy-rc.d
  own_policy_rc_d=""
  if [ "${#services[@]}" -gt 0 ] && [ ! -e "$POLICY_RC_D" ]; then
    printf '#!/bin/sh\n# written by responder scripts/install-deps.sh during an install; removed after it\nexit 101\n' | $SUDO tee "$POLICY_RC_D" >/dev/null
    $SUDO chmod 755 "$POLICY_RC_D"
    own_policy_rc_d=1
    trap '[ -n "$own_policy_rc_d" ] && $SUDO rm -f "$POLICY_RC_D"' EXIT
  fi
  $SUDO bash "$REPO_ROOT/scripts/apt-get-waiting.sh" update -q
  # Without recommends: prometheus would pull node-exporter and ansible-core the full `ansible`
  # collection bundle, neither of which the tests use, and they double the install time.
  $SUDO bash "$REPO_ROOT/scripts/apt-get-waiting.sh" install -y -q --no-install-recommends "${missing[@]}"
  for service in "${services[@]}"; do
    if [ -d /run/systemd/system ]; then
      $SUDO systemctl disable --now "$service.service" >/dev/null 2>&1 || true
    else
      $SUDO deb-systemd-helper disable "$service.service" >/dev/null 2>&1 || true
      $SUDO update-rc.d "$service" disable >/dev/null 2>&1 || true
    fi
    log "installed $service without its system service (disabled; the tests start their own)"
  done
  if [ -n "$own_policy_rc_d" ]; then
    $SUDO rm -f "$POLICY_RC_D"
    own_policy_rc_d=""
  fi
fi

# Synapse, the Matrix homeserver the Matrix approval tests run against, in a venv of its own under .tools
# (PyPI wheels; no system service, no network beyond the package index).
SYNAPSE_VERSION="1.163.2"
SYNAPSE_VENV="$REPO_ROOT/.tools/synapse"
if [ "${1:-}" = "--test" ]; then
  current_synapse="$("$SYNAPSE_VENV/bin/python" -c 'import synapse; print(synapse.__version__.split()[0])' 2>/dev/null || true)"
  if [ "$current_synapse" = "$SYNAPSE_VERSION" ]; then
    log "ok: synapse $SYNAPSE_VERSION ($SYNAPSE_VENV)"
  else
    if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
      log "installing python3-venv for the Synapse venv"
      $SUDO bash "$REPO_ROOT/scripts/apt-get-waiting.sh" update -q
      $SUDO bash "$REPO_ROOT/scripts/apt-get-waiting.sh" install -y -q --no-install-recommends python3-venv
    fi
    log "installing synapse $SYNAPSE_VERSION into $SYNAPSE_VENV (was: ${current_synapse:-absent})"
    python3 -m venv "$SYNAPSE_VENV"
    "$SYNAPSE_VENV/bin/pip" install -q "matrix-synapse==$SYNAPSE_VERSION"
    log "ok: synapse $SYNAPSE_VERSION ($SYNAPSE_VENV)"
  fi
fi

opa_version() {
  "$OPA_BIN" version 2>/dev/null | awk -F': ' '/^Version:/ {print $2; exit}'
}

current_opa=""
if [ -x "$OPA_BIN" ]; then
  current_opa="$(opa_version || true)"
fi
if [ "$current_opa" = "$OPA_VERSION" ]; then
  log "ok: opa $OPA_VERSION ($OPA_BIN)"
else
  if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then
    PATH="/usr/local/go/bin:$PATH"
  fi
  if ! command -v go >/dev/null 2>&1; then
    log "go is required to build opa $OPA_VERSION but is not on PATH"
    exit 1
  fi
  log "building opa $OPA_VERSION into $TOOLS_BIN (was: ${current_opa:-absent}); this takes a few minutes"
  mkdir -p "$TOOLS_BIN"
  # go install refuses to overwrite a file it did not build itself (e.g. a wrapper script).
  rm -f "$OPA_BIN"
  GOBIN="$TOOLS_BIN" go install "github.com/open-policy-agent/opa@v$OPA_VERSION"
  current_opa="$(opa_version || true)"
  if [ "$current_opa" != "$OPA_VERSION" ]; then
    log "opa build finished but reports version '${current_opa}', expected $OPA_VERSION"
    exit 1
  fi
  log "ok: opa $OPA_VERSION ($OPA_BIN)"
fi
