#!/usr/bin/env bash
# certdock csr/cert ... against certificates made by a throwaway OpenSSL CA.
source "$(dirname "$0")/cli_assert.sh"

"$certdock" key generate --type ecdsa-p256 --out site.key >/dev/null
"$certdock" key generate --type rsa2048 --out other.key >/dev/null

run csr create --key site.key -d site.example -d www.site.example --ip 192.0.2.7 --out site.csr
check "CSR created" status_is 0
run csr inspect site.csr
check "CSR lists its DNS names" stdout_has "www.site.example"
check "CSR lists its IP" stdout_has "192.0.2.7"
check "CSR signature verifies" stdout_has "valid"
check "openssl agrees the CSR verifies" openssl req -in site.csr -verify -noout

# Root -> intermediate -> leaf, made with openssl.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout root.key \
    -out root.pem -days 2 -subj "/CN=Test Root" 2>/dev/null
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout int.key \
    -out int.csr -subj "/CN=Test Intermediate" 2>/dev/null
printf 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n' >ca.ext
openssl x509 -req -in int.csr -CA root.pem -CAkey root.key -CAcreateserial -days 2 \
    -extfile ca.ext -out int.pem 2>/dev/null
printf 'subjectAltName=DNS:site.example,DNS:www.site.example,IP:192.0.2.7\nauthorityKeyIdentifier=keyid\n' >leaf.ext
openssl x509 -req -in site.csr -CA int.pem -CAkey int.key -CAcreateserial -days 1 \
    -extfile leaf.ext -out site.crt 2>/dev/null
cat site.crt int.pem >fullchain.pem

run cert inspect fullchain.pem
check "inspect shows both certificates" stdout_has "certificate 2 of 2"
check "inspect shows the SANs" stdout_has "DNS:      www.site.example"
serial=$(openssl x509 -in site.crt -noout -serial | cut -d= -f2 | tr 'A-F' 'a-f' | sed 's/^0*//')
check "inspect shows openssl's serial" stdout_has "$serial"
fingerprint=$(openssl x509 -in site.crt -noout -fingerprint -sha256 | cut -d= -f2)
check "inspect shows openssl's SHA-256 fingerprint" stdout_has "$fingerprint"
check "inspect shows the ARI certificate id" stdout_has "ARI id:"
run cert inspect --json site.crt
check "JSON output carries the subject" stdout_has '"subject": "CN=site.example"'

run cert verify fullchain.pem --roots root.pem --name www.site.example --key site.key
check "chain verifies with name and key" status_is 0
check "verify reports the key match" stdout_has "matches"
run cert verify fullchain.pem --roots root.pem --name other.example
check "a name the certificate lacks fails with 1" status_is 1
run cert verify fullchain.pem --roots int.pem
check "an untrusted root fails with 1" status_is 1
run cert verify fullchain.pem --roots root.pem --at 2099-01-01T00:00:00Z
check "verification in the future fails as expired" status_is 1
check "expiry is the reason given" stderr_has "expired"
run cert verify fullchain.pem --roots root.pem --key other.key
check "a wrong key fails with 1" status_is 1
check "mismatch names the key types" stderr_has "RSA 2048"
check "mismatch names the certificate's key" stderr_has "ECDSA P-256"
check "mismatch shows both pins" stderr_has "$("$certdock" key pin other.key)"
check "mismatch shows the certificate's pin" stderr_has "$("$certdock" key pin site.key)"

run cert bundle --cert site.crt --chain int.pem --key site.key --out site.pem
check "bundle written" status_is 0
check "bundle is 0600" file_mode_is site.pem 600
check "bundle has no blank line" [ "$(grep -c '^$' site.pem)" -eq 0 ]
check "bundle holds leaf, intermediate and key in order" \
    [ "$(grep -- '-----BEGIN' site.pem | tr -d '\n')" = "-----BEGIN CERTIFICATE----------BEGIN CERTIFICATE----------BEGIN PRIVATE KEY-----" ]
check "openssl reads the leaf from the bundle" \
    [ "$(openssl x509 -in site.pem -noout -serial)" = "$(openssl x509 -in site.crt -noout -serial)" ]
before=$(sha256sum site.pem)
run cert bundle --cert fullchain.pem --key other.key --out site.pem
check "bundle with a wrong key is refused" status_is 2
check "refusal names both keys" stderr_has "does not match"
check "the existing bundle is untouched" [ "$(sha256sum site.pem)" = "$before" ]
run cert bundle --cert site.crt --chain root.pem --key site.key --out reversed.pem
check "a chain whose next certificate is not the issuer is refused" [ "$status" -ne 0 ]
check "nothing written for the reversed chain" [ ! -e reversed.pem ]

finish
