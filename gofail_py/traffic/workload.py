"""What each client asks for next: operations of a model, drawn by the mix's weights, with a value
no other write uses (so every read names the write it saw), and what the client learnt from the
answers (the mod revision it last saw of a key, for its compare-and-set).

A workload is made per client thread: nothing here is shared or locked."""

from __future__ import annotations

import bisect
import itertools
import random
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from gofail_py.errors import TrafficError
from gofail_py.traffic.config import KV_MIX, REGISTER_MIX, TrafficConfig, check_mix

Request = tuple[str, dict[str, Any]]  # (the model's operation, its input)


class ClientWorkload(Protocol):
    """One client's stream of operations."""

    def next(self) -> Request:
        """The operation to send next and its input, in the model's shapes."""

    def observe(self, op: str, input: dict[str, Any], output: dict[str, Any] | None) -> None:
        """What came back (None: no answer)."""


# made once per client thread: (index of the thread, its random generator) -> its workload
WorkloadFactory = Callable[[int, random.Random], ClientWorkload]

# the model's operations each mix name sends
KV_SENDS = {"put": "put", "get": "get", "list": "get", "delete": "delete", "cas": "txn", "txn": "txn"}
REGISTER_SENDS = {"write": "write", "read": "read", "cas": "cas"}


class _Picker:
    def __init__(self, mix: Mapping[str, int], rng: random.Random) -> None:
        chosen = [(name, weight) for name, weight in mix.items() if weight > 0]
        self.names = [name for name, _ in chosen]
        self.bounds = list(itertools.accumulate(weight for _, weight in chosen))
        self.rng = rng

    def pick(self) -> str:
        return self.names[bisect.bisect_right(self.bounds, self.rng.randrange(self.bounds[-1]))]


class _Workload:
    """What the built-in workloads share: the mix's picker and written values no other client or
    write uses (client index and a count of this client's)."""

    def __init__(self, index: int, rng: random.Random, mix: Mapping[str, int]) -> None:
        self.index, self.rng = index, rng
        self.picker = _Picker(mix, rng)
        self.count = 0

    def _value(self) -> str:
        self.count += 1
        return f"c{self.index}.{self.count}"


class KvWorkload(_Workload):
    """etcd-like traffic on ``keys`` keys: put, get, list (a prefix get of them all), delete, cas
    (a txn: if the key's mod revision is still the one this client last saw, put, else get it)
    and txn (up to four distinct keys, each a put, get or delete, as etcd's multi-op txn)."""

    def __init__(self, index: int, rng: random.Random, config: TrafficConfig, mix: Mapping[str, int]) -> None:
        super().__init__(index, rng, mix)
        self.prefix = config.key_prefix
        self.keys = [f"{config.key_prefix}{i}" for i in range(config.keys)]
        self.seen: dict[str, int] = {}  # key -> the mod revision this client last saw (0: absent)

    def next(self) -> Request:
        kind = self.picker.pick()
        key = self.rng.choice(self.keys)
        if kind == "put":
            return "put", {"key": key, "value": self._value()}
        if kind == "get":
            return "get", {"key": key}
        if kind == "list":
            return "get", {"key": self.prefix, "prefix": True}
        if kind == "delete":
            return "delete", {"key": key}
        if kind == "cas":
            return "txn", {"compare": [{"key": key, "target": "mod_revision", "value": self.seen.get(key, 0)}],
                           "success": [{"op": "put", "key": key, "value": self._value()}],
                           "failure": [{"op": "get", "key": key}]}
        ops: list[dict[str, Any]] = []
        for name in self.rng.sample(self.keys, min(4, len(self.keys))):
            roll = self.rng.random()
            if roll < 0.1:
                ops.append({"op": "delete", "key": name})
            elif roll < 0.5:
                ops.append({"op": "get", "key": name})
            else:
                ops.append({"op": "put", "key": name, "value": self._value()})
        return "txn", {"compare": [], "success": ops, "failure": []}

    def _saw(self, kvs: list[dict[str, Any]], asked: list[str]) -> None:
        found = {kv["key"]: kv["mod_revision"] for kv in kvs}
        for key in asked:
            self.seen[key] = found.get(key, 0)

    def observe(self, op: str, input: dict[str, Any], output: dict[str, Any] | None) -> None:
        if output is None:
            return
        if op == "get":
            asked = [k for k in self.keys if k.startswith(input["key"])] if input.get("prefix") else [input["key"]]
            self._saw(output["kvs"], asked)
        elif op == "put":
            self.seen[input["key"]] = output["revision"]
        elif op == "delete":
            self.seen[input["key"]] = 0
        elif op == "txn":
            branch = input["success"] if output["succeeded"] else input["failure"]
            for sub, result in zip(branch, output["results"]):
                if sub["op"] == "put":
                    self.seen[sub["key"]] = output["revision"]
                elif sub["op"] == "delete":
                    self.seen[sub["key"]] = 0
                else:
                    self._saw(result["kvs"], [sub["key"]])


class RegisterWorkload(_Workload):
    """One value: write, read, and cas from the value this client last saw to a new one."""

    def __init__(self, index: int, rng: random.Random, config: TrafficConfig, mix: Mapping[str, int]) -> None:
        super().__init__(index, rng, mix)
        self.last: Any = None

    def next(self) -> Request:
        kind = self.picker.pick()
        if kind == "write":
            return "write", {"value": self._value()}
        if kind == "read":
            return "read", {}
        return "cas", {"expect": self.last, "value": self._value()}

    def observe(self, op: str, input: dict[str, Any], output: dict[str, Any] | None) -> None:
        if output is None:
            return
        if op == "read":
            self.last = output["value"]
        elif op == "write" or (op == "cas" and output["ok"]):
            self.last = input["value"]


_Kind = Callable[[int, random.Random, TrafficConfig, Mapping[str, int]], ClientWorkload]
BUILTIN: dict[str, tuple[_Kind, dict[str, int], dict[str, str]]] = {
    "kv": (KvWorkload, KV_MIX, KV_SENDS), "register": (RegisterWorkload, REGISTER_MIX, REGISTER_SENDS)}


def builtin_workload(model: str, config: TrafficConfig) -> tuple[WorkloadFactory, frozenset[str]]:
    """The built-in workload of a model for this config: a factory per client, and the model's
    operations its mix sends. TrafficError for a model without one or a mix it does not know."""
    if model not in BUILTIN:
        raise TrafficError(f"the model {model!r} has no built-in workload: pass workload= (a factory of "
                           f"ClientWorkload per client) or use one of {', '.join(BUILTIN)}")
    kind, default, sends = BUILTIN[model]
    mix = dict(config.mix) if config.mix is not None else default
    check_mix(mix, sends)

    def make(index: int, rng: random.Random) -> ClientWorkload:
        return kind(index, rng, config, mix)

    return make, frozenset(sends[name] for name, weight in mix.items() if weight > 0)
