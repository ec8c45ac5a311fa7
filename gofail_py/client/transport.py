"""HTTP to one gofail endpoint: one deadline for the whole request, one map of transport errors.

requests only bounds each socket operation (a server trickling one byte a second never times
out), so every response of our sessions is read through a socket file that gives each recv only
the time left until the call's deadline. All transport exceptions (requests, urllib3, http.client,
OS) pass through `transport_errors`, which turns them into the project's errors.
"""

from __future__ import annotations

import http.client
import io
import re
import socket
import threading
import time
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, NoReturn

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3 import exceptions as u3
from urllib3.connectionpool import HTTPConnectionPool

from gofail_py.errors import (
    ClientError,
    ConnectionDropped,
    EndpointTimeout,
    EndpointUnreachable,
    InvalidEndpoint,
    NoEndpoint,
)

ENV_ENDPOINT = "GOFAIL_HTTP"
MAX_BODY = 4 << 20  # the runtime's answers are small; more than this is not a gofail endpoint
_HOST = re.compile(r"[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]")
_call = threading.local()  # the deadline (time.monotonic) of the request this thread sends


def parse_endpoint(endpoint: str | None) -> str:
    """`host:port` from `host:port`, `http://host:port[/]`, `:port`, `[::1]:port` or, when None, $GOFAIL_HTTP."""
    import os

    if endpoint is None:
        endpoint = os.environ.get(ENV_ENDPOINT)
        if not endpoint:
            raise NoEndpoint(f"no endpoint: pass --endpoint HOST:PORT or set {ENV_ENDPOINT}")
    scheme, sep, rest = endpoint.partition("://")
    if sep and scheme.lower() != "http":
        raise InvalidEndpoint(
            f"endpoint {endpoint!r}: the gofail runtime serves plain HTTP only; write HOST:PORT or http://HOST:PORT"
        )
    address = (rest if sep else endpoint).rstrip("/")
    if address.startswith(":"):
        address = "127.0.0.1" + address  # the runtime listens on every interface for `:port`
    host, _, port = address.rpartition(":")
    if ":" in host and not host.startswith("["):
        raise InvalidEndpoint(f"endpoint {endpoint!r}: write an IPv6 address in brackets, e.g. [::1]:22381")
    if not host or not _HOST.fullmatch(host):
        raise InvalidEndpoint(f"endpoint {endpoint!r} is not HOST:PORT")
    if not port.isascii() or not port.isdigit() or not 0 < int(port) < 65536:
        raise InvalidEndpoint(f"endpoint {endpoint!r}: the port must be a number from 1 to 65535")
    return f"{host}:{int(port)}"


# --- a deadline for every byte read ----------------------------------------------------------


class _DeadlineReader(socket.SocketIO):
    def __init__(self, sock: socket.socket) -> None:
        super().__init__(sock, "rb")
        self._socket = sock

    def readinto(self, buffer: Any) -> int | None:
        deadline: float | None = getattr(_call, "deadline", None)
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("the call's deadline passed while reading the answer")
            self._socket.settimeout(left)
        return super().readinto(buffer)


