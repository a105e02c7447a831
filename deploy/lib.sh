# shellcheck shell=bash disable=SC2034
# (SC2034: the variables set here are used by the scripts that source this file.)
# Shared helpers for deploy/install.sh, deploy/update.sh, deploy/uninstall.sh and
# deploy/firstboot/ways-edge-firstboot.sh. Sourced, never run.
#
# Every path can be moved with an environment variable, so CI can install into a temporary root:
#
#   WAYS_EDGE_ROOT=/tmp/r WAYS_EDGE_NO_SYSTEMCTL=1 deploy/install.sh
#
# Installer variables (these are NOT gateway settings; the gateway ignores names it does not know):
#   WAYS_EDGE_ROOT           prefix prepended to every path below, DESTDIR-style (default: empty)
#   WAYS_EDGE_PREFIX         code: <prefix>/releases/<version>, <prefix>/current (default /opt/ways-edge)
#   WAYS_EDGE_CONF_DIR       gateway.yaml + ways-edge.env (default /etc/ways-edge)
#   WAYS_EDGE_STATE_DIR      data directory (default /var/lib/ways-edge)
#   WAYS_EDGE_UNIT_DIR       where the unit goes (default /etc/systemd/system)
#   WAYS_EDGE_BIN_DIR        where the `ways-edge` CLI wrapper goes (default /usr/local/bin)
#   WAYS_EDGE_USER           service user and group (default ways-edge)
#   WAYS_EDGE_NO_SYSTEMCTL=1 do not touch the host: no useradd/chown, no systemctl, no Node install
#   WAYS_EDGE_RESTART_CMD    command that (re)starts the gateway (default: systemctl restart ways-edge)
#   WAYS_EDGE_READY_URL      readiness URL (default: derived from the config, https://127.0.0.1:8443/readyz)
#   WAYS_EDGE_READY_CMD      command that exits 0 once the gateway is ready (instead of the URL probe)
#   WAYS_EDGE_READY_TIMEOUT  seconds to wait for readiness (default 90)
#   WAYS_EDGE_KEEP_RELEASES  releases kept besides current and previous (default 2)
#   WAYS_EDGE_BUILD          auto (build only if dist/ is missing) | always | never  (default auto)
#   WAYS_EDGE_NODE_TARBALL   offline Node.js tarball (node-v20.*-linux-<arch>.tar.xz) to install from
#   WAYS_EDGE_NPM_SCRIPTS=1  run dependency install scripts (default: --ignore-scripts, see below)

WE_UNIT_NAME=ways-edge.service
WE_MIN_NODE_MAJOR=20
WE_NODE_APT_MAJOR=20

we_log() { printf 'ways-edge: %s\n' "$*" >&2; }
we_warn() { printf 'ways-edge: warning: %s\n' "$*" >&2; }
we_die() { printf 'ways-edge: error: %s\n' "$*" >&2; exit "${WE_DIE_CODE:-1}"; }

# Resolves all paths. R_* are the on-disk locations (with WAYS_EDGE_ROOT); the plain ones are the
# paths as the installed system sees them (they go into the unit and the CLI wrapper).
we_init_paths() {
  ROOT="${WAYS_EDGE_ROOT:-}"
  ROOT="${ROOT%/}"
  PREFIX="${WAYS_EDGE_PREFIX:-/opt/ways-edge}"
  CONF_DIR="${WAYS_EDGE_CONF_DIR:-/etc/ways-edge}"
  STATE_DIR="${WAYS_EDGE_STATE_DIR:-/var/lib/ways-edge}"
  UNIT_DIR="${WAYS_EDGE_UNIT_DIR:-/etc/systemd/system}"
  BIN_DIR="${WAYS_EDGE_BIN_DIR:-/usr/local/bin}"
  SVC_USER="${WAYS_EDGE_USER:-ways-edge}"
  NO_SYSTEMCTL="${WAYS_EDGE_NO_SYSTEMCTL:-0}"
  local p
  for p in "$PREFIX" "$CONF_DIR" "$STATE_DIR" "$UNIT_DIR" "$BIN_DIR"; do
    case "$p" in
      /?*) ;;
      *) we_die "paths must be absolute: '$p'" ;;
    esac
    case "$p" in
      / | /bin | /boot | /dev | /etc | /home | /lib | /opt | /proc | /root | /run | /sbin | /sys | /tmp | /usr | /var | /var/lib)
        we_die "refusing to use '$p' as a ways-edge directory" ;;
    esac
  done
  [[ "$SVC_USER" =~ ^[a-z_][a-z0-9_-]*$ ]] || we_die "bad WAYS_EDGE_USER '$SVC_USER'"
  R_PREFIX="$ROOT$PREFIX"
  R_CONF_DIR="$ROOT$CONF_DIR"
  R_STATE_DIR="$ROOT$STATE_DIR"
  R_UNIT_DIR="$ROOT$UNIT_DIR"
  R_BIN_DIR="$ROOT$BIN_DIR"
  R_RELEASES="$R_PREFIX/releases"
  R_CURRENT="$R_PREFIX/current"
  R_PREVIOUS="$R_PREFIX/previous"
}

