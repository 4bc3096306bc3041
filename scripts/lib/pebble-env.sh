# Sourced by scripts that need a throwaway ACME CA: Debian's pebble and pebble-challtestsrv
# on loopback ports picked at run time. The caller defines log() and die(), sets WORK (a
# scratch directory) and PIDS=() and kills "${PIDS[@]}" when it exits.
#
# pebble_env_start sets:
#   DIR_URL           the ACME directory
#   ROOT              the root that vouches for pebble's HTTPS (give it as --ca-file)
#   HTTP_PORT         where pebble's VA connects for http-01
#   TLS_PORT          where pebble's VA connects for tls-alpn-01
#   CHALLTESTSRV_URL  challtestsrv's management API (set-txt, clear-txt) for dns-01 hooks
#   DNS_PORT          challtestsrv's DNS server on 127.0.0.1, which pebble asks
#   PEBBLE_MGMT_URL   pebble's management API (/roots/0: the issuing root)

# stop_pids_and_scratch: the caller's exit clean-up. Stops every process in PIDS, then removes
# WORK, or keeps it and says so when BENCH_KEEP=1.
stop_pids_and_scratch() {
    local pid
    for pid in "${PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${PIDS[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    if [[ ${BENCH_KEEP:-0} == 1 ]]; then
        log "kept $WORK"
    else
        rm -rf "$WORK"
    fi
}

TAKEN_PORTS=" "
# pick_port VAR: a port no TCP/UDP socket uses right now (any state, so TIME_WAIT leftovers
# are avoided too), and not handed out earlier in this run. A random start keeps two
# concurrent runs from racing for the same ports.
pick_port() {
    local used port i
    used=" $(ss -Htuan | awk '{ n = split($5, a, ":"); printf "%s ", a[n] }')"
    for ((i = 0; i < 500; i++)); do
        port=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
        [[ $used == *" $port "* || $TAKEN_PORTS == *" $port "* ]] && continue
        TAKEN_PORTS+="$port "
        printf -v "$1" '%s' "$port"
        return 0
    done
    die "no free loopback port found"
}

# Debian's pebble ships no test certificates: make a root (what clients trust) and a leaf
# for the WFE's HTTPS, valid for localhost and 127.0.0.1.
pebble_env_wfe_cert() {
    local d=$WORK/certs
    mkdir -p "$d"
    openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -keyout "$d/root.key" -out "$d/root.pem" -days 30 -subj "/CN=pebble test root" \
        -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -keyout "$d/localhost.key" -out "$d/localhost.csr" -subj "/CN=localhost" 2>/dev/null
    printf '%s\n' "subjectAltName=DNS:localhost,IP:127.0.0.1" \
        "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature" \
        "extendedKeyUsage=serverAuth" >"$d/leaf.ext"
    openssl x509 -req -in "$d/localhost.csr" -CA "$d/root.pem" -CAkey "$d/root.key" \
        -set_serial "0x$(openssl rand -hex 8)" -days 30 -extfile "$d/leaf.ext" \
        -out "$d/localhost.pem" 2>/dev/null
    ROOT=$d/root.pem
}

# wait_until NAME PID CMD...: retries CMD for up to 10 s; gives up early if PID died.
wait_until() {
    local name=$1 pid=$2 i
    shift 2
    for ((i = 0; i < 100; i++)); do
        "$@" >/dev/null 2>&1 && return 0
        if ! kill -0 "$pid" 2>/dev/null; then
            tail -n 20 "$WORK/$name.log" >&2
            die "$name exited during startup"
        fi
        sleep 0.1
    done
    tail -n 20 "$WORK/$name.log" >&2
    die "$name did not answer within 10 s"
}

pebble_env_start() {
    local mgmt_port acme_port pebble_mgmt_port
    pick_port DNS_PORT
    pick_port mgmt_port
    pick_port acme_port
    pick_port pebble_mgmt_port
    pick_port HTTP_PORT
    pick_port TLS_PORT
    pebble_env_wfe_cert

    # Explicit loopback addresses everywhere: challtestsrv's defaults bind all interfaces,
    # and "" turns off its own http-01/tls listeners so HTTP_PORT stays free for clients.
    pebble-challtestsrv -defaultIPv4 127.0.0.1 -defaultIPv6 "" \
        -dns01 "127.0.0.1:$DNS_PORT" -management "127.0.0.1:$mgmt_port" \
        -http01 "" -https01 "" -tlsalpn01 "" >"$WORK/challtestsrv.log" 2>&1 &
    PIDS+=("$!")
    CHALLTESTSRV_URL=http://127.0.0.1:$mgmt_port
    wait_until challtestsrv "$!" curl -sf -X POST -d '{"host":"probe.invalid."}' \
        "$CHALLTESTSRV_URL/clear-txt"

    cat >"$WORK/pebble-config.json" <<JSON
{
  "pebble": {
    "listenAddress": "127.0.0.1:$acme_port",
    "managementListenAddress": "127.0.0.1:$pebble_mgmt_port",
    "certificate": "$WORK/certs/localhost.pem",
    "privateKey": "$WORK/certs/localhost.key",
    "httpPort": $HTTP_PORT,
    "tlsPort": $TLS_PORT,
    "ocspResponderURL": "",
    "externalAccountBindingRequired": false
  }
}
JSON
    # NOSLEEP: no random validation delay; NONCEREJECT=0: no random badNonce retries;
    # AUTHZREUSE=0: every order really runs its challenge (the default reuses 50%).
    PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=0 PEBBLE_AUTHZREUSE=0 \
        pebble -config "$WORK/pebble-config.json" -dnsserver "127.0.0.1:$DNS_PORT" \
        >"$WORK/pebble.log" 2>&1 &
    PIDS+=("$!")
    DIR_URL=https://127.0.0.1:$acme_port/dir
    wait_until pebble "$!" curl -sf --cacert "$ROOT" "$DIR_URL"
    PEBBLE_MGMT_URL=https://127.0.0.1:$pebble_mgmt_port
}