class _SocketWithDeadline:
    """What http.client.HTTPResponse asks of a socket: a file to read the answer from.

    Counted as one of the socket's files, as socket.makefile counts its own: an answer that
    closes the connection (HTTP/1.0, `Connection: close`) makes http.client close the socket
    right after the headers, and only the last of its files really closes it; uncounted, a body
    still on its way was read from a closed descriptor."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock

    def makefile(self, mode: str) -> io.BufferedReader:
        reader = _DeadlineReader(self._sock)
        self._sock._io_refs += 1  # type: ignore[attr-defined]  # what socket.makefile does; SocketIO.close undoes it
        return io.BufferedReader(reader)


class _Response(http.client.HTTPResponse):
    def __init__(self, sock: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(_SocketWithDeadline(sock), *args, **kwargs)  # type: ignore[arg-type]


class _Connection(urllib3.connection.HTTPConnection):
    response_class = _Response


class _Pool(HTTPConnectionPool):
    ConnectionCls = _Connection


class _Adapter(HTTPAdapter):
    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {**self.poolmanager.pool_classes_by_scheme, "http": _Pool}


@dataclass(frozen=True)
class Answer:
    """A complete response: status, body text, and the request it answers (for messages)."""

    status: int
    text: str
    method: str
    url: str


class Transport:
    """One keep-alive session to one endpoint, with a prepared request per (method, path, body).

    ``trust_env=False`` (the default): no proxy variables or netrc are read, neither per request
    nor at all; a gofail endpoint is almost always on loopback or named explicitly. Pass True to
    go through the proxies of the environment (read once, here).
    """

    def __init__(self, endpoint: str, trust_env: bool = False) -> None:
        self.endpoint = endpoint
        self.base = f"http://{endpoint}"
        self.session = requests.Session()
        self.session.trust_env = trust_env
        self.session.headers.clear()  # the runtime reads none; fewer header lines to write and send
        self.session.headers["User-Agent"] = "gofail-py"
        self.adapter = _Adapter()
        self.session.mount("http://", self.adapter)
        self.proxies: dict[str, str] = {}
        if trust_env:
            self.proxies = dict(self.session.merge_environment_settings(self.base, {}, None, None, None)["proxies"])
        self._prepared: dict[tuple[str, str, str | None], requests.PreparedRequest] = {}
        self._cached_pool: HTTPConnectionPool | None = None
        self.stream_status = 0  # the status of the answer the last `stream` read

    def _prepare(self, method: str, path: str, body: Any) -> requests.PreparedRequest:
        key = (method, path, body) if body is None or isinstance(body, str) else None
        prepared = self._prepared.get(key) if key else None
        if prepared is None:
            prepared = self.session.prepare_request(requests.Request(method, self.base + path, data=body))
            if key and len(self._prepared) < 512:
                self._prepared[key] = prepared
        return prepared

    def _pool(self) -> HTTPConnectionPool:
        """The session's own connection pool for the endpoint (its keep-alive connections)."""
        if self._cached_pool is None:
            host, _, port = self.endpoint.rpartition(":")
            self._cached_pool = self.adapter.poolmanager.connection_from_host(host.strip("[]"), int(port), scheme="http")
        return self._cached_pool

    def request(self, method: str, path: str, body: Any, deadline: float) -> Answer:
        """Sends one request and reads the whole answer before ``deadline``; ClientError if not."""
        url = self.base + path
        left = deadline - time.monotonic()
        if left <= 0:
            raise EndpointTimeout(f"{method} {url}: no time left for the request")
        _call.deadline = deadline
        try:
            with transport_errors(method, url, left):
                prepared = self._prepare(method, path, body)
                if self.proxies:
                    raw = self.adapter.send(prepared, stream=True, timeout=(left, left), verify=True, cert=None,
                                            proxies=self.proxies).raw
                else:  # what adapter.send does, without its per-request proxy and URL bookkeeping
                    raw = self._pool().urlopen(
                        method, path, body=prepared.body, headers=prepared.headers, retries=False, redirect=False,
                        assert_same_host=False, preload_content=False, decode_content=False,
                        timeout=urllib3.Timeout(connect=left, read=left),
                    )
                data = raw.read(MAX_BODY + 1)
                if len(data) > MAX_BODY:
                    raw.close()
                    raise _TooLong()
                length = raw.headers.get("Content-Length", "")
                if length.isdigit() and len(data) < int(length):
                    raw.close()
                    raise http.client.IncompleteRead(data, int(length) - len(data))
                raw.release_conn()
        finally:
            _call.deadline = None
        return Answer(raw.status, data.decode("utf-8", "replace"), method, url)

    def stream(self, method: str, path: str, body: Any, deadline: float, limit: int = MAX_BODY) -> Generator[bytes, None, None]:
        """Sends one request and yields its answer line by line as it comes, every read before
        ``deadline`` (a stream that never ends, like a watch's, is read for as long as the caller
        asks); the status line is checked by the caller through the first line it reads. At most
        ``limit`` bytes in all; the connection is closed when the caller stops."""
        url = self.base + path
        if deadline - time.monotonic() <= 0:
            raise EndpointTimeout(f"{method} {url}: no time left for the request")
        raw: Any = None
        try:
            with transport_errors(method, url, deadline - time.monotonic()):
                _call.deadline = deadline
                left = deadline - time.monotonic()
                prepared = self._prepare(method, path, body)
                raw = self._pool().urlopen(
                    method, path, body=prepared.body, headers=prepared.headers, retries=False, redirect=False,
                    assert_same_host=False, preload_content=False, decode_content=False,
                    timeout=urllib3.Timeout(connect=left, read=left),
                )
                self.stream_status = raw.status
                read = 0
                while True:
                    _call.deadline = deadline
                    line = raw.readline(limit - read + 1)
                    _call.deadline = None
                    if not line:
                        return
                    read += len(line)
                    if read > limit:
                        raise _TooLong()
                    yield line
        finally:
            _call.deadline = None
            if raw is not None:
                raw.close()  # never back to the pool: the stream may still be open

    def close(self) -> None:
        self._cached_pool = None
        self.session.close()


