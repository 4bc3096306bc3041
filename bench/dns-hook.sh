#!/usr/bin/env bash
# dns-01 hook shared by every client in issue_bench.sh: publishes and removes the TXT record
# through pebble-challtestsrv's management API, whose DNS server pebble's VA asks.
# One script for all clients so that each pays the same hook cost (one curl per call).
#
# BENCH_CHALLTESTSRV_URL (e.g. http://127.0.0.1:8055) comes from the environment, which all
# four clients pass on to their hooks.
#
# Calling conventions, selected by the first argument:
#   begin|done|failed TYPE IDENT TOKEN VALUE   certdock and uacme (uacme's hook contract)
#   present|cleanup FQDN VALUE                 lego --dns exec (FQDN ends with a dot)
#   certbot-auth|certbot-cleanup               certbot --manual hooks (CERTBOT_* variables)
set -euo pipefail

: "${BENCH_CHALLTESTSRV_URL:?BENCH_CHALLTESTSRV_URL is not set}"

# POST a JSON body to one management endpoint; -f makes an HTTP error fail the hook.
post() {
    curl -sSf -o /dev/null -X POST -d "$2" "$BENCH_CHALLTESTSRV_URL/$1"
}

set_txt() { post set-txt "{\"host\":\"$1\",\"value\":\"$2\"}"; }
clear_txt() { post clear-txt "{\"host\":\"$1\"}"; }

method=${1:?usage: dns-hook.sh METHOD ...}
case "$method" in
    begin | done | failed)
        # uacme offers every challenge type in turn; a non-zero exit declines all but dns-01.
        [[ ${2:-} == dns-01 ]] || exit 1
        host="_acme-challenge.${3:?identifier missing}."
        if [[ $method == begin ]]; then
            set_txt "$host" "${5:?value missing}"
        else
            clear_txt "$host"
        fi
        ;;
    present) set_txt "${2:?fqdn missing}" "${3:?value missing}" ;;
    cleanup) clear_txt "${2:?fqdn missing}" ;;
    certbot-auth) set_txt "_acme-challenge.${CERTBOT_DOMAIN:?}." "${CERTBOT_VALIDATION:?}" ;;
    certbot-cleanup) clear_txt "_acme-challenge.${CERTBOT_DOMAIN:?}." ;;
    *)
        echo "dns-hook.sh: unknown method '$method'" >&2
        exit 2
        ;;
esac
