"""The shapes of the `kv` model's operations (docs/check.md): checked once per operation when a
history is read, so that the check can trust them. Written for speed (one history line costs a
few of these calls): the common case is a handful of key-set comparisons; the message, naming
what was expected, is built only for a line that is wrong."""

from __future__ import annotations

import json
from typing import Any

_TARGETS = {"value": str, "mod_revision": int, "create_revision": int, "version": int}
_KV_KEYS = frozenset(("key", "value", "create_revision", "mod_revision", "version"))
_KEY, _KEY_VALUE, _KEY_PREFIX = frozenset(("key",)), frozenset(("key", "value")), frozenset(("key", "prefix"))
_SUB_KEY, _SUB_KEY_VALUE, _SUB_KEY_PREFIX = _KEY | {"op"}, _KEY_VALUE | {"op"}, _KEY_PREFIX | {"op"}
_TXN_IN, _COMPARE = frozenset(("compare", "success", "failure")), frozenset(("key", "target", "value"))
_PUT_OUT, _GET_OUT = frozenset(("revision",)), frozenset(("revision", "kvs"))
_DELETE_OUT, _TXN_OUT = frozenset(("revision", "deleted")), frozenset(("revision", "succeeded", "results"))
_KVS_RESULT, _DELETED_RESULT = frozenset(("kvs",)), frozenset(("deleted",))

SHAPES = {
    "put": '{"key": str, "value": str}',
    "get": '{"key": str} or {"key": str, "prefix": bool}',
    "delete": '{"key": str}',
    "txn": '{"compare": [...], "success": [OP], "failure": [OP]}',
}
OUTPUTS = {
    "put": '{"revision": int}',
    "get": '{"revision": int, "kvs": [{"key", "value", "create_revision", "mod_revision", "version"}]}',
    "delete": '{"revision": int, "deleted": int}',
    "txn": '{"revision": int, "succeeded": bool, "results": [...]}',
}


def shown(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 200 else text[:200] + "..."


def _simple(op: str, input: dict[str, Any], inside: bool) -> bool:
    """put, get and delete's input, alone or inside a txn (there with "op" besides)."""
    keys = input.keys()
    if type(input.get("key")) is not str:
        return False
    if op == "put":
        return keys == (_SUB_KEY_VALUE if inside else _KEY_VALUE) and type(input["value"]) is str
    if op == "get":
        return keys == (_SUB_KEY if inside else _KEY) or (
            keys == (_SUB_KEY_PREFIX if inside else _KEY_PREFIX) and type(input["prefix"]) is bool)
    return keys == (_SUB_KEY if inside else _KEY)


def _txn_input(input: dict[str, Any]) -> str | None:
    if input.keys() != _TXN_IN:
        return f"expected txn's input to be {SHAPES['txn']}, not {shown(input)}"
    compares = input["compare"]
    if type(compares) is not list:
        return f"expected txn's compare to be a list, not {shown(compares)}"
    for condition in compares:
        if (type(condition) is not dict or condition.keys() != _COMPARE or type(condition["key"]) is not str
                or type(condition["target"]) is not str or condition["target"] not in _TARGETS
                or type(condition["value"]) is not _TARGETS[condition["target"]]):
            return ('expected each txn compare to be {"key": str, "target": "value"|"mod_revision"|"create_revision"|'
                    f'"version", "value": str for value, int otherwise}}, not {shown(condition)}')
    for branch in ("success", "failure"):
        subs = input[branch]
        if type(subs) is not list:
            return f"expected txn's {branch} to be a list of operations, not {shown(subs)}"
        for sub in subs:
            if (type(sub) is not dict or type(sub.get("op")) is not str or sub["op"] not in SHAPES
                    or sub["op"] == "txn" or not _simple(sub["op"], sub, True)):
                return ('expected each operation of a txn branch to be {"op": "put"|"get"|"delete", ...its input}, '
                        f"not {shown(sub)}")
    return None


def _kvs_fine(kvs: Any) -> bool:
    if type(kvs) is not list:
        return False
    for kv in kvs:
        if (type(kv) is not dict or kv.keys() != _KV_KEYS or type(kv["key"]) is not str or type(kv["value"]) is not str
                or type(kv["create_revision"]) is not int or type(kv["mod_revision"]) is not int
                or type(kv["version"]) is not int):
            return False
    return True


def _output_fine(op: str, input: dict[str, Any], output: dict[str, Any]) -> bool:
    keys = output.keys()
    if op == "put":
        return keys == _PUT_OUT
    if op == "get":
        return keys == _GET_OUT and _kvs_fine(output["kvs"])
    if op == "delete":
        return keys == _DELETE_OUT and type(output["deleted"]) is int and output["deleted"] >= 0
    return keys == _TXN_OUT and type(output["succeeded"]) is bool and type(output["results"]) is list


def _results_problem(input: dict[str, Any], output: dict[str, Any]) -> str | None:
    branch = input["success"] if output["succeeded"] else input["failure"]
    results = output["results"]
    if len(results) != len(branch):
        return (f"expected txn's results to hold one output for each of the {len(branch)} operations of its "
                f"{'success' if output['succeeded'] else 'failure'} branch, not {shown(results)}")
    for sub, result in zip(branch, results):
        kind = sub["op"]
        if type(result) is not dict:
            fine = False
        elif kind == "put":
            fine = not result
        elif kind == "get":
            fine = result.keys() == _KVS_RESULT and _kvs_fine(result["kvs"])
        else:
            fine = result.keys() == _DELETED_RESULT and type(result["deleted"]) is int and result["deleted"] >= 0
        if not fine:
            shape = {"put": "{}", "get": '{"kvs": [...]}', "delete": '{"deleted": int}'}[kind]
            return f"expected the result of a txn's {kind} to be {shape}, not {shown(result)}"
    return None


def problem(op: str, input: Any, output: Any) -> str | None:
    """What is wrong with a kv operation, or None."""
    if type(op) is not str or op not in SHAPES:
        return f"expected an operation of the kv model (put, get, delete, txn), not {shown(op)}"
    if type(input) is not dict:
        return f"expected {op}'s input to be {SHAPES[op]}, not {shown(input)}"
    if op == "txn":
        wrong = _txn_input(input)
        if wrong is not None:
            return wrong
    elif not _simple(op, input, False):
        return f"expected {op}'s input to be {SHAPES[op]}, not {shown(input)}"
    if output is None:
        return None
    if type(output) is not dict or type(output.get("revision")) is not int or output["revision"] < 1 \
            or not _output_fine(op, input, output):
        return f"expected {op}'s output to be {OUTPUTS[op]}, not {shown(output)}"
    return _results_problem(input, output) if op == "txn" else None
