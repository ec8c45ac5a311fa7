"""Histories for the checker's tests: a reference of each model written apart from gofail_py's,
a brute-force linearizability check, and a seeded generator of small random histories.

The generator runs a real sequential execution (each operation takes effect at a random moment
between its call and its return; an unanswered one at a random moment after its call, or never),
records what the reference answered, and then, for about half of the histories, changes one
answer or one interval, which often (not always) makes the history not linearizable."""

from __future__ import annotations

import copy
import random
from collections.abc import Callable
from typing import Any

from gofail_py.models.operation import Operation

# --- the kv reference: state = (revision, {key: {"value", "create", "mod", "version"}}) --------

KvState = tuple[int, dict[str, dict[str, Any]]]


def _kvs(data: dict[str, dict[str, Any]], key: str, prefix: bool) -> list[dict[str, Any]]:
    names = sorted(k for k in data if k.startswith(key)) if prefix else [k for k in data if k == key]
    return [{"key": k, "value": data[k]["value"], "create_revision": data[k]["create"],
             "mod_revision": data[k]["mod"], "version": data[k]["version"]} for k in names]


def _holds(data: dict[str, dict[str, Any]], condition: dict[str, Any]) -> bool:
    entry = data.get(condition["key"])
    if condition["target"] == "value":
        return entry is not None and entry["value"] == condition["value"]
    field = {"mod_revision": "mod", "create_revision": "create", "version": "version"}[condition["target"]]
    return (entry[field] if entry else 0) == condition["value"]


def kv_apply(state: KvState, op: str, input: dict[str, Any]) -> tuple[KvState, dict[str, Any]]:
    """The next state and etcd's answer."""
    revision, data = state[0], copy.deepcopy(state[1])
    if op == "get":
        return (revision, data), {"revision": revision, "kvs": _kvs(data, input["key"], input.get("prefix", False))}
    if op == "put":
        old = data.get(input["key"])
        data[input["key"]] = {"value": input["value"], "create": old["create"] if old else revision + 1,
                              "mod": revision + 1, "version": old["version"] + 1 if old else 1}
        return (revision + 1, data), {"revision": revision + 1}
    if op == "delete":
        if input["key"] in data:
            del data[input["key"]]
            return (revision + 1, data), {"revision": revision + 1, "deleted": 1}
        return (revision, data), {"revision": revision, "deleted": 0}
    succeeded = all(_holds(data, c) for c in input["compare"])
    changed, results = False, []
    for sub in input["success"] if succeeded else input["failure"]:
        if sub["op"] == "get":
            results.append({"kvs": _kvs(data, sub["key"], sub.get("prefix", False))})
        elif sub["op"] == "put":
            old = data.get(sub["key"])
            data[sub["key"]] = {"value": sub["value"], "create": old["create"] if old else revision + 1,
                                "mod": revision + 1, "version": old["version"] + 1 if old else 1}
            changed = True
            results.append({})
        else:
            gone = data.pop(sub["key"], None)
            changed = changed or gone is not None
            results.append({"deleted": 1 if gone is not None else 0})
    revision = revision + 1 if changed else revision
    return (revision, data), {"revision": revision, "succeeded": succeeded, "results": results}


def kv_step(state: KvState, op: Operation) -> KvState | None:
    after, answer = kv_apply(state, op.op, op.input)
    return after if op.output is None or answer == op.output else None


