#!/usr/bin/env bash
# End-to-end check of the real unit under a real systemd: boots a minimal Debian 12 (bookworm)
# container with systemd-nspawn, installs the gateway there with deploy/install.sh from a release
# tarball (deploy/package.sh --with-node-modules), and checks that the hardened service runs the
# real gateway, restarts, stops cleanly, rolls back a bad update and uninstalls.
#
#   bash test/deploy/systemd-e2e.sh      # as root; run.sh calls it when WAYS_EDGE_TEST_SYSTEMD=1
#
# Needs root, a built project (dist/src/main.js), and the Debian packages systemd-container and
# debootstrap (installed when missing). The container's root file system is made once with
# debootstrap (from the Debian mirror apt uses) and cached in WAYS_EDGE_TEST_ROOTFS (default
# /var/tmp/ways-edge-e2e-rootfs); each run boots it with --volatile=overlay, so nothing persists.
# The container shares the host network: the gateway listens on 127.0.0.1 only (ports chosen here)
# and the cloud uplink is off (WAYS_EDGE_CLOUD_URL=''). Host Node is bind-mounted as /usr/bin/node.
#
# Output: "ok - ..." / "not ok - ..." lines, then "N passed, N failed". Exit 0 when nothing failed.
set -uo pipefail
umask 022

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
ROOTFS="${WAYS_EDGE_TEST_ROOTFS:-/var/tmp/ways-edge-e2e-rootfs}"
MACHINE="ways-edge-e2e-$$"
TMP="$(mktemp -d "${TMPDIR:-/tmp}/ways-edge-e2e.XXXXXX")"
PASS=0
FAIL=0
NSPAWN_PID=""
LEADER=""
MOUNTED_RUN=0

ok() { PASS=$((PASS + 1)); echo "ok - $*"; }
notok() { FAIL=$((FAIL + 1)); echo "not ok - $*"; }
note() { echo "# $*"; }
finish() {
  echo "$PASS passed, $FAIL failed"
  [ "$FAIL" -eq 0 ]
  exit
}

# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
  if [ -n "$NSPAWN_PID" ] && kill -0 "$NSPAWN_PID" 2>/dev/null; then
    kill -TERM "$NSPAWN_PID" 2>/dev/null
    for _ in $(seq 1 20); do kill -0 "$NSPAWN_PID" 2>/dev/null || break; sleep 1; done
    kill -0 "$NSPAWN_PID" 2>/dev/null && kill -KILL "$NSPAWN_PID" 2>/dev/null
  fi
  if [ "$MOUNTED_RUN" = 1 ]; then umount /run/systemd/nspawn 2>/dev/null || true; fi
  rm -rf "$TMP"
}
trap cleanup EXIT

# in_ct COMMAND: runs a bash command inside the container (all namespaces of its PID 1).
in_ct() { nsenter -t "$LEADER" -a /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root /bin/bash -c "$1"; }

