#!/usr/bin/env bash
# certdock key ... as an operator uses it, checked against the openssl pipelines it replaces.
source "$(dirname "$0")/cli_assert.sh"

# The HPKP pipeline from the stable-keys article (RSA), and its generic form for any key.
openssl_pin() { openssl pkey -in "$1" -pubout -outform der | openssl dgst -sha256 -binary | openssl enc -base64; }
openssl_rsa_pin() { openssl rsa -in "$1" -outform der -pubout 2>/dev/null | openssl dgst -sha256 -binary | openssl enc -base64; }
openssl_tlsa() { openssl pkey -in "$1" -pubout -outform der | sha256sum | cut -d' ' -f1; }

run key generate --type rsa2048 --out rsa.key
check "RSA key generated" status_is 0
check "key written 0600" file_mode_is rsa.key 600
run key pin rsa.key
check "RSA pin equals the openssl rsa pipeline" [ "$(cat out.txt)" = "$(openssl_rsa_pin rsa.key)" ]

run key generate --keytype ECDSA --bits 256 --out ec.key
check "HAProxy spelling ECDSA/bits 256 accepted" status_is 0
run key inspect ec.key
check "HAProxy spelling gives a P-256 key" stdout_has "ECDSA P-256"
run key pin ec.key
check "ECDSA pin equals the openssl pipeline" [ "$(cat out.txt)" = "$(openssl_pin ec.key)" ]
run key pin --tlsa ec.key
check "TLSA 3 1 1 equals sha256 of the SPKI" [ "$(cat out.txt)" = "3 1 1 $(openssl_tlsa ec.key)" ]

# A key made by openssl itself, in traditional form, reads the same.
openssl ecparam -name secp384r1 -genkey -noout -out openssl-ec.key 2>/dev/null
run key inspect --json openssl-ec.key
check "openssl's traditional EC key is understood" stdout_has '"type": "ECDSA P-384"'
check "JSON names the traditional format" stdout_has '"format": "traditional"'
run key pin openssl-ec.key
check "pin of openssl's key matches openssl" [ "$(cat out.txt)" = "$(openssl_pin openssl-ec.key)" ]

# The pin is the same from the key, its certificate and its CSR.
openssl req -new -x509 -key ec.key -subj /CN=pin.example -days 1 -out ec.crt 2>/dev/null
"$certdock" csr create --key ec.key -d pin.example --out ec.csr >/dev/null
key_pin=$("$certdock" key pin ec.key)
check "certificate gives the key's pin" [ "$("$certdock" key pin ec.crt)" = "$key_pin" ]
check "CSR gives the key's pin" [ "$("$certdock" key pin ec.csr)" = "$key_pin" ]

# An existing key is never overwritten without --force.
before=$(sha256sum ec.key)
run key generate --type ed25519 --out ec.key
check "existing key refused without --force" status_is 2
check "refusal names --force" stderr_has "--force"
check "existing key untouched" [ "$(sha256sum ec.key)" = "$before" ]
run key generate --type ed25519 --out ec.key --force
check "--force replaces the key" status_is 0
run key inspect ec.key
check "replaced key is Ed25519" stdout_has "Ed25519"

# Encrypted PKCS#8 with the passphrase in a file, never on argv.
printf 'correct horse\n' >pass.txt
printf 'wrong\n' >wrong.txt
run key generate --type ecdsa-p384 --passphrase-file pass.txt --out enc.key
check "encrypted key generated" status_is 0
check "encrypted key is PKCS#8" grep -q "BEGIN ENCRYPTED PRIVATE KEY" enc.key
run key inspect enc.key
check "encrypted key without passphrase is exit 2" status_is 2
check "says the key is encrypted and how to give the passphrase" stderr_has "--passphrase-file"
check "one line of error" stderr_is_one_line
run key inspect enc.key --passphrase-file wrong.txt
check "wrong passphrase is exit 2" status_is 2
check "wrong passphrase is named" stderr_has "wrong passphrase"
run key inspect enc.key --passphrase-file pass.txt
check "right passphrase opens the key" stdout_has "ECDSA P-384"

# Bad input: one clear line, exit status 2.
head -c 100 rsa.key >truncated.key
run key inspect truncated.key
check "truncated PEM is exit 2" status_is 2
check "truncated PEM is called truncated" stderr_has "truncated"
check "truncated PEM error is one line" stderr_is_one_line
run csr create --key ec.crt -d x.example
check "certificate given as key is exit 2" status_is 2
check "certificate given as key is named" stderr_has "expected a private key, found a certificate"
run key generate --type ecdsa-p521 --out p521.key
check "unsupported curve is exit 2" status_is 2
check "unsupported curve lists the choices" stderr_has "P-256 or P-384"
run key generate --keytype EC --bits 384 --out ec384.key
check "keytype EC is understood as ECDSA" status_is 0
run key inspect missing.key
check "missing file is exit 2" status_is 2
check "missing file is named" stderr_has "missing.key"

finish
