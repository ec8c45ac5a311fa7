"""etcd as a traffic target, through its HTTP/JSON gateway (grpc-gateway v2 of etcd v3.6).

The gateway speaks the protobuf messages as JSON with proto field names: keys and values in
base64, 64-bit integers (revisions, versions, counts) as strings, and every zero, false or empty
field left out (no ``succeeded`` is false, no ``kvs`` is none, no ``deleted`` is 0). Here, each
operation of the `kv` model becomes one gateway call and its answer the model's output; client i
talks to member i mod n, as etcd's robustness clients are pinned to members."""

from __future__ import annotations

import base64
import time
from collections.abc import Sequence
from typing import Any

from gofail_py.errors import TrafficError
from gofail_py.traffic.targets import KV_OPERATIONS, Connection, HttpConnection, NoAnswer, Target, _first, address

_TARGETS = {"value": "VALUE", "mod_revision": "MOD", "create_revision": "CREATE", "version": "VERSION"}


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode("ascii")


def unb64(text: Any) -> str:
    if text is None:
        return ""
    try:
        return base64.b64decode(text, validate=True).decode()
    except (ValueError, TypeError, UnicodeDecodeError):
        raise NoAnswer(f"a key or value that is not base64 of UTF-8: {str(text)[:60]!r}") from None


def number(value: Any, what: str) -> int:
    """An int64 of the gateway (a decimal string; absent: 0)."""
    if value is None:
        return 0
    if isinstance(value, str) and value.isascii() and value.lstrip("-").isdigit():
        return int(value)
    if type(value) is int:
        return value
    raise NoAnswer(f"{what} is not a whole number: {str(value)[:60]!r}")


def range_end(prefix: str) -> str:
    """The end of the range of every key starting with ``prefix`` (the prefix with its last byte
    below 0xff raised by one; every key at all for an empty prefix)."""
    raw = bytearray(prefix.encode())
    while raw and raw[-1] == 0xFF:
        raw.pop()
    if not raw:
        return base64.b64encode(b"\0").decode("ascii")
    raw[-1] += 1
    return base64.b64encode(bytes(raw)).decode("ascii")


def range_request(input: dict[str, Any]) -> dict[str, Any]:
    if input.get("prefix"):
        # every key: etcd takes no empty key, "\0" to "\0" is its whole key space
        return {"key": b64(input["key"] or "\0"), "range_end": range_end(input["key"])}
    return {"key": b64(input["key"])}


def kvs_of(answer: dict[str, Any]) -> list[dict[str, Any]]:
    kvs = answer.get("kvs") or []
    if not isinstance(kvs, list):
        raise NoAnswer(f"kvs is not a list: {str(kvs)[:60]}")
    out: list[dict[str, Any]] = []
    for kv in kvs:
        if not isinstance(kv, dict):
            raise NoAnswer(f"a kv that is not an object: {str(kv)[:60]}")
        out.append({"key": unb64(kv.get("key")), "value": unb64(kv.get("value")),
                    "create_revision": number(kv.get("create_revision"), "create_revision"),
                    "mod_revision": number(kv.get("mod_revision"), "mod_revision"),
                    "version": number(kv.get("version"), "version")})
    out.sort(key=lambda kv: str(kv["key"]))
    return out


def revision_of(answer: Any) -> int:
    if not isinstance(answer, dict) or not isinstance(answer.get("header"), dict):
        raise NoAnswer(f"an answer without a header: {str(answer)[:100]}")
    revision = number(answer["header"].get("revision"), "header.revision")
    if revision < 1:
        raise NoAnswer(f"an answer with revision {revision}")
    return revision


def compare(condition: dict[str, Any]) -> dict[str, Any]:
    target = condition["target"]
    value = condition["value"]
    return {"key": b64(condition["key"]), "result": "EQUAL", "target": _TARGETS[target],
            target: b64(value) if target == "value" else str(value)}


