#!/usr/bin/env bash
# Time to issue one certificate: certdock against uacme, lego and certbot (Debian packages),
# all in one run against the same private Pebble, so the numbers are comparable to each other.
# It reports; it never asserts timings (a shared 2-core box is too noisy for thresholds).
#
# Usage: bench/issue_bench.sh [N]        N timed issuances per row (default 10, or $N)
# Environment:
#   CERTDOCK=path     use this binary instead of `make build` + build/apps/certdock/certdock
#   CLIENTS="..."     subset of "certdock uacme lego certbot" (default: all four)
#   RUN_TIMEOUT=s     limit for one issuance (default 120)
#   BENCH_KEEP=1      keep the scratch directory (logs, pebble output) and print its path
#
# Every row is "warm": the account is registered (and one certificate issued) untimed first,
# then the same certificate for bench.test is issued N times. dns-01 goes through
# pebble-challtestsrv for every client (bench/dns-hook.sh); http-01 rows use each client's
# own standalone responder on pebble's httpPort. Wall seconds come from bash's
# EPOCHREALTIME (1 ms resolution; GNU time's %e has only 10 ms, too coarse for the fast
# clients); peak RSS and user+sys CPU come from GNU time. For clients that spawn helpers
# (hooks, python) peak RSS is the largest single process, which is what GNU time reports.
#
# Exit status: 0 when certdock's rows succeeded (peers may fail: they show "failed").
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$BENCH_DIR/.." && pwd)
HOOK=$BENCH_DIR/dns-hook.sh
DOMAIN=bench.test
RUNS=${1:-${N:-10}}
CLIENTS=${CLIENTS:-certdock uacme lego certbot}
RUN_TIMEOUT=${RUN_TIMEOUT:-120}
# The system bundle uacme's libcurl-gnutls reads; uacme has no option to trust another CA.
SYSTEM_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt

log() { echo "issue-bench: $*" >&2; }
die() {
    log "$*"
    exit 1
}

