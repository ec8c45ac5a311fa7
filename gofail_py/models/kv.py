"""The `kv` model: etcd's key-value store with its revision counter (docs/check.md).

Here: the shapes of each operation's input and output (checked once, when a history is read) and
the model for the general search, whose state is ``(revision, ((key, value, create, mod, version), ...))``.
What the operations do is in kvstore.py, shared with the revision-driven check."""

from __future__ import annotations

import json
from typing import Any

from gofail_py.models import kvstore
from gofail_py.models.base import Model

State = tuple[int, tuple[tuple[str, Any, int, int, int], ...]]

_TARGETS = {"value": str, "mod_revision": int, "create_revision": int, "version": int}
_KV_KEYS = frozenset(("key", "value", "create_revision", "mod_revision", "version"))
_SHAPES = {
    "put": '{"key": str, "value": str}',
    "get": '{"key": str} or {"key": str, "prefix": bool}',
    "delete": '{"key": str}',
    "txn": '{"compare": [...], "success": [OP], "failure": [OP]}',
}
_OUTPUTS = {
    "put": '{"revision": int}',
    "get": '{"revision": int, "kvs": [{"key", "value", "create_revision", "mod_revision", "version"}]}',
    "delete": '{"revision": int, "deleted": int}',
    "txn": '{"revision": int, "succeeded": bool, "results": [...]}',
}


def _shown(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 200 else text[:200] + "..."


def _is_int(value: Any, low: int = 0) -> bool:
    return type(value) is int and value >= low


def _simple_input(op: str, input: dict[str, Any]) -> bool:
    """put, get and delete's input, alone or inside a txn (there with "op" besides)."""
    if type(input.get("key")) is not str:
        return False
    keys = input.keys() - {"op"}
    if op == "put":
        return keys == {"key", "value"} and type(input["value"]) is str
    if op == "get":
        return keys == {"key"} or (keys == {"key", "prefix"} and type(input["prefix"]) is bool)
    return keys == {"key"}


def _input_problem(op: str, input: Any) -> str | None:
    if type(input) is not dict:
        return f"expected {op}'s input to be {_SHAPES[op]}, not {_shown(input)}"
    if op != "txn":
        return None if _simple_input(op, input) else f"expected {op}'s input to be {_SHAPES[op]}, not {_shown(input)}"
    if input.keys() != {"compare", "success", "failure"}:
        return f"expected txn's input to be {_SHAPES['txn']}, not {_shown(input)}"
    compares = input["compare"]
    if type(compares) is not list:
        return f"expected txn's compare to be a list, not {_shown(compares)}"
    for condition in compares:
        if (type(condition) is not dict or condition.keys() != {"key", "target", "value"}
                or type(condition["key"]) is not str or condition["target"] not in _TARGETS
                or type(condition["value"]) is not _TARGETS[condition["target"]]):
            return ('expected each txn compare to be {"key": str, "target": "value"|"mod_revision"|"create_revision"|'
                    f'"version", "value": str for value, int otherwise}}, not {_shown(condition)}')
    for branch in ("success", "failure"):
        subs = input[branch]
        if type(subs) is not list:
            return f"expected txn's {branch} to be a list of operations, not {_shown(subs)}"
        for sub in subs:
            if type(sub) is not dict or sub.get("op") not in ("put", "get", "delete") or not _simple_input(sub["op"], sub):
                return ('expected each operation of a txn branch to be {"op": "put"|"get"|"delete", ...its input}, '
                        f"not {_shown(sub)}")
    return None


def _kvs_problem(kvs: Any) -> bool:
    if type(kvs) is not list:
        return True
    for kv in kvs:
        if (type(kv) is not dict or kv.keys() != _KV_KEYS or type(kv["key"]) is not str or type(kv["value"]) is not str
                or not _is_int(kv["create_revision"]) or not _is_int(kv["mod_revision"]) or not _is_int(kv["version"])):
            return True
    return False


def _output_problem(op: str, input: dict[str, Any], output: Any) -> str | None:
    expected = f"expected {op}'s output to be {_OUTPUTS[op]}, not {_shown(output)}"
    if type(output) is not dict or not _is_int(output.get("revision"), 1):
        return expected
    keys = output.keys()
    if op == "put":
        return None if keys == {"revision"} else expected
    if op == "get":
        return None if keys == {"revision", "kvs"} and not _kvs_problem(output["kvs"]) else expected
    if op == "delete":
        return None if keys == {"revision", "deleted"} and _is_int(output["deleted"]) else expected
    if keys != {"revision", "succeeded", "results"} or type(output["succeeded"]) is not bool or type(output["results"]) is not list:
        return expected
    branch = input["success"] if output["succeeded"] else input["failure"]
    results = output["results"]
    if len(results) != len(branch):
        return (f"expected txn's results to hold one output for each of the {len(branch)} operations of its "
                f"{'success' if output['succeeded'] else 'failure'} branch, not {_shown(results)}")
    for sub, result in zip(branch, results):
        kind = sub["op"]
        fine = (type(result) is dict and (
            result == {} if kind == "put" else
            result.keys() == {"kvs"} and not _kvs_problem(result["kvs"]) if kind == "get" else
            result.keys() == {"deleted"} and _is_int(result["deleted"])))
        if not fine:
            shape = {"put": "{}", "get": '{"kvs": [...]}', "delete": '{"deleted": int}'}[kind]
            return f"expected the result of a txn's {kind} to be {shape}, not {_shown(result)}"
    return None


def wrote(op: str, input: dict[str, Any], output: dict[str, Any]) -> bool:
    """Whether an answered operation changed the store (so its revision is the one it created),
    read from its output alone: a put always does, a delete or txn when something was deleted or put."""
    if op == "put":
        return True
    if op == "get":
        return False
    if op == "delete":
        return bool(output["deleted"])
    branch = input["success"] if output["succeeded"] else input["failure"]
    return any(sub["op"] == "put" or (sub["op"] == "delete" and result["deleted"] > 0)
               for sub, result in zip(branch, output["results"]))


class KvModel(Model):
    name = "kv"
    operations = frozenset(_SHAPES)

    def init(self) -> State:
        return (1, ())

    def validate(self, op: str, input: Any, output: Any) -> str | None:
        if op not in _SHAPES:
            return f"expected an operation of the kv model (put, get, delete, txn), not {_shown(op)}"
        problem = _input_problem(op, input)
        if problem is None and output is not None:
            problem = _output_problem(op, input, output)
        return problem

    def step(self, state: State, op: str, input: Any, output: Any) -> State | None:
        revision, items = state
        store: kvstore.Store = {key: (value, create, mod, version) for key, value, create, mod, version in items}
        revision, expected = kvstore.execute(store, revision, op, input)
        if output is not None and expected != output:
            return None
        return (revision, tuple(sorted((key, *entry) for key, entry in store.items())))

    def changes(self, state: State, op: str, input: Any) -> bool:
        return op != "get" and self.step(state, op, input, None) != state

    def describe_state(self, state: State) -> Any:
        revision, items = state
        return {"revision": revision, "kvs": [kvstore.kv_dict(key, (value, create, mod, version))
                                              for key, value, create, mod, version in items]}
