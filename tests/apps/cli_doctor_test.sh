#!/usr/bin/env bash
# certdock doctor on configurations written here, without a running HAProxy (--offline).
source "$(dirname "$0")/cli_assert.sh"

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout site.key \
    -out site.crt -days 30 -subj "/CN=site.example" -addext "subjectAltName=DNS:site.example" \
    2>/dev/null
"$certdock" cert bundle --cert site.crt --key site.key --out site.pem >/dev/null
: >http01.map

cat >good.cfg <<CFG
global
    stats socket $work/admin.sock level admin
frontend fe
    bind :443 ssl crt site.pem
    bind :80
    http-request return status 200 lf-string "%[path,field(4,/),map($work/http01.map)]" if { path_beg /.well-known/acme-challenge/ }
CFG
run doctor --haproxy-cfg good.cfg --offline
check "a healthy configuration exits 0" status_is 0
check "the certificate is reported ok" stdout_has "ok    good.cfg:4  $work/site.pem: site.example, ECDSA P-256 key matches"
check "the summary counts no failure" stdout_has "0 failed"

cat >broken.cfg <<'CFG'
global
    stats socket /run/haproxy/admin.sock level admin
    expose-experimental-directives
acme LE
    directory https://acme.example/directory
    keytype EC
    reuse-key
    map virt@acme
frontend fe
    bind :443 ssl crt missing.pem crt site.pem
    bind :80
    http-request return status 200 lf-string "%[path,field(4,/),map(absent.map)]" if { path_beg /.well-known/acme-challenge/ }
CFG
run doctor --haproxy-cfg broken.cfg --offline
check "a broken configuration exits 1" status_is 1
check "the missing file is a failure at its line" stdout_has "FAIL  broken.cfg:10  $work/missing.pem does not exist"
check "keytype EC gets its fix" stdout_has "fix: write \`keytype ECDSA\`"
check "reuse-key without on gets its fix" stdout_has "fix: write \`reuse-key on\`"
check "the map file gets its fix" stdout_has "fix: create it empty: touch $work/absent.map"
check "the acme map without responder gets the rule" stdout_has "map(virt@acme)"

run doctor --haproxy-cfg good.cfg --offline --key-type rsa2048
check "a key policy the file does not meet exits 1" status_is 1
check "the policy names both keys" stdout_has "has an ECDSA P-256 key but --key-type asks for RSA 2048"

run doctor --haproxy-cfg broken.cfg --offline --json
check "JSON exits 1 too" status_is 1
check "JSON counts the failures" stdout_has '"failures": '
check "JSON carries the fix" stdout_has '"fix": "write `keytype ECDSA`"'
check "JSON output parses" python3 -c 'import json,sys; d=json.load(open("out.txt")); sys.exit(0 if d["failures"] >= 5 else 1)'

run doctor --haproxy-cfg nowhere.cfg --offline
check "an unreadable configuration exits 2" status_is 2
check "on one line naming the file" stderr_is_one_line
check "the error names the file" stderr_has "nowhere.cfg"

printf 'global\n    crt-base "/etc\n' >quote.cfg
run doctor --haproxy-cfg quote.cfg --offline
check "an unterminated quote exits 2" status_is 2
check "the error names file and line" stderr_has "quote.cfg:2"

run doctor --haproxy-cfg good.cfg --key-type dsa
check "an unknown key type is a usage error" status_is 2

run doctor --haproxy-cfg good.cfg --no-probe
check "without HAProxy running, the socket check fails" status_is 1
check "and says HAProxy is not running" stdout_has "HAProxy is not running"

finish