we_host_mode() { [ "$NO_SYSTEMCTL" != 1 ]; }

we_require_root() {
  if we_host_mode && [ "$(id -u)" != 0 ]; then
    we_die "run as root (sudo $0), or set WAYS_EDGE_NO_SYSTEMCTL=1 WAYS_EDGE_ROOT=<dir> for a test install"
  fi
}

# One install/update at a time.
we_lock() {
  mkdir -p "$R_PREFIX"
  if command -v flock >/dev/null 2>&1; then
    exec 9>"$R_PREFIX/.deploy.lock"
    flock -n 9 || we_die "another ways-edge install/update is running (lock $R_PREFIX/.deploy.lock)"
  fi
}

# install.sh and update.sh start alike: paths, root, Node, then one at a time.
we_begin() {
  we_init_paths
  we_require_root
  we_ensure_node
  we_lock
}

# A positional argument of install.sh and update.sh: a source directory or a release tarball.
we_take_source_arg() {
  if [ -d "$1" ]; then SOURCE="$1"; elif [ -f "$1" ]; then TARBALL="$1"; else we_die "no such file or directory: $1"; fi
}

# Unpacks release tarball $1 into a temporary directory (removed at exit) and points SOURCE at it.
we_unpack_tarball() {
  WE_UNPACK_DIR="$(mktemp -d "${TMPDIR:-/tmp}/ways-edge-unpack.XXXXXX")"
  trap 'rm -rf "$WE_UNPACK_DIR"' EXIT
  tar -xzf "$1" -C "$WE_UNPACK_DIR"
  SOURCE="$(find "$WE_UNPACK_DIR" -mindepth 1 -maxdepth 1 -type d | head -n1)"
  [ -f "$SOURCE/package.json" ] || we_die "$1 is not a ways-edge release tarball"
}

# ---------------------------------------------------------------------------------------------------
# Node.js

we_node_major() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

