#!/usr/bin/env bash
# Replacing a served certificate under load: hot update through HAProxy's Runtime API against
# the three ways of reloading HAProxy, on Debian's HAProxy 2.6 over loopback. For each row it
# reports the requests that failed while the updates ran, and how long it took from "the new
# certificate is ready on disk" to "a TLS handshake with the certificate's SNI shows the new
# serial". It reports; it never asserts timings (a shared 2-core box is too noisy for that).
#
# Usage: bench/hot_update_bench.sh [N]     N updates per row (default 100, or $N)
# The default run takes about ten minutes on 2 cores, most of it in the reload rows of the
# large set-up (N_MANY_RELOAD below shortens them).
# Environment:
#   CERTDOCK=path     certdock binary for the "certdock deploy" row (default: `make build`
#                     and build/apps/certdock/certdock); the row is skipped, saying so, when
#                     the binary has no `deploy` command
#   ROWS="..."        subset of "deploy socat sf sfx usr2" (default: all five)
#   MANY=n            certificates in the large set-up (default 1000; 0 skips it)
#   N_MANY=n          updates per hot row in the large set-up (default N)
#   N_MANY_RELOAD=n   updates per reload row in the large set-up (default N_MANY); each one
#                     loads all MANY certificates again, about a second apiece on 2 idle cores
#   LOAD_RATE=r       new TLS connections per second, all workers together (default 150)
#   WRK_CONNS=c       wrk keep-alive connections (default 8), each waiting WRK_DELAY_MS
#   WRK_DELAY_MS=ms   between its requests (default 10), so the load stays moderate
#   GAP_MS=ms         pause between two updates, load still running (default 100)
#   SERVE_TIMEOUT=s   how long an update may take to be served before it counts as failed (10)
#   PYTHON=path       python3 for the load and probe helpers (default: python3)
#   BENCH_KEEP=1      keep the scratch directory (configs, certificates, logs) and print it
#
# Method. One CA; the certificate being replaced has SNI c0500.bench.test (the 500th of the
# large set). N replacement certificates (fresh P-256 key, serial 100001..) are made up front.
# Two set-ups: HAProxy loads only that certificate (`crt`), or a crt-list of MANY certificates
# with distinct SNI names, the replaced one among them. Every row starts its own HAProxy
# (nbthread default, `http-request return status 200`, stats socket `level admin expose-fd
# listeners`, hard-stop-after 5s), then starts the load, waits a second, runs N updates
# GAP_MS apart, waits a second and stops the load. Rows:
#   deploy  `certdock deploy --cert --key --to --haproxy-socket --probe --probe-sni`: wall time of
#           the command (process start, atomic write, Runtime API, its own TLS proof);
#           a handshake afterwards confirms the serial. The line under it is what certdock
#           itself reports (--json timings: disk + Runtime API + proof), i.e. the time the
#           long-running agent spends, without process start-up
#   socat   the bundle is written (tmp + mv), then `set ssl cert` and `commit ssl cert`, one
#           socat each, the reference for what the Runtime API costs from a shell
#   sf      bundle written, then `haproxy -D -sf <pids>`
#   sfx     bundle written, then `haproxy -D -x <stats socket> -sf <pids>`
#   usr2    master-worker (`-W -D`): bundle written, then SIGUSR2 to the master
# Ready-to-served is measured from just after the bundle is on disk (deploy: just before the
# command starts, its input certificate being on disk) to the first handshake that shows the
# new serial. The probe is a long-running python co-process (bench/tls_serial_probe.py), so
# no interpreter start falls inside a measurement; it retries every half millisecond.
# Load: wrk (keep-alive HTTPS to 127.0.0.1, no SNI, so the default certificate) and
# bench/tls_load.py (a new connection + TLS handshake with the replaced certificate's SNI +
# `GET /` + `Connection: close` per request, at LOAD_RATE), both at nice 10 so that HAProxy
# wins the CPU. Failures are counted by kind: keep-alive connect/read/write/timeout/non-2xx
# as wrk reports them (wrk counts a server closing an idle keep-alive connection as a read
# error), new connections as refused / reset (or closed before an answer) / TLS failure /
# timeout / non-200 / other.
#
# Exit status: 0 when every row ran (failed requests and failed updates are figures, not
# errors); non-zero when the set-up failed.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$BENCH_DIR/.." && pwd)
UPDATES=${1:-${N:-100}}
ROWS=${ROWS:-deploy socat sf sfx usr2}
MANY=${MANY:-1000}
N_MANY=${N_MANY:-$UPDATES}
N_MANY_RELOAD=${N_MANY_RELOAD:-$N_MANY}
LOAD_RATE=${LOAD_RATE:-150}
WRK_CONNS=${WRK_CONNS:-8}
WRK_DELAY_MS=${WRK_DELAY_MS:-10}
GAP_MS=${GAP_MS:-100}
SERVE_TIMEOUT=${SERVE_TIMEOUT:-10}
PYTHON=${PYTHON:-python3}
TARGET_INDEX=500
TARGET_SNI=c0500.bench.test
HAPROXY=/usr/sbin/haproxy

