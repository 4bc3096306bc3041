# Sourced by the CLI tests: a temporary directory, assertions that say what failed, and a
# closing line ctest shows.
set -uo pipefail

certdock=$(realpath "${1:?usage: $0 path/to/certdock}")
work=$(mktemp -d -t certdock-cli-XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
failures=0
checks=0

# run CMD...: runs certdock, keeping stdout, stderr and the exit status for the checks below.
run() {
    "$certdock" "$@" >out.txt 2>err.txt
    status=$?
}

check() {  # check DESCRIPTION CONDITION...
    local description=$1
    shift
    checks=$((checks + 1))
    if "$@"; then
        return 0
    fi
    failures=$((failures + 1))
    echo "FAIL: $description" >&2
    echo "  stdout: $(head -c 600 out.txt 2>/dev/null)" >&2
    echo "  stderr: $(head -c 600 err.txt 2>/dev/null)" >&2
}

status_is() { [ "$status" -eq "$1" ]; }
stdout_has() { grep -qF -- "$1" out.txt; }
stderr_has() { grep -qF -- "$1" err.txt; }
stderr_is_one_line() { [ "$(wc -l <err.txt)" -eq 1 ]; }
file_mode_is() { [ "$(stat -c %a "$1")" = "$2" ]; }

finish() {
    echo "$((checks - failures)) passed, $failures failed"
    [ "$failures" -eq 0 ]
}
