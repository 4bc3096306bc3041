#!/usr/bin/env bash
# The agent at scale: many managed certificates, every one delivered and none due. Reports
# peak RSS, start-up time and the time of one scheduling scan, each next to its goal, and
# certbot's `renew` over the same kind of set for comparison. It reports; it never asserts
# timings (a shared 2-core box is too noisy for thresholds). No CA, no HAProxy: nothing is
# due, so nothing is ordered or delivered (the scan program checks that nothing was).
#
# Usage: bench/agent_scale_bench.sh [COUNT]   certificates (default 10000, or $COUNT)
# Environment:
#   CERTDOCK=path   certdock binary (default: build/apps/certdock/certdock, built if missing)
#   BENCH_BIN=dir   where agent_scale_fixture and agent_scale_bench are (default: the
#                   build's bench/ next to CERTDOCK's build, built if missing)
#   SCANS=n         warm scans timed by agent_scale_bench (default 20)
#   RUNS=n          runs of each start-up command (default 3; the median is shown)
#   CERTBOT_N=n     certbot lineages for the peer row (default 1000; 0 skips it)
#   BENCH_KEEP=1    keep the scratch directory (fixture, logs) and print its path
#
# Method. agent_scale_fixture writes, in a scratch directory: one test CA (root and
# intermediate), COUNT leaves each with its own ECDSA P-256 key and serial, their bundles
# (leaf, intermediate, key: what HAProxy loads), the key files the agent keeps, the state
# files as `agent run` records them after a delivery (issued ten days ago, 90-day lifetime,
# next renewal about 50 days away), and the configuration: COUNT [[certificate]] entries,
# one CA, one HAProxy target (never contacted). Then:
#   agent check         `certdock agent check --config`: reading and validating the whole
#                       configuration, the key files included
#   agent run --once    `certdock agent run --once`: start-up plus the first scan, until the
#                       process exits (0: every certificate served and none due)
#   scan                agent_scale_bench: the same composition as `agent run` in one process,
#                       SCANS scans after the first; median and p95, and its VmHWM
#   scan + log          the same with agent_run's log line per certificate written as it
#                       writes it (std::cerr, std::endl) to a file
#   certbot renew       CERTBOT_N lineages in certbot's live/archive/renewal layout (the first
#                       CERTBOT_N of the same certificates), `certbot renew` with nothing due
# Wall seconds come from bash's EPOCHREALTIME; peak RSS from GNU time (%M).
#
# Exit status: 0 when every certdock figure was measured; non-zero when the set-up failed or
# certdock did not find every certificate served and not due.
#
# SC2059: the printf formats are fixed strings in variables. SC2154: the scan figures
# (cached_*, uncached_*, logged_*) are set by printf -v in scan_figures.
# shellcheck disable=SC2059,SC2154
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$BENCH_DIR/.." && pwd)
COUNT=${1:-${COUNT:-10000}}
SCANS=${SCANS:-20}
RUNS=${RUNS:-3}
CERTBOT_N=${CERTBOT_N:-1000}
GNU_TIME=/usr/bin/time

# Goals for COUNT = 10,000 certificates.
GOAL_RSS_MIB=100
GOAL_SCAN_MS=50
GOAL_START_S=2

log() { echo "agent-scale-bench: $*" >&2; }
die() {
    log "$*"
    exit 1
}

