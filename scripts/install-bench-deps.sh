#!/usr/bin/env bash
# Installs what the benchmarks need, from Debian 12 packages. bench/issue_bench.sh: pebble
# as the CA, the peer ACME clients it is compared with, GNU time (peak RSS) and the small
# tools the script drives them with. bench/hot_update_bench.sh: HAProxy, the load
# generators and the Runtime API client.
# Idempotent: packages already present are left alone, and apt is asked only when
# something is missing.
set -euo pipefail

bench_packages=(
    pebble      # pebble + pebble-challtestsrv: the CA and the dns-01 TXT server
    uacme       # peer: small C client
    certbot     # peer: Python client
    lego        # peer: Go client
    time        # /usr/bin/time -f '%e %M': wall seconds and peak RSS
    curl        # dns-01 hooks talk to challtestsrv's management API
    openssl     # generates pebble's HTTPS root + leaf
    util-linux  # unshare: uacme's CA-trust workaround
    haproxy     # hot update vs reload: the server under test (2.6 on Debian 12)
    wrk         # keep-alive HTTPS load
    socat       # the Runtime API from a shell: the reference row
    python3     # new-connection load and the serial probe (standard library only)
)

missing=()
for pkg in "${bench_packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$pkg")
    fi
done

if ((${#missing[@]} == 0)); then
    echo "install-bench-deps: all ${#bench_packages[@]} packages present"
    exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
    echo "install-bench-deps: missing packages: ${missing[*]}" >&2
    echo "install-bench-deps: run this script as root (or install them with apt-get)" >&2
    exit 1
fi

echo "install-bench-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