# Sets NODE_BIN to a Node >= 20, installing one when allowed.
#
# Source of Node 20 on Debian 12 / Raspberry Pi OS bookworm: Debian 12 ships Node 18, so we use
# NodeSource's Debian repository (deb.nodesource.com/node_20.x, suite "nodistro"), which has
# amd64, arm64 and armhf builds and keeps the system-wide /usr/bin/node the unit expects. Where the
# distribution itself has Node >= 20 (Debian 13 trixie), the distribution's package is used instead.
# Offline: WAYS_EDGE_NODE_TARBALL=node-v20.x.y-linux-arm64.tar.xz (from nodejs.org) is unpacked to
# /usr/local/lib/nodejs and the unit gets a drop-in pointing at it.
we_ensure_node() {
  local cand
  NODE_BIN="$(command -v node || true)"
  if [ -n "$NODE_BIN" ] && [ "$(we_node_major "$NODE_BIN")" -ge "$WE_MIN_NODE_MAJOR" ]; then
    we_log "using Node $("$NODE_BIN" --version) at $NODE_BIN"
    return 0
  fi
  if ! we_host_mode || [ "${WAYS_EDGE_SKIP_NODE:-0}" = 1 ]; then
    we_die "Node >= $WE_MIN_NODE_MAJOR is required (found: ${NODE_BIN:-none}); not installing it in this mode"
  fi
  case "$(uname -m)" in
    armv6l) we_die "this is an ARMv6 board (Pi Zero/1): Node 20 has no official build for it; use a Pi 3/4/5 or Zero 2 W" ;;
  esac
  if [ -n "${WAYS_EDGE_NODE_TARBALL:-}" ]; then
    we_install_node_tarball "$WAYS_EDGE_NODE_TARBALL"
  else
    export DEBIAN_FRONTEND=noninteractive
    we_log "installing Node.js $WE_NODE_APT_MAJOR (apt)"
    apt-get update -q
    cand="$(apt-cache policy nodejs 2>/dev/null | awk '/Candidate:/ {print $2}')"
    if [ -n "$cand" ] && [ "$cand" != "(none)" ] && [ "${cand%%.*}" -ge "$WE_MIN_NODE_MAJOR" ] 2>/dev/null; then
      we_log "the distribution has nodejs $cand: using it"
      apt-get install -y -q nodejs npm
    else
      we_log "the distribution has nodejs ${cand:-none} (< $WE_MIN_NODE_MAJOR): adding NodeSource's node_$WE_NODE_APT_MAJOR.x repository"
      apt-get install -y -q ca-certificates curl gnupg
      install -d -m 0755 /etc/apt/keyrings
      curl -fsSL https://deb.nodesource.com/gpgkey/nodesource-repo.gpg.key \
        | gpg --dearmor --yes -o /etc/apt/keyrings/nodesource.gpg
      chmod 0644 /etc/apt/keyrings/nodesource.gpg
      echo "deb [signed-by=/etc/apt/keyrings/nodesource.gpg] https://deb.nodesource.com/node_$WE_NODE_APT_MAJOR.x nodistro main" \
        >/etc/apt/sources.list.d/nodesource.list
      # Prefer NodeSource's nodejs over Debian's 18.x even if Debian ever ships a higher revision.
      printf 'Package: nodejs\nPin: origin deb.nodesource.com\nPin-Priority: 600\n' >/etc/apt/preferences.d/nodesource
      apt-get update -q
      apt-get install -y -q nodejs
    fi
  fi
  hash -r
  NODE_BIN="$(command -v node || true)"
  if [ -z "$NODE_BIN" ] || [ "$(we_node_major "$NODE_BIN")" -lt "$WE_MIN_NODE_MAJOR" ]; then
    we_die "Node >= $WE_MIN_NODE_MAJOR still missing after installing it"
  fi
  we_log "installed Node $("$NODE_BIN" --version) at $NODE_BIN"
}

we_install_node_tarball() {
  local tarball="$1" name dest
  [ -f "$tarball" ] || we_die "WAYS_EDGE_NODE_TARBALL: no such file: $tarball"
  name="$(basename "$tarball")"
  name="${name%.tar.xz}"
  name="${name%.tar.gz}"
  dest="/usr/local/lib/nodejs/$name"
  we_log "installing Node from $tarball into $dest"
  install -d -m 0755 /usr/local/lib/nodejs
  rm -rf "$dest.partial"
  mkdir "$dest.partial"
  tar -xf "$tarball" -C "$dest.partial" --strip-components=1
  rm -rf "$dest"
  mv "$dest.partial" "$dest"
  ln -sfn "$dest/bin/node" /usr/local/bin/node
  ln -sfn "$dest/bin/npm" /usr/local/bin/npm
  ln -sfn "$dest/bin/npx" /usr/local/bin/npx
}

# npm that belongs to NODE_BIN (the tarball's npm sits next to its node).
we_npm() {
  local npm_bin
  npm_bin="$(dirname "$NODE_BIN")/npm"
  [ -x "$npm_bin" ] || npm_bin="$(command -v npm || true)"
  [ -n "$npm_bin" ] || we_die "npm not found"
  "$npm_bin" "$@"
}

