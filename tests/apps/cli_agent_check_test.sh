#!/usr/bin/env bash
# certdock agent check as an operator runs it before (re)starting the agent.
source_dir=$(realpath "$(dirname "$0")/../..")
source "$(dirname "$0")/cli_assert.sh"

# The documented example is valid, apart from files that exist only on a real host.
run agent check --config "$source_dir/docs/examples/certdock.toml" --skip-file-checks
check "documented example is valid" status_is 0
check "summary counts certificates, CAs and HAProxy targets" \
    stdout_has "certdock.toml: ok (3 certificates, 1 CA, 2 HAProxy targets)"

# A small valid file with relative paths: they start at the file's directory, not the cwd.
mkdir -p etc/certdock
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout /dev/null \
    -subj /CN=roots -days 1 -out etc/certdock/roots.pem 2>/dev/null
cat >etc/certdock/certdock.toml <<'TOML'
[acme.test]
directory = "https://localhost:14000/dir"
ca-roots = "roots.pem"
contact = "ops@example.com"

[haproxy.edge]
sockets = ["/run/haproxy/admin.sock"]
map = "/etc/haproxy/acme.map"

[[certificate]]
name = "site"
domains = ["example.com"]
keytype = "ECDSA"
file = "site.pem"
TOML
run agent check --config etc/certdock/certdock.toml
check "valid file with a relative ca-roots is ok from another directory" status_is 0
check "one certificate, singular" stdout_has "ok (1 certificate, 1 CA, 1 HAProxy target)"

run agent check --config etc/certdock/certdock.toml --json
check "JSON says ok" stdout_has '"ok": true'
check "JSON counts certificates" stdout_has '"certificates": 1'

# Three mistakes: each on its own line, with file, line, key and the fix; exit 2.
cat >bad.toml <<'TOML'
[acme.test]
directory = "https://localhost:14000/dir"

[haproxy.edge]
sockets = ["/run/haproxy/admin.sock"]

[[certificate]]
name = "site"
domains = ["example.com"]
keytype = "EC"
reuse_key = "on"
haproxy = "edg"
file = "site.pem"
TOML
run agent check --config bad.toml
check "invalid file is exit 2" status_is 2
check "nothing on stdout for an invalid file" [ ! -s out.txt ]
check "one line per issue" [ "$(wc -l <err.txt)" -eq 3 ]
check "keytype EC gets the spelling to use" \
    stderr_has 'bad.toml:10: certificate "site": keytype "EC" is not a key type; HAProxy and certdock spell it ECDSA: write keytype = "ECDSA"'
check "a typo gets a did-you-mean" \
    stderr_has 'bad.toml:11: certificate "site": unknown key "reuse_key"; did you mean "reuse-key"?'
check "an unknown HAProxy target is named" \
    stderr_has 'bad.toml:12: certificate "site": haproxy "edg" is not defined; did you mean "edge"?'

run agent check --config bad.toml --json
check "JSON for an invalid file is exit 2 too" status_is 2
check "JSON lists issues with their line" stdout_has '"line": 10'

# The files it names are checked unless asked not to.
cat >missing.toml <<'TOML'
[acme.test]
directory = "https://localhost:14000/dir"
ca-roots = "missing.pem"

[[certificate]]
name = "site"
domains = ["example.com"]
challenge = "tls-alpn-01"
tls-alpn-listen = "127.0.0.1:8443"
file = "site.pem"
TOML
run agent check --config missing.toml
check "a missing ca-roots file is reported" stderr_has 'missing.toml:3: acme "test": ca-roots'
check "and says it does not exist" stderr_has 'missing.pem" does not exist'
run agent check --config missing.toml --skip-file-checks
check "--skip-file-checks leaves files alone" status_is 0

run agent check --config nowhere.toml
check "a missing configuration file is exit 2" status_is 2
check "and says so in one line" stderr_has "nowhere.toml: no such file"

run agent
check "agent without a subcommand is a usage error" status_is 2

finish
