"""Generates realistic histories in gofail-py's format (docs/check.md): clients that overlap, each
operation's effect taken at one point inside its call..return interval on a real sequential store
(benchmarks/kvstore.py), so the history is linearizable unless a stale read is put in on purpose.

    python -m benchmarks.history_gen OUT.jsonl --ops 50000 [--keys 1] [--clients 10] [--seed 1]
        [--lost 0.002] [--stale-read] [--model kv|register] [--varied]

kv: the etcd robustness mix: get, prefix get, put of a unique value, delete, and a txn that puts
if the key's mod revision is still the one the client last saw (else gets it). Keys are key/00,
key/01, ... (one key: the hot-key case); a prefix get asks for "key/" (every key).
register: read, write of a unique value, cas from the value the client last read.
Lost operations (a timeout: no return, no output) took effect or not, at random, at a point
after their call. --stale-read makes one read near the end answer what the store held before
a write that had returned before the read was called: the history is then not linearizable.
The same arguments give the same bytes."""

from __future__ import annotations

import argparse
import heapq
import json
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.kvstore import KvStore, Register

TARGETS = ("mod_revision", "value", "version", "create_revision")
KV_MIX = (("get", 35), ("prefix", 10), ("put", 25), ("delete", 5), ("txn", 25))
REGISTER_MIX = (("read", 50), ("write", 30), ("cas", 20))
MEAN_LATENCY = 2_000_000  # ns: an etcd request on a loaded test cluster
MEAN_THINK = 300_000  # ns between one answer and the client's next call
TIMEOUT = 20_000_000  # ns after which a client gives up on a request
STALE_AT = 0.97  # the stale read is the first read called after this share of the operations


@dataclass
class Spec:
    ops: int
    clients: int = 10
    keys: int = 1
    lost: float = 0.002
    stale_read: bool = False
    seed: int = 1
    model: str = "kv"
    varied: bool = False  # txns also compare value, version, create_revision, and may delete


@dataclass(order=True)
class Op:
    id: int
    client: int = field(compare=False)
    op: str = field(compare=False)
    input: dict[str, Any] = field(compare=False)
    call: int = field(compare=False)
    ret: int | None = field(compare=False)  # None: lost (indeterminate)
    output: dict[str, Any] | None = field(compare=False, default=None)
    written: int = field(compare=False, default=0)  # when the recorder wrote its line
    stale: bool = field(compare=False, default=False)  # the read answered a past state on purpose

    def line(self) -> dict[str, Any]:
        body: dict[str, Any] = {"id": self.id, "client": self.client, "op": self.op, "input": self.input,
                                "call": self.call, "return": self.ret, "output": self.output if self.ret is not None else None}
        if self.ret is None:
            body["error"] = f"timeout after {TIMEOUT / 1e9:g}s"
        return body


class Clock:
    """Distinct integer nanoseconds: no two events of a history share a timestamp."""

    def __init__(self) -> None:
        self.used: set[int] = set()

    def take(self, t: float, below: int | None = None) -> int:
        """`t` or the next free nanosecond after it; with `below`, a free one under it."""
        value = int(t)
        while value in self.used:
            value += 1
        if below is not None and value >= below:
            value = below - 1
            while value in self.used:
                value -= 1
        self.used.add(value)
        return value


class Client:
    """What one client knows: the mod revision it last saw of each key, the register value it last read."""

    def __init__(self, number: int) -> None:
        self.number = number
        self.seen: dict[str, dict[str, Any] | None] = {}  # the entry it last saw of each key (None: none)
        self.last_value: Any = None

    def learn(self, op: Op) -> None:
        if op.output is None or op.ret is None:
            return
        kvs: list[dict[str, Any]] = list(op.output.get("kvs", []))
        for result in op.output.get("results", []):
            kvs += result.get("kvs", [])
        if op.op in ("get", "txn") and not op.input.get("prefix"):
            key = op.input["key"] if op.op == "get" else op.input["compare"][0]["key"]
            self.seen[key] = next((kv for kv in kvs if kv["key"] == key), None)
        steps = op.input["success"] if op.op == "txn" and op.output["succeeded"] else [dict(op.input, op=op.op)]
        for step in steps:  # what it wrote itself (its entry's counts it can only guess: left as seen)
            if step["op"] == "put":
                self.seen[step["key"]] = {"key": step["key"], "value": step["value"], "mod_revision": op.output["revision"],
                                          "version": -1, "create_revision": -1}
            elif step["op"] == "delete":
                self.seen[step["key"]] = None
        if op.op == "read":
            self.last_value = op.output["value"]


