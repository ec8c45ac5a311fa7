"""One etcd member's HTTP/JSON gateway (grpc-gateway v2 of etcd v3.6): POST, JSON bodies with
proto field names, 64-bit integers as decimal strings, zero fields left out.

Every call has one deadline for the whole of it (client.transport reads each byte against it).
What answers must look like etcd: JSON objects with a ``header``, or an error body
``{code, message}``; anything else is ``NotEtcd`` with what came back, never a traceback."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any, Protocol

from gofail_py.client.transport import Transport, parse_endpoint
from gofail_py.errors import (
    ClientError,
    ConnectionDropped,
    EndpointTimeout,
    EtcdError,
    EtcdUnreachable,
    GatewayError,
    InvalidEndpoint,
    NotEtcd,
)
from gofail_py.terminal import visible

MAX_ANSWER = 8 << 20  # a member list or a status is small; more is not a gateway's answer


def b64(raw: bytes | str) -> str:
    return base64.b64encode(raw.encode() if isinstance(raw, str) else raw).decode("ascii")


def prefix_end(prefix: bytes) -> bytes:
    """The range_end of every key starting with ``prefix`` (its last byte below 0xff raised)."""
    raw = bytearray(prefix)
    while raw and raw[-1] == 0xFF:
        raw.pop()
    if not raw:
        return b"\0"
    raw[-1] += 1
    return bytes(raw)


def integer(answer: dict[str, Any], field: str, what: str) -> int:
    """An int64/uint64 of an answer (a decimal string; absent: 0); NotEtcd when it is not one."""
    value = answer.get(field)
    if value is None:
        return 0
    if type(value) is int:
        return value
    if isinstance(value, str) and value.isascii() and value.lstrip("-").isdigit() and len(value) < 24:
        return int(value)
    raise NotEtcd(f"{what}: {field} is not a whole number: {visible(str(value)[:60])!r}")


def _excerpt(text: str) -> str:
    text = visible(text.strip())
    return (text[:120] + "...") if len(text) > 120 else text or "(an empty answer)"


class WriteLog(Protocol):
    """Where a trigger's writes are recorded (a running traffic's history: gofail_py.history's
    Recorder), so that a check of that history sees every write made to the store."""

    def call(self, client: int, op: str, input: Any, meta: dict[str, Any] | None = None) -> Any: ...

    def returned(self, call: Any, output: Any) -> None: ...

    def lost(self, call: Any, error: str) -> None: ...


# (log, client number) for the writes of the trigger running in this context; None: not recorded
WRITES: ContextVar[tuple[WriteLog, int] | None] = ContextVar("gofail_py_etcd_writes", default=None)


def logged_write(op: str, input: dict[str, Any]) -> tuple[WriteLog, Any] | None:
    """The write's call in the history of WRITES, if any; a closed history records nothing (its
    traffic has ended, and every operation in it ended before this write)."""
    writes = WRITES.get()
    if writes is None:
        return None
    log, client = writes
    try:
        return log, log.call(client, op, input)
    except Exception:  # noqa: BLE001 - a closed or failing history: the write itself goes on
        return None


def settle_write(logged: tuple[WriteLog, Any] | None, output: Any, error: str = "") -> None:
    if logged is None:
        return
    log, call = logged
    try:
        if output is None:
            log.lost(call, error)
        else:
            log.returned(call, output)
    except Exception:  # noqa: BLE001 - closed meanwhile: close() wrote the call as indeterminate
        pass


class Gateway:
    """One member's gateway: one keep-alive requests session to ``address`` (HOST:PORT)."""

    def __init__(self, address: str) -> None:
        try:
            self.address = parse_endpoint(address)
        except InvalidEndpoint as error:
            raise InvalidEndpoint(str(error).replace("the gofail runtime serves", "etcd's gateway is")) from None
        self._transport = Transport(self.address)

    def close(self) -> None:
        self._transport.close()

    def __enter__(self) -> Gateway:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _where(self, path: str) -> str:
        return f"etcd at {self.address} ({path})"

    def _transport_error(self, error: ClientError, path: str) -> EtcdError:
        if isinstance(error, EndpointTimeout):
            return EtcdError(f"{self._where(path)}: no complete answer before the call's deadline")
        if isinstance(error, ConnectionDropped):
            return NotEtcd(f"{self._where(path)}: the connection closed before a complete answer")
        return EtcdUnreachable(f"{self._where(path)}: nothing answers (is the member running, and is this its client "
                       "address?)")

    def _decode(self, text: str, status: int, path: str) -> dict[str, Any]:
        try:
            data = json.loads(text)
        except ValueError:
            data = None
        if not isinstance(data, dict):
            raise NotEtcd(f"{self._where(path)} answered HTTP {status} with what is not etcd's JSON: {_excerpt(text)}")
        if status != 200:
            message, code = data.get("message"), data.get("code")
            if isinstance(message, str) and type(code) is int:
                raise GatewayError(f"{self._where(path)}: {visible(message)} (gRPC code {code})", code, message)
            raise NotEtcd(f"{self._where(path)} answered HTTP {status}, not as etcd's gateway does: {_excerpt(text)}")
        if "header" in data and not isinstance(data["header"], dict):
            raise NotEtcd(f"{self._where(path)} answered with a header that is not etcd's: {_excerpt(text)}")
        return data

    def call(self, path: str, body: dict[str, Any], deadline: float) -> dict[str, Any]:
        """POST one unary call; its answer, or GatewayError (etcd said no), NotEtcd, EtcdError."""
        try:
            answer = self._transport.request("POST", path, json.dumps(body), deadline)
        except ClientError as error:
            raise self._transport_error(error, path) from None
        return self._decode(answer.text, answer.status, path)

    def stream(self, path: str, body: dict[str, Any], deadline: float) -> Iterator[dict[str, Any]]:
        """POST a streaming call (watch); yields each ``result`` as it comes, until the caller stops."""
        lines = self._transport.stream("POST", path, json.dumps(body), deadline, limit=MAX_ANSWER)
        try:
            for line in lines:
                text = line.decode("utf-8", "replace")
                if not text.strip():
                    continue
                status = self._transport.stream_status
                try:
                    data = json.loads(text)
                except ValueError:
                    data = None
                if status == 200 and isinstance(data, dict) and isinstance(data.get("result"), dict):
                    result = self._decode(json.dumps(data["result"]), 200, path)
                    yield result
                    continue
                if isinstance(data, dict) and isinstance(data.get("error"), dict):
                    data = data["error"]
                self._decode(json.dumps(data) if data is not None else text, status if status != 200 else 500, path)
        except ClientError as error:
            raise self._transport_error(error, path) from None
        finally:
            lines.close()

    # --- the calls the triggers use ----------------------------------------------------------

    def status(self, deadline: float) -> dict[str, Any]:
        answer = self.call("/v3/maintenance/status", {}, deadline)
        if not isinstance(answer.get("version"), str) or not isinstance(answer.get("header"), dict):
            raise NotEtcd(f"{self._where('/v3/maintenance/status')}: the status has no etcd version")
        return answer

    def _header(self, answer: dict[str, Any]) -> dict[str, Any]:
        header = answer.get("header")
        if not isinstance(header, dict):
            raise NotEtcd(f"etcd at {self.address} answered without etcd's response header")
        return header

    def member_id(self, answer: dict[str, Any]) -> int:
        return integer(self._header(answer), "member_id", self._where("header"))

    def revision(self, answer: dict[str, Any]) -> int:
        return integer(self._header(answer), "revision", self._where("header"))

    def put(self, key: bytes, value: bytes, deadline: float, lease: int = 0) -> int:
        """One put; the revision it made."""
        body: dict[str, Any] = {"key": b64(key), "value": b64(value)}
        if lease:
            body["lease"] = str(lease)
        logged = logged_write("put", {"key": key.decode("utf-8", "replace"), "value": value.decode("utf-8", "replace")})
        try:
            revision = self.revision(self.call("/v3/kv/put", body, deadline))
        except BaseException as error:
            settle_write(logged, None, f"the trigger's put failed: {error}")
            raise
        settle_write(logged, {"revision": revision})
        return revision

    def range(self, key: bytes, deadline: float, *, revision: int = 0, prefix: bool = False,
              count_only: bool = False) -> dict[str, Any]:
        body: dict[str, Any] = {"key": b64(key)}
        if prefix:
            body["range_end"] = b64(prefix_end(key))
        if revision:
            body["revision"] = str(revision)
        if count_only:
            body["count_only"] = True
        return self.call("/v3/kv/range", body, deadline)

    def members(self, deadline: float) -> list[dict[str, Any]]:
        answer = self.call("/v3/cluster/member/list", {"linearizable": True}, deadline)
        members = answer.get("members", [])
        if not isinstance(members, list) or not all(isinstance(m, dict) for m in members):
            raise NotEtcd(f"{self._where('/v3/cluster/member/list')}: the member list is not a list of members")
        return members

    def metric(self, name: str, deadline: float) -> float:
        """The sum of a Prometheus metric's samples on /metrics (0 when it has none yet)."""
        try:
            answer = self._transport.request("GET", "/metrics", None, deadline)
        except ClientError as error:
            raise self._transport_error(error, "/metrics") from None
        if answer.status != 200:
            raise NotEtcd(f"{self._where('/metrics')} answered HTTP {answer.status}: {_excerpt(answer.text)}")
        total = 0.0
        for line in answer.text.splitlines():
            if line.startswith(name) and line[len(name):len(name) + 1] in ("{", " "):
                try:
                    total += float(line.rsplit(" ", 1)[1])
                except (ValueError, IndexError):
                    raise NotEtcd(f"{self._where('/metrics')}: a sample of {name} that is no number: "
                                  f"{_excerpt(line)}") from None
        return total


def left(deadline: float) -> float:
    return deadline - time.monotonic()


__all__ = ["Gateway", "GatewayError", "b64", "integer", "left", "prefix_end"]
