"""The `kv` model: etcd's key-value store with its revision counter (docs/check.md).

Here: the model for the general search, whose state is ``(revision, ((key, value, create, mod, version), ...))``.
The shapes of inputs and outputs are checked by kvshape.py; what the operations do is in
kvstore.py, shared with the revision-driven check."""

from __future__ import annotations

from typing import Any

from gofail_py.models import kvshape, kvstore
from gofail_py.models.base import Model

State = tuple[int, tuple[tuple[str, Any, int, int, int], ...]]

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
    operations = frozenset(kvshape.SHAPES)

    def init(self) -> State:
        return (1, ())

    def validate(self, op: str, input: Any, output: Any) -> str | None:
        return kvshape.problem(op, input, output)

    def step(self, state: State, op: str, input: Any, output: Any) -> State | None:
        revision, items = state
        store: kvstore.Store = {key: {"key": key, "value": value, "create_revision": create, "mod_revision": mod,
                                      "version": version} for key, value, create, mod, version in items}
        revision, expected = kvstore.execute(store, revision, op, input)
        if output is not None and expected != output:
            return None
        return (revision, tuple(sorted((key, e["value"], e["create_revision"], e["mod_revision"], e["version"])
                                       for key, e in store.items())))

    def changes(self, state: State, op: str, input: Any) -> bool:
        return op != "get" and self.step(state, op, input, None) != state

    def describe_state(self, state: State) -> Any:
        revision, items = state
        return {"revision": revision, "kvs": [{"key": key, "value": value, "create_revision": create, "mod_revision": mod,
                                               "version": version} for key, value, create, mod, version in items]}
