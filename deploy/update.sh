#!/usr/bin/env bash
# Updates an installed ways-edge gateway to a new release, with automatic rollback.
#
#   sudo /opt/ways-edge/current/deploy/update.sh ways-edge-0.2.0.tar.gz
#   sudo deploy/update.sh --source /path/to/built/checkout
#   sudo deploy/update.sh --rollback          # back to the previous release
#
# Steps: stage the new release next to the old one (/opt/ways-edge/releases/<version>, production
# dependencies only), point `previous` at the running release and `current` at the new one, install
# the new release's unit, restart, wait for GET /readyz (WAYS_EDGE_READY_TIMEOUT, default 90 s) and
# check it is still ready WAYS_EDGE_SETTLE_SECONDS (default 5) later. If it is not, `current` goes
# back to the old release, the old unit is restored, the gateway is restarted and the new release is
# marked releases/<version>/.failed. Old releases beyond WAYS_EDGE_KEEP_RELEASES are removed.
#
# The data directory is shared by all releases: a rollback restores the code, not the data. A release
# that migrates data must keep it readable by the release before it.
#
# Exit: 0 updated (or already at that version), 1 rolled back (the old release is ready again),
# 2 rolled back but the old release is not ready either, 3 usage or staging error.
#
# Options: --source DIR | --tarball FILE | DIR | FILE, --version V, --force (re-stage a non-current
# release of the same version), --rollback, --timeout SECONDS.
# Test hooks (no systemd): WAYS_EDGE_ROOT, WAYS_EDGE_NO_SYSTEMCTL=1, WAYS_EDGE_RESTART_CMD,
# WAYS_EDGE_READY_URL or WAYS_EDGE_READY_CMD — see deploy/lib.sh.
set -eEuo pipefail
umask 022
# Until the switch, any failure is a usage/staging error (exit 3) and the running release is untouched.
WE_DIE_CODE=3
trap 'exit 3' ERR

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=deploy/lib.sh
. "$HERE/lib.sh"

usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit "${1:-0}"; }

SOURCE=""
TARBALL=""
FORCE=0
ROLLBACK=0
while [ $# -gt 0 ]; do
  case "$1" in
    --source) SOURCE="${2:?--source needs a directory}"; shift 2 ;;
    --tarball) TARBALL="${2:?--tarball needs a file}"; shift 2 ;;
    --version) export WAYS_EDGE_VERSION="${2:?--version needs a value}"; shift 2 ;;
    --force) FORCE=1; shift ;;
    --rollback) ROLLBACK=1; shift ;;
    --timeout) export WAYS_EDGE_READY_TIMEOUT="${2:?--timeout needs seconds}"; shift 2 ;;
    -h | --help) usage 0 ;;
    -*) we_warn "unknown option $1"; usage 3 ;;
    *) we_take_source_arg "$1"; shift ;;
  esac
done

we_begin

[ -L "$R_CURRENT" ] || we_die "ways-edge is not installed ($R_CURRENT missing): run deploy/install.sh first"
OLD="$(we_current_version)"
OLD_PREVIOUS="$(we_link_target "$R_PREVIOUS")"
[ -f "$R_RELEASES/$OLD/.complete" ] || we_warn "the running release $OLD looks incomplete"

if [ "$ROLLBACK" = 1 ]; then
  NEW="${OLD_PREVIOUS#releases/}"
  if [ -z "$NEW" ] || [ ! -f "$R_RELEASES/$NEW/.complete" ]; then we_die "no previous release to roll back to"; fi
  [ "$NEW" != "$OLD" ] || we_die "previous and current are both $OLD"
  we_log "rolling back from $OLD to $NEW"
else
  if [ -n "$TARBALL" ]; then we_unpack_tarball "$TARBALL"; fi
  [ -n "$SOURCE" ] || { we_warn "give the new release: update.sh FILE.tar.gz | DIR"; usage 3; }
  SOURCE="$(cd "$SOURCE" && pwd)"
  [ -f "$SOURCE/package.json" ] || we_die "$SOURCE has no package.json"
  NEW="$(we_source_version "$SOURCE")"
  if [ "$NEW" = "$OLD" ]; then
    we_log "already running $NEW; nothing to do (give another --version to re-deploy this code)"
    exit 0
  fi
  we_stage_release "$SOURCE" "$NEW"
fi
trap - ERR
WE_DIE_CODE=2

activate() { # version
  we_switch_link current "$1"
  we_install_unit "$R_CURRENT"
  if we_host_mode && [ -z "${WAYS_EDGE_RESTART_CMD:-}" ]; then systemctl daemon-reload; fi
  we_restart
}

# Ready now, and still ready a few seconds later (catches a gateway that dies right after start).
ready_and_stable() {
  local settle="${WAYS_EDGE_SETTLE_SECONDS:-5}"
  we_wait_ready "$HERE" || return 1
  [ "$settle" -gt 0 ] || return 0
  sleep "$settle"
  WAYS_EDGE_READY_TIMEOUT=5 we_wait_ready "$HERE"
}

STARTED_AT="$(date +%s)"
we_switch_link previous "$OLD"
we_log "switching current: $OLD -> $NEW"
if activate "$NEW" && ready_and_stable; then
  rm -f "$R_RELEASES/$NEW/.failed"
  we_prune_releases
  we_log "updated to $NEW (previous: $OLD; undo with: update.sh --rollback)"
  exit 0
fi

we_warn "$NEW did not become ready: rolling back to $OLD"
if we_host_mode && [ -z "${WAYS_EDGE_RESTART_CMD:-}" ]; then
  journalctl -u "$WE_UNIT_NAME" --since "@$STARTED_AT" -n 40 --no-pager -o cat >&2 || true
fi
date -u +%Y-%m-%dT%H:%M:%SZ >"$R_RELEASES/$NEW/.failed"
if [ -n "$OLD_PREVIOUS" ]; then
  ln -sfn "$OLD_PREVIOUS" "$R_PREFIX/.previous.tmp" && mv -T "$R_PREFIX/.previous.tmp" "$R_PREVIOUS"
else
  rm -f "$R_PREVIOUS"
fi
if activate "$OLD" && we_wait_ready "$HERE"; then
  we_warn "rolled back to $OLD, which is ready; $NEW is kept in $R_RELEASES/$NEW (marked .failed)"
  exit 1
fi
we_warn "rolled back to $OLD, but it is not ready either: see journalctl -u ways-edge"
exit 2
