#!/usr/bin/env bash
# The main job, as far as certdock carries it today: a stable key named the way HAProxy names
# it, its pins published ahead of time, a certificate obtained over ACME with certdock's own
# http-01 responder, proven before deploy, renewed with the same key, and written as the
# single PEM HAProxy loads. Until certdock's own gateway exists, Debian's Pebble plays the
# CA, on loopback ports picked at run time. Everything is removed at the end.
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

step "3. A certificate over ACME: http-01 answered by certdock itself, for exactly that key"
show "$certdock" issue "${acme[@]}" -d demo.test -d www.demo.test --key site.key \
    --challenge http-01 --http-listen "127.0.0.1:$HTTP_PORT" --out site.pem
show "$certdock" cert inspect site.pem

step "4. Proof: the chain verifies against the CA's root, covers the name, matches the key"
curl -sf --cacert "$ROOT" "$PEBBLE_MGMT_URL/roots/0" >ca-root.pem
show "$certdock" cert verify site.pem --roots ca-root.pem --name www.demo.test --key site.key

step "5. Renewal keeps the key, so the published pin stays true; the old bundle is kept"
show "$certdock" issue "${acme[@]}" -d demo.test -d www.demo.test --key site.key \
    --challenge http-01 --http-listen "127.0.0.1:$HTTP_PORT" --out site.pem --quiet
[ "$("$certdock" key pin site.pem)" = "$pin" ] && echo "pin unchanged: $pin"
ls site.pem site.pem.previous
printf 'blank lines in site.pem: %s (a blank line would end a HAProxy Runtime API payload)\n' \
    "$(grep -c '^$' site.pem || true)"

step "6. A wrong key is refused, says which keys differ, and nothing is overwritten"
"$certdock" key generate --type ecdsa-p384 --out other.key >/dev/null
before=$(sha256sum <site.pem)
if "$certdock" cert bundle --cert site.pem --key other.key --out site.pem; then
    die "a mismatched key was accepted"
fi
[ "$(sha256sum <site.pem)" = "$before" ] && echo "site.pem untouched"

step "done"