# --- prerequisites ----------------------------------------------------------------------------------
if [ "$(id -u)" != 0 ]; then notok "systemd e2e needs root"; finish; fi
if [ ! -f "$REPO/dist/src/main.js" ]; then notok "systemd e2e needs a build (npm run build)"; finish; fi
for pair in systemd-nspawn:systemd-container debootstrap:debootstrap; do
  if ! command -v "${pair%%:*}" >/dev/null; then
    note "installing ${pair#*:}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${pair#*:}" >"$TMP/apt.log" 2>&1 \
      || { DEBIAN_FRONTEND=noninteractive apt-get update -qq >>"$TMP/apt.log" 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${pair#*:}" >>"$TMP/apt.log" 2>&1; }
  fi
  command -v "${pair%%:*}" >/dev/null || { notok "${pair%%:*} unavailable"; finish; }
done

if [ ! -f "$ROOTFS/.ways-edge-e2e-ready" ]; then
  note "debootstrap bookworm into $ROOTFS (once)"
  rm -rf "$ROOTFS"
  MIRROR="$(sed -n 's/^URIs: *\(http[^ ]*debian\)\/*$/\1/p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n1)"
  if debootstrap --variant=minbase --include=systemd,systemd-sysv,dbus,procps,ca-certificates \
    bookworm "$ROOTFS" "${MIRROR:-http://deb.debian.org/debian}" >"$TMP/debootstrap.log" 2>&1; then
    echo ways-edge-e2e >"$ROOTFS/etc/hostname"
    touch "$ROOTFS/.ways-edge-e2e-ready"
  else
    tail -n 5 "$TMP/debootstrap.log" | sed 's/^/#   /'
    notok "debootstrap a bookworm root file system"
    finish
  fi
fi

# nspawn keeps per-container state below /run/systemd/nspawn and only deletes it from a tmpfs.
if [ "$(findmnt -n -o FSTYPE --target /run/systemd/nspawn 2>/dev/null)" != tmpfs ]; then
  mkdir -p /run/systemd/nspawn && mount -t tmpfs -o mode=0755 tmpfs /run/systemd/nspawn && MOUNTED_RUN=1
fi

# --- release tarballs: a good one, and a bad one whose entry point exits at once ---------------------
if ! WAYS_EDGE_VERSION=e2e-1 WAYS_EDGE_BUILD=never "$REPO/deploy/package.sh" --with-node-modules --out "$TMP/pkg" >"$TMP/package.log" 2>&1; then
  tail -n 5 "$TMP/package.log" | sed 's/^/#   /'
  notok "package.sh --with-node-modules"
  finish
fi
mkdir -p "$TMP/bad"
tar -xzf "$TMP/pkg/ways-edge-e2e-1.tar.gz" -C "$TMP/bad"
mv "$TMP/bad/ways-edge-e2e-1" "$TMP/bad/ways-edge-e2e-2-bad"
echo e2e-2-bad >"$TMP/bad/ways-edge-e2e-2-bad/VERSION"
echo 'process.exit(3);' >"$TMP/bad/ways-edge-e2e-2-bad/dist/src/main.js"
tar -czf "$TMP/pkg/ways-edge-e2e-2-bad.tar.gz" -C "$TMP/bad" ways-edge-e2e-2-bad
API_PORT="$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
MQTT_PORT="$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"

# --- boot -------------------------------------------------------------------------------------------
systemd-nspawn -D "$ROOTFS" -M "$MACHINE" -b --volatile=overlay --register=no --keep-unit --console=pipe \
  --bind-ro="$(readlink -f "$(command -v node)")":/usr/bin/node --bind-ro="$TMP/pkg":/pkg \
  </dev/null >"$TMP/nspawn.log" 2>&1 &
NSPAWN_PID=$!
state=""
for _ in $(seq 1 60); do
  LEADER="$(ps -o pid= --ppid "$NSPAWN_PID" 2>/dev/null | tr -d ' ' | head -n1)"
  if [ -n "$LEADER" ]; then
    state="$(in_ct 'systemctl is-system-running' 2>/dev/null)"
    case "$state" in running | degraded) break ;; esac
  fi
  sleep 1
done
case "$state" in
  running | degraded) ok "bookworm container booted with systemd ($state)" ;;
  *) notok "bookworm container did not boot (state '${state:-none}')"; tail -n 10 "$TMP/nspawn.log" | sed 's/^/#   /'; finish ;;
esac

# --- install ----------------------------------------------------------------------------------------
in_ct "mkdir -p /etc/ways-edge && printf '%s\n' WAYS_EDGE_API_HOST=127.0.0.1 WAYS_EDGE_API_PORT=$API_PORT \
  WAYS_EDGE_MQTT_HOST=127.0.0.1 WAYS_EDGE_MQTT_PORT=$MQTT_PORT WAYS_EDGE_CLOUD_URL= >/etc/ways-edge/ways-edge.env"
if in_ct "cd / && WAYS_EDGE_READY_TIMEOUT=60 /bin/bash -c 'mkdir -p /tmp/x && tar -xzf /pkg/ways-edge-e2e-1.tar.gz -C /tmp/x && /tmp/x/ways-edge-e2e-1/deploy/install.sh /pkg/ways-edge-e2e-1.tar.gz'" >"$TMP/install.log" 2>&1 \
  && grep -q 'ways-edge e2e-1 is running' "$TMP/install.log"; then
  ok "install.sh (real systemd): user, unit enabled, started, /readyz 200"
else
  notok "install.sh under systemd"
  tail -n 25 "$TMP/install.log" | sed 's/^/#   /'
  finish
fi
if grep -Eq '^  wayscloud_iot_[A-Za-z0-9_]+$' "$TMP/install.log" \
  && [ "$(in_ct 'stat -c %a:%U /var/lib/ways-edge/admin.key /var/lib/ways-edge | tr "\n" " "')" = "600:ways-edge 700:ways-edge " ]; then
  ok "install.sh printed the admin key; admin.key 0600 and /var/lib/ways-edge 0700, owned by ways-edge"
else
  notok "admin key / data dir ownership: $(in_ct 'stat -c %n:%a:%U /var/lib/ways-edge/admin.key /var/lib/ways-edge' | tr '\n' ' ')"