def _keys(count: int) -> list[str]:
    return [f"key/{index:02d}" for index in range(count)]


def _kv_input(rng: random.Random, client: Client, keys: list[str], op_id: int,
              varied: bool) -> tuple[str, dict[str, Any]]:
    kind = rng.choices([k for k, _ in KV_MIX], [w for _, w in KV_MIX])[0]
    key = rng.choice(keys)
    value = f"v{op_id}"
    if kind == "get":
        return "get", {"key": key}
    if kind == "prefix":
        return "get", {"key": "key/", "prefix": True}
    if kind == "put":
        return "put", {"key": key, "value": value}
    if kind == "delete":
        return "delete", {"key": key}
    seen = client.seen.get(key)
    target = rng.choices(TARGETS, [60, 20, 10, 10])[0] if varied else "mod_revision"
    expected = (seen or {}).get(target, "" if target == "value" else 0)
    then = rng.choice(("put", "put", "put", "delete")) if varied else "put"
    success = {"op": "put", "key": key, "value": value} if then == "put" else {"op": "delete", "key": key}
    return "txn", {"compare": [{"key": key, "target": target, "value": expected}],
                   "success": [success], "failure": [{"op": "get", "key": key}]}


def _register_input(rng: random.Random, client: Client, op_id: int) -> tuple[str, dict[str, Any]]:
    kind = rng.choices([k for k, _ in REGISTER_MIX], [w for _, w in REGISTER_MIX])[0]
    if kind == "read":
        return "read", {}
    if kind == "write":
        return "write", {"value": op_id}
    return "cas", {"expect": client.last_value, "value": op_id}


def simulate(spec: Spec) -> list[Op]:
    """Every operation of the history, by id (= call order). Events run in time order: at a call the
    client picks its input from what it has seen, at the linearization point the store applies it,
    at the return the client learns the output and schedules its next call."""
    rng = random.Random(spec.seed)
    clock = Clock()
    store: KvStore | Register = KvStore() if spec.model == "kv" else Register()
    keys = _keys(spec.keys)
    clients = [Client(n) for n in range(spec.clients)]
    ops: list[Op] = []
    stale_from = int(spec.ops * STALE_AT) if spec.stale_read else None
    written: list[str] = []  # keys an answered write changed (a stale read needs one)
    events: list[tuple[int, int, str, int]] = []  # (time, tie-break, what, client or op id)
    sequence = 0

    def push(time: int, what: str, subject: int) -> None:
        nonlocal sequence
        sequence += 1
        heapq.heappush(events, (time, sequence, what, subject))

    for client in clients:
        push(clock.take(1_000_000_000 + rng.expovariate(1 / MEAN_THINK)), "call", client.number)
    while events:
        now, _, what, subject = heapq.heappop(events)
        if what == "call":
            if len(ops) >= spec.ops:
                continue
            client = clients[subject]
            op_id = len(ops)
            name, data = (_kv_input(rng, client, keys, op_id, spec.varied) if isinstance(store, KvStore)
                          else _register_input(rng, client, op_id))
            if stale_from is not None and op_id >= stale_from:  # a read to make stale at its return
                name, data = ("get", {"key": rng.choice(written)}) if isinstance(store, KvStore) and written else (
                    ("read", {}) if isinstance(store, Register) else (name, data))
            latency = rng.lognormvariate(0, 0.6) * MEAN_LATENCY / 1.2
            lost = rng.random() < spec.lost
            op = Op(op_id, client.number, name, data, now, None if lost else clock.take(now + max(latency, 1000)))
            ops.append(op)
            if lost:  # it takes effect (or not) somewhere after the call; the client gives up at TIMEOUT
                if rng.random() < 0.5:
                    push(clock.take(now + rng.uniform(1, TIMEOUT * 2)), "apply", op_id)
                op.written = clock.take(now + TIMEOUT)
                push(op.written, "next", client.number)
            else:
                assert op.ret is not None
                push(clock.take(rng.uniform(now + 1, op.ret - 1), below=op.ret), "apply", op_id)
                op.written = op.ret
                push(op.ret, "return", op_id)
        elif what == "apply":
            op = ops[subject]
            op.output = store.apply(op.op, op.input)
        elif what == "return":
            op = ops[subject]
            if stale_from is not None and op.id >= stale_from and _make_stale(op, ops, store):
                op.stale, stale_from = True, None
            if isinstance(store, KvStore) and op.output is not None:
                written += [key for key in keys if key not in written and _wrote(op, key)]
            clients[op.client].learn(op)
            push(clock.take(now + rng.expovariate(1 / MEAN_THINK)), "call", op.client)
        else:  # "next": after a timeout
            push(clock.take(now + rng.expovariate(1 / MEAN_THINK)), "call", subject)
    if stale_from is not None:
        raise ValueError(f"no read near the end could be made stale: ask for more than {spec.ops} operations")
    return ops


