#!/usr/bin/env bash
# ways-edge first boot: installs the gateway from the boot partition and applies the site settings.
#
# Expects, in the directory it sits in (normally /boot/firmware/ways-edge/, override with
# WAYS_EDGE_BOOT_DIR):
#   ways-edge-<version>.tar.gz   release tarball from deploy/package.sh (newest version wins)
#   ways-edge-site.env           site settings (optional; see the example in deploy/firstboot/)
#
# Run by cloud-init (user-data: runcmd) or by ways-edge-firstboot.service (installed by firstrun.sh
# on Raspberry Pi OS bookworm). Needs the network (NodeSource, npm registry unless the tarball
# bundles node_modules). Runs once: /var/lib/ways-edge-firstboot/done marks it finished; a failed
# run is retried on the next boot. Log: /var/log/ways-edge-firstboot.log.
#
# Test hooks: WAYS_EDGE_ROOT, WAYS_EDGE_NO_SYSTEMCTL=1 (passed on to install.sh), WAYS_EDGE_BOOT_DIR.
set -euo pipefail
umask 022

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BOOT_DIR="${WAYS_EDGE_BOOT_DIR:-$HERE}"
ROOT="${WAYS_EDGE_ROOT:-}"
ROOT="${ROOT%/}"
CONF_DIR="${WAYS_EDGE_CONF_DIR:-/etc/ways-edge}"
MARK_DIR="$ROOT/var/lib/ways-edge-firstboot"
LOG_FILE="$ROOT/var/log/ways-edge-firstboot.log"
HOST_MODE=1
[ "${WAYS_EDGE_NO_SYSTEMCTL:-0}" != 1 ] || HOST_MODE=0

mkdir -p "$MARK_DIR" "$(dirname "$LOG_FILE")"
# The log gets the admin key that install.sh prints: root-only.
[ -e "$LOG_FILE" ] || install -m 0600 /dev/null "$LOG_FILE"
chmod 0600 "$LOG_FILE"
exec > >(tee -a "$LOG_FILE") 2>&1
log() { printf 'ways-edge-firstboot: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

if [ -e "$MARK_DIR/done" ]; then
  log "already done on $(cat "$MARK_DIR/done"); nothing to do"
  exit 0
fi
log "starting ($(date -u +%Y-%m-%dT%H:%M:%SZ)), boot dir $BOOT_DIR"

# --- 1. site settings -> $CONF_DIR/ways-edge.env (root 0600, systemd EnvironmentFile format) ---------
# Only gateway settings are taken (WAYS_EDGE_<section>_*); WAYS_EDGE_DATA_DIR / _CONFIG stay the
# unit's. Values are written single-quoted ('\'' for a quote), which systemd and sh read alike.
site_to_env() {
  local site="$1" out="$2" line key value n=0
  {
    echo "# Site settings imported from the boot partition by ways-edge-firstboot.sh on $(date -u +%Y-%m-%d)."
    echo "# Loaded by ways-edge.service (EnvironmentFile); these override $CONF_DIR/gateway.yaml."
    while IFS= read -r line || [ -n "$line" ]; do
      line="${line%$'\r'}"
      [[ "$line" =~ ^[[:space:]]*(#|$) ]] && continue
      [[ "$line" =~ ^[[:space:]]*(export[[:space:]]+)?(WAYS_EDGE_[A-Z0-9_]+)=(.*)$ ]] || { log "ignored line: ${line%%=*}=..."; continue; }
      key="${BASH_REMATCH[2]}"
      value="${BASH_REMATCH[3]}"
      value="${value%"${value##*[![:space:]]}"}"
      if [[ "$value" =~ ^\'(.*)\'$ ]] || [[ "$value" =~ ^\"(.*)\"$ ]]; then value="${BASH_REMATCH[1]}"; fi
      case "$key" in
        WAYS_EDGE_GATEWAY_* | WAYS_EDGE_LOG_* | WAYS_EDGE_TLS_* | WAYS_EDGE_API_* | WAYS_EDGE_MQTT_* | \
        WAYS_EDGE_QUOTA_* | WAYS_EDGE_CLOUD_* | WAYS_EDGE_HEALTH_* | WAYS_EDGE_JOBS_*) ;;
        *) log "ignored $key (not a gateway setting)"; continue ;;
      esac
      [ -n "$value" ] || continue
      printf "%s='%s'\n" "$key" "${value//\'/\'\\\'\'}"
      n=$((n + 1))
    done <"$site"
  } >"$out.tmp"
  chmod 0600 "$out.tmp"
  mv -f "$out.tmp" "$out"
  log "wrote $n setting(s) to $CONF_DIR/ways-edge.env"
}

SITE="$BOOT_DIR/ways-edge-site.env"
if [ -f "$SITE" ]; then
  install -d -m 0750 "$ROOT$CONF_DIR"
  site_to_env "$SITE" "$ROOT$CONF_DIR/ways-edge.env"
else
  log "no $SITE: installing with gateway.yaml defaults"
fi

# --- 2. a sane clock (a Pi has no RTC; TLS to apt/npm fails with a 1970 clock) ------------------------
if [ "$HOST_MODE" = 1 ] && command -v timedatectl >/dev/null; then
  for _ in $(seq 1 90); do
    [ "$(timedatectl show -p NTPSynchronized --value 2>/dev/null)" = yes ] && break
    sleep 2
  done
  [ "$(timedatectl show -p NTPSynchronized --value 2>/dev/null)" = yes ] || log "warning: clock not NTP-synchronised yet; going on"
fi

# --- 3. install the newest release tarball ---------------------------------------------------------
TARBALL="$(find "$BOOT_DIR" -maxdepth 1 -name 'ways-edge-*.tar.gz' -printf '%f\n' | sort -V | tail -n1)"
[ -n "$TARBALL" ] || die "no ways-edge-<version>.tar.gz in $BOOT_DIR (make one with deploy/package.sh)"
TMP="$(mktemp -d "${TMPDIR:-/var/tmp}/ways-edge-firstboot.XXXXXX")"
trap 'rm -rf "$TMP"' EXIT
tar -xzf "$BOOT_DIR/$TARBALL" -C "$TMP"
SRC="$(find "$TMP" -mindepth 1 -maxdepth 1 -type d | head -n1)"
[ -x "$SRC/deploy/install.sh" ] || die "$TARBALL has no deploy/install.sh"
log "installing $TARBALL"
ok=0
for attempt in 1 2 3; do
  if WAYS_EDGE_BUILD=never "$SRC/deploy/install.sh" --source "$SRC"; then ok=1; break; fi
  log "install attempt $attempt failed; retrying in 30 s"
  sleep "${WAYS_EDGE_FIRSTBOOT_RETRY_SECONDS:-30}"
done
[ "$ok" = 1 ] || die "install failed 3 times; it is retried on the next boot (log: $LOG_FILE)"

# --- 4. wipe secrets from the boot partition, mark done -------------------------------------------
if [ -f "$SITE" ]; then
  sed -E 's/^([[:space:]]*(export[[:space:]]+)?WAYS_EDGE_[A-Z0-9_]*(PASSWORD|SECRET|TOKEN)[A-Z0-9_]*)=.*/\1=  # imported, blanked/' \
    "$SITE" >"$SITE.imported"
  rm -f "$SITE"
  log "site settings imported; secrets blanked in $SITE.imported"
fi
date -u +%Y-%m-%dT%H:%M:%SZ >"$MARK_DIR/done"
if [ "$HOST_MODE" = 1 ]; then
  systemctl disable ways-edge-firstboot.service >/dev/null 2>&1 || true
fi
log "done"
