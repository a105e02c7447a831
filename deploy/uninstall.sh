#!/usr/bin/env bash
# Removes the ways-edge gateway: stops and disables the unit, deletes the unit file, the CLI wrapper
# and /opt/ways-edge (all releases).
#
# Kept unless --purge: /etc/ways-edge (gateway.yaml, ways-edge.env) and /var/lib/ways-edge (LevelDB,
# certificates, admin.key) and the `ways-edge` user — so a later install.sh picks up where this left.
# --purge deletes those too. Node.js (and the NodeSource apt source, if the installer added it) stay.
#
#   sudo deploy/uninstall.sh [--purge]
# Environment: the same path variables as install.sh (deploy/lib.sh), e.g. WAYS_EDGE_ROOT and
# WAYS_EDGE_NO_SYSTEMCTL=1 for a test root.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=deploy/lib.sh
. "$HERE/lib.sh"

PURGE=0
while [ $# -gt 0 ]; do
  case "$1" in
    --purge) PURGE=1; shift ;;
    -h | --help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) we_die "unknown argument $1 (use --purge or nothing)" ;;
  esac
done

we_init_paths
we_require_root

if we_host_mode; then
  systemctl disable --now "$WE_UNIT_NAME" 2>/dev/null || true
fi
rm -f "$R_UNIT_DIR/$WE_UNIT_NAME"
rm -rf "$R_UNIT_DIR/$WE_UNIT_NAME.d"
if we_host_mode; then
  systemctl daemon-reload || true
  systemctl reset-failed "$WE_UNIT_NAME" 2>/dev/null || true
fi
we_log "removed the unit $WE_UNIT_NAME"

if [ -f "$R_BIN_DIR/ways-edge" ] && grep -q 'written by deploy/install.sh' "$R_BIN_DIR/ways-edge"; then
  rm -f "$R_BIN_DIR/ways-edge"
fi

# Only delete a directory that looks like ours.
if [ -d "$R_PREFIX" ]; then
  if [ -e "$R_PREFIX/releases" ] || [ -L "$R_PREFIX/current" ] || [ -z "$(ls -A "$R_PREFIX")" ] \
    || [ "$(ls -A "$R_PREFIX")" = .deploy.lock ]; then
    rm -rf "$R_PREFIX"
    we_log "removed $PREFIX"
  else
    we_warn "$R_PREFIX does not look like a ways-edge install (no releases/, no current): left alone"
  fi
fi

if [ "$PURGE" = 1 ]; then
  rm -rf "$R_CONF_DIR" "$R_STATE_DIR"
  we_log "purged $CONF_DIR and $STATE_DIR"
  if we_host_mode; then
    if getent passwd "$SVC_USER" >/dev/null; then userdel "$SVC_USER" 2>/dev/null || true; fi
    if getent group "$SVC_USER" >/dev/null; then groupdel "$SVC_USER" 2>/dev/null || true; fi
    we_log "removed the user $SVC_USER"
  fi
else
  we_log "kept $CONF_DIR and $STATE_DIR (data, certificates, admin key); --purge deletes them"
fi
