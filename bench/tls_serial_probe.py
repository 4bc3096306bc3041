#!/usr/bin/env python3
"""Serial prober for bench/hot_update_bench.sh, run as a co-process so that no interpreter
start lands inside a measurement. Reads one request per line on stdin:

    HOST PORT SNI SERIAL TIMEOUT_S      (SERIAL in decimal)

and repeats TLS handshakes with that SNI until the served leaf certificate has that serial,
then answers one line on stdout:

    ok EPOCH_US TRIES                     when it was served (wall clock, microseconds)
    timeout EPOCH_US TRIES LAST_SERIAL    when TIMEOUT_S passed first

Usage: tls_serial_probe.py
"""

import socket
import ssl
import sys
import time


def der_length(der, pos):
    """Returns (length, position of the content) for the DER header at pos."""
    first = der[pos + 1]
    if first < 0x80:
        return first, pos + 2
    count = first & 0x7F
    return int.from_bytes(der[pos + 2:pos + 2 + count], "big"), pos + 2 + count


def serial_of(der):
    """Certificate ::= SEQUENCE { tbsCertificate SEQUENCE { [0] version OPTIONAL, serial ..."""
    _, pos = der_length(der, 0)  # Certificate
    _, pos = der_length(der, pos)  # tbsCertificate
    if der[pos] == 0xA0:  # explicit version tag
        length, content = der_length(der, pos)
        pos = content + length
    length, content = der_length(der, pos)  # INTEGER serialNumber
    return int.from_bytes(der[content:content + length], "big")


def served_serial(host, port, sni, ctx):
    try:
        with socket.create_connection((host, port), timeout=2) as raw:
            with ctx.wrap_socket(raw, server_hostname=sni) as tls:
                return serial_of(tls.getpeercert(binary_form=True))
    except (OSError, ValueError, IndexError):
        return None  # not served (yet): refused, reset or a half-started process


def main():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    for line in sys.stdin:
        host, port, sni, serial, timeout_s = line.split()
        want, deadline = int(serial), time.monotonic() + float(timeout_s)
        tries, last = 0, None
        while True:
            tries += 1
            last = served_serial(host, int(port), sni, ctx)
            if last == want:
                print(f"ok {time.time_ns() // 1000} {tries}", flush=True)
                break
            if time.monotonic() > deadline:
                print(f"timeout {time.time_ns() // 1000} {tries} {last}", flush=True)
                break
            time.sleep(0.0005)  # a new process may need a moment; do not spin a core


if __name__ == "__main__":
    main()
