"""The `register` model: one value, read, written and compared-and-set (docs/check.md)."""

from __future__ import annotations

import json
from typing import Any

from gofail_py.models.base import Model


def _canonical(value: Any) -> str:
    """A JSON value as a hashable state: its canonical text (so 1 and 1.0 stay distinct as JSON has them)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


_NULL = _canonical(None)
# each operation's input keys and how the message shows them (validate runs once per history line)
_SHAPES = {"read": (frozenset(), "{}"), "write": (frozenset(("value",)), '{"value": v}'),
           "cas": (frozenset(("expect", "value")), '{"expect": a, "value": b}')}


class RegisterModel(Model):
    name = "register"
    operations = frozenset(("read", "write", "cas"))

    def init(self) -> str:
        return _NULL

    def step(self, state: str, op: str, input: Any, output: Any) -> str | None:
        if op == "read":
            if output is None:
                return state
            return state if _canonical(output["value"]) == state else None
        if op == "write":
            return _canonical(input["value"])
        # cas
        ok = state == _canonical(input["expect"])
        if output is not None and output["ok"] is not ok:
            return None
        return _canonical(input["value"]) if ok else state

    def validate(self, op: str, input: Any, output: Any) -> str | None:
        if op not in _SHAPES:
            return f"expected an operation of the register model (read, write, cas), not {op!r}"
        keys, shown = _SHAPES[op]
        if not isinstance(input, dict) or input.keys() != keys:
            return f"expected {op}'s input to be {shown}, not {json.dumps(input)}"
        if output is None:
            return None
        if op == "read":
            if not isinstance(output, dict) or output.keys() != {"value"}:
                return f'expected read\'s output to be {{"value": v}}, not {json.dumps(output)}'
        elif op == "write":
            if output != {}:
                return f"expected write's output to be {{}}, not {json.dumps(output)}"
        elif not isinstance(output, dict) or output.keys() != {"ok"} or not isinstance(output["ok"], bool):
            return f'expected cas\'s output to be {{"ok": true|false}}, not {json.dumps(output)}'
        return None

    def describe_state(self, state: str) -> Any:
        return json.loads(state)

    def changes(self, state: str, op: str, input: Any) -> bool:
        if op == "read":
            return False
        if op == "write":
            return _canonical(input["value"]) != state
        return state == _canonical(input["expect"]) and _canonical(input["value"]) != state