class _TooLong(Exception):
    pass


# --- one map from transport exceptions to ours ------------------------------------------------


class Dropped(ConnectionDropped):
    """The connection ended before a complete answer (the client decides: died, or retry)."""


def _causes(error: BaseException) -> list[BaseException]:
    """The error and everything it wraps: causes, contexts, `reason`s and exception arguments."""
    seen: list[BaseException] = []
    todo = [error]
    while todo:
        item = todo.pop()
        if any(item is s for s in seen) or len(seen) > 50:
            continue
        seen.append(item)
        wrapped = [item.__cause__, item.__context__, getattr(item, "reason", None), *getattr(item, "args", ())]
        todo.extend(w for w in wrapped if isinstance(w, BaseException))
    return seen


def _map(error: BaseException, method: str, url: str, timeout: float) -> ClientError:
    causes = _causes(error)

    def has(*kinds: type[BaseException]) -> BaseException | None:
        return next((c for c in causes if isinstance(c, kinds)), None)

    endpoint = url.removeprefix("http://").partition("/")[0]
    if isinstance(error, _TooLong):
        return Dropped(f"{method} {url}: an answer over {MAX_BODY} bytes is not the gofail runtime's")
    if has(u3.NameResolutionError, socket.gaierror):
        return EndpointUnreachable(f"cannot resolve the host of {endpoint} (check the name in the endpoint)")
    if has(ConnectionRefusedError):
        return EndpointUnreachable(
            f"nothing answers at {endpoint}: is the binary running, built with failpoints enabled, "
            f"and started with {ENV_ENDPOINT}={endpoint}?"
        )
    if (new := has(u3.NewConnectionError)) is not None:
        oserror = has(OSError)
        reason = oserror.strerror if isinstance(oserror, OSError) and oserror.strerror else str(new)
        return EndpointUnreachable(f"cannot connect to {endpoint}: {reason}")
    if has(u3.ConnectTimeoutError, requests.ConnectTimeout):
        return EndpointTimeout(f"{method} {url}: no connection within {timeout:.3g} s")
    if has(TimeoutError, socket.timeout, u3.TimeoutError, requests.Timeout):
        return EndpointTimeout(f"{method} {url}: no complete answer within {timeout:.3g} s")
    if has(u3.LocationValueError, requests.exceptions.InvalidURL, requests.exceptions.InvalidSchema,
           http.client.InvalidURL):
        return InvalidEndpoint(f"endpoint {endpoint!r} is not a valid HOST:PORT")
    if has(u3.ProtocolError, u3.DecodeError, http.client.HTTPException, requests.exceptions.ChunkedEncodingError,
           requests.exceptions.ContentDecodingError, ConnectionError):
        return Dropped(f"{method} {url}: the endpoint closed the connection before a complete answer")
    return EndpointUnreachable(f"{method} {url}: {error}")


@contextmanager
def transport_errors(method: str, url: str, timeout: float) -> Iterator[None]:
    """Every exception of sending and reading one request becomes one of our ClientErrors."""
    try:
        yield
    except ClientError:
        raise
    except (requests.RequestException, u3.HTTPError, http.client.HTTPException, OSError, ValueError, _TooLong) as error:
        _raise(_map(error, method, url, timeout))


def _raise(error: ClientError) -> NoReturn:
    raise error from None  # the message says it all; the chain of wrapped exceptions is noise


__all__ = ["Answer", "Dropped", "ENV_ENDPOINT", "Transport", "parse_endpoint", "transport_errors"]
