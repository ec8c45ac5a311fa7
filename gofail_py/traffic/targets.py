"""What traffic is sent to: a target gives each client thread a connection, and a connection does
one operation of the model (its input and output in the model's shapes, docs/check.md).

A connection raises for an operation that got no answer (timeout, lost connection, an error
status): the runner records it as indeterminate, whatever the exception. Built-in targets speak
HTTP through wire.py (one keep-alive connection per client, one deadline for the whole call); the
bundled example service is here, etcd in etcd.py, your own functions in custom.py."""

from __future__ import annotations

import json
import socket
import threading
import time
from typing import Any

from gofail_py.errors import ClientError, EndpointTimeout, EndpointUnreachable, TrafficError
from gofail_py.traffic.wire import Wire
from gofail_py.client.transport import parse_endpoint


KV_OPERATIONS = frozenset(("put", "get", "delete", "txn"))


class NoAnswer(Exception):
    """An operation got no usable answer: it may or may not have taken effect."""


class Connection:
    """One client's link to the target."""

    def do(self, op: str, input: dict[str, Any], deadline: float) -> dict[str, Any]:
        """The output of ``op`` (time.monotonic ``deadline``), or an exception: no answer."""
        raise NotImplementedError

    def recover(self, deadline: float, stop: threading.Event) -> bool:
        """After an operation without an answer: drop what may be stale (a keep-alive connection to
        a process that died) and wait, at most until ``deadline`` or ``stop``, until the target
        seems to take requests again (True), so a dead target does not fill the history with
        indeterminate calls."""
        return True

    def close(self) -> None:
        pass


class Target:
    """Where the traffic goes, and the model its answers follow."""

    name = "target"
    model: Any = "kv"
    #: True when the answers come from the user's own functions: an answer that does not fit the
    #: model then means the client and the model do not match (exit 2), not a misbehaving server
    own_answers = False
    #: True when it builds every output in the model's shapes itself, each field checked (etcd's
    #: gateway JSON is converted field by field): the recorder then does not check them again
    builds_outputs = False

    def connect(self, client: int) -> Connection:
        raise NotImplementedError

    def supports(self) -> frozenset[str] | None:
        """The model operations it can send (None: whatever the model has)."""
        return None

    def first_revision(self, deadline: float) -> int | None:
        """The store's revision before the traffic starts, for the check that it is empty (the kv
        model starts from an empty store at revision 1); None: not known."""
        return None

    def describe(self) -> str:
        return self.name


def why(error: BaseException, timeout: float) -> str:
    """An exception of a call as the history's short reason."""
    if isinstance(error, (EndpointTimeout, TimeoutError)):
        return f"timeout after {timeout:g}s"
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    if isinstance(error, OSError) and error.strerror:
        return f"connection lost: {error.strerror}"
    text = str(error) or type(error).__name__
    return text if len(text) <= 300 else text[:300] + "..."


def reachable(address: str, deadline: float, stop: threading.Event) -> bool:
    """Whether a TCP connection to HOST:PORT opens before ``deadline`` or ``stop``, trying every 50 ms."""
    host, _, port = address.rpartition(":")
    while not stop.is_set():
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        try:
            socket.create_connection((host.strip("[]"), int(port)), timeout=min(left, 1.0)).close()
            return True
        except OSError:
            stop.wait(min(0.05, max(0.0, deadline - time.monotonic())))
    return False


class HttpConnection(Connection):
    """A keep-alive HTTP connection to one address (a fresh one after a call without an answer)."""

    def __init__(self, address: str) -> None:
        self.address = address
        host, _, port = address.rpartition(":")
        self.wire = Wire(host.strip("[]"), int(port))

    def post(self, path: str, body: dict[str, Any], deadline: float) -> Any:
        """The JSON answer of a 200, or NoAnswer (or the wire's TimeoutError / OSError)."""
        status, data = self.wire.post(path, json.dumps(body, separators=(",", ":")).encode(), deadline)
        if status != 200:
            raise NoAnswer(f"HTTP {status}: {data[:200].decode('utf-8', 'replace').strip()}")
        try:
            return json.loads(data)
        except ValueError:
            raise NoAnswer(f"HTTP 200 with a body that is not JSON: {data[:100]!r}") from None

    def recover(self, deadline: float, stop: threading.Event) -> bool:
        self.wire.close()
        return reachable(self.address, deadline, stop)

    def close(self) -> None:
        self.wire.close()


def address(text: str, what: str) -> str:
    try:
        return parse_endpoint(text)
    except ClientError as error:
        raise TrafficError(f"{what}: {error}") from None


class KvserverConnection(HttpConnection):
    def do(self, op: str, input: dict[str, Any], deadline: float) -> dict[str, Any]:
        answer = self.post(f"/api/{op}", input, deadline)
        if not isinstance(answer, dict):
            raise NoAnswer(f"an answer that is not a JSON object: {str(answer)[:100]}")
        return answer


class Kvserver(Target):
    """examples/kvserver through its JSON API (POST /api/put|get|delete|txn at HOST:PORT)."""

    name = "kvserver"
    model = "kv"

    def supports(self) -> frozenset[str] | None:
        return KV_OPERATIONS

    def __init__(self, address_: str) -> None:
        self.address = address(address_, "kvserver address")

    def connect(self, client: int) -> Connection:
        return KvserverConnection(self.address)

    def first_revision(self, deadline: float) -> int | None:
        return _first(lambda conn, left: conn.do("get", {"key": "", "prefix": True}, left)["revision"],
                      KvserverConnection(self.address), deadline)

    def describe(self) -> str:
        return f"kvserver at {self.address}"


def _first(ask: Any, conn: HttpConnection, deadline: float) -> int:
    """Asks until it answers (a process just started may not listen yet) or the deadline passes."""
    last: BaseException | None = None
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0.05:
                raise EndpointUnreachable(f"{conn.address} did not answer before the traffic could start: {last}")
            try:
                revision = ask(conn, time.monotonic() + min(left, 2.0))
            except (ClientError, NoAnswer, OSError) as error:
                last = error
                time.sleep(min(0.05, max(0.0, deadline - time.monotonic())))
                continue
            if type(revision) is not int:
                raise TrafficError(f"{conn.address} answered a revision that is not a whole number: {revision!r}")
            return revision
    finally:
        conn.close()
