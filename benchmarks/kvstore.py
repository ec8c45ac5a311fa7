"""Sequential stores the history generator runs at each operation's linearization point: an
etcd-like key-value store with its revision counter, and a register. Each `apply` takes an
operation's name and input (the history format's) and gives its output, as the real system would."""

from __future__ import annotations

import bisect
from typing import Any

Json = Any


class KvStore:
    """etcd's semantics: the revision starts at 1 and every change raises it by one (a txn at most
    once); a key keeps its create revision, mod revision and version until it is deleted."""

    def __init__(self) -> None:
        self.revision = 1
        self.data: dict[str, dict[str, Json]] = {}
        # per key: (revision, kv or None) after each change, for reads of the past (a stale read)
        self.past: dict[str, list[tuple[int, dict[str, Json] | None]]] = {}

    def apply(self, op: str, data: dict[str, Json]) -> dict[str, Json]:
        if op == "txn":
            return self._txn(data)
        if op == "get":
            return {"revision": self.revision, "kvs": self._range(data)}
        changed: list[str] = []
        result = self._write(op, data, self.revision + 1, changed)
        if changed:
            self._commit(changed)
        return {"revision": self.revision, **result}

    def _range(self, data: dict[str, Json]) -> list[dict[str, Json]]:
        key = data["key"]
        if data.get("prefix"):
            return [dict(self.data[k]) for k in sorted(self.data) if k.startswith(key)]
        return [dict(self.data[key])] if key in self.data else []

    def _write(self, op: str, data: dict[str, Json], revision: int, changed: list[str]) -> dict[str, Json]:
        """A put or delete at `revision` (the one its commit will reach); `changed` gets its key if it
        changed anything. The result has no revision (a txn's results do not carry one)."""
        key = data["key"]
        if op == "put":
            old = self.data.get(key)
            create = old["create_revision"] if old else revision
            version = old["version"] + 1 if old else 1
            self.data[key] = {"key": key, "value": data["value"], "create_revision": create,
                              "mod_revision": revision, "version": version}
            changed.append(key)
            return {}
        if op == "delete":
            if key in self.data:
                del self.data[key]
                changed.append(key)
                return {"deleted": 1}
            return {"deleted": 0}
        raise ValueError(f"unknown kv operation {op!r}")

    def _commit(self, keys: list[str]) -> None:
        self.revision += 1
        for key in keys:
            kv = self.data.get(key)
            self.past.setdefault(key, []).append((self.revision, dict(kv) if kv else None))

    def _compare(self, compare: dict[str, Json]) -> bool:
        kv = self.data.get(compare["key"])
        if kv is None:  # etcd: a value never equals a missing key's; the revisions read as 0
            return bool(compare["target"] != "value" and compare["value"] == 0)
        return bool(kv[compare["target"]] == compare["value"])

    def _txn(self, data: dict[str, Json]) -> dict[str, Json]:
        succeeded = all(self._compare(c) for c in data["compare"])
        changed: list[str] = []
        results: list[dict[str, Json]] = []
        for step in data["success" if succeeded else "failure"]:
            body = {k: v for k, v in step.items() if k != "op"}
            if step["op"] == "get":
                results.append({"kvs": self._range(body)})
            else:
                results.append(self._write(step["op"], body, self.revision + 1, changed))
        if changed:
            self._commit(changed)
        return {"revision": self.revision, "succeeded": succeeded, "results": results}

    def read_at(self, key: str, revision: int) -> dict[str, Json]:
        """What a get of `key` answered when the store was at `revision` (a lagging replica's view)."""
        past = self.past.get(key, [])
        index = bisect.bisect_right([r for r, _ in past], revision) - 1
        kv = past[index][1] if index >= 0 else None
        return {"revision": revision, "kvs": [dict(kv)] if kv else []}


class Register:
    """One value, null at first: read, write, compare-and-set."""

    def __init__(self) -> None:
        self.value: Json = None

    def apply(self, op: str, data: dict[str, Json]) -> dict[str, Json]:
        if op == "read":
            return {"value": self.value}
        if op == "write":
            self._set(data["value"])
            return {}
        if op == "cas":
            ok = self.value == data["expect"]
            if ok:
                self._set(data["value"])
            return {"ok": ok}
        raise ValueError(f"unknown register operation {op!r}")

    def _set(self, value: Json) -> None:
        self.value = value
