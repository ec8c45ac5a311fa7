"""Every client command against a corpus of hostile input: one message, no traceback, the documented code.

The hostile servers are real sockets on 127.0.0.1 served by threads of this test: silent, trickling
one byte at a time (body or headers), closing mid-answer, answering HTML, etcd's `404 page not
found`, garbage, or an endless body. Bad endpoints and bad terms go in as a user would type them.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from gofail_py.cli import main
from gofail_py.client import Client
from gofail_py.errors import EndpointTimeout, EndpointUnreachable, WaitTimeout
from tests.support.goprog import free_port
from tests.test_client import KV

pytestmark = [pytest.mark.hostile, pytest.mark.slow]  # about 30 s: timeouts are waited out for real

Behaviour = Callable[[socket.socket], None]
COMMANDS = [["ls"], ["get", "slowWrite"], ["count", "slowWrite"], ["set", "slowWrite=print"], ["unset", "slowWrite"]]
BOUND = 30.0  # generous: the calls below have a 1 s timeout; the hangs they replace ran 120 s+


def _read_request(conn: socket.socket) -> None:
    conn.settimeout(5)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            return
        data += chunk


def _trickle(conn: socket.socket, data: bytes, pause: float) -> None:
    for byte in data:
        conn.sendall(bytes([byte]))
        time.sleep(pause)


def silent(conn: socket.socket) -> None:
    time.sleep(BOUND)


def trickle_body(conn: socket.socket) -> None:
    _read_request(conn)
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")
    _trickle(conn, b"x" * 1000, 0.3)


def trickle_headers(conn: socket.socket) -> None:
    _read_request(conn)
    _trickle(conn, b"HTTP/1.1 200 OK\r\nX-Slow: " + b"y" * 1000, 0.3)


def close_mid_body(conn: socket.socket) -> None:
    _read_request(conn)
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nslowWrite=")


def close_mid_chunk(conn: socket.socket) -> None:
    _read_request(conn)
    conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n40\r\nslowWrite=")


def close_at_once(conn: socket.socket) -> None:
    _read_request(conn)


def html(conn: socket.socket) -> None:
    _read_request(conn)
    body = b"<html><body>hello</body></html>"
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))


def etcd_client_port(conn: socket.socket) -> None:
    _read_request(conn)
    body = b"404 page not found\n"
    conn.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))


def garbage(conn: socket.socket) -> None:
    _read_request(conn)
    conn.sendall(b"\x00\xffnot http at all\r\n\r\n")


def endless(conn: socket.socket) -> None:
    _read_request(conn)
    conn.sendall(b"HTTP/1.1 200 OK\r\n\r\n")
    try:
        while True:
            conn.sendall(b"a=b\n" * 4096)
    except OSError:
        pass


SERVERS: dict[str, Behaviour] = {
    "silent": silent, "trickle_body": trickle_body, "trickle_headers": trickle_headers,
    "close_mid_body": close_mid_body, "close_mid_chunk": close_mid_chunk, "close_at_once": close_at_once,
    "html": html, "etcd_client_port": etcd_client_port, "garbage": garbage, "endless": endless,
}


class HostileServer:
    def __init__(self, behaviour: Behaviour) -> None:
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.endpoint = f"127.0.0.1:{self.listener.getsockname()[1]}"
        self.behaviour = behaviour
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._one, args=(conn,), daemon=True).start()

    def _one(self, conn: socket.socket) -> None:
        try:
            self.behaviour(conn)
        except OSError:
            pass
        finally:
            conn.close()

    def close(self) -> None:
        self.listener.close()


@pytest.fixture(params=sorted(SERVERS))
def hostile(request: pytest.FixtureRequest) -> Iterator[HostileServer]:
    server = HostileServer(SERVERS[request.param])
    yield server
    server.close()


def run(args: list[str], endpoint: str | None = None) -> tuple[int, str, float]:
    env = {"GOFAIL_HTTP": endpoint} if endpoint is not None else {"GOFAIL_HTTP": ""}
    began = time.monotonic()
    result = CliRunner().invoke(main, args, env=env)
    elapsed = time.monotonic() - began
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    text = result.stderr
    assert "Traceback" not in text + result.stdout
    return result.exit_code, text, elapsed


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0])
def test_hostile_servers(hostile: HostileServer, command: list[str]) -> None:
    code, stderr, elapsed = run([*command, "--timeout", "1"], hostile.endpoint)
    assert code == 3, stderr
    assert stderr.startswith("gofail-py: ") and stderr.count("\n") == 1, stderr
    assert "panic" not in stderr or "malformed terms" in stderr  # no talk of a dead process that lives
    assert elapsed < BOUND


@pytest.mark.parametrize(
    ("endpoint", "code", "message"),
    [
        ("127.0.0.1:99999", 2, "port must be a number from 1 to 65535"),
        ("127.0.0.1:0", 2, "port must be"),
        (" 127.0.0.1:1", 2, "is not HOST:PORT"),
        ("::1:8080", 2, "IPv6 address in brackets"),
        ("127.0.0.1:", 2, "port must be"),
        ("https://127.0.0.1:1", 2, "plain HTTP only"),
        ("ftp://127.0.0.1:1", 2, "plain HTTP only"),
        ("nosuchhost.invalid:1", 3, "cannot resolve the host"),
        ("", 2, "no endpoint"),
        ("127.0.0.1:refused", 3, "nothing answers"),
        ("http://127.0.0.1:refused/", 3, "nothing answers"),
        ("[::1]:refused", 3, "nothing answers"),
    ],
)
@pytest.mark.parametrize("command", [["ls"], ["set", "slowWrite=print"]], ids=lambda c: c[0])
def test_bad_endpoints(endpoint: str, code: int, message: str, command: list[str]) -> None:
    endpoint = endpoint.replace("refused", str(free_port()))
    got, stderr, _ = run(command, endpoint)
    assert (got, message in stderr, stderr.startswith("gofail-py: ")) == (code, True, True), stderr


@pytest.mark.parametrize(
    ("assignment", "message"),
    [
        ("slowWrite=sleep(1s", "`sleep(` is not closed"),
        ("slowWrite=sleep(1x)", "unknown duration unit"),
        ("slowWrite=return(5x", "expected `)`"),
        ("slowWrite=50%panic", "50.0%"),
        ("slowWrite=", "empty terms"),
        ("slowWrite=return(\"a\\n\")", "escape sequences"),
        ("../x=panic", "not a failpoint name"),
    ],
)
def test_bad_terms_send_nothing(assignment: str, message: str) -> None:
    with socket.socket() as listener:  # anything sent would be seen here
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.settimeout(0.05)
        code, stderr, _ = run(["set", assignment], f"127.0.0.1:{listener.getsockname()[1]}")
        with pytest.raises(TimeoutError):
            listener.accept()
    assert code == 1 and message in stderr and stderr.startswith("gofail-py: "), stderr


def test_api_timeouts_bound_the_whole_call() -> None:
    for behaviour in (silent, trickle_body, trickle_headers):
        server = HostileServer(behaviour)
        try:
            client = Client(server.endpoint, timeout=1)
            began = time.monotonic()
            with pytest.raises(EndpointUnreachable):
                client.ready(timeout=1)
            with pytest.raises(WaitTimeout):
                client.wait_count("slowWrite", 1, timeout=1)
            with pytest.raises(EndpointTimeout):
                client.list()
            assert time.monotonic() - began < BOUND
        finally:
            server.close()


def test_the_installed_command_prints_one_line(tmp_path: Path) -> None:
    """The real entry point, not only click's runner: a dropped connection is one line, exit 3."""
    server = HostileServer(close_mid_chunk)
    try:
        done = subprocess.run([sys.executable, "-m", "gofail_py.cli", "ls", "-e", server.endpoint],
                              capture_output=True, text=True, timeout=60, check=False)
    finally:
        server.close()
    assert done.returncode == 3 and done.stderr.count("\n") == 1 and "Traceback" not in done.stderr, done.stderr


def test_a_living_kvserver_is_not_hostile(kvserver_binary: Path, tmp_path: Path) -> None:
    """The same checks pass against the real runtime: the corpus does not reject gofail itself."""
    kv = KV(kvserver_binary, tmp_path / "data")
    try:
        for command in COMMANDS:
            code, stderr, _ = run([*command, "--timeout", "5"], kv.client.endpoint)
            assert code == (1 if command[0] == "count" else 0), (command, stderr)  # count of an off failpoint
    finally:
        kv.stop()


@pytest.mark.parametrize("timeout", [float("inf"), float("nan"), 0.0, -1.0])
def test_client_timeout_must_be_finite_and_positive(timeout: float) -> None:
    # inf reached the socket layer as an OverflowError; nan and <= 0 made every call time out at once
    with pytest.raises(ValueError, match="timeout"):
        Client(f"127.0.0.1:{free_port()}", timeout=timeout)
