#!/usr/bin/env bash
# Makes TLS material for a ways-edge gateway with openssl: a CA, a server certificate and per-device
# client certificates, all ECDSA P-256. See certs/README.md for how the gateway uses them.
#
#   certs/make-certs.sh [--out DIR] ca                       # DIR/ca.crt, DIR/ca.key
#   certs/make-certs.sh [--out DIR] server [--host NAME] [--dns NAME]... [--ip ADDR]...
#                                                            # DIR/server.crt, DIR/server.key
#   certs/make-certs.sh [--out DIR] client DEVICE_ID         # DIR/clients/DEVICE_ID.{crt,key}
#
# server: SANs are NAME, NAME.local, localhost, 127.0.0.1, ::1 and every --dns/--ip given
#         (NAME defaults to this machine's hostname; use the gateway's hostname when making it
#         elsewhere). Makes the CA first when DIR has none.
# client: for mutual TLS (when the gateway enables it): CN = the device id, extendedKeyUsage
#         clientAuth.
# Options: --out DIR (default ./ways-edge-certs, or WAYS_EDGE_CERTS_DIR), --days N (default: CA 3650,
#          others 825), --force (overwrite existing files), --ca-name "CN of the CA".
# Keys are written 0600 in a 0700 directory; nothing is overwritten without --force.
set -euo pipefail
umask 077

OUT="${WAYS_EDGE_CERTS_DIR:-./ways-edge-certs}"
DAYS=""
FORCE=0
HOST="$(hostname 2>/dev/null || echo ways-edge)"
CA_NAME=""
DNS=()
IPS=()
CMD=""
DEVICE=""

die() { printf 'make-certs: error: %s\n' "$*" >&2; exit 1; }
usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit "${1:-0}"; }

while [ $# -gt 0 ]; do
  case "$1" in
    --out) OUT="${2:?--out needs a directory}"; shift 2 ;;
    --days) DAYS="${2:?--days needs a number}"; shift 2 ;;
    --force) FORCE=1; shift ;;
    --host) HOST="${2:?--host needs a name}"; shift 2 ;;
    --dns) DNS+=("${2:?--dns needs a name}"); shift 2 ;;
    --ip) IPS+=("${2:?--ip needs an address}"); shift 2 ;;
    --ca-name) CA_NAME="${2:?--ca-name needs a value}"; shift 2 ;;
    -h | --help) usage 0 ;;
    ca | server) CMD="$1"; shift ;;
    client) CMD=client; DEVICE="${2:-}"; shift; [ $# -gt 0 ] && shift ;;
    *) printf 'make-certs: unknown argument %s\n' "$1" >&2; usage 2 ;;
  esac
done
[ -n "$CMD" ] || usage 2
[ -z "$DAYS" ] || [[ "$DAYS" =~ ^[0-9]+$ ]] || die "--days must be a number"
command -v openssl >/dev/null || die "openssl is required (apt-get install openssl)"

mkdir -p "$OUT"
chmod 0700 "$OUT"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

# Refuses to overwrite unless --force.
check_new() {
  local f
  for f in "$@"; do
    if [ -e "$f" ] && [ "$FORCE" != 1 ]; then die "$f exists (use --force to replace it)"; fi
  done
}

newkey() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; chmod 0600 "$1"; }
serial() { printf '0x%s' "$(openssl rand -hex 16)"; }

make_ca() {
  check_new "$OUT/ca.crt" "$OUT/ca.key"
  newkey "$OUT/ca.key"
  openssl req -x509 -new -sha256 -key "$OUT/ca.key" -days "${DAYS:-3650}" -set_serial "$(serial)" \
    -subj "/CN=${CA_NAME:-ways-edge local CA ($HOST)}" \
    -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -addext "subjectKeyIdentifier=hash" \
    -out "$OUT/ca.crt"
  chmod 0644 "$OUT/ca.crt"
  echo "CA:     $OUT/ca.crt (key $OUT/ca.key — keep it off the gateway if you can)"
}

ensure_ca() {
  if [ ! -f "$OUT/ca.crt" ] || [ ! -f "$OUT/ca.key" ]; then
    if [ -e "$OUT/ca.crt" ] || [ -e "$OUT/ca.key" ]; then die "$OUT has only half a CA (ca.crt/ca.key)"; fi
    make_ca
  fi
}

# sign CSR CERT EXTFILE
sign() {
  openssl x509 -req -sha256 -in "$1" -CA "$OUT/ca.crt" -CAkey "$OUT/ca.key" -set_serial "$(serial)" \
    -days "${DAYS:-825}" -extfile "$3" -out "$2" 2>/dev/null
  chmod 0644 "$2"
}

make_server() {
  local sans n
  ensure_ca
  check_new "$OUT/server.crt" "$OUT/server.key"
  sans="DNS:$HOST,DNS:$HOST.local,DNS:localhost,IP:127.0.0.1,IP:::1"
  for n in "${DNS[@]+"${DNS[@]}"}"; do sans="$sans,DNS:$n"; done
  for n in "${IPS[@]+"${IPS[@]}"}"; do sans="$sans,IP:$n"; done
  newkey "$OUT/server.key"
  openssl req -new -sha256 -key "$OUT/server.key" -subj "/CN=$HOST" -out "$TMP/server.csr"
  cat >"$TMP/server.ext" <<EOF
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectAltName=$sans
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
EOF
  sign "$TMP/server.csr" "$OUT/server.crt" "$TMP/server.ext"
  echo "server: $OUT/server.crt (key $OUT/server.key), names: $sans"
}

make_client() {
  [[ "$DEVICE" =~ ^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$ ]] || die "client needs a device id (letters, digits, . _ : -)"
  ensure_ca
  mkdir -p "$OUT/clients"
  chmod 0700 "$OUT/clients"
  check_new "$OUT/clients/$DEVICE.crt" "$OUT/clients/$DEVICE.key"
  newkey "$OUT/clients/$DEVICE.key"
  openssl req -new -sha256 -key "$OUT/clients/$DEVICE.key" -subj "/CN=$DEVICE" -out "$TMP/client.csr"
  cat >"$TMP/client.ext" <<EOF
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=clientAuth
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
EOF
  sign "$TMP/client.csr" "$OUT/clients/$DEVICE.crt" "$TMP/client.ext"
  echo "client: $OUT/clients/$DEVICE.crt (key $OUT/clients/$DEVICE.key), CN=$DEVICE"
}

case "$CMD" in
  ca) make_ca ;;
  server) make_server ;;
  client) make_client ;;
esac