log() { echo "hot-update-bench: $*" >&2; }
die() {
    log "$*"
    exit 1
}

# A version-manager shim would get our signals and leave the interpreter running: use the
# interpreter itself.
PYTHON=$("$PYTHON" -c 'import sys; print(sys.executable)') || die "no python3 ('$PYTHON')"
for v in UPDATES N_MANY N_MANY_RELOAD LOAD_RATE WRK_CONNS GAP_MS SERVE_TIMEOUT; do
    [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive integer, got '${!v}'"
done
[[ $MANY =~ ^[0-9]+$ ]] || die "MANY must be a number, got '$MANY'"
((MANY == 0 || MANY >= TARGET_INDEX)) || die "MANY must be 0 or at least $TARGET_INDEX"

# ---------------------------------------------------------------------------------------------
# Scratch directory and cleanup. HAProxy daemonizes, so its processes are not our children:
# every pid it writes to a pidfile is remembered and, at exit, killed if it is still haproxy.

WORK=$(mktemp -d "${TMPDIR:-/tmp}/hot-update-bench.XXXXXX")
PIDS=()     # our own children: load generators, the probe
HAP_PIDS=() # haproxy processes (daemons)

is_haproxy() { [[ $(cat "/proc/$1/comm" 2>/dev/null) == haproxy ]]; }

kill_haproxies() {
    local pid i
    for pid in "${HAP_PIDS[@]}"; do
        if is_haproxy "$pid"; then kill "$pid" 2>/dev/null || true; fi
    done
    for ((i = 0; i < 50; i++)); do
        any_haproxy_left || break
        sleep 0.1
    done
    for pid in "${HAP_PIDS[@]}"; do
        if is_haproxy "$pid"; then kill -9 "$pid" 2>/dev/null || true; fi
    done
    HAP_PIDS=()
}

any_haproxy_left() {
    local pid
    for pid in "${HAP_PIDS[@]}"; do
        is_haproxy "$pid" && return 0
    done
    return 1
}

cleanup() {
    kill_haproxies
    stop_pids_and_scratch
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# pick_port comes from here (a port no socket uses now, random start).
# shellcheck source=../scripts/lib/pebble-env.sh
source "$REPO_ROOT/scripts/lib/pebble-env.sh"

# ---------------------------------------------------------------------------------------------
# Set-up: packages, certdock, certificates.

install_deps() {
    bash "$REPO_ROOT/scripts/install-bench-deps.sh" >&2
}

# Sets CERTDOCK (absolute) and HAVE_DEPLOY=1 when it has the deploy command.
find_certdock() {
    HAVE_DEPLOY=0
    if [[ -z ${CERTDOCK:-} ]]; then
        log "make build (log: $WORK/build.log)"
        make -C "$REPO_ROOT" build >"$WORK/build.log" 2>&1 ||
            cmake --build "$REPO_ROOT/build" --target certdock >>"$WORK/build.log" 2>&1 ||
            log "building certdock failed; the deploy row will be skipped"
        CERTDOCK=$REPO_ROOT/build/apps/certdock/certdock
    fi
    if [[ -x $CERTDOCK ]]; then
        CERTDOCK=$(cd "$(dirname "$CERTDOCK")" && pwd)/$(basename "$CERTDOCK")
        # CLI11 answers `--help` after an unknown word with the top-level help, exit 0.
        local help
        help=$("$CERTDOCK" deploy --help 2>&1 || true)
        [[ $help == *--haproxy-socket* ]] && HAVE_DEPLOY=1
        # --sni names probe SNIs, or (when --probe-sni exists) crt-list filters.
        DEPLOY_SNI_FLAG=--sni
        [[ $help == *--probe-sni* ]] && DEPLOY_SNI_FLAG=--probe-sni
    fi
    if ((HAVE_DEPLOY == 0)); then
        log "no \`certdock deploy\` in '${CERTDOCK:-}': the deploy row is skipped"
    fi
}

CERTS=$WORK/certs
CA_KEY=$CERTS/ca.key
CA_CRT=$CERTS/ca.crt

# make_cert NAME SNI SERIAL: NAME.crt, NAME.key and NAME.pem (certificate + key, what HAProxy
# loads and what `set ssl cert` takes), signed by the CA. SERIAL "" means random.
make_cert() {
    local serial_opt=()
    [[ -n $3 ]] && serial_opt=(-set_serial "$3")
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
        -keyout "$1.key" -out "$1.crt" -subj "/CN=$2" -addext "subjectAltName=DNS:$2" \
        -CA "$CA_CRT" -CAkey "$CA_KEY" "${serial_opt[@]}" 2>/dev/null
    cat "$1.crt" "$1.key" >"$1.pem"
}
export -f make_cert
export CA_CRT CA_KEY

make_certs() {
    local max=$UPDATES i
    ((N_MANY > max)) && max=$N_MANY
    ((N_MANY_RELOAD > max)) && max=$N_MANY_RELOAD
    mkdir -p "$CERTS/many" "$CERTS/updates" "$WORK/live"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
        -keyout "$CA_KEY" -out "$CA_CRT" -subj /CN=hot-update-bench-ca 2>/dev/null
    log "making $max replacement certificates and $MANY for the large set-up"
    make_cert "$CERTS/original" "$TARGET_SNI" 100000
    # shellcheck disable=SC2016  # the arguments expand in the inner bash
    {
        for ((i = 1; i <= max; i++)); do
            printf '%s\n' "$CERTS/updates/u$i $TARGET_SNI $((100000 + i))"
        done
        for ((i = 1; i <= MANY; i++)); do
            ((i == TARGET_INDEX)) && continue
            printf '%s/many/c%04d c%04d.bench.test ""\n' "$CERTS" "$i" "$i"
        done
    } | xargs -P "$(nproc)" -L 1 bash -c 'make_cert "$0" "$1" "$2"'
    for ((i = 1; i <= max; i++)); do
        [[ -s $CERTS/updates/u$i.pem ]] || die "openssl did not make update certificate $i"
    done

    LIVE=$WORK/live/site.pem # the file HAProxy loads and every update replaces
    CRT_LIST=$WORK/live/many.crtlist
    : >"$CRT_LIST"
    for ((i = 1; i <= MANY; i++)); do
        if ((i == TARGET_INDEX)); then
            echo "$LIVE $TARGET_SNI" >>"$CRT_LIST"
        else
            printf '%s/many/c%04d.pem c%04d.bench.test\n' "$CERTS" "$i" "$i" >>"$CRT_LIST"
        fi
    done
}

# ---------------------------------------------------------------------------------------------
# HAProxy: one config per set-up, a fresh process (or master) per row.

SOCK=$WORK/admin.sock
PIDFILE=$WORK/haproxy.pid

# write_config SETUP PORT
write_config() {
    local bind
    if [[ $1 == one ]]; then
        bind="ssl crt $LIVE"
    else
        bind="ssl crt-list $CRT_LIST"
    fi
    cat >"$WORK/haproxy.cfg" <<EOF
global
    stats socket $SOCK level admin expose-fd listeners
    hard-stop-after 5s

defaults
    mode http
    timeout connect 5s
    timeout client 10s
    timeout server 10s

frontend bench
    bind 127.0.0.1:$2 $bind
    http-request return status 200 content-type text/plain string ok
EOF
}

remember_pids() {
    local pid
    # shellcheck disable=SC2013  # the pidfile holds one pid per line
    for pid in $(cat "$PIDFILE" 2>/dev/null); do
        [[ " ${HAP_PIDS[*]} " == *" $pid "* ]] || HAP_PIDS+=("$pid")
    done
}

# start_haproxy MODE: plain (daemon) or mw (master-worker daemon; the pidfile holds the master)
start_haproxy() {
    local args=(-D -f "$WORK/haproxy.cfg" -p "$PIDFILE")
    [[ $1 == mw ]] && args=(-W "${args[@]}")
    rm -f "$PIDFILE" "$SOCK"
    "$HAPROXY" "${args[@]}" >>"$WORK/haproxy.log" 2>&1 ||
        die "haproxy did not start: $(tail -n 3 "$WORK/haproxy.log")"
    remember_pids
}

# ---------------------------------------------------------------------------------------------
# Probe (co-process) and load.

start_probe() {
    coproc PROBE { exec "$PYTHON" "$BENCH_DIR/tls_serial_probe.py"; }
    PIDS+=("$PROBE_PID")
}

# probe SERIAL TIMEOUT: sets PROBE_OK (1/0) and PROBE_US (epoch microseconds when served)
probe() {
    local status us _tries rest
    echo "127.0.0.1 $PORT $TARGET_SNI $1 $2" >&"${PROBE[1]}"
    read -r status us _tries rest <&"${PROBE[0]}" || die "the probe co-process died"
    PROBE_US=$us
    PROBE_OK=0
    [[ $status == ok ]] && PROBE_OK=1
    [[ $status == ok ]] || log "update not served within ${2}s (last serial seen: ${rest:-none})"
    return 0
}

start_load() {
    cat >"$WORK/wrk.lua" <<EOF
function delay() return $WRK_DELAY_MS end
done = function(summary, latency, requests)
    local e = summary.errors
    io.write(string.format("WRK requests=%d connect=%d read=%d write=%d timeout=%d status=%d\n",
        summary.requests, e.connect, e.read, e.write, e.timeout, e.status))
end
EOF
    # Niced, so that on a busy box HAProxy (the subject) wins the CPU over its load.
    nice -n 10 wrk -t 1 -c "$WRK_CONNS" -d 3600s -s "$WORK/wrk.lua" "https://127.0.0.1:$PORT/" \
        >"$WORK/wrk.out" 2>&1 &
    WRK_PID=$!
    nice -n 10 "$PYTHON" "$BENCH_DIR/tls_load.py" 127.0.0.1 "$PORT" "$TARGET_SNI" \
        --rate "$LOAD_RATE" >"$WORK/load.out" 2>"$WORK/load.err" &
    LOAD_PID=$!
    PIDS+=("$WRK_PID" "$LOAD_PID")
}

# stop_load ID: wrk prints its summary on SIGINT, tls_load.py its counters on SIGTERM.
stop_load() {
    local line
    kill -INT "$WRK_PID" 2>/dev/null || true
    kill -TERM "$LOAD_PID" 2>/dev/null || true
    wait "$WRK_PID" 2>/dev/null || true
    wait "$LOAD_PID" 2>/dev/null || true
    line=$(grep -m1 '^WRK ' "$WORK/wrk.out") ||
        die "no summary from wrk: $(tail -n 3 "$WORK/wrk.out")"
    # "WRK requests=1 connect=0 ..." -> K_requests=1 K_connect=0 ...
    local kv
    for kv in ${line#WRK }; do R["$1.ka_${kv%%=*}"]=${kv#*=}; done
    line=$(grep -m1 '^{' "$WORK/load.out") ||
        die "no counters from tls_load.py: $(tail -n 3 "$WORK/load.err")"
    for kv in $(tr -d '{}",' <<<"$line" | sed 's/: /=/g'); do R["$1.new_${kv%%=*}"]=${kv#*=}; done
}

# ---------------------------------------------------------------------------------------------
# Updates. update_<row> I: makes update certificate I served; sets UPD_OK and UPD_MS.

now_us() { echo "${EPOCHREALTIME/[.,]/}"; }

# write_live I: the new bundle replaces the served file atomically (tmp + rename).
write_live() {
    cp "$CERTS/updates/u$1.pem" "$LIVE.tmp"
    mv -f "$LIVE.tmp" "$LIVE"
}

# served_since T0 I: waits for serial I, fills UPD_OK/UPD_MS from the probe's time.
served_since() {
    probe $((100000 + $2)) "$SERVE_TIMEOUT"
    UPD_OK=$PROBE_OK
    UPD_MS=$(awk -v a="$1" -v b="$PROBE_US" 'BEGIN { printf "%.2f", (b - a) / 1000 }')
}

update_deploy() {
    local t0 t1 rc=0
    t0=$(now_us)
    "$CERTDOCK" deploy --cert "$CERTS/updates/u$1.crt" --key "$CERTS/updates/u$1.key" \
        --to "$LIVE" --haproxy-socket "$SOCK" --probe "127.0.0.1:$PORT" \
        "$DEPLOY_SNI_FLAG" "$TARGET_SNI" --json >"$WORK/deploy.json" 2>>"$WORK/deploy.log" || rc=$?
    t1=$(now_us)
    UPD_MS=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", (b - a) / 1000 }')
    UPD_OK=0
    if ((rc != 0)); then
        log "certdock deploy exited $rc: $(tail -n 1 "$WORK/deploy.log")"
        return 0
    fi
    # certdock's own figures: disk write, Runtime API and TLS proof, without process start-up
    # (what the long-running agent spends). Lines look like `"runtime_api": 1.234,`.
    UPD_INPROC_MS=$(sed -n '/"timings_ms"/,/}/p' "$WORK/deploy.json" |
        awk -F': ' '/"(disk|runtime_api|probes)"/ { sub(/,$/, "", $2); t += $2 }
                    END { printf "%.2f", t }')
    probe $((100000 + $1)) 2 # its own proof passed; confirm with ours, untimed
    UPD_OK=$PROBE_OK
}

update_socat() {
    local t0 reply
    write_live "$1"
    t0=$(now_us)
    reply=$({
        printf 'set ssl cert %s <<\n' "$LIVE"
        cat "$LIVE"
        printf '\n'
    } | socat - "UNIX-CONNECT:$SOCK")
    [[ $reply == Transaction* ]] || log "set ssl cert: ${reply:-no reply}"
    reply=$(echo "commit ssl cert $LIVE" | socat - "UNIX-CONNECT:$SOCK")
    [[ $reply == *Success!* ]] || log "commit ssl cert: ${reply:-no reply}"
    served_since "$t0" "$1"
}

update_sf() {
    local t0
    write_live "$1"
    t0=$(now_us)
    # shellcheck disable=SC2046  # one argument per pid
    "$HAPROXY" -D -f "$WORK/haproxy.cfg" -p "$PIDFILE" -sf $(cat "$PIDFILE") \
        >>"$WORK/haproxy.log" 2>&1 || log "haproxy -sf failed (see haproxy.log)"
    served_since "$t0" "$1"
    remember_pids
}

update_sfx() {
    local t0
    write_live "$1"
    t0=$(now_us)
    # shellcheck disable=SC2046
    "$HAPROXY" -D -f "$WORK/haproxy.cfg" -p "$PIDFILE" -x "$SOCK" -sf $(cat "$PIDFILE") \
        >>"$WORK/haproxy.log" 2>&1 || log "haproxy -x -sf failed (see haproxy.log)"
    served_since "$t0" "$1"
    remember_pids
}

update_usr2() {
    local t0
    write_live "$1"
    t0=$(now_us)
    kill -USR2 "$(cat "$PIDFILE")"
    served_since "$t0" "$1"
}

# ---------------------------------------------------------------------------------------------
# Rows and results. R[<setup>.<row>.<field>]: ok (updates served), ms (list), ka_*, new_*.

declare -A R SKIPPED
declare -A ROW_LABEL=([deploy]="certdock deploy (hot)" [socat]="HAProxy CLI via socat (hot)"
    [sf]="reload -sf" [sfx]="reload -sf -x" [usr2]="master-worker USR2")

# run_row SETUP ROW UPDATES
run_row() {
    local setup=$1 row=$2 n=$3 id="$1.$2" i ms_list="" inproc_list="" ok=0
    cp "$CERTS/original.pem" "$LIVE"
    pick_port PORT
    write_config "$setup" "$PORT"
    if [[ $row == usr2 ]]; then start_haproxy mw; else start_haproxy plain; fi
    probe 100000 "$SERVE_TIMEOUT"
    ((PROBE_OK)) || die "haproxy does not serve the original certificate on port $PORT"
    log "$([[ $setup == one ]] && echo 1 || echo "$MANY") certificate(s) loaded," \
        "${ROW_LABEL[$row]}: $n updates under load"
    start_load
    sleep 1
    for ((i = 1; i <= n; i++)); do
        "update_$row" "$i"
        if ((UPD_OK)); then
            ok=$((ok + 1))
            ms_list+="$UPD_MS "
            [[ $row == deploy ]] && inproc_list+="$UPD_INPROC_MS "
        fi
        sleep "$(awk -v g="$GAP_MS" 'BEGIN { printf "%.3f", g / 1000 }')"
    done
    sleep 1
    stop_load "$id"
    R[$id.n]=$n R[$id.ok]=$ok R[$id.ms]=$ms_list R[$id.inproc]=$inproc_list
    kill_haproxies
}

# percentile P: nearest rank over whitespace-separated numbers on stdin ("-" when none)
percentile() {
    tr ' ' '\n' | grep . | sort -n | awk -v p="$1" '{ a[NR] = $1 } END {
        if (NR == 0) { print "-"; exit }
        r = int(p / 100 * NR + 0.999999); if (r < 1) r = 1
        printf "%.1f", a[r] }'
}

failed_of() {
    local id=$1
    echo $((R[$id.ka_connect] + R[$id.ka_read] + R[$id.ka_write] + R[$id.ka_timeout] +
        R[$id.ka_status] + R[$id.new_total] - R[$id.new_ok]))
}
total_of() {
    local id=$1
    echo $((R[$id.ka_requests] + R[$id.ka_connect] + R[$id.ka_read] + R[$id.ka_write] +
        R[$id.ka_timeout] + R[$id.new_total]))
}

print_setup_table() {
    local setup=$1 title=$2 row id fmt='%-28s %9s %8s %9s %10s %8s\n'
    echo
    echo "$title"
    # shellcheck disable=SC2059  # fmt is a fixed format string
    printf "$fmt" row "served/N" failed requests "median ms" "p95 ms"
    for row in $ROWS; do
        id=$setup.$row
        if [[ -z ${R[$id.n]:-} ]]; then
            printf '%-28s   skipped: %s\n' "${ROW_LABEL[$row]}" "${SKIPPED[$row]:-not run}"
            continue
        fi
        # shellcheck disable=SC2059
        printf "$fmt" "${ROW_LABEL[$row]}" "${R[$id.ok]}/${R[$id.n]}" "$(failed_of "$id")" \
            "$(total_of "$id")" "$(percentile 50 <<<"${R[$id.ms]}")" \
            "$(percentile 95 <<<"${R[$id.ms]}")"
        if [[ $row == deploy ]]; then
            # shellcheck disable=SC2059
            printf "$fmt" "  in certdock (no start-up)" "" "" "" \
                "$(percentile 50 <<<"${R[$id.inproc]}")" "$(percentile 95 <<<"${R[$id.inproc]}")"
        fi
    done
}

print_breakdown() {
    local setup row id fmt='%-5s %-28s | %5s %5s %5s %5s %5s | %5s %5s %5s %5s %5s %5s\n'
    echo
    echo "Failures by kind (keep-alive: wrk; new: one TLS connection per request)."
    echo "wrk counts a keep-alive connection that the server closes while idle as a read error;"
    echo "a stopping HAProxy closes its idle ones, so a reload costs up to $WRK_CONNS of those."
    # shellcheck disable=SC2059
    printf "$fmt" certs row conn read write tmout !2xx refus reset tls tmout !200 other
    for setup in one many; do
        for row in $ROWS; do
            id=$setup.$row
            [[ -n ${R[$id.n]:-} ]] || continue
            # shellcheck disable=SC2059
            printf "$fmt" "$([[ $setup == one ]] && echo 1 || echo "$MANY")" "${ROW_LABEL[$row]}" \
                "${R[$id.ka_connect]}" "${R[$id.ka_read]}" "${R[$id.ka_write]}" \
                "${R[$id.ka_timeout]}" "${R[$id.ka_status]}" "${R[$id.new_refused]}" \
                "${R[$id.new_reset]}" "${R[$id.new_tls]}" "${R[$id.new_timeout]}" \
                "${R[$id.new_non200]}" "${R[$id.new_other]}"
        done
    done
}

print_machine() {
    echo "machine: $(lscpu | sed -n 's/^Model name: *//p' | head -n 1), $(nproc) cores"
    echo "load average at start: $LOAD_AT_START, at end: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "haproxy: $("$HAPROXY" -v | head -n 1)"
    echo "openssl: $(openssl version)"
    echo "wrk:     $(dpkg-query -W -f='${Version}' wrk 2>/dev/null)," \
        "$WRK_CONNS keep-alive connections, ${WRK_DELAY_MS} ms between requests on each"
    echo "new TLS connections: $LOAD_RATE/s requested (python ssl, SNI $TARGET_SNI)"
    if ((HAVE_DEPLOY)); then
        local cache type
        cache=$(dirname "$CERTDOCK")/../../CMakeCache.txt
        type=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$cache" 2>/dev/null || true)
        echo "certdock: $("$CERTDOCK" --version 2>&1 | head -n 1), CMAKE_BUILD_TYPE=${type:-unknown}"
    fi
}

updates_for() {
    if [[ $1 == one ]]; then
        echo "$UPDATES"
    elif [[ $2 == deploy || $2 == socat ]]; then
        echo "$N_MANY"
    else
        echo "$N_MANY_RELOAD"
    fi
}

main() {
    local row
    export LC_ALL=C
    LOAD_AT_START=$(cut -d' ' -f1-3 /proc/loadavg)
    install_deps
    find_certdock
    make_certs
    start_probe
    for setup in one many; do
        [[ $setup == many ]] && ((MANY == 0)) && continue
        for row in $ROWS; do
            [[ -n ${ROW_LABEL[$row]:-} ]] || die "unknown row '$row' in ROWS"
            if [[ $row == deploy ]] && ((HAVE_DEPLOY == 0)); then
                SKIPPED[deploy]="no \`certdock deploy\` in this binary"
                continue
            fi
            run_row "$setup" "$row" "$(updates_for "$setup" "$row")"
        done
    done

    echo
    print_machine
    print_setup_table one "1 certificate loaded, ready-to-served over the updates served"
    ((MANY == 0)) ||
        print_setup_table many "$MANY certificates loaded (crt-list), the replaced one among them"
    print_breakdown
}

main
