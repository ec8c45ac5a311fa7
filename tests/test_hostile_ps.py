"""`gofail-py ps` when local processes listen on their GOFAIL_HTTP and never answer.

Each such process costs ps one --timeout; asked one after another, eight of them made
`ps --timeout 2` take 16 s and more. The bound below is generous (a loaded 2-core machine): it
only tells "about one timeout" from "one timeout per process".
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.goprog import free_port

pytestmark = pytest.mark.hostile

SILENT = """
import os, socket, time
s = socket.socket()
s.bind(("127.0.0.1", int(os.environ["GOFAIL_HTTP"].rsplit(":", 1)[1])))
s.listen(64)
held = []
while True:
    held.append(s.accept()[0])
"""
COUNT = 8
TIMEOUT = 2.0
BOUND = COUNT * TIMEOUT * 0.75  # sequential asking cannot finish before COUNT * TIMEOUT


@pytest.fixture
def silent_endpoints() -> Iterator[list[int]]:
    children, ports = [], []
    try:
        for _ in range(COUNT):
            port = free_port()
            children.append(subprocess.Popen([sys.executable, "-c", SILENT],
                                             env={**os.environ, "GOFAIL_HTTP": f"127.0.0.1:{port}"}))
            ports.append(port)
        for port in ports:
            deadline = time.monotonic() + 30
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), 1).close()
                    break
                except OSError:
                    assert time.monotonic() < deadline, "a silent endpoint did not listen"
                    time.sleep(0.05)
        yield ports
    finally:
        for child in children:
            child.kill()
            child.wait()


def test_silent_endpoints_cost_one_timeout_not_one_each(silent_endpoints: list[int], tmp_path: Path) -> None:
    began = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "gofail_py.cli", "ps", "--timeout", str(TIMEOUT), "--json"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=120)
    took = time.monotonic() - began
    assert result.returncode == 0, result.stderr
    assert not any(f":{port}" in result.stdout for port in silent_endpoints)  # they never answered
    assert took < BOUND, f"ps took {took:.1f} s for {COUNT} silent endpoints at --timeout {TIMEOUT:g}"