fi

PID="$(in_ct 'systemctl show -p MainPID --value ways-edge')"
status="$(in_ct "ps -o user= -p $PID; grep -E '^(NoNewPrivs|Seccomp|CapEff):' /proc/$PID/status | tr -s '\t ' ' ' | sort" 2>/dev/null | tr '\n' ' ')"
if [ "$status" = "ways-edge CapEff: 0000000000000000 NoNewPrivs: 1 Seccomp: 2 " ]; then
  ok "gateway runs as ways-edge with no capabilities, NoNewPrivileges and a seccomp filter"
else
  notok "process state: '$status'"
fi
if in_ct "nsenter -t $PID -m /bin/sh -c 'cat /sys/class/net/lo/operstate >/dev/null && ! touch /usr/x 2>/dev/null && ! touch /etc/ways-edge/x 2>/dev/null && [ -w /var/lib/ways-edge ]'"; then
  ok "in the service's mounts: /sys readable, /usr and /etc read-only, /var/lib/ways-edge writable"
else
  notok "service mount namespace: /sys readable, /usr /etc read-only, state dir writable"
fi
exposure="$(in_ct 'systemd-analyze security --no-pager ways-edge.service' 2>/dev/null | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')"
if [ -n "$exposure" ] && awk -v e="$exposure" 'BEGIN { exit !(e <= 2.5) }'; then
  ok "systemd-analyze security on the running unit: exposure $exposure <= 2.5"
else
  notok "systemd-analyze security on the running unit: '${exposure:-?}'"
fi

# --- restart and stop -------------------------------------------------------------------------------
in_ct "kill -KILL $PID"
restarted=""
for _ in $(seq 1 30); do
  sleep 1
  # NRestarts and the new main PID (0 while waiting for RestartSec).
  restarted="$(in_ct 'systemctl show -p NRestarts --value ways-edge; systemctl show -p MainPID --value ways-edge' | tr '\n' ' ')"
  case "$restarted" in "1 0 " | "0 "*) ;; *) break ;; esac
done
if [ "${restarted%% *}" = 1 ] && in_ct "node /opt/ways-edge/current/deploy/ready-probe.cjs --timeout 30 --config /etc/ways-edge/gateway.yaml --env-overrides /etc/ways-edge/ways-edge.env" 2>/dev/null; then
  ok "killed with SIGKILL: Restart=on-failure brings it back and it is ready again"
else
  notok "restart after SIGKILL: '$restarted'"
fi
t0=$SECONDS
stopped="$(in_ct 'systemctl stop ways-edge; systemctl show -p Result -p ExecMainStatus --value ways-edge' | tr '\n' ' ')"
if [ "$stopped" = "success 0 " ] && [ $((SECONDS - t0)) -le 30 ]; then
  ok "systemctl stop: SIGTERM, exit status 0, within $((SECONDS - t0)) s"
else
  notok "systemctl stop: '$stopped' after $((SECONDS - t0)) s"
fi
in_ct 'systemctl start ways-edge'

# --- update with rollback ---------------------------------------------------------------------------
in_ct 'WAYS_EDGE_READY_TIMEOUT=15 /opt/ways-edge/current/deploy/update.sh /pkg/ways-edge-e2e-2-bad.tar.gz' >"$TMP/update.log" 2>&1
rc=$?
after="$(in_ct 'readlink /opt/ways-edge/current; systemctl is-active ways-edge; test -f /opt/ways-edge/releases/e2e-2-bad/.failed && echo marked' | tr '\n' ' ')"
if [ "$rc" = 1 ] && [ "$after" = "releases/e2e-1 active marked " ]; then
  ok "update.sh to a release that exits at start: rolled back to e2e-1 (exit 1), active again"
else
  notok "update.sh bad release: exit $rc, state '$after'"
  tail -n 15 "$TMP/update.log" | sed 's/^/#   /'
fi

# --- uninstall --------------------------------------------------------------------------------------
if in_ct '/opt/ways-edge/current/deploy/uninstall.sh --purge' >"$TMP/uninstall.log" 2>&1 \
  && in_ct '! systemctl cat ways-edge >/dev/null 2>&1 && ! getent passwd ways-edge && [ ! -e /opt/ways-edge ] && [ ! -e /var/lib/ways-edge ]'; then
  ok "uninstall.sh --purge: unit, user, code and data gone"
else
  notok "uninstall.sh --purge"
  tail -n 10 "$TMP/uninstall.log" | sed 's/^/#   /'
fi

finish
