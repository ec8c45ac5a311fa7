"""The traffic's HTTP/1.1 connection (gofail_py/traffic/wire.py) against servers on a loopback
socket that answer well and badly: keep-alive, chunked bodies, a server that trickles its answer
(the deadline is for the whole call), closes mid-answer, sends endless headers or a body too big."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from gofail_py.traffic.wire import MAX_HEAD, Wire, WireError

Handler = Callable[[socket.socket], None]


def _read_request(conn: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return b""
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(next(line.split(b":")[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")))
    while len(body) < length:
        body += conn.recv(65536)
    return body


@pytest.fixture
def serve() -> Iterator[Callable[[Handler], Wire]]:
    """serve(handler): a server whose every connection runs handler(conn); a Wire to it."""
    listeners: list[socket.socket] = []

    def start(handler: Handler) -> Wire:
        def serve_one(conn: socket.socket) -> None:
            try:
                handler(conn)
            finally:
                conn.close()

        listener = socket.create_server(("127.0.0.1", 0))
        listeners.append(listener)

        def accept() -> None:
            while True:
                try:
                    conn, _ = listener.accept()
                except OSError:
                    return
                threading.Thread(target=serve_one, args=(conn,), daemon=True).start()

        threading.Thread(target=accept, daemon=True).start()
        return Wire("127.0.0.1", listener.getsockname()[1])

    yield start
    for listener in listeners:
        listener.close()


def answer(body: bytes, status: bytes = b"200 OK", extra: bytes = b"") -> bytes:
    return b"HTTP/1.1 " + status + b"\r\nContent-Length: " + str(len(body)).encode() + b"\r\n" + extra + b"\r\n" + body


def test_keep_alive_answers_and_chunked_ones(serve: Callable[[Handler], Wire]) -> None:
    connections = []

    def handler(conn: socket.socket) -> None:
        connections.append(conn)
        while (body := _read_request(conn)):
            if body == b'"chunked"':
                conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                             b"5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nTrailer: x\r\n\r\n")
            else:
                conn.sendall(answer(b"echo " + body))

    wire = serve(handler)
    deadline = time.monotonic() + 5
    assert wire.post("/a", b"1", deadline) == (200, b"echo 1")
    assert wire.post("/a", b'"chunked"', deadline) == (200, b"hello world")
    assert wire.post("/a", b"2", deadline) == (200, b"echo 2")
    assert len(connections) == 1  # one connection for all three
    wire.close()


def test_the_deadline_is_for_the_whole_call_not_each_byte(serve: Callable[[Handler], Wire]) -> None:
    def trickle(conn: socket.socket) -> None:
        _read_request(conn)
        for byte in answer(b"x" * 50):
            try:
                conn.sendall(bytes([byte]))
            except OSError:
                return
            time.sleep(0.05)  # a byte every 50 ms: each recv is quick, the whole answer is not

    wire = serve(trickle)
    began = time.monotonic()
    with pytest.raises(TimeoutError):
        wire.post("/", b"{}", began + 0.5)
    assert time.monotonic() - began < 1.5


@pytest.mark.parametrize(("reply", "message"), [
    (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", "closed the connection before a complete answer"),
    (b"SSH-2.0-OpenSSH\r\n\r\n", "not an HTTP/1.1 status line"),
    (b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "a Content-Length that cannot be"),
    (b"HTTP/1.1 200 OK\r\nContent-Length: 99999999999\r\n\r\n", "a Content-Length that cannot be"),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", "a transfer encoding it does not read"),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "not hexadecimal"),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabXX", "not followed by CRLF"),
    (b"HTTP/1.1 200 OK\r\nX: " + b"y" * (MAX_HEAD + 10), "no end of line within"),
    (b"", "closed the connection before a complete answer"),
])
def test_answers_that_are_not_complete_http_are_no_answer(serve: Callable[[Handler], Wire], reply: bytes,
                                                          message: str) -> None:
    def bad(conn: socket.socket) -> None:
        _read_request(conn)
        conn.sendall(reply)

    wire = serve(bad)
    with pytest.raises(WireError, match=message):
        wire.post("/", b"{}", time.monotonic() + 5)
    assert wire._sock is None  # closed: the next call opens a fresh connection


def test_connection_close_and_a_refused_connection(serve: Callable[[Handler], Wire]) -> None:
    opened = []

    def closing(conn: socket.socket) -> None:
        opened.append(conn)
        _read_request(conn)
        conn.sendall(answer(b"bye", extra=b"Connection: close\r\n"))

    wire = serve(closing)
    assert wire.post("/", b"{}", time.monotonic() + 5) == (200, b"bye")
    assert wire.post("/", b"{}", time.monotonic() + 5) == (200, b"bye")
    assert len(opened) == 2
    free = socket.socket()
    free.bind(("127.0.0.1", 0))
    port = free.getsockname()[1]
    free.close()
    with pytest.raises(ConnectionRefusedError):
        Wire("127.0.0.1", port).post("/", b"{}", time.monotonic() + 5)