# ---------------------------------------------------------------------------------------------------
# Releases

# Version of a source tree: WAYS_EDGE_VERSION, else its VERSION file (release tarballs), else
# package.json's version plus the git commit when the tree is a git checkout with commits.
we_source_version() {
  local src="$1" v sha
  if [ -n "${WAYS_EDGE_VERSION:-}" ]; then
    v="$WAYS_EDGE_VERSION"
  elif [ -f "$src/VERSION" ]; then
    v="$(head -n1 "$src/VERSION")"
  else
    v="$("$NODE_BIN" -p 'require(process.argv[1]).version' "$src/package.json" 2>/dev/null || true)"
    [ -n "$v" ] || we_die "cannot read the version from $src/package.json"
    if command -v git >/dev/null 2>&1 && sha="$(git -C "$src" rev-parse --short=8 HEAD 2>/dev/null)"; then
      v="$v+g$sha"
      [ -z "$(git -C "$src" status --porcelain --untracked-files=no 2>/dev/null)" ] || v="$v.dirty"
    fi
  fi
  [[ "$v" =~ ^[A-Za-z0-9][A-Za-z0-9._+-]*$ ]] || we_die "bad version '$v'"
  printf '%s\n' "$v"
}

# Makes sure SRC has dist/src/main.js. WAYS_EDGE_BUILD=auto builds only when it is missing, in a
# temporary copy with dev dependencies (so the source tree and the release stay clean).
# Prints the directory to stage from (SRC itself or the temporary build).
we_prepare_source() {
  local src="$1" mode="${WAYS_EDGE_BUILD:-auto}" tmp
  if [ "$mode" = never ] || { [ "$mode" = auto ] && [ -f "$src/dist/src/main.js" ]; }; then
    [ -f "$src/dist/src/main.js" ] || we_die "$src/dist/src/main.js missing and WAYS_EDGE_BUILD=never (run npm run build)"
    if [ -d "$src/src" ] && [ -n "$(find "$src/src" -newer "$src/dist/src/main.js" -name '*.ts' -print -quit 2>/dev/null)" ]; then
      we_warn "$src/src has files newer than dist/ — installing the existing build (WAYS_EDGE_BUILD=always rebuilds)"
    fi
    printf '%s\n' "$src"
    return 0
  fi
  tmp="$(mktemp -d "${TMPDIR:-/tmp}/ways-edge-build.XXXXXX")"
  we_log "building in $tmp (npm ci with dev dependencies, npm run build)"
  tar -C "$src" --exclude=./node_modules --exclude=./dist --exclude=./.git --exclude=./data -cf - . | tar -C "$tmp" -xf -
  (cd "$tmp" && we_npm ci --no-audit --no-fund --prefer-offline >&2 && we_npm run build >&2) \
    || we_die "build failed (kept in $tmp)"
  [ -f "$tmp/dist/src/main.js" ] || we_die "build produced no dist/src/main.js (kept in $tmp)"
  printf '%s\n' "$tmp"
}

