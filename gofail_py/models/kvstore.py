"""What etcd's key-value store does with put, get, delete and txn: one implementation, used by the
`kv` model's step (general search) and by the revision-driven check (gofail_py/check/kvfast.py).

The store is a dict ``key -> entry`` changed in place, plus the revision counter (1 on an empty
store). An entry is the key's kv exactly as a get answers it, ``{"key", "value",
"create_revision", "mod_revision", "version"}``, made once by the write and never changed after
(a later write replaces it): reads compare answers against entries without building any."""

from __future__ import annotations

from typing import Any

Entry = dict[str, Any]
Store = dict[str, Entry]
Undo = list[tuple[str, "Entry | None"]]  # (key, its entry before the change, None: it was absent)


class _Unseen:
    """The value of a put whose value no operation of the history ever sees (no read returns it,
    no compare names it): such puts to one key leave equal states, so the check treats them as one
    kind. It equals no string, as the real value equals none of the values seen."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<a value no read saw>"


UNSEEN: Any = _Unseen()


def read_range(store: Store, key: str, prefix: bool) -> list[Entry]:
    """The kvs a get returns: one key, or every key starting with ``key``, sorted (UTF-8 byte order
    is code point order, as etcd sorts by bytes)."""
    if not prefix:
        entry = store.get(key)
        return [] if entry is None else [entry]
    return [store[name] for name in sorted(name for name in store if name.startswith(key))]


def put(store: Store, key: str, value: Any, revision: int, undo: Undo | None) -> None:
    old = store.get(key)
    if undo is not None:
        undo.append((key, old))
    if old is None:
        store[key] = {"key": key, "value": value, "create_revision": revision, "mod_revision": revision, "version": 1}
    else:
        store[key] = {"key": key, "value": value, "create_revision": old["create_revision"], "mod_revision": revision,
                      "version": old["version"] + 1}


def _delete(store: Store, key: str, undo: Undo | None) -> int:
    old = store.pop(key, None)
    if old is None:
        return 0
    if undo is not None:
        undo.append((key, old))
    return 1


def compare(store: Store, condition: dict[str, Any]) -> bool:
    """One txn condition (equality only). A missing key has mod, create revision and version 0 and
    fails every value comparison (etcd: "nil == empty string, no way to represent a missing value")."""
    entry = store.get(condition["key"])
    target = condition["target"]
    if entry is None:
        return target != "value" and bool(condition["value"] == 0)
    return bool(entry[target] == condition["value"])


def txn(store: Store, revision: int, input: dict[str, Any], undo: Undo | None) -> tuple[int, dict[str, Any]]:
    """The first failing condition picks the failure branch; its operations run in order on the
    changing store (a get sees an earlier put of the same txn) and all share one new revision,
    taken once if anything was put or deleted."""
    succeeded = True
    for condition in input["compare"]:
        if not compare(store, condition):
            succeeded = False
            break
    new = revision + 1
    wrote = False
    results: list[dict[str, Any]] = []
    for sub in input["success"] if succeeded else input["failure"]:
        kind = sub["op"]
        if kind == "put":
            put(store, sub["key"], sub["value"], new, undo)
            wrote = True
            results.append({})
        elif kind == "get":
            results.append({"kvs": read_range(store, sub["key"], sub.get("prefix", False))})
        else:
            deleted = _delete(store, sub["key"], undo)
            wrote = wrote or deleted > 0
            results.append({"deleted": deleted})
    revision = new if wrote else revision
    return revision, {"revision": revision, "succeeded": succeeded, "results": results}


def execute(store: Store, revision: int, op: str, input: dict[str, Any], undo: Undo | None = None) -> tuple[int, dict[str, Any]]:
    """Runs one operation on the store (in place; each change logged in ``undo`` when given):
    the revision after it and its output."""
    if op == "get":
        return revision, {"revision": revision, "kvs": read_range(store, input["key"], input.get("prefix", False))}
    if op == "put":
        put(store, input["key"], input["value"], revision + 1, undo)
        return revision + 1, {"revision": revision + 1}
    if op == "delete":
        deleted = _delete(store, input["key"], undo)
        revision += deleted
        return revision, {"revision": revision, "deleted": deleted}
    return txn(store, revision, input, undo)


def rollback(store: Store, undo: Undo, mark: int = 0) -> None:
    """Undoes the changes logged after position ``mark`` of ``undo``, newest first."""
    while len(undo) > mark:
        key, old = undo.pop()
        if old is None:
            store.pop(key, None)
        else:
            store[key] = old