def request_op(sub: dict[str, Any]) -> dict[str, Any]:
    if sub["op"] == "put":
        return {"request_put": {"key": b64(sub["key"]), "value": b64(sub["value"])}}
    if sub["op"] == "get":
        return {"request_range": range_request(sub)}
    return {"request_delete_range": {"key": b64(sub["key"])}}


def result_of(sub: dict[str, Any], response: Any) -> dict[str, Any]:
    if not isinstance(response, dict):
        raise NoAnswer(f"a txn response that is not an object: {str(response)[:60]}")
    if sub["op"] == "put":
        return {}
    if sub["op"] == "get":
        return {"kvs": kvs_of(response.get("response_range") or {})}
    return {"deleted": number((response.get("response_delete_range") or {}).get("deleted"), "deleted")}


def txn_request(input: dict[str, Any]) -> dict[str, Any]:
    return {"compare": [compare(c) for c in input["compare"]],
            "success": [request_op(sub) for sub in input["success"]],
            "failure": [request_op(sub) for sub in input["failure"]]}


def txn_output(input: dict[str, Any], answer: dict[str, Any]) -> dict[str, Any]:
    succeeded = answer.get("succeeded", False)
    if type(succeeded) is not bool:
        raise NoAnswer(f"succeeded is not a boolean: {succeeded!r}")
    branch = input["success"] if succeeded else input["failure"]
    responses = answer.get("responses") or []
    if not isinstance(responses, list) or len(responses) != len(branch):
        raise NoAnswer(f"{len(branch)} operations in the txn branch, answers: {str(responses)[:100]}")
    return {"revision": revision_of(answer), "succeeded": succeeded,
            "results": [result_of(sub, response) for sub, response in zip(branch, responses)]}


class EtcdConnection(HttpConnection):
    def do(self, op: str, input: dict[str, Any], deadline: float) -> dict[str, Any]:
        if op == "put":
            answer = self.post("/v3/kv/put", {"key": b64(input["key"]), "value": b64(input["value"])}, deadline)
            return {"revision": revision_of(answer)}
        if op == "get":
            answer = self.post("/v3/kv/range", range_request(input), deadline)
            return {"revision": revision_of(answer), "kvs": kvs_of(answer)}
        if op == "delete":
            answer = self.post("/v3/kv/deleterange", {"key": b64(input["key"])}, deadline)
            return {"revision": revision_of(answer), "deleted": number(answer.get("deleted"), "deleted")}
        answer = self.post("/v3/kv/txn", txn_request(input), deadline)
        revision_of(answer)
        return txn_output(input, answer)


class Etcd(Target):
    """An etcd cluster through the gateway of each member (client URLs as HOST:PORT)."""

    name = "etcd"
    model = "kv"
    builds_outputs = True

    def supports(self) -> frozenset[str] | None:
        return KV_OPERATIONS

    def __init__(self, members: Sequence[str]) -> None:
        if isinstance(members, str) or not members:
            raise TrafficError("etcd needs the client address (HOST:PORT) of at least one member")
        self.members = [address(member, "etcd member") for member in members]

    def connect(self, client: int) -> Connection:
        return EtcdConnection(self.members[client % len(self.members)])

    def first_revision(self, deadline: float) -> int | None:
        return _first(lambda conn, left: conn.do("get", {"key": "", "prefix": True}, left)["revision"],
                      EtcdConnection(self.members[0]), deadline)

    def describe(self) -> str:
        return f"etcd at {', '.join(self.members)}"


def member_status(member: str, timeout: float = 5.0) -> dict[str, Any]:
    """/v3/maintenance/status of one member: its id (header.member_id), the leader's id
    (``leader``), raft term and index; NoAnswer when it does not answer."""
    conn = HttpConnection(address(member, "etcd member"))
    try:
        answer = conn.post("/v3/maintenance/status", {}, time.monotonic() + timeout)
    finally:
        conn.close()
    if not isinstance(answer, dict) or not isinstance(answer.get("header"), dict):
        raise NoAnswer(f"{member}: a status without a header: {str(answer)[:100]}")
    return answer
