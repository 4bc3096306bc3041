#!/usr/bin/env bash
# The main job, as far as certdock carries it today: make a stable key the way a HAProxy
# operator names it, publish its pins, request a certificate, check what comes back, and
# build the exact PEM HAProxy loads. Until certdock's own gateway exists, a throwaway
# OpenSSL CA plays the CA's part. Everything happens in a temporary directory that is
# removed at the end.
set -euo pipefail

certdock=$(realpath "${1:?usage: demo.sh path/to/certdock}")
work=$(mktemp -d -t certdock-demo-XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
show() { printf '$ %s\n' "$*"; "$@"; }

step "1. A stable ECDSA P-256 key, named as in HAProxy's acme section (keytype ECDSA, bits 256)"
show "$certdock" key generate --keytype ECDSA --bits 256 --out site.key
show "$certdock" key inspect site.key

step "2. Its pins, for HPKP headers and DANE records, published before the key is used"
show "$certdock" key pin site.key
show "$certdock" key pin --tlsa site.key
printf 'the same pin from the classic openssl pipeline: '
openssl pkey -in site.key -pubout -outform der | openssl dgst -sha256 -binary | openssl enc -base64

step "3. A CSR for two names and an address, signed by that key"
show "$certdock" csr create --key site.key -d demo.example -d www.demo.example --ip 192.0.2.10 --out site.csr
show "$certdock" csr inspect site.csr

step "4. A CA issues the certificate (a throwaway OpenSSL CA until certdock's gateway does it)"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem \
    -days 1 -subj "/CN=certdock demo root" 2>/dev/null
printf 'subjectAltName=DNS:demo.example,DNS:www.demo.example,IP:192.0.2.10\nbasicConstraints=CA:FALSE\nauthorityKeyIdentifier=keyid\n' > ext.cnf
openssl x509 -req -in site.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 1 -extfile ext.cnf \
    -out site.crt 2>/dev/null
show "$certdock" cert inspect site.crt

step "5. Proof before deploy: the chain verifies, covers the name, and matches our key"
show "$certdock" cert verify site.crt --roots ca.pem --name www.demo.example --key site.key

step "6. The single PEM HAProxy loads: leaf, chain, key, and never a blank line"
show "$certdock" cert bundle --cert site.crt --key site.key --out site.pem
printf 'blank lines in site.pem: %s\n' "$(grep -c '^$' site.pem || true)"

step "7. A wrong key is refused, and says which keys differ"
show "$certdock" key generate --type ecdsa-p384 --out other.key >/dev/null
if "$certdock" cert bundle --cert site.crt --key other.key --out wrong.pem; then
    echo "demo: a mismatched key was accepted" >&2
    exit 1
fi
[ ! -e wrong.pem ] && echo "nothing was written for the mismatched pair"

step "done"