# Copies what a release needs from SRC (a built checkout or an unpacked release tarball) to DEST.
we_copy_release_files() {
  local src="$1" dest="$2" f
  mkdir -p "$dest"
  tar -C "$src" --exclude=./dist/test -cf - ./dist | tar -C "$dest" -xf -
  for f in package.json package-lock.json npm-shrinkwrap.json gateway.yaml README.md LICENSE VERSION .bundled-node-modules; do
    if [ -f "$src/$f" ]; then cp -p "$src/$f" "$dest/$f"; fi
  done
  for f in deploy systemd docs; do
    if [ -d "$src/$f" ]; then cp -pR "$src/$f" "$dest/"; fi
  done
  # certs/: the scripts and README only, never keys someone generated inside the checkout.
  if [ -d "$src/certs" ]; then
    mkdir -p "$dest/certs"
    for f in "$src"/certs/*.sh "$src"/certs/*.md; do
      if [ -f "$f" ]; then cp -p "$f" "$dest/certs/"; fi
    done
  fi
  # A release tarball made with --with-node-modules carries production node_modules (the only native
  # module, classic-level, ships prebuilds for linux-arm/arm64/x64, so they are portable).
  if [ -f "$src/.bundled-node-modules" ] && [ -d "$src/node_modules" ]; then
    cp -pR "$src/node_modules" "$dest/"
  fi
}

# Production dependencies only. --ignore-scripts by default: the one dependency with an install
# script is classic-level, whose script only looks for a prebuilt binary (and would try to compile
# when none fits); its prebuilds for linux-arm/arm64/x64 are loaded at run time anyway, and no
# dependency code runs as root during the install. WAYS_EDGE_NPM_SCRIPTS=1 runs the scripts.
we_install_deps() {
  local dest="$1" flags=(--omit=dev --no-audit --no-fund --prefer-offline)
  [ "${WAYS_EDGE_NPM_SCRIPTS:-0}" = 1 ] || flags+=(--ignore-scripts)
  if [ -f "$dest/.bundled-node-modules" ] && [ -d "$dest/node_modules" ]; then
    we_log "using the node_modules bundled in the release"
  elif [ -f "$dest/package-lock.json" ] || [ -f "$dest/npm-shrinkwrap.json" ]; then
    (cd "$dest" && we_npm ci "${flags[@]}" >&2) || we_die "npm ci --omit=dev failed in $dest"
  else
    we_warn "no package-lock.json in the release: npm install (versions not pinned)"
    (cd "$dest" && we_npm install "${flags[@]}" >&2) || we_die "npm install --omit=dev failed in $dest"
  fi
  # The native LevelDB binding must load on this machine (catches a missing prebuild early).
  if [ -d "$dest/node_modules/classic-level" ]; then
    (cd "$dest" && "$NODE_BIN" -e 'require("classic-level")') \
      || we_die "classic-level (LevelDB) does not load on $(uname -m) in $dest"
  fi
}

# Stages SRC as release VERSION (atomically: <version>.partial, then rename). Reuses a complete
# release of the same version unless FORCE=1. Sets RELEASE_DIR.
we_stage_release() {
  local src="$1" version="$2" dest partial built
  dest="$R_RELEASES/$version"
  RELEASE_DIR="$dest"
  if [ -f "$dest/.complete" ] && [ "${FORCE:-0}" != 1 ]; then
    we_log "release $version already installed in $dest (--force re-installs it)"
    return 0
  fi
  built="$(we_prepare_source "$src")" || exit "$?"
  partial="$dest.partial"
  rm -rf "$partial"
  mkdir -p "$R_RELEASES"
  we_log "staging release $version in $dest"
  we_copy_release_files "$built" "$partial"
  printf '%s\n' "$version" >"$partial/VERSION"
  [ -f "$partial/dist/src/main.js" ] || we_die "release has no dist/src/main.js"
  we_install_deps "$partial"
  # Code is root-owned and world-readable (the service user must read it, never write it).
  chmod -R u+rwX,go+rX,go-w "$partial"
  date -u +%Y-%m-%dT%H:%M:%SZ >"$partial/.complete"
  if [ "$built" != "$src" ]; then rm -rf "$built"; fi
  rm -rf "$dest"
  mv "$partial" "$dest"
}

# Name (releases/<v>) that a symlink points at, or empty.
we_link_target() { readlink "$1" 2>/dev/null || true; }

# Atomically points <prefix>/<name> at releases/<version> (relative, so it works under any root).
we_switch_link() {
  local name="$1" version="$2"
  ln -sfn "releases/$version" "$R_PREFIX/.$name.tmp"
  mv -T "$R_PREFIX/.$name.tmp" "$R_PREFIX/$name"
}

we_current_version() {
  local t
  t="$(we_link_target "$R_CURRENT")"
  printf '%s\n' "${t#releases/}"
}

# Deletes old releases, keeping current, previous and the WAYS_EDGE_KEEP_RELEASES newest others.
we_prune_releases() {
  local keep="${WAYS_EDGE_KEEP_RELEASES:-2}" cur prev n=0 d name
  cur="$(we_link_target "$R_CURRENT")"
  prev="$(we_link_target "$R_PREVIOUS")"
  while IFS= read -r d; do
    name="releases/$(basename "$d")"
    if [ "$name" = "$cur" ] || [ "$name" = "$prev" ]; then continue; fi
    case "$d" in *.partial) rm -rf "$d"; continue ;; esac
    n=$((n + 1))
    if [ "$n" -gt "$keep" ]; then
      we_log "removing old release $(basename "$d")"
      rm -rf "$d"
    fi
  done < <(find "$R_RELEASES" -mindepth 1 -maxdepth 1 -type d -printf '%T@ %p\n' 2>/dev/null | sort -rn | cut -d' ' -f2-)
}

# ---------------------------------------------------------------------------------------------------
# Unit, config, CLI wrapper

# Writes the unit from a release's systemd/ways-edge.service, with the configured paths and user.
we_install_unit() {
  local src="$1/systemd/$WE_UNIT_NAME" dropin
  [ -f "$src" ] || we_die "no $src"
  mkdir -p "$R_UNIT_DIR"
  sed -e "s#/opt/ways-edge#$PREFIX#g" \
      -e "s#/etc/ways-edge#$CONF_DIR#g" \
      -e "s#/var/lib/ways-edge#$STATE_DIR#g" \
      -e "s#^User=ways-edge\$#User=$SVC_USER#" \
      -e "s#^Group=ways-edge\$#Group=$SVC_USER#" \
      "$src" >"$R_UNIT_DIR/.$WE_UNIT_NAME.tmp"
  # StateDirectory= only takes paths below /var/lib; elsewhere the directory is made writable instead.
  case "$STATE_DIR" in
    /var/lib/*) sed -i "s#^StateDirectory=.*#StateDirectory=${STATE_DIR#/var/lib/}#" "$R_UNIT_DIR/.$WE_UNIT_NAME.tmp" ;;
    *) sed -i -e "s#^StateDirectory=.*#ReadWritePaths=$STATE_DIR#" -e '/^StateDirectoryMode=/d' "$R_UNIT_DIR/.$WE_UNIT_NAME.tmp" ;;
  esac
  chmod 0644 "$R_UNIT_DIR/.$WE_UNIT_NAME.tmp"
  mv -f "$R_UNIT_DIR/.$WE_UNIT_NAME.tmp" "$R_UNIT_DIR/$WE_UNIT_NAME"
  # Node outside /usr/bin (offline tarball): a drop-in replaces ExecStart=.
  dropin="$R_UNIT_DIR/$WE_UNIT_NAME.d"
  if [ -n "${NODE_BIN:-}" ] && [ "$NODE_BIN" != /usr/bin/node ] && we_host_mode; then
    mkdir -p "$dropin"
    printf '# Written by deploy/install.sh: Node is not in /usr/bin.\n[Service]\nExecStart=\nExecStart=%s %s/current/dist/src/main.js start\n' \
      "$NODE_BIN" "$PREFIX" >"$dropin/10-node.conf"
    chmod 0644 "$dropin/10-node.conf"
  elif [ -f "$dropin/10-node.conf" ]; then
    rm -f "$dropin/10-node.conf"
    rmdir "$dropin" 2>/dev/null || true
  fi
}

# /usr/local/bin/ways-edge: runs the CLI of the current release as the service user, with the
# service's config, data dir and site overrides.
we_install_cli() {
  mkdir -p "$R_BIN_DIR"
  cat >"$R_BIN_DIR/.ways-edge.tmp" <<EOF
#!/bin/sh
# ways-edge CLI (written by deploy/install.sh): the current release, the service's config and data,
# run as the service user. Usage: sudo ways-edge keys list
set -e
if [ -r '$CONF_DIR/ways-edge.env' ]; then set -a; . '$CONF_DIR/ways-edge.env'; set +a; fi
WAYS_EDGE_CONFIG='$CONF_DIR/gateway.yaml'
WAYS_EDGE_DATA_DIR='$STATE_DIR'
export WAYS_EDGE_CONFIG WAYS_EDGE_DATA_DIR
NODE=\$(command -v node || echo /usr/bin/node)
MAIN='$PREFIX/current/dist/src/main.js'
cd '$STATE_DIR' 2>/dev/null || cd /
if [ "\$(id -u)" = 0 ] && [ '$SVC_USER' != root ]; then
  exec runuser -u '$SVC_USER' -- "\$NODE" "\$MAIN" "\$@"
fi
exec "\$NODE" "\$MAIN" "\$@"
EOF
  chmod 0755 "$R_BIN_DIR/.ways-edge.tmp"
  mv -f "$R_BIN_DIR/.ways-edge.tmp" "$R_BIN_DIR/ways-edge"
}

# The service user: a system account without a login shell or home of its own.
we_ensure_user() {
  if ! we_host_mode; then return 0; fi
  if ! getent group "$SVC_USER" >/dev/null; then groupadd --system "$SVC_USER"; fi
  if ! getent passwd "$SVC_USER" >/dev/null; then
    useradd --system --gid "$SVC_USER" --home-dir "$STATE_DIR" --no-create-home \
      --shell /usr/sbin/nologin --comment "ways-edge gateway" "$SVC_USER"
    we_log "created system user $SVC_USER"
  fi
}

# chown that is skipped in test mode (the user does not exist there).
we_chown() { if we_host_mode; then chown "$@"; fi; }

# ---------------------------------------------------------------------------------------------------
# Running

we_restart() {
  if [ -n "${WAYS_EDGE_RESTART_CMD:-}" ]; then
    we_log "restarting: $WAYS_EDGE_RESTART_CMD"
    # 9>&-: a daemon started by the command must not inherit (and hold) the deploy lock.
    bash -c "$WAYS_EDGE_RESTART_CMD" 9>&-
  elif we_host_mode; then
    we_log "restarting $WE_UNIT_NAME"
    systemctl reset-failed "$WE_UNIT_NAME" 2>/dev/null || true
    systemctl restart "$WE_UNIT_NAME"
  else
    we_log "WAYS_EDGE_NO_SYSTEMCTL=1 and no WAYS_EDGE_RESTART_CMD: not restarting"
    return 0
  fi
}

# Waits until the gateway is ready: WAYS_EDGE_READY_CMD, else the /readyz probe
# (deploy/ready-probe.cjs: URL from WAYS_EDGE_READY_URL or derived from the config).
we_wait_ready() {
  local timeout="${WAYS_EDGE_READY_TIMEOUT:-90}" probe_dir="$1" deadline
  if [ -n "${WAYS_EDGE_READY_CMD:-}" ]; then
    deadline=$((SECONDS + timeout))
    while [ "$SECONDS" -lt "$deadline" ]; do
      if bash -c "$WAYS_EDGE_READY_CMD" >/dev/null 2>&1 9>&-; then
        we_log "ready (WAYS_EDGE_READY_CMD)"
        return 0
      fi
      sleep 1
    done
    we_log "not ready after ${timeout}s (WAYS_EDGE_READY_CMD)"
    return 1
  fi
  "$NODE_BIN" "$probe_dir/ready-probe.cjs" --timeout "$timeout" \
    --config "$R_CONF_DIR/gateway.yaml" --env-overrides "$R_CONF_DIR/ways-edge.env" \
    --release "$R_CURRENT" ${WAYS_EDGE_READY_URL:+--url "$WAYS_EDGE_READY_URL"}
}

# Host name and LAN addresses, for the closing message.
we_print_addresses() {
  local port="$1" host
  host="$(hostname 2>/dev/null || echo localhost)"
  echo "  https://$host.local:$port/   (mDNS name, avahi-daemon)"
  # shellcheck disable=SC2016 # JavaScript, not shell
  "$NODE_BIN" -e '
    const os = require("os");
    for (const [name, list] of Object.entries(os.networkInterfaces()))
      for (const a of list || [])
        if (!a.internal && (a.family === "IPv4" || a.family === 4))
          console.log(`  https://${a.address}:${process.argv[1]}/   (${name})`);' "$port" 2>/dev/null || true
}