for v in COUNT SCANS RUNS; do
    [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive integer, got '${!v}'"
done
[[ $CERTBOT_N =~ ^[0-9]+$ ]] || die "CERTBOT_N must be a number, got '$CERTBOT_N'"
((CERTBOT_N <= COUNT)) || CERTBOT_N=$COUNT

# ---------------------------------------------------------------------------------------------
# Scratch directory and cleanup: nothing here runs in the background, so PIDS stays empty.

WORK=$(mktemp -d "${TMPDIR:-/tmp}/agent-scale-bench.XXXXXX")
# shellcheck disable=SC2034  # read by stop_pids_and_scratch
PIDS=()
# shellcheck source=../scripts/lib/pebble-env.sh
source "$REPO_ROOT/scripts/lib/pebble-env.sh"
trap stop_pids_and_scratch EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------------------------------------
# Set-up: GNU time and certbot, the binaries, the fixture.

install_deps() {
    bash "$REPO_ROOT/scripts/install-bench-deps.sh" >&2 ||
        log "install-bench-deps failed; going on with what is installed"
    [[ -x $GNU_TIME ]] || die "GNU time ($GNU_TIME) is missing: apt-get install time"
}

# Sets CERTDOCK and BENCH_BIN (absolute), building what is missing.
find_binaries() {
    local build=$REPO_ROOT/build
    if [[ -n ${CERTDOCK:-} ]]; then
        CERTDOCK=$(cd "$(dirname "$CERTDOCK")" && pwd)/$(basename "$CERTDOCK")
        build=$(cd "$(dirname "$CERTDOCK")/../.." && pwd)
    fi
    BENCH_BIN=${BENCH_BIN:-$build/bench}
    CERTDOCK=${CERTDOCK:-$build/apps/certdock/certdock}
    if [[ ! -x $CERTDOCK || ! -x $BENCH_BIN/agent_scale_bench || ! -x $BENCH_BIN/agent_scale_fixture ]]; then
        log "building certdock and the scale programs in $build (log: $WORK/build.log)"
        if [[ ! -f $build/build.ninja ]]; then
            cmake -S "$REPO_ROOT" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
                -DCERTDOCK_WERROR=ON >"$WORK/build.log" 2>&1 || die "cmake failed"
        fi
        cmake --build "$build" --target certdock agent_scale_fixture agent_scale_bench \
            >>"$WORK/build.log" 2>&1 || die "building failed; see $WORK/build.log"
    fi
    BENCH_BIN=$(cd "$BENCH_BIN" && pwd)
}

make_fixture() {
    local start=$EPOCHREALTIME
    log "writing $COUNT certificates (and $CERTBOT_N certbot lineages) to $WORK/fixture"
    "$BENCH_BIN/agent_scale_fixture" "$WORK/fixture" "$COUNT" "$CERTBOT_N" >&2 ||
        die "agent_scale_fixture failed"
    FIXTURE_S=$(seconds_since "$start")
    CONFIG=$WORK/fixture/certdock.toml
}

# ---------------------------------------------------------------------------------------------
# Measuring.

seconds_since() {
    local now=$EPOCHREALTIME
    awk -v a="$1" -v b="$now" 'BEGIN { printf "%.3f", b - a }'
}
median() {
    tr ' ' '\n' | grep . | sort -n | awk '{ a[NR] = $1 } END {
        m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
        printf "%.3f", m }'
}
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
per_thousand() { awk -v s="$1" -v n="$2" 'BEGIN { printf "%.3f", s * 1000 / n }'; }
# verdict VALUE GOAL: "pass" when VALUE < GOAL
verdict() { awk -v v="$1" -v g="$2" 'BEGIN { print (v < g) ? "pass" : "MISS" }'; }

# timed NAME EXPECTED_STATUS CMD...: runs CMD RUNS times, stdout+stderr to $WORK/NAME.log;
# sets WALLS (seconds, one per run) and RSS (largest peak RSS, KiB).
timed() {
    local name=$1 expected=$2 i start status
    shift 2
    WALLS="" RSS=0
    for ((i = 1; i <= RUNS; i++)); do
        start=$EPOCHREALTIME
        status=0
        "$GNU_TIME" -f '%M' -o "$WORK/$name.time" "$@" >"$WORK/$name.log" 2>&1 || status=$?
        WALLS+="$(seconds_since "$start") "
        if ((status != expected)); then
            tail -n 5 "$WORK/$name.log" >&2
            die "$name: exit $status, expected $expected (log: $WORK/$name.log)"
        fi
        local rss
        rss=$(tail -n 1 "$WORK/$name.time")
        if ((rss > RSS)); then RSS=$rss; fi
    done
}

# scan_figures NAME ARGS...: agent_scale_bench's key=value lines, as SCAN_<key>.
scan_figures() {
    local name=$1 key value
    shift
    "$BENCH_BIN/agent_scale_bench" --config "$CONFIG" --scans "$SCANS" "$@" \
        >"$WORK/$name.out" 2>"$WORK/$name.log" ||
        {
            tail -n 5 "$WORK/$name.log" >&2
            die "agent_scale_bench $* failed (log: $WORK/$name.log)"
        }
    while IFS='=' read -r key value; do
        printf -v "${name}_${key}" '%s' "$value"
    done <"$WORK/$name.out"
}

measure_certdock() {
    log "certdock agent check, $RUNS runs"
    timed check 0 "$CERTDOCK" agent check --config "$CONFIG"
    CHECK_WALLS=$WALLS CHECK_RSS=$RSS

    log "certdock agent run --once, $RUNS runs"
    timed run_once 0 "$CERTDOCK" agent run --once --config "$CONFIG"
    ONCE_WALLS=$WALLS ONCE_RSS=$RSS
    local not_due
    not_due=$(grep -c ' not due; next renewal ' "$WORK/run_once.log" || true)
    ((not_due == COUNT)) ||
        die "agent run --once logged $not_due certificates not due, expected $COUNT"

    log "agent_scale_bench: $SCANS warm scans, with and without the state cache, with the log"
    scan_figures cached
    scan_figures uncached --no-state-cache
    scan_figures logged --agent-log
}

