#!/bin/bash
# ways-edge hook for Raspberry Pi OS bookworm's first-run mechanism (the one Raspberry Pi Imager
# uses): the kernel command line in cmdline.txt carries
#   systemd.run=<script> systemd.run_success_action=reboot systemd.unit=kernel-command-line.target
# and systemd runs <script> once, very early, without network. So this script does not install
# anything itself: it enables ways-edge-firstboot.service, which installs on the next (normal,
# networked) boot.
#
# Two ways to hook it in (docs/DEPLOY.md):
#  a) Imager with OS customisation wrote its own /boot/firmware/firstrun.sh: add the line
#       bash /boot/firmware/ways-edge/firstrun.sh
#     just before its `rm -f /boot/firmware/firstrun.sh` line.
#  b) No Imager customisation (plain dd): append to the single line of cmdline.txt
#       systemd.run=/boot/firmware/ways-edge/firstrun.sh systemd.run_success_action=reboot systemd.unit=kernel-command-line.target
#     This script then removes those words from cmdline.txt itself.
#
# Test hooks: WAYS_EDGE_ROOT (prefix for /etc), WAYS_EDGE_CMDLINE (cmdline.txt to clean).
set -u

HERE="$(cd "$(dirname "$(readlink -f "$0")")" && pwd)"
ROOT="${WAYS_EDGE_ROOT:-}"
ROOT="${ROOT%/}"
UNIT_DIR="$ROOT/etc/systemd/system"
SELF="$HERE/$(basename "$0")"

mkdir -p "$UNIT_DIR/multi-user.target.wants"
sed "s#^ExecStart=.*#ExecStart=/bin/bash $HERE/ways-edge-firstboot.sh#" \
  "$HERE/ways-edge-firstboot.service" >"$UNIT_DIR/ways-edge-firstboot.service"
chmod 0644 "$UNIT_DIR/ways-edge-firstboot.service"
# Enabling by hand: works the same with systemd in early boot or in a test root.
ln -sfn ../ways-edge-firstboot.service "$UNIT_DIR/multi-user.target.wants/ways-edge-firstboot.service"
echo "ways-edge: ways-edge-firstboot.service enabled; it installs the gateway on the next boot"

# When this script is the systemd.run= target itself (way b), take it off the command line.
for cmdline in ${WAYS_EDGE_CMDLINE:-/boot/firmware/cmdline.txt /boot/cmdline.txt}; do
  if [ -f "$cmdline" ] && grep -q "systemd\.run=$SELF" "$cmdline"; then
    sed -i -e 's# systemd\.run[=_][^ ]*##g' -e 's# systemd\.unit=kernel-command-line\.target##g' "$cmdline"
    echo "ways-edge: removed the first-run words from $cmdline"
  fi
done
exit 0
