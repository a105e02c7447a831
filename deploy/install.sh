#!/usr/bin/env bash
# Installs (or re-installs) the ways-edge gateway on a Raspberry Pi or any Debian 12 host.
#
#   sudo deploy/install.sh                       # from a checkout (builds dist/ first if missing)
#   sudo deploy/install.sh ways-edge-0.1.0.tar.gz  # from a release tarball (deploy/package.sh)
#
# What it does, idempotently (a second run changes nothing that is already right):
#   1. Node >= 20: kept if present, else Debian's package where it is >= 20, else NodeSource's
#      node_20.x repository (Debian 12 ships Node 18), or WAYS_EDGE_NODE_TARBALL offline.
#   2. the system user `ways-edge` (no shell, no home of its own).
#   3. the code in /opt/ways-edge/releases/<version> with production dependencies only
#      (npm ci --omit=dev), and the symlink /opt/ways-edge/current -> releases/<version>.
#   4. /etc/ways-edge/gateway.yaml (root:ways-edge 0640) from the release's gateway.yaml —
#      never overwritten once it exists.
#   5. /etc/systemd/system/ways-edge.service, /usr/local/bin/ways-edge (CLI wrapper);
#      enables and (re)starts the unit, waits for GET /readyz, prints the admin key and addresses.
#
# Options:
#   --source DIR     source tree (default: the checkout this script is in); or give DIR positionally
#   --tarball FILE   release tarball from deploy/package.sh; or give FILE positionally
#   --version V      release name (default: package.json version + git commit, or the VERSION file)
#   --force          re-stage the release even if releases/<version> is complete
#   --no-start       install and enable, but do not start or wait
# Environment: see deploy/lib.sh (WAYS_EDGE_ROOT, WAYS_EDGE_NO_SYSTEMCTL=1, ... for tests).
set -euo pipefail
umask 022

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=deploy/lib.sh
. "$HERE/lib.sh"

usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit "${1:-0}"; }

SOURCE="${WAYS_EDGE_SOURCE:-}"
TARBALL=""
NO_START="${WAYS_EDGE_NO_START:-0}"
FORCE=0
while [ $# -gt 0 ]; do
  case "$1" in
    --source) SOURCE="${2:?--source needs a directory}"; shift 2 ;;
    --tarball) TARBALL="${2:?--tarball needs a file}"; shift 2 ;;
    --version) export WAYS_EDGE_VERSION="${2:?--version needs a value}"; shift 2 ;;
    --force) FORCE=1; shift ;;
    --no-start) NO_START=1; shift ;;
    -h | --help) usage 0 ;;
    -*) we_warn "unknown option $1"; usage 2 ;;
    *) we_take_source_arg "$1"; shift ;;
  esac
done

we_begin

if [ -n "$TARBALL" ]; then we_unpack_tarball "$TARBALL"; fi
SOURCE="$(cd "${SOURCE:-$HERE/..}" && pwd)"
[ -f "$SOURCE/package.json" ] || we_die "$SOURCE has no package.json"

we_ensure_user

VERSION="$(we_source_version "$SOURCE")"
we_stage_release "$SOURCE" "$VERSION"

CHANGED=0
OLD_VERSION="$(we_current_version)"
if [ "$OLD_VERSION" != "$VERSION" ] || [ "$FORCE" = 1 ]; then
  if [ -n "$OLD_VERSION" ] && [ "$OLD_VERSION" != "$VERSION" ]; then we_switch_link previous "$OLD_VERSION"; fi
  we_switch_link current "$VERSION"
  we_log "current -> releases/$VERSION${OLD_VERSION:+ (was $OLD_VERSION)}"
  CHANGED=1
fi

# --- configuration: /etc/ways-edge (root:ways-edge 0750), gateway.yaml (0640), never overwritten ---
install -d -m 0750 "$R_CONF_DIR"
chmod 0750 "$R_CONF_DIR"
we_chown "root:$SVC_USER" "$R_CONF_DIR"
if [ -e "$R_CONF_DIR/gateway.yaml" ]; then
  we_log "kept existing $CONF_DIR/gateway.yaml"
else
  tmpconf="$R_CONF_DIR/.gateway.yaml.new"
  if [ -f "$RELEASE_DIR/gateway.yaml" ]; then
    cp "$RELEASE_DIR/gateway.yaml" "$tmpconf"
    # The service passes WAYS_EDGE_DATA_DIR anyway; this keeps `--config` runs on the same data.
    sed -i "s#^data_dir:.*#data_dir: $STATE_DIR#" "$tmpconf"
  else
    cat >"$tmpconf" <<EOF
