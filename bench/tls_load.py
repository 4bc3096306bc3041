#!/usr/bin/env python3
"""New-connection load for bench/hot_update_bench.sh: every request is a fresh TCP connection
and a full TLS handshake (with SNI), `GET /` with `Connection: close`, and a check that the
answer is `200`. Runs at a capped rate until SIGTERM/SIGINT, then prints one JSON object of
counters on stdout. Failures are sorted by what a user would see: refused, reset (or closed
before any answer), TLS failure, timeout, non-200, other.

Usage: tls_load.py HOST PORT SNI [--rate CONNS_PER_S] [--workers N]
"""

import argparse
import json
import signal
import socket
import ssl
import threading
import time

KINDS = ("ok", "refused", "reset", "tls", "timeout", "non200", "other")


def one_request(host, port, sni, ctx):
    """Returns one of KINDS."""
    try:
        with socket.create_connection((host, port), timeout=5) as raw:
            with ctx.wrap_socket(raw, server_hostname=sni) as tls:
                tls.sendall(b"GET / HTTP/1.1\r\nHost: " + sni.encode() +
                            b"\r\nConnection: close\r\n\r\n")
                answer = b""
                while len(answer) < 12:
                    chunk = tls.recv(4096)
                    if not chunk:
                        break
                    answer += chunk
    except ConnectionRefusedError:
        return "refused"
    except (ConnectionResetError, BrokenPipeError, ConnectionAbortedError):
        return "reset"
    except ssl.SSLError as e:
        # An EOF in the middle of the handshake is a reset seen through OpenSSL.
        if isinstance(e, ssl.SSLEOFError) or "EOF" in str(e):
            return "reset"
        return "tls"
    except (socket.timeout, TimeoutError):
        return "timeout"
    except OSError:
        return "other"
    if not answer:
        return "reset"
    return "ok" if answer.startswith(b"HTTP/1.1 200") else "non200"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("host")
    parser.add_argument("port", type=int)
    parser.add_argument("sni")
    parser.add_argument("--rate", type=float, default=200.0, help="connections per second, total")
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()

    # The benchmark counts failures to connect, not certificate trust: no verification.
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())

    counts = {k: 0 for k in KINDS}
    lock = threading.Lock()
    interval = args.workers / args.rate

    def worker():
        next_at = time.monotonic()
        while not stop.is_set():
            kind = one_request(args.host, args.port, args.sni, ctx)
            with lock:
                counts[kind] += 1
            next_at += interval
            delay = next_at - time.monotonic()
            if delay > 0:
                stop.wait(delay)
            else:
                next_at = time.monotonic()  # behind schedule: do not burst to catch up

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(args.workers)]
    for t in threads:
        t.start()
    while not stop.is_set():
        stop.wait(0.2)
    for t in threads:
        t.join(timeout=10)
    counts["total"] = sum(counts[k] for k in KINDS)
    print(json.dumps(counts), flush=True)


if __name__ == "__main__":
    main()
