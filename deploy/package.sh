#!/usr/bin/env bash
# Makes a release tarball ways-edge-<version>.tar.gz from a built checkout, for install.sh,
# update.sh and the first-boot script. Build first (npm ci && npm run build) or let WAYS_EDGE_BUILD=auto
# build in a temporary copy when dist/ is missing.
#
#   deploy/package.sh [--out DIR] [--with-node-modules] [--boot-dir DIR]
#
# The tarball holds dist/ (prebuilt: no TypeScript or dev dependencies on the Pi), package.json,
# package-lock.json, gateway.yaml, deploy/, systemd/, certs/ scripts and docs/.
#   --with-node-modules  also bundle production node_modules (npm ci --omit=dev). They are portable:
#                        the only native module, classic-level, carries prebuilds for linux-arm,
#                        linux-arm64 and linux-x64, so the Pi needs no npm registry access at all.
#   --boot-dir DIR       also lay out DIR/ways-edge/ for the SD card's boot partition: the tarball,
#                        ways-edge-firstboot.sh, firstrun.sh, ways-edge-firstboot.service, user-data
#                        and ways-edge-site.env (the example; an existing one is never overwritten).
#   --version V          release name (default: package.json version + git commit).
set -euo pipefail
umask 022

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=deploy/lib.sh
. "$HERE/lib.sh"

OUT="$PWD"
BUNDLE=0
BOOT_DIR=""
while [ $# -gt 0 ]; do
  case "$1" in
    --out) OUT="${2:?--out needs a directory}"; shift 2 ;;
    --with-node-modules) BUNDLE=1; shift ;;
    --boot-dir) BOOT_DIR="${2:?--boot-dir needs a directory}"; shift 2 ;;
    --version) export WAYS_EDGE_VERSION="${2:?--version needs a value}"; shift 2 ;;
    -h | --help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) we_die "unknown argument $1" ;;
  esac
done

SRC="$(cd "$HERE/.." && pwd)"
NODE_BIN="$(command -v node || true)"
if [ -z "$NODE_BIN" ] || [ "$(we_node_major "$NODE_BIN")" -lt "$WE_MIN_NODE_MAJOR" ]; then
  we_die "Node >= $WE_MIN_NODE_MAJOR is needed to package"
fi
VERSION="$(we_source_version "$SRC")"
BUILT="$(we_prepare_source "$SRC")"

TMP="$(mktemp -d "${TMPDIR:-/tmp}/ways-edge-package.XXXXXX")"
trap 'rm -rf "$TMP"' EXIT
STAGE="$TMP/ways-edge-$VERSION"
we_copy_release_files "$BUILT" "$STAGE"
rm -rf "$STAGE/node_modules" "$STAGE/.bundled-node-modules"
printf '%s\n' "$VERSION" >"$STAGE/VERSION"
if [ "$BUNDLE" = 1 ]; then
  (cd "$STAGE" && we_npm ci --omit=dev --ignore-scripts --no-audit --no-fund --prefer-offline >&2)
  touch "$STAGE/.bundled-node-modules"
fi
if [ "$BUILT" != "$SRC" ]; then rm -rf "$BUILT"; fi
chmod -R u+rwX,go+rX,go-w "$STAGE"

mkdir -p "$OUT"
TARBALL="$(cd "$OUT" && pwd)/ways-edge-$VERSION.tar.gz"
tar --owner=0 --group=0 --numeric-owner -C "$TMP" -czf "$TARBALL" "ways-edge-$VERSION"
we_log "wrote $TARBALL ($(du -h "$TARBALL" | cut -f1))"

if [ -n "$BOOT_DIR" ]; then
  dest="$BOOT_DIR/ways-edge"
  mkdir -p "$dest"
  rm -f "$dest"/ways-edge-*.tar.gz
  cp "$TARBALL" "$dest/"
  for f in ways-edge-firstboot.sh firstrun.sh ways-edge-firstboot.service user-data; do
    cp "$HERE/firstboot/$f" "$dest/$f"
  done
  if [ ! -e "$dest/ways-edge-site.env" ]; then cp "$HERE/firstboot/ways-edge-site.env" "$dest/"; fi
  we_log "boot partition folder ready: $dest (edit ways-edge-site.env, copy the folder to the card)"
fi
printf '%s\n' "$TARBALL"
