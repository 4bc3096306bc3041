#!/usr/bin/env bash
# certdock bootstrap: a placeholder HAProxy accepts, with the stable key, never over a real
# certificate.
source "$(dirname "$0")/cli_assert.sh"

pubkey() { openssl pkey -in "$1" -pubout 2>/dev/null; }
bundle_pubkey() { openssl x509 -in "$1" -noout -pubkey 2>/dev/null; }
begin_lines() { grep -- '-----BEGIN' "$1" | tr -d '\n'; }

# A stable key that exists already: the placeholder must carry it.
"$certdock" key generate --type ecdsa-p256 --out site.key >/dev/null
run bootstrap --cert site.pem --key site.key -d site.example -d www.site.example
check "bootstrap writes the bundle" status_is 0
check "bundle is 0600" file_mode_is site.pem 600
check "bundle has no blank line" [ "$(grep -c '^$' site.pem)" -eq 0 ]
check "bundle holds the certificate, then the key" \
    [ "$(begin_lines site.pem)" = "-----BEGIN CERTIFICATE----------BEGIN PRIVATE KEY-----" ]
check "the certificate's pin is the given key's pin" \
    [ "$("$certdock" key pin site.pem)" = "$("$certdock" key pin site.key)" ]
check "openssl agrees the certificate carries the given key" \
    [ "$(bundle_pubkey site.pem)" = "$(pubkey site.key)" ]
check "openssl agrees the bundle's key is the given key" \
    [ "$(pubkey site.pem)" = "$(pubkey site.key)" ]
check "the certificate is marked as a bootstrap certificate" \
    sh -c "openssl x509 -in site.pem -noout -subject | grep -qF 'O = certdock bootstrap'"
check "the certificate is self-signed" \
    [ "$(openssl x509 -in site.pem -noout -subject)" = \
      "$(openssl x509 -in site.pem -noout -issuer | sed 's/^issuer/subject/')" ]
check "openssl sees both names" \
    sh -c "openssl x509 -in site.pem -noout -ext subjectAltName | grep -qF 'DNS:www.site.example'"
expires_within() { ! openssl x509 -in "$1" -noout -checkend "$2" >/dev/null; }
valid_beyond() { openssl x509 -in "$1" -noout -checkend "$2" >/dev/null; }
check "it expires within the default 7 days" expires_within site.pem $((7 * 86400))
check "it is valid for more than 6 days" valid_beyond site.pem $((6 * 86400))

# Idempotent: the same request leaves the file alone.
before=$(sha256sum site.pem)
run bootstrap --cert site.pem --key site.key -d site.example -d www.site.example
check "a second run succeeds" status_is 0
check "a second run says nothing changed" stdout_has "unchanged"
check "a second run leaves the bundle as it was" [ "$(sha256sum site.pem)" = "$before" ]
run bootstrap --cert site.pem --key site.key -d site.example -d www.site.example --json
check "JSON says unchanged" stdout_has '"action": "unchanged"'

# Another key: the placeholder is ours, so it is replaced.
"$certdock" key generate --type rsa2048 --out other.key >/dev/null
run bootstrap --cert site.pem --key other.key -d site.example -d www.site.example
check "a placeholder for another key is replaced" status_is 0
check "the replacement carries the other key" \
    [ "$(bundle_pubkey site.pem)" = "$(pubkey other.key)" ]

# --key naming a missing file: generated, written 0600, and in the certificate.
run bootstrap --cert new.pem --key new.key --key-type ecdsa-p384 --days 2 --json
check "a missing --key is generated" status_is 0
check "the generated key is 0600" file_mode_is new.key 600
check "the generated key has the requested type" \
    sh -c "'$certdock' key inspect new.key | grep -qF 'ECDSA P-384'"
check "the bundle carries the generated key" [ "$(bundle_pubkey new.pem)" = "$(pubkey new.key)" ]
check "JSON reports the key as written" stdout_has '"key_written": true'
check "the default name is localhost" \
    sh -c "openssl x509 -in new.pem -noout -ext subjectAltName | grep -qF 'DNS:localhost'"
check "--days 2 gives two days" expires_within new.pem $((2 * 86400))

# A real certificate (from a throwaway CA) is never replaced without --force.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key \
    -out ca.pem -days 2 -subj "/CN=Test CA" 2>/dev/null