def register_apply(state: Any, op: str, input: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    if op == "read":
        return state, {"value": state}
    if op == "write":
        return input["value"], {}
    ok = state == input["expect"] and type(state) is type(input["expect"])
    return (input["value"] if ok else state), {"ok": ok}


def register_step(state: Any, op: Operation) -> Any:
    after, answer = register_apply(state, op.op, op.input)
    return after if op.output is None or answer == op.output else _NO


_NO = object()


# --- brute force --------------------------------------------------------------------------------


def brute_force(ops: list[Operation], init: Any, step: Callable[[Any, Operation], Any], no: Any = None) -> bool:
    """Every order of the operations that respects real time (a returned before b was called:
    a first), each answered one exactly once, each unanswered one once or never: is one legal?"""
    before = [{j for j, other in enumerate(ops) if other.ret is not None and other.ret < op.call} for op in ops]
    answered = {i for i, op in enumerate(ops) if op.ret is not None}

    def extend(placed: frozenset[int], state: Any) -> bool:
        if answered <= placed:
            return True
        for i, op in enumerate(ops):
            if i not in placed and before[i] <= placed:
                after = step(state, op)
                if after is not no and extend(placed | {i}, after):
                    return True
        return False

    return extend(frozenset(), init)


def kv_brute_force(ops: list[Operation]) -> bool:
    return brute_force(ops, (1, {}), kv_step)


def register_brute_force(ops: list[Operation]) -> bool:
    return brute_force(ops, None, register_step, _NO)


# --- the generator ------------------------------------------------------------------------------

KEYS = ("a", "ab", "b")


def _value(rng: random.Random, counter: list[int]) -> str:
    if rng.random() < 0.3:
        return rng.choice(("x", "y"))  # shared values: no read can prove which put it saw
    counter[0] += 1
    return f"v{counter[0]}"


def _kv_sub(rng: random.Random, counter: list[int]) -> dict[str, Any]:
    kind = rng.choice(("put", "put", "get", "delete"))
    sub: dict[str, Any] = {"op": kind, "key": rng.choice(KEYS)}
    if kind == "put":
        sub["value"] = _value(rng, counter)
    elif kind == "get" and rng.random() < 0.3:
        sub["key"], sub["prefix"] = rng.choice(("", "a")), True
    return sub


def kv_input(rng: random.Random, counter: list[int]) -> tuple[str, dict[str, Any]]:
    roll = rng.random()
    if roll < 0.35:
        return "put", {"key": rng.choice(KEYS), "value": _value(rng, counter)}
    if roll < 0.6:
        if rng.random() < 0.3:
            return "get", {"key": rng.choice(("", "a")), "prefix": True}
        return "get", {"key": rng.choice(KEYS)}
    if roll < 0.75:
        return "delete", {"key": rng.choice(KEYS)}
    compare = []
    for _ in range(rng.randint(0, 2)):
        target = rng.choice(("value", "mod_revision", "create_revision", "version"))
        value: Any = rng.choice(("x", "y", f"v{rng.randint(1, max(1, counter[0]))}")) if target == "value" else rng.randint(0, 4)
        compare.append({"key": rng.choice(KEYS), "target": target, "value": value})
    return "txn", {"compare": compare, "success": [_kv_sub(rng, counter) for _ in range(rng.randint(0, 2))],
                   "failure": [_kv_sub(rng, counter) for _ in range(rng.randint(0, 2))]}


def kv_input_two_keys(rng: random.Random, counter: list[int]) -> tuple[str, dict[str, Any]]:
    """Operations whose effect depends on the state (deletes, txns comparing revisions and
    versions) on two keys: with many of them unanswered, the revision check's choices matter."""
    roll = rng.random()
    key = rng.choice(("a", "b"))
    if roll < 0.3:
        return "put", {"key": key, "value": _value(rng, counter)}
    if roll < 0.5:
        return "get", {"key": key}
    if roll < 0.7:
        return "delete", {"key": key}
    target = rng.choice(("version", "mod_revision", "create_revision"))
    return "txn", {"compare": [{"key": key, "target": target, "value": rng.randint(0, 3)}],
                   "success": [{"op": "put", "key": rng.choice(("a", "b")), "value": _value(rng, counter)}],
                   "failure": [{"op": "delete", "key": rng.choice(("a", "b"))}] if rng.random() < 0.5 else []}


def bigger_kv(seed: int) -> list[Operation]:
    """8 to 13 operations, half of them unanswered: too many for the brute force."""
    rng = random.Random(seed)
    ops = generate(rng, kv_input_two_keys, kv_apply, (1, {}), ops=rng.randint(8, 13), clients=rng.randint(2, 5),
                   unanswered=0.5)
    if rng.random() < 0.5:
        mutate(rng, ops)
    return ops


def register_input(rng: random.Random, counter: list[int]) -> tuple[str, dict[str, Any]]:
    roll = rng.random()
    if roll < 0.4:
        return "read", {}
    if roll < 0.75:
        return "write", {"value": rng.randint(0, 2)}
    return "cas", {"expect": rng.choice((None, 0, 1, 2)), "value": rng.randint(0, 2)}


def generate(rng: random.Random, make_input: Callable[[random.Random, list[int]], tuple[str, dict[str, Any]]],
             apply: Callable[[Any, str, dict[str, Any]], tuple[Any, dict[str, Any]]], init: Any,
             ops: int = 6, clients: int = 3, unanswered: float = 0.15) -> list[Operation]:
    """A history from a real sequential execution, with overlapping and unanswered operations."""
    counter = [0]
    planned: list[tuple[float, Operation]] = []
    client, number = 0, 0
    per_client = {c: rng.randint(0, 6) for c in range(clients)}  # each client's next free moment
    while number < ops:
        c = rng.choice(list(per_client))
        call = per_client[c] + rng.randint(0, 3)
        duration = rng.randint(0, 8)
        name, input = make_input(rng, counter)
        if rng.random() < unanswered:
            op = Operation(number, c, name, input, call, None, None, error="timeout")
            point = call + rng.uniform(0, 12) if rng.random() < 0.65 else None
            del per_client[c]  # it stays open to the end: this client makes no more calls
            client += 1
            per_client[clients + client] = call + rng.randint(0, 4)
        else:
            op = Operation(number, c, name, input, call, call + duration, None)
            point = call + rng.uniform(0, duration)
            per_client[c] = call + duration
        planned.append((point if point is not None else float("inf"), op))
        number += 1
    state = init
    for point, op in sorted(planned, key=lambda item: item[0]):
        if point == float("inf"):
            continue
        state, answer = apply(state, op.op, op.input)
        if op.ret is not None:
            op.output = answer
    return [op for _, op in planned]


def mutate(rng: random.Random, ops: list[Operation]) -> None:
    """Changes one answer, or one interval, keeping the history well formed."""
    unanswered = [op for op in ops if op.ret is None]
    if unanswered and rng.random() < 0.15:  # call it later: a read may now see it before it was called
        rng.choice(unanswered).call += rng.randint(1, 10)
        return
    answered = [op for op in ops if op.ret is not None]
    if not answered:
        return
    op = rng.choice(answered)
    if rng.random() < 0.25 or op.output == {}:  # move the operation in time
        shift = rng.randint(-10, 10)
        op.call, op.ret = op.call + shift, op.ret + shift  # type: ignore[operator]
        return
    out = op.output
    assert out is not None
    if "revision" in out and rng.random() < 0.4:
        out["revision"] = max(1, out["revision"] + rng.choice((-1, 1)))
    elif "value" in out:
        out["value"] = rng.choice([v for v in (None, 0, 1, 2) if v != out["value"]])
    elif "ok" in out:
        out["ok"] = not out["ok"]
    elif "kvs" in out and out["kvs"]:
        kv = rng.choice(out["kvs"])
        field = rng.choice(("value", "create_revision", "mod_revision", "version", "drop"))
        if field == "drop":
            out["kvs"].remove(kv)
        elif field == "value":
            kv["value"] = rng.choice(("x", "y", "v1"))
        else:
            kv[field] = max(0, kv[field] + rng.choice((-1, 1)))
    elif "kvs" in out:
        out["kvs"].append({"key": op.input["key"] or "a", "value": "x", "create_revision": 2, "mod_revision": 2, "version": 1})
    elif "deleted" in out:
        out["deleted"] = 1 - out["deleted"]
    elif "succeeded" in out:
        out["succeeded"] = not out["succeeded"]
        branch = op.input["success"] if out["succeeded"] else op.input["failure"]
        out["results"] = [{} if sub["op"] == "put" else {"kvs": []} if sub["op"] == "get" else {"deleted": 0}
                          for sub in branch]
    elif "revision" in out:
        out["revision"] += 1


def random_kv(seed: int) -> list[Operation]:
    rng = random.Random(seed)
    ops = generate(rng, kv_input, kv_apply, (1, {}), ops=rng.randint(2, 7), clients=rng.randint(1, 4))
    if rng.random() < 0.5:
        mutate(rng, ops)
    return ops


def random_register(seed: int) -> list[Operation]:
    rng = random.Random(seed)
    ops = generate(rng, register_input, register_apply, None, ops=rng.randint(2, 7), clients=rng.randint(1, 4))
    if rng.random() < 0.75:
        mutate(rng, ops)
    return ops


def explosive_kv(writes: int = 40, keys: int = 2000) -> list[Operation]:
    """A history no check can settle quickly, and whose search states are big: ``keys`` answered
    puts (one after the other, a store of that many keys), then ``writes`` unanswered puts to
    distinct new keys whose values nobody reads, and an unanswered put of zz; then a read of zz,
    half as many revisions later, whose version (2) no order gives, though nothing in the answers
    alone rules it out. Every way of filling those revisions with unanswered puts (``writes``! /
    (``writes`` / 2)! of them, each leaving a different store) fails only at that last read."""
    ops = [Operation(i, 0, "put", {"key": f"f{i:05d}", "value": f"w{i}"}, 10 * i, 10 * i + 5, {"revision": i + 2})
           for i in range(keys)]
    start = 10 * keys
    ops += [Operation(keys + i, 1 + i, "put", {"key": f"k{i:03d}", "value": f"v{i}"}, start + i, None, None,
                      error="timeout") for i in range(writes)]
    ops.append(Operation(keys + writes + 1, 2 + writes, "put", {"key": "zz", "value": "nobody"}, start, None, None,
                         error="timeout"))
    top = keys + 2 + writes // 2
    ops.append(Operation(keys + writes, 1 + writes, "get", {"key": "zz"}, start + 1000, start + 1001,
                         {"revision": top, "kvs": [{"key": "zz", "value": "nobody", "create_revision": top,
                                                    "mod_revision": top, "version": 2}]}))
    return ops


# --- a model of one's own: named registers (as in docs/check.md), split by name ------------------

from gofail_py.models import Model  # noqa: E402


class Registers(Model):
    """read {"name"} -> {"value"}; write {"name", "value"} -> {}; every register starts at 0."""

    name = "registers"
    operations = frozenset({"read", "write"})

    def init(self) -> int:
        return 0

    def step(self, state: Any, op: str, input: Any, output: Any) -> Any:
        if op == "write":
            return input["value"]
        return state if output is None or output["value"] == state else None

    def partition(self, ops: Any) -> list[list[Operation]]:
        parts: dict[str, list[Operation]] = {}
        for op in ops:
            parts.setdefault(op.input["name"], []).append(op)
        return list(parts.values())


def registers_apply(state: dict[str, int], op: str, input: dict[str, Any]) -> tuple[dict[str, int], dict[str, Any]]:
    if op == "read":
        return state, {"value": state.get(input["name"], 0)}
    return {**state, input["name"]: input["value"]}, {}


def registers_input(rng: random.Random, counter: list[int]) -> tuple[str, dict[str, Any]]:
    name = rng.choice(("x", "y"))
    return ("read", {"name": name}) if rng.random() < 0.5 else ("write", {"name": name, "value": rng.randint(0, 2)})


def registers_step(state: dict[str, int], op: Operation) -> Any:
    after, answer = registers_apply(state, op.op, op.input)
    return after if op.output is None or answer == op.output else None


def random_registers(seed: int) -> list[Operation]:
    rng = random.Random(seed)
    ops = generate(rng, registers_input, registers_apply, {}, ops=rng.randint(2, 7), clients=rng.randint(1, 4))
    if rng.random() < 0.8:
        mutate(rng, ops)
    return ops


def registers_brute_force(ops: list[Operation]) -> bool:
    return brute_force(ops, {}, registers_step)