[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "N must be a positive integer, got '$RUNS'"

# ---------------------------------------------------------------------------------------------
# Scratch directory and cleanup: everything this script starts is killed by PID at exit.

WORK=$(mktemp -d "${TMPDIR:-/tmp}/issue-bench.XXXXXX")
PIDS=()

cleanup() {
    stop_pids_and_scratch
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------------------------------------
# Setup: packages, certdock binary, free ports, pebble's HTTPS certificate, the servers.

install_deps() {
    bash "$REPO_ROOT/scripts/install-bench-deps.sh" >&2
}

# Sets CERTDOCK to an absolute path, and CERTDOCK_BUILD to what is known of its build type
# (a Debug binary is slower, and the table should say so). Builds only when no binary was
# given; ninja makes `make build` a no-op when nothing changed.
find_certdock() {
    local build_dir=$REPO_ROOT/build
    if [[ -n ${CERTDOCK:-} ]]; then
        [[ -x $CERTDOCK ]] || die "CERTDOCK=$CERTDOCK is not executable"
        CERTDOCK=$(cd "$(dirname "$CERTDOCK")" && pwd)/$(basename "$CERTDOCK")
        CERTDOCK_BUILD="given as CERTDOCK"
        return
    fi
    log "make build (log: $WORK/build.log)"
    if ! make -C "$REPO_ROOT" build >"$WORK/build.log" 2>&1; then
        # The full build includes every test; one broken test must not stop a benchmark
        # of the binary, so fall back to the certdock target alone.
        grep -m 3 -E 'error|FAILED' "$WORK/build.log" >&2 || true
        log "make build failed; building only the certdock target"
        cmake --build "$build_dir" --target certdock >>"$WORK/build.log" 2>&1 || {
            tail -n 20 "$WORK/build.log" >&2
            die "building certdock failed"
        }
    fi
    CERTDOCK=$build_dir/apps/certdock/certdock
    [[ -x $CERTDOCK ]] || die "no binary at $CERTDOCK after the build"
    CERTDOCK_BUILD="CMAKE_BUILD_TYPE=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' \
        "$build_dir/CMakeCache.txt" 2>/dev/null)"
}

# shellcheck source=../scripts/lib/pebble-env.sh
source "$REPO_ROOT/scripts/lib/pebble-env.sh"

# uacme reads only the system bundle, so it gets one with the test root appended.
start_servers() {
    pebble_env_start
    export BENCH_CHALLTESTSRV_URL=$CHALLTESTSRV_URL
    UACME_BUNDLE=$WORK/certs/uacme-bundle.pem
    cat "$SYSTEM_CA_BUNDLE" "$ROOT" >"$UACME_BUNDLE"
}

# ---------------------------------------------------------------------------------------------
# Rows. setup_<row> STATE_DIR fills, for the generic runner:
#   ROW_ENV   NAME=VALUE pairs exported for the client only
#   ROW_INIT  optional untimed command run once before the warm-up (account registration)
#   ROW_CMD   the issuance; run once untimed (warm-up, registers where needed), then N timed
#   ROW_PREP  optional function run untimed before every issuance
#   ROW_CERT  file that must hold a certificate afterwards (catches silent no-ops)

certdock_common() {
    ROW_CMD=("$CERTDOCK" issue --directory "$DIR_URL" --ca-file "$ROOT"
        --account-key "$1/account.key" --agree-tos -d "$DOMAIN" --out "$1/bench.pem" -q)
    ROW_CERT=$1/bench.pem
}
setup_certdock_dns() {
    certdock_common "$1"
    ROW_CMD+=(--challenge dns-01 --dns-hook "$HOOK")
}
setup_certdock_http() {
    certdock_common "$1"
    ROW_CMD+=(--challenge http-01 --http-listen "127.0.0.1:$HTTP_PORT")
}

# uacme has no CA option and libcurl-gnutls ignores the environment, so it runs in a private
# mount namespace where the system bundle is replaced by one that includes our root.
uacme_ns() {
    # shellcheck disable=SC2016  # $0 and $@ belong to the inner sh
    printf '%s\0' unshare -m sh -c \
        'mount --bind "$0" '"$SYSTEM_CA_BUNDLE"' && exec "$@"' "$UACME_BUNDLE"
}
setup_uacme_dns() {
    local ns
    mapfile -d '' ns < <(uacme_ns)
    ROW_INIT=("${ns[@]}" uacme -a "$DIR_URL" -c "$1" -t EC -b 256 -y new)
    ROW_CMD=("${ns[@]}" uacme -a "$DIR_URL" -c "$1" -t EC -b 256 -h "$HOOK" issue "$DOMAIN")
    ROW_CERT=$1/$DOMAIN/cert.pem
    # Removing the cert makes uacme issue again. `issue -f` instead would back the old one up
    # as cert-<unix seconds>.pem and fail when two runs land in the same second.
    UACME_CERT=$ROW_CERT
    ROW_PREP=uacme_prep
}
uacme_prep() { rm -f "$UACME_CERT"; }

lego_common() {
    ROW_ENV=("LEGO_CA_CERTIFICATES=$ROOT")
    ROW_CMD=(lego --server "$DIR_URL" --accept-tos --email bench@example.com
        --domains "$DOMAIN" --path "$1" --key-type ec256)
    ROW_CERT=$1/certificates/$DOMAIN.crt
}
setup_lego_dns() {
    lego_common "$1"
    ROW_ENV+=("EXEC_PATH=$HOOK" EXEC_POLLING_INTERVAL=1 EXEC_PROPAGATION_TIMEOUT=30)
    ROW_CMD+=(--dns exec --dns.resolvers "127.0.0.1:$DNS_PORT" --dns.disable-cp run)
}
setup_lego_http() {
    lego_common "$1"
    ROW_CMD+=(--http --http.port "127.0.0.1:$HTTP_PORT" run)
}

certbot_common() {
    ROW_ENV=("REQUESTS_CA_BUNDLE=$ROOT")
    # --force-renewal: certbot would otherwise keep the existing, still valid certificate.
    ROW_CMD=(certbot certonly -n -q --server "$DIR_URL" --agree-tos
        --register-unsafely-without-email -d "$DOMAIN" --force-renewal
        --config-dir "$1/etc" --work-dir "$1/work" --logs-dir "$1/logs"
        --key-type ecdsa --elliptic-curve secp256r1)
    ROW_CERT=$1/etc/live/$DOMAIN/fullchain.pem
}
setup_certbot_dns() {
    local hook_q
    certbot_common "$1"
    printf -v hook_q '%q' "$HOOK" # certbot runs hooks through a shell
    ROW_CMD+=(--manual --preferred-challenges dns
        --manual-auth-hook "$hook_q certbot-auth" --manual-cleanup-hook "$hook_q certbot-cleanup")
}
setup_certbot_http() {
    certbot_common "$1"
    ROW_CMD+=(--standalone --preferred-challenges http
        --http-01-port "$HTTP_PORT" --http-01-address 127.0.0.1)
}

# ---------------------------------------------------------------------------------------------
# Runner and results (associative arrays keyed by row id).

ROWS=()
declare -A R_CLIENT R_CHAL R_OK R_WALLS R_CPUS R_RSS R_ERR

# first_error LOG RC: the line most likely to explain a failure, short enough for the table.
first_error() {
    local line
    if [[ $2 == 124 || $2 == 137 ]]; then
        echo "timed out after ${RUN_TIMEOUT}s"
        return
    fi
    line=$(grep -v '^Command exited with non-zero status' "$1" |
        grep -m1 -iE 'error|fail|denied|refused|invalid|unable|urn:ietf' ||
        grep -m1 -v '^[[:space:]]*$' "$1" || true)
    [[ -n $line ]] || line="exit status $2"
    echo "${line:0:140}"
}

# run_once LOG: runs ROW_CMD under GNU time; sets LAST_WALL (s), LAST_CPU (s), LAST_RSS (KiB).
# Every row goes through the same subshell + timeout + time chain, so the fixed overhead
# (about a millisecond) is the same for all clients.
run_once() {
    local logf=$1 tfile=$WORK/time.out t0 t1 us rc=0 rss u s
    [[ -n ${ROW_PREP:-} ]] && "$ROW_PREP"
    t0=${EPOCHREALTIME/[.,]/}
    (
        for kv in "${ROW_ENV[@]}"; do export "${kv?}"; done
        exec timeout -k 5 "$RUN_TIMEOUT" /usr/bin/time -o "$tfile" -f '%e %M %U %S' "${ROW_CMD[@]}"
    ) >"$logf" 2>&1 || rc=$?
    t1=${EPOCHREALTIME/[.,]/}
    ((rc == 0)) || return "$rc"
    read -r _ rss u s < <(tail -n 1 "$tfile") # %e: too coarse, see the header
    us=$((t1 - t0))
    printf -v LAST_WALL '%d.%03d' $((us / 1000000)) $((us % 1000000 / 1000))
    LAST_CPU=$(awk -v u="$u" -v s="$s" 'BEGIN { printf "%.2f", u + s }')
    LAST_RSS=$rss
}

# row_failed ID LOG RC
row_failed() {
    R_OK[$1]=0
    R_ERR[$1]=$(first_error "$2" "$3")
    log "${R_CLIENT[$1]} ${R_CHAL[$1]}: failed: ${R_ERR[$1]}"
}

# bench_row ID CLIENT CHALLENGE: warm-up, then N timed issuances; a failure ends the row only.
bench_row() {
    local id=$1 state=$WORK/state/$1 logf=$WORK/$1.log i rc
    ROWS+=("$id")
    R_CLIENT[$id]=$2 R_CHAL[$id]=$3 R_OK[$id]=1 R_WALLS[$id]="" R_CPUS[$id]="" R_RSS[$id]=0
    ROW_ENV=() ROW_INIT=() ROW_CMD=() ROW_PREP="" ROW_CERT=""
    mkdir -p "$state"
    "setup_$id" "$state"
    log "$2 $3: warm-up"
    if ((${#ROW_INIT[@]} > 0)); then
        rc=0
        (
            for kv in "${ROW_ENV[@]}"; do export "${kv?}"; done
            exec timeout -k 5 "$RUN_TIMEOUT" "${ROW_INIT[@]}"
        ) >"$logf" 2>&1 || rc=$?
        ((rc == 0)) || { row_failed "$id" "$logf" "$rc"; return 0; }
    fi
    rc=0
    run_once "$logf" || rc=$?
    ((rc == 0)) || { row_failed "$id" "$logf" "$rc"; return 0; }

    log "$2 $3: $RUNS timed runs"
    for ((i = 1; i <= RUNS; i++)); do
        rc=0
        run_once "$logf" || rc=$?
        ((rc == 0)) || { row_failed "$id" "$logf" "$rc"; return 0; }
        R_WALLS[$id]+="$LAST_WALL "
        R_CPUS[$id]+="$LAST_CPU "
        ((LAST_RSS > R_RSS[$id])) && R_RSS[$id]=$LAST_RSS
    done
    if ! grep -q 'BEGIN CERTIFICATE' "$ROW_CERT" 2>/dev/null; then
        R_OK[$id]=0 R_ERR[$id]="exit 0 but no certificate in ${ROW_CERT#"$state"/}"
    fi
}

# median [DECIMALS] / maximum of whitespace-separated numbers on stdin
median() {
    tr ' ' '\n' | grep . | sort -n | awk -v d="${1:-3}" '{ a[NR] = $1 } END {
        m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
        printf "%.*f", d, m }'
}
maximum() { tr ' ' '\n' | grep . | sort -n | tail -n 1; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

print_versions() {
    echo "versions:"
    echo "  certdock  $("$CERTDOCK" --version 2>&1 | head -n 1) ($CERTDOCK_BUILD)"
    echo "  uacme     $(uacme -V 2>&1 | head -n 1)"
    echo "  lego      $(dpkg-query -W -f='${Version}' lego 2>/dev/null)"
    echo "  certbot   $(dpkg-query -W -f='${Version}' certbot 2>/dev/null)"
    echo "  pebble    $(dpkg-query -W -f='${Version}' pebble 2>/dev/null)" \
        "(PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=0 PEBBLE_AUTHZREUSE=0)"
}

print_table() {
    local id fmt='%-9s %-9s %3s %9s %8s %7s %13s  %s\n'
    echo
    echo "Warm issuance of $DOMAIN (ECDSA P-256), N=$RUNS per row, same pebble for all rows"
    # shellcheck disable=SC2059  # fmt is a fixed format string
    printf "$fmt" client challenge n "median s" "max s" "CPU s" "peak RSS MiB" "all runs (s)"
    for id in "${ROWS[@]}"; do
        if [[ ${R_OK[$id]} == 1 ]]; then
            # shellcheck disable=SC2059
            printf "$fmt" "${R_CLIENT[$id]}" "${R_CHAL[$id]}" "$RUNS" \
                "$(median <<<"${R_WALLS[$id]}")" "$(maximum <<<"${R_WALLS[$id]}")" \
                "$(median 2 <<<"${R_CPUS[$id]}")" "$(mib "${R_RSS[$id]}")" "${R_WALLS[$id]% }"
        else
            printf '%-9s %-9s %3s   failed: %s\n' "${R_CLIENT[$id]}" "${R_CHAL[$id]}" \
                "$(wc -w <<<"${R_WALLS[$id]}")" "${R_ERR[$id]}"
        fi
    done
    echo "(CPU s = median user+sys of the client and its children; per run below)"
    for id in "${ROWS[@]}"; do
        [[ ${R_OK[$id]} == 1 ]] || continue
        printf '  CPU %-9s %-8s %s\n' "${R_CLIENT[$id]}" "${R_CHAL[$id]}" "${R_CPUS[$id]% }"
    done
}

# One line: certdock dns-01 against the fastest peer dns-01 row, and peak RSS against uacme.
print_summary() {
    local id best="" best_med="" med cd_med cd_rss line
    [[ ${R_OK[certdock_dns]:-0} == 1 ]] || {
        echo "summary: no certdock dns-01 result to compare"
        return
    }
    cd_med=$(median <<<"${R_WALLS[certdock_dns]}")
    cd_rss=$(mib "${R_RSS[certdock_dns]}")
    for id in "${ROWS[@]}"; do
        [[ ${R_CLIENT[$id]} != certdock && ${R_CHAL[$id]} == dns-01 && ${R_OK[$id]} == 1 ]] || continue
        med=$(median <<<"${R_WALLS[$id]}")
        if [[ -z $best_med ]] || awk -v a="$med" -v b="$best_med" 'BEGIN { exit !(a < b) }'; then
            best=${R_CLIENT[$id]} best_med=$med
        fi
    done
    line="summary: certdock dns-01 median ${cd_med}s"
    if [[ -n $best ]]; then
        line+=" vs best peer ($best) ${best_med}s = $(ratio "$cd_med" "$best_med")x"
    else
        line+=" (no peer dns-01 row succeeded)"
    fi
    if [[ ${R_OK[uacme_dns]:-0} == 1 ]]; then
        line+="; peak RSS ${cd_rss} MiB vs uacme $(mib "${R_RSS[uacme_dns]}") MiB"
        line+=" = $(ratio "${R_RSS[certdock_dns]}" "${R_RSS[uacme_dns]}")x"
    else
        line+="; peak RSS ${cd_rss} MiB (no uacme result)"
    fi
    echo "$line"
}

main() {
    local client ok=1
    export LC_ALL=C # decimal points in awk/printf, whatever the caller's locale
    install_deps
    find_certdock
    start_servers
    log "pebble at $DIR_URL, challtestsrv DNS 127.0.0.1:$DNS_PORT, http-01 port $HTTP_PORT"

    for client in $CLIENTS; do
        case $client in
            certdock | lego | certbot)
                bench_row "${client}_dns" "$client" dns-01
                bench_row "${client}_http" "$client" http-01
                ;;
            uacme) bench_row uacme_dns uacme dns-01 ;; # uacme has no standalone http-01
            *) die "unknown client '$client' in CLIENTS" ;;
        esac
    done

    print_versions
    print_table
    print_summary

    for client in certdock_dns certdock_http; do
        [[ -z ${R_OK[$client]:-} || ${R_OK[$client]} == 1 ]] || ok=0
    done
    ((ok)) || die "certdock runs failed"
}

main