def _make_stale(read: Op, ops: list[Op], store: KvStore | Register) -> bool:
    """Turns `read` (a single-key get or a register read) into a stale one: it answers what the store
    held just before the latest write that returned before the read was called, a write whose
    answer is known. False if `read` is not such a read or no such write exists."""
    if read.op == "get" and not read.input.get("prefix") and isinstance(store, KvStore):
        key = read.input["key"]
        writes = [o for o in ops if o.ret is not None and o.ret < read.call and o.output is not None
                  and _wrote(o, key)]
        if not writes:
            return False
        latest = max(writes, key=lambda o: o.output["revision"] if o.output else 0)
        assert latest.output is not None
        stale = store.read_at(key, latest.output["revision"] - 1)
        if stale == read.output:
            return False
        read.output = stale
        return True
    if read.op == "read" and isinstance(store, Register):
        # a write x that returned before a write w was called, w before the read: with unique
        # values, no order that keeps real time lets the read see x's value
        writes = [o for o in ops if o.ret is not None and o.ret < read.call
                  and (o.op == "write" or (o.op == "cas" and (o.output or {}).get("ok")))]
        if not writes:
            return False
        latest = max(writes, key=lambda o: o.ret or 0)
        earlier = [o for o in writes if (o.ret or 0) < latest.call]
        if not earlier:
            return False
        stale = {"value": max(earlier, key=lambda o: o.ret or 0).input["value"]}
        if stale == read.output:
            return False
        read.output = stale
        return True
    return False


def _wrote(op: Op, key: str) -> bool:
    """Whether `op` changed `key` (a put, a delete that deleted, a txn whose success branch did either)."""
    assert op.output is not None
    if op.op == "put":
        return bool(op.input["key"] == key)
    if op.op == "delete":
        return bool(op.input["key"] == key and op.output["deleted"])
    if op.op == "txn" and op.output["succeeded"]:
        return any(step["key"] == key and (step["op"] == "put" or (step["op"] == "delete" and result.get("deleted")))
                   for step, result in zip(op.input["success"], op.output["results"]))
    return False


def write(spec: Spec, path: Path) -> list[Op]:
    """The history file: the header, then one line per operation in the order a recorder writes
    them (at its return, or when its client gave up on it)."""
    ops = simulate(spec)
    with open(path, "w", encoding="utf-8") as out:
        out.write(json.dumps({"gofail_py_history": 1, "model": spec.model}) + "\n")
        for op in sorted(ops, key=lambda o: o.written):
            out.write(json.dumps(op.line(), separators=(",", ":")) + "\n")
    return ops


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path)
    parser.add_argument("--ops", type=int, required=True)
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--keys", type=int, default=1)
    parser.add_argument("--lost", type=float, default=0.002, help="share of operations that time out")
    parser.add_argument("--stale-read", action="store_true")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--varied", action="store_true", help="txns also compare value, version, create_revision, may delete")
    parser.add_argument("--model", choices=("kv", "register"), default="kv")
    args = parser.parse_args(argv)
    spec = Spec(args.ops, args.clients, args.keys, args.lost, args.stale_read, args.seed, args.model, args.varied)
    ops = write(spec, args.out)
    lost = sum(op.ret is None for op in ops)
    stale = "".join(f", a stale read: id {op.id}" for op in ops if op.stale)
    print(f"{args.out}: {len(ops)} operations, {lost} lost, {spec.clients} clients, model {spec.model}{stale}")


if __name__ == "__main__":
    main()