# $CONF_DIR/gateway.yaml — ways-edge gateway configuration (written by deploy/install.sh).
# Every setting has a default; an empty file is valid. Settings in $CONF_DIR/ways-edge.env
# (WAYS_EDGE_* variables, e.g. WAYS_EDGE_CLOUD_URL) and in the unit's environment win over this file.
# Apply changes with: sudo systemctl restart ways-edge
data_dir: $STATE_DIR
gateway:
  name: $(hostname 2>/dev/null || echo ways-edge)
  timezone: ""
log:
  level: info
api:
  host: 0.0.0.0
  port: 8443
mqtt:
  host: 0.0.0.0
  port: 8883
tls:
  # Empty = the gateway makes a local CA and server certificate in $STATE_DIR/certs.
  cert_file: ""
  key_file: ""
  ca_file: ""
EOF
  fi
  chmod 0640 "$tmpconf"
  we_chown "root:$SVC_USER" "$tmpconf"
  mv "$tmpconf" "$R_CONF_DIR/gateway.yaml"
  we_log "created $CONF_DIR/gateway.yaml"
fi
if [ -e "$R_CONF_DIR/ways-edge.env" ]; then
  chmod 0600 "$R_CONF_DIR/ways-edge.env"
  we_chown root:root "$R_CONF_DIR/ways-edge.env"
fi

# --- data directory (systemd would create it too; made here so admin.key has a home) ---
install -d -m 0700 "$R_STATE_DIR"
we_chown "$SVC_USER:$SVC_USER" "$R_STATE_DIR"

# --- unit and CLI wrapper ---
UNIT_BEFORE="$(cat "$R_UNIT_DIR/$WE_UNIT_NAME" "$R_UNIT_DIR/$WE_UNIT_NAME.d"/*.conf 2>/dev/null || true)"
we_install_unit "$R_CURRENT"
UNIT_AFTER="$(cat "$R_UNIT_DIR/$WE_UNIT_NAME" "$R_UNIT_DIR/$WE_UNIT_NAME.d"/*.conf 2>/dev/null || true)"
[ "$UNIT_BEFORE" = "$UNIT_AFTER" ] || CHANGED=1
we_install_cli
we_prune_releases

if ! we_host_mode; then
  we_log "installed release $VERSION into ${ROOT:-/} (WAYS_EDGE_NO_SYSTEMCTL=1: no systemctl, no start)"
  exit 0
fi

systemctl daemon-reload
systemctl enable "$WE_UNIT_NAME" >/dev/null 2>&1
we_log "enabled $WE_UNIT_NAME"
if [ "$NO_START" = 1 ]; then
  we_log "installed release $VERSION (not started: --no-start)"
  exit 0
fi
if [ "$CHANGED" = 1 ] || ! systemctl is-active --quiet "$WE_UNIT_NAME"; then
  systemctl reset-failed "$WE_UNIT_NAME" 2>/dev/null || true
  systemctl restart "$WE_UNIT_NAME"
  we_log "(re)started $WE_UNIT_NAME"
else
  we_log "$WE_UNIT_NAME already running this release and unit: not restarted"
fi

if ! we_wait_ready "$HERE"; then
  journalctl -u "$WE_UNIT_NAME" -n 30 --no-pager -o cat >&2 || true
  we_die "the gateway did not become ready; see: journalctl -u ways-edge"
fi

PORT="$(WAYS_EDGE_READY_URL='' "$NODE_BIN" "$HERE/ready-probe.cjs" --print-url --config "$R_CONF_DIR/gateway.yaml" \
  --env-overrides "$R_CONF_DIR/ways-edge.env" --release "$R_CURRENT" | sed -E 's#.*:([0-9]+)/readyz$#\1#')"
echo
echo "ways-edge $VERSION is running."
if [ -s "$R_STATE_DIR/admin.key" ]; then
  echo "Admin API key (from $STATE_DIR/admin.key — store it safely; the ways-edge CLI uses the file):"
  echo "  $(cat "$R_STATE_DIR/admin.key")"
else
  echo "No $STATE_DIR/admin.key (already collected and deleted?); create a key with: sudo ways-edge keys create"
fi
echo "Management API:"
we_print_addresses "${PORT:-8443}"
echo "Clients trust the local CA: $STATE_DIR/certs/ca.crt (sudo cat it, or GET /credentials)."
echo "Logs: journalctl -u ways-edge -f -o cat"
