"""Starts an etcd binary with GOFAIL_HTTP and checks its GET / names the failpoints of `gofail-py list --json`.

    registered.py ETCD_BINARY LIST_JSON DATA_DIR     prints "source: N failpoints, binary: M registered"; exit 0 or 1
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time

import requests

from gofail_py.client import Client


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_healthy(port: int, within: float) -> None:
    deadline = time.monotonic() + within
    while True:
        try:
            if requests.get(f"http://127.0.0.1:{port}/health", timeout=2).ok:
                return
        except requests.RequestException:
            pass
        if time.monotonic() > deadline:
            raise SystemExit(f"etcd on {port} not healthy within {within:g} s")
        time.sleep(0.2)


def main() -> int:
    binary, listing, data = sys.argv[1:4]
    in_source = [entry["name"] for entry in json.load(open(listing, encoding="utf-8"))]
    client, peer = free_port(), free_port()
    gofail = Client(f"127.0.0.1:{free_port()}")
    argv = [binary, "--name", "m1", "--data-dir", data, "--log-level", "error",
            "--listen-client-urls", f"http://127.0.0.1:{client}", "--advertise-client-urls", f"http://127.0.0.1:{client}",
            "--listen-peer-urls", f"http://127.0.0.1:{peer}", "--initial-advertise-peer-urls", f"http://127.0.0.1:{peer}",
            "--initial-cluster", f"m1=http://127.0.0.1:{peer}"]
    process = subprocess.Popen(argv, env={**os.environ, "GOFAIL_HTTP": gofail.endpoint}, stderr=subprocess.DEVNULL)
    try:
        gofail.ready(timeout=30)
        # GET / only once etcd serves: every package has registered its failpoints by then, and
        # the runtime v0.2.0 reads its map unlocked for GET / (fatal while packages still register)
        wait_healthy(client, within=60)
        registered = list(gofail.list())
    finally:
        process.kill()
        process.wait()
    print(f"source: {len(in_source)} failpoints, binary: {len(registered)} registered")
    missing = sorted(set(in_source) - set(registered))
    extra = sorted(set(registered) - set(in_source))
    if missing or extra or len(in_source) != len(registered):
        print(f"missing in the binary: {missing}; not in the source: {extra}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
