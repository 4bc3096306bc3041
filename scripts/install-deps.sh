#!/usr/bin/env bash
# Installs everything certdock needs to build and test, from Debian 12 packages.
# Idempotent: packages already present are left alone, and apt is asked only when
# something is missing.
set -euo pipefail

build_packages=(
    build-essential cmake ninja-build pkg-config git
    clang-format clang-tidy
    libssl-dev openssl libcurl4-openssl-dev libboost-dev libboost-system-dev
    nlohmann-json3-dev libsqlite3-dev libpq-dev libspdlog-dev libfmt-dev
    libcli11-dev libtoml11-dev libldns-dev
    libgtest-dev libgmock-dev libbenchmark-dev
)

# Servers the integration tests start as child processes (pebble + pebble-challtestsrv;
# knot: the authoritative DNS server of the dns tests; curl: what test hook scripts call;
# iproute2: ss, with which the demo finds free ports; haproxy: the Runtime API tests).
test_packages=(
    pebble
    knot
    curl
    iproute2
    haproxy
)

all_packages=("${build_packages[@]}" "${test_packages[@]}")
missing=()
for pkg in "${all_packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$pkg")
    fi
done

if ((${#missing[@]} == 0)); then
    echo "install-deps: all ${#all_packages[@]} packages present"
    exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
    echo "install-deps: missing packages: ${missing[*]}" >&2
    echo "install-deps: run this script as root (or install them with apt-get)" >&2
    exit 1
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
