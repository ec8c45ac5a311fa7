"""The `kv` model: etcd's key-value store with its revision counter (docs/check.md).

Here: the model for the general search. Its state is ``(revision, items)``, ``items`` a tuple of
``(key, value, create_revision, mod_revision, version)`` sorted by key. A step looks at the keys
its operation names (a prefix get: the keys in that range, found by bisection), runs the
operation on those alone (kvstore.py, shared with the revision-driven check) and puts the changed
ones back: the other items are shared with the state before, so the search's stack of states costs
a pointer per key and state, not a copy of every key. The shapes of inputs and outputs are
checked by kvshape.py."""

from __future__ import annotations

from bisect import bisect_left
from typing import Any

from gofail_py.models import kvshape, kvstore
from gofail_py.models.base import Model

Item = tuple[str, Any, int, int, int]
State = tuple[int, tuple[Item, ...]]


def _named(input: dict[str, Any]) -> list[tuple[str, bool]]:
    """(key, is a prefix) of every key or range an operation looks at or changes."""
    if "compare" not in input:
        return [(input["key"], bool(input.get("prefix")))]
    named = [(condition["key"], False) for condition in input["compare"]]
    named += [(sub["key"], bool(sub.get("prefix"))) for branch in ("success", "failure") for sub in input[branch]]
    return named


def _view(items: tuple[Item, ...], input: dict[str, Any]) -> kvstore.Store:
    """The entries of the keys the operation names, as kvstore's store."""
    keys = [item[0] for item in items]  # one list per step: the search's states share no index
    store: kvstore.Store = {}
    for key, prefix in _named(input):
        at = bisect_left(keys, key)
        while at < len(items) and (keys[at] == key or (prefix and keys[at].startswith(key))):
            name, value, create, mod, version = items[at]
            store[name] = {"key": name, "value": value, "create_revision": create, "mod_revision": mod, "version": version}
            at += 1
            if not prefix:
                break
    return store


def _merge(items: tuple[Item, ...], before: kvstore.Store, after: kvstore.Store) -> tuple[Item, ...]:
    """items with the keys whose entries changed from ``before`` to ``after`` replaced, added or removed."""
    changed = {key for key in before.keys() | after.keys() if before.get(key) is not after.get(key)}
    if not changed:
        return items
    kept = [item for item in items if item[0] not in changed]
    kept += [(key, e["value"], e["create_revision"], e["mod_revision"], e["version"])
             for key, e in after.items() if key in changed]
    kept.sort(key=lambda item: item[0])
    return tuple(kept)


class KvModel(Model):
    name = "kv"
    operations = frozenset(kvshape.SHAPES)

    def init(self) -> State:
        return (1, ())

    def validate(self, op: str, input: Any, output: Any) -> str | None:
        return kvshape.problem(op, input, output)

    def step(self, state: State, op: str, input: Any, output: Any) -> State | None:
        revision, items = state
        store = _view(items, input)
        before = dict(store)
        new, expected = kvstore.execute(store, revision, op, input)
        if output is not None and expected != output:
            return None
        return (new, _merge(items, before, store))

    def changes(self, state: State, op: str, input: Any) -> bool:
        return op != "get" and self.step(state, op, input, None) != state

    def describe_state(self, state: State) -> Any:
        revision, items = state
        return {"revision": revision, "kvs": [{"key": key, "value": value, "create_revision": create, "mod_revision": mod,
                                               "version": version} for key, value, create, mod, version in items]}