measure_certbot() {
    CERTBOT_STATUS=""
    if ((CERTBOT_N == 0)); then
        CERTBOT_STATUS="skipped: CERTBOT_N=0"
        return
    fi
    if ! command -v certbot >/dev/null; then
        CERTBOT_STATUS="skipped: certbot is not installed (scripts/install-bench-deps.sh installs it)"
        return
    fi
    local dir=$WORK/fixture/certbot
    log "certbot renew over $CERTBOT_N lineages, nothing due, $RUNS runs"
    # Not a terminal: without --no-random-sleep-on-renew certbot would sleep up to 8 minutes.
    timed certbot 0 certbot renew --config-dir "$dir/config" --work-dir "$dir/work" \
        --logs-dir "$dir/logs" --no-random-sleep-on-renew --non-interactive
    if ! grep -q 'No renewals were attempted' "$WORK/certbot.log"; then
        CERTBOT_STATUS="failed: certbot did not report every lineage not due (log kept below)"
        tail -n 5 "$WORK/certbot.log" >&2
        return
    fi
    CERTBOT_WALLS=$WALLS CERTBOT_RSS=$RSS
    CERTBOT_STATUS=ok
}

# ---------------------------------------------------------------------------------------------
# Report.

print_report() {
    local fmt='%-58s %10s %8s  %s\n'
    local check_s once_s
    check_s=$(median <<<"$CHECK_WALLS")
    once_s=$(median <<<"$ONCE_WALLS")
    echo
    echo "Agent at scale: $COUNT certificates (ECDSA P-256, each its own key), all served," \
        "none due; no CA or HAProxy contacted"
    echo "certdock $("$CERTDOCK" --version 2>&1 | head -n 1); fixture written in ${FIXTURE_S} s;" \
        "start-up rows: median of $RUNS runs; scans: $cached_scans warm scans after the first"
    printf "$fmt" figure value goal verdict
    printf "$fmt" "peak RSS, agent run --once (MiB)" "$(mib "$ONCE_RSS")" "< $GOAL_RSS_MIB" \
        "$(verdict "$(mib "$ONCE_RSS")" "$GOAL_RSS_MIB")"
    printf "$fmt" "peak RSS, agent check (MiB)" "$(mib "$CHECK_RSS")" "" ""
    printf "$fmt" "peak RSS, scan bench after all scans (MiB)" "$(mib "$cached_hwm_kib")" \
        "< $GOAL_RSS_MIB" "$(verdict "$(mib "$cached_hwm_kib")" "$GOAL_RSS_MIB")"
    printf "$fmt" "start-up: agent check (s)" "$check_s" "< $GOAL_START_S" \
        "$(verdict "$check_s" "$GOAL_START_S")"
    printf "$fmt" "start-up: agent run --once, start to first scan done (s)" "$once_s" \
        "< $GOAL_START_S" "$(verdict "$once_s" "$GOAL_START_S")"
    printf "$fmt" "  of which configuration loaded (ms, scan bench)" "$cached_config_ms" "" ""
    printf "$fmt" "  of which first scan (ms, scan bench)" "$cached_first_scan_ms" "" ""
    printf "$fmt" "scan, warm: median (ms)" "$cached_scan_median_ms" "< $GOAL_SCAN_MS" \
        "$(verdict "$cached_scan_median_ms" "$GOAL_SCAN_MS")"
    printf "$fmt" "scan, warm: p95 (ms)" "$cached_scan_p95_ms" "< $GOAL_SCAN_MS" \
        "$(verdict "$cached_scan_p95_ms" "$GOAL_SCAN_MS")"
    printf "$fmt" "scan, warm, state cache off: median (ms)" "$uncached_scan_median_ms" "" ""
    printf "$fmt" "scan, warm, with agent_run's log line: median (ms)" \
        "$logged_scan_median_ms" "" ""
    echo "(all runs, s: agent check ${CHECK_WALLS% }; agent run --once ${ONCE_WALLS% })"

    echo
    echo "Nothing due, per 1,000 certificates (peer: the first N of the same certificates)"
    fmt='%-44s %7s %9s %14s %13s\n'
    printf "$fmt" run N "wall s" "s per 1,000" "peak RSS MiB"
    printf "$fmt" "certdock agent run --once (start-up + scan)" "$COUNT" "$once_s" \
        "$(per_thousand "$once_s" "$COUNT")" "$(mib "$ONCE_RSS")"
    printf "$fmt" "certdock warm scan (running agent)" "$COUNT" \
        "$(awk -v m="$cached_scan_median_ms" 'BEGIN { printf "%.3f", m / 1000 }')" \
        "$(per_thousand "$(awk -v m="$cached_scan_median_ms" 'BEGIN { print m / 1000 }')" \
            "$COUNT")" "-"
    if [[ $CERTBOT_STATUS == ok ]]; then
        local certbot_s
        certbot_s=$(median <<<"$CERTBOT_WALLS")
        printf "$fmt" "certbot renew $(dpkg-query -W -f='${Version}' certbot 2>/dev/null)" \
            "$CERTBOT_N" "$certbot_s" "$(per_thousand "$certbot_s" "$CERTBOT_N")" \
            "$(mib "$CERTBOT_RSS")"
    else
        echo "certbot renew: $CERTBOT_STATUS"
    fi
}

main() {
    export LC_ALL=C # decimal points in awk/printf, whatever the caller's locale
    install_deps
    find_binaries
    make_fixture
    measure_certdock
    measure_certbot
    print_report
}

main
