#!/usr/bin/env bash
# The main job end to end on loopback: a stable key named the way HAProxy names it, its pins
# published ahead of time, a placeholder so HAProxy starts before the first issuance, a real
# HAProxy answering http-01 from its own map, the certificate hot-loaded through the Runtime
# API (no reload) and proven with a TLS handshake, a renewal with the same key, a wrong key
# refused with nothing changed, and `certdock doctor` passing. Until certdock's own gateway
# exists, Debian's Pebble plays the CA. Ports are picked at run time; everything is removed
# at the end.
set -euo pipefail

certdock=$(realpath "${1:?usage: demo.sh path/to/certdock}")
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WORK=$(mktemp -d -t certdock-demo-XXXXXX)
PIDS=()
cleanup() {
    ((${#PIDS[@]})) && kill "${PIDS[@]}" 2>/dev/null
    wait 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT
log() { echo "demo: $*" >&2; }
die() {
    log "$*"
    exit 1
}
# shellcheck source=lib/pebble-env.sh
source "$repo/scripts/lib/pebble-env.sh"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
show() {
    printf '$ certdock %s\n' "${*:2}"
    "$@"
}

cd "$WORK"
step "0. A throwaway ACME CA (Debian's Pebble) on loopback"
pebble_env_start
echo "directory: $DIR_URL"
acme=(--directory "$DIR_URL" --ca-file "$ROOT" --account-key account.key --agree-tos)

step "1. A stable ECDSA P-256 key, named as in HAProxy's acme section (keytype ECDSA, bits 256)"
show "$certdock" key generate --keytype ECDSA --bits 256 --out site.key
pin=$("$certdock" key pin site.key)

step "2. Its pins, for HPKP headers and DANE records, published before the key is used"
show "$certdock" key pin --tlsa site.key
printf 'the same pin from the classic openssl pipeline: '
openssl pkey -in site.key -pubout -outform der | openssl dgst -sha256 -binary | openssl enc -base64

step "3. A placeholder with that key, so HAProxy's bind ... crt line loads before any issuance"
show "$certdock" bootstrap --cert site.pem --key site.key -d demo.test -d www.demo.test

step "4. HAProxy 2.6: TLS with site.pem, port 80 answering http-01 from a map, an admin socket"
pick_port HTTPS_PORT
: >acme-http01.map
map=$WORK/acme-http01.map
cat >haproxy.cfg <<CFG
global
    stats socket $WORK/admin.sock mode 600 level admin
defaults
    mode http
    timeout connect 5s
    timeout client 10s
    timeout server 10s
frontend https
    bind 127.0.0.1:$HTTPS_PORT ssl crt $WORK/site.pem
    http-request return status 200 content-type text/plain string "hello from HAProxy"
frontend http
    bind 127.0.0.1:$HTTP_PORT
    http-request return status 200 content-type text/plain lf-string "%[path,field(4,/),map($map)]" if { path_beg /.well-known/acme-challenge/ } { path,field(4,/),map($map) -m found }
    http-request return status 404
CFG
cat haproxy.cfg
haproxy -db -f haproxy.cfg >haproxy.log 2>&1 &
haproxy_pid=$!
PIDS+=("$haproxy_pid")
wait_until haproxy "$haproxy_pid" test -S admin.sock
served() {
    openssl s_client -connect "127.0.0.1:$HTTPS_PORT" -servername "$1" </dev/null 2>/dev/null |
        openssl x509 -noout -serial -issuer
}
echo "HAProxy (pid $haproxy_pid) serves now:"
served demo.test

step "5. A certificate over ACME: HAProxy answers http-01 from its map, certdock hot-loads and proves"
show "$certdock" issue "${acme[@]}" -d demo.test -d www.demo.test --key site.key \
    --challenge http-01 --haproxy-socket admin.sock --haproxy-map "$map" \
    --out site.pem --probe "127.0.0.1:$HTTPS_PORT"
echo "an independent handshake (openssl s_client) sees:"
served www.demo.test
printf 'http-01 tokens left in the map: %s\n' "$(grep -c . acme-http01.map || true)"

step "6. Proof: the chain verifies against the CA's root, covers the name, matches the key"
curl -sf --cacert "$ROOT" "$PEBBLE_MGMT_URL/roots/0" >ca-root.pem
show "$certdock" cert verify site.pem --roots ca-root.pem --name www.demo.test --key site.key

step "7. Renewal keeps the key, so the published pin stays true; HAProxy is never reloaded"
show "$certdock" issue "${acme[@]}" -d demo.test -d www.demo.test --key site.key \
    --challenge http-01 --haproxy-socket admin.sock --haproxy-map "$map" \
    --out site.pem --probe "127.0.0.1:$HTTPS_PORT" --quiet
[ "$("$certdock" key pin site.pem)" = "$pin" ] && echo "pin unchanged: $pin"
echo "served after renewal:"
served demo.test
kill -0 "$haproxy_pid" && echo "still the same HAProxy process: pid $haproxy_pid"
ls -A site.pem .site.pem.previous
printf 'blank lines in site.pem: %s (a blank line would end a HAProxy Runtime API payload)\n' \
    "$(grep -c '^$' site.pem || true)"

step "8. A wrong key is refused, says which keys differ, and nothing changes on disk or in HAProxy"
"$certdock" key generate --type ecdsa-p384 --out other.key >/dev/null
before=$(sha256sum <site.pem)
served_before=$(served demo.test)
if "$certdock" deploy --cert site.pem --key other.key --to site.pem --haproxy-socket admin.sock; then
    die "a mismatched key was accepted"
fi
[ "$(sha256sum <site.pem)" = "$before" ] && echo "site.pem untouched"
[ "$(served demo.test)" = "$served_before" ] && echo "HAProxy still serves the same certificate"

step "9. certdock doctor: files, keys, the http-01 rule and map, the socket, what is served"
show "$certdock" doctor --haproxy-cfg haproxy.cfg

step "done"
