"""One keep-alive HTTP/1.1 connection for the traffic's JSON POSTs, with one deadline for the
whole call (connect, send, every byte of the answer).

Why not requests: a traffic client spends its time in the HTTP stack, and on this project's
2-core machines the client's CPU per operation is what bounds its rate. Measured per POST of a
small JSON to etcd's gateway: requests' Session 1,050 us of CPU, urllib3's pool 350 us, http.client
200 us, this 65 us (benchmarks/traffic_vs_go.py has the whole-client figures). It speaks only what
the targets answer: a status line, headers, a body of Content-Length bytes or chunked, keep-alive
unless the server says close. Anything else, or more than MAX_HEAD / MAX_BODY bytes, is no answer.
"""

from __future__ import annotations

import socket
import time

MAX_HEAD = 64 << 10  # a status line and headers longer than this are not a gateway's
MAX_BODY = 64 << 20


class WireError(Exception):
    """The call got no complete answer (the connection is closed: the next call opens another)."""


class Wire:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self._sock: socket.socket | None = None
        self._buffer = b""
        self._host_header = f"Host: {host}:{port}\r\n".encode()

    def close(self) -> None:
        if self._sock is not None:
            try:
                self._sock.close()
            finally:
                self._sock, self._buffer = None, b""

    def _left(self, deadline: float) -> float:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("the call's deadline passed")
        return left

    def post(self, path: str, body: bytes, deadline: float) -> tuple[int, bytes]:
        """The status and body of POST ``path`` with a JSON ``body``; WireError, TimeoutError or
        OSError when no complete answer came before ``deadline`` (time.monotonic)."""
        try:
            if self._sock is None:
                self._sock = socket.create_connection((self.host, self.port), timeout=self._left(deadline))
                self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock = self._sock
            sock.settimeout(self._left(deadline))
            sock.sendall(b"POST " + path.encode() + b" HTTP/1.1\r\n" + self._host_header +
                         b"Content-Type: application/json\r\nContent-Length: " + str(len(body)).encode() +
                         b"\r\n\r\n" + body)
            status, length, chunked, close = self._head(deadline)
            data = self._chunked(deadline) if chunked else self._exactly(length, deadline)
            if close:
                self.close()
            return status, data
        except BaseException:
            self.close()  # what is left on this connection can no longer be trusted
            raise

    def _fill(self, deadline: float) -> None:
        assert self._sock is not None
        self._sock.settimeout(self._left(deadline))
        chunk = self._sock.recv(65536)
        if not chunk:
            raise WireError("the server closed the connection before a complete answer")
        self._buffer += chunk

    def _line_end(self, marker: bytes, limit: int, deadline: float) -> int:
        while True:
            end = self._buffer.find(marker)
            if end >= 0:
                return end
            if len(self._buffer) > limit:
                raise WireError(f"no end of line within {limit} bytes")
            self._fill(deadline)

    def _head(self, deadline: float) -> tuple[int, int, bool, bool]:
        end = self._line_end(b"\r\n\r\n", MAX_HEAD, deadline)
        head, self._buffer = self._buffer[:end], self._buffer[end + 4:]
        lines = head.split(b"\r\n")
        parts = lines[0].split(b" ", 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not parts[1].isdigit():
            raise WireError(f"not an HTTP/1.1 status line: {lines[0][:80]!r}")
        status = int(parts[1])
        length, chunked, close = 0, False, parts[0] == b"HTTP/1.0"
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name, value = name.strip().lower(), value.strip().lower()
            if name == b"content-length":
                if not value.isdigit() or int(value) > MAX_BODY:
                    raise WireError(f"a Content-Length that cannot be: {value[:40]!r}")
                length = int(value)
            elif name == b"transfer-encoding":
                chunked = value == b"chunked"
                if not chunked:
                    raise WireError(f"a transfer encoding it does not read: {value[:40]!r}")
            elif name == b"connection":
                close = value == b"close"
        return status, length, chunked, close

    def _exactly(self, count: int, deadline: float) -> bytes:
        while len(self._buffer) < count:
            self._fill(deadline)
        data, self._buffer = self._buffer[:count], self._buffer[count:]
        return data

    def _chunked(self, deadline: float) -> bytes:
        parts: list[bytes] = []
        total = 0
        while True:
            end = self._line_end(b"\r\n", 1024, deadline)
            size_text = self._buffer[:end].split(b";", 1)[0].strip()
            self._buffer = self._buffer[end + 2:]
            try:
                size = int(size_text, 16)
            except ValueError:
                raise WireError(f"a chunk size that is not hexadecimal: {size_text[:20]!r}") from None
            if size == 0:
                while True:  # trailers, up to the empty line
                    end = self._line_end(b"\r\n", MAX_HEAD, deadline)
                    line, self._buffer = self._buffer[:end], self._buffer[end + 2:]
                    if not line:
                        return b"".join(parts)
            total += size
            if size < 0 or total > MAX_BODY:
                raise WireError(f"a chunked body over {MAX_BODY} bytes")
            parts.append(self._exactly(size, deadline))
            if self._exactly(2, deadline) != b"\r\n":
                raise WireError("a chunk not followed by CRLF")