openssl req -new -key site.key -subj "/CN=site.example" -out site.csr 2>/dev/null
printf 'subjectAltName=DNS:site.example\n' >leaf.ext
openssl x509 -req -in site.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 1 \
    -extfile leaf.ext -out real.crt 2>/dev/null
cat real.crt site.key >real.pem
before=$(sha256sum real.pem)
run bootstrap --cert real.pem --key site.key -d site.example
check "a real certificate is refused with 1" status_is 1
check "the refusal says why in one line" stderr_is_one_line
check "the refusal names --force" stderr_has "--force"
check "the real certificate is untouched" [ "$(sha256sum real.pem)" = "$before" ]
# An openssl self-signed certificate is not ours either.
openssl req -x509 -key site.key -subj "/CN=site.example" -days 2 -out self.crt 2>/dev/null
cat self.crt site.key >self.pem
run bootstrap --cert self.pem --key site.key -d site.example
check "someone else's self-signed certificate is refused too" status_is 1
touch empty.pem
run bootstrap --cert empty.pem --key missing2.key
check "a file without a certificate is refused" status_is 1
check "nothing is generated when refusing" [ ! -e missing2.key ]
run bootstrap --cert real.pem --key site.key -d site.example --force
check "--force replaces the real certificate" status_is 0
check "the forced replacement is a bootstrap certificate" \
    sh -c "openssl x509 -in real.pem -noout -subject | grep -qF 'O = certdock bootstrap'"

# An expired placeholder (made by openssl with fixed dates in 2020) is replaced.
mkdir db && touch db/index.txt && echo 01 >db/serial
cat >ca.cnf <<'EOF'
[ca]
default_ca = old
[old]
database = db/index.txt
new_certs_dir = db
serial = db/serial
default_md = sha256
policy = anything
unique_subject = no
[anything]
organizationName = supplied
commonName = supplied
[ext]
subjectAltName = DNS:site.example
EOF
openssl req -new -key site.key -subj "/O=certdock bootstrap/CN=site.example" -out old.csr 2>/dev/null
openssl ca -batch -config ca.cnf -selfsign -keyfile site.key -in old.csr -notext \
    -startdate 20200101000000Z -enddate 20200108000000Z -extensions ext -out old.crt 2>/dev/null
cat old.crt site.key >expired.pem
run bootstrap --cert expired.pem --key site.key -d site.example
check "an expired placeholder is replaced" status_is 0
check "the replacement says the old one had expired" stdout_has "expired"
check "the replacement is valid now" valid_beyond expired.pem 3600

# Bad input is exit 2 and writes nothing.
run bootstrap --cert bad.pem --days 0
check "--days 0 is bad usage" status_is 2
run bootstrap --cert bad.pem --key-type dsa
check "an unknown key type is bad usage" status_is 2
check "nothing written on bad usage" [ ! -e bad.pem ]

# HAProxy loads the placeholder.
haproxy=$(PATH="$PATH:/usr/sbin" command -v haproxy)
if [ -z "$haproxy" ]; then
    echo "SKIP: haproxy is not installed (Debian package haproxy); not checking that it loads the bundle"
else
    # -c parses and loads certificates without binding, so the port is arbitrary (2.6
    # refuses port 0).
    haproxy_accepts() {
        printf 'defaults\n    mode http\n    timeout connect 1s\n    timeout client 1s\n    timeout server 1s\nfrontend fe\n    bind 127.0.0.1:8443 ssl crt %s\n' \
            "$work/$1" >haproxy.cfg
        "$haproxy" -c -q -f haproxy.cfg >haproxy.out 2>&1
    }
    haproxy_refuses() { ! haproxy_accepts "$1"; }
    check "haproxy -c accepts the bundle made with an existing RSA key" haproxy_accepts site.pem
    check "haproxy -c accepts the bundle with a generated P-384 key" haproxy_accepts new.pem
    check "haproxy -c accepts the replacement of an expired placeholder" haproxy_accepts expired.pem
    # The same check fails when the key is not the certificate's, so it proves something.
    openssl x509 -in site.pem >mismatch.pem && cat new.key >>mismatch.pem
    check "haproxy -c refuses a certificate with someone else's key" haproxy_refuses mismatch.pem
fi

finish
