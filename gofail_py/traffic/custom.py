"""Your own client as a traffic target: one function per operation of the model.

    def put(input, timeout):          # input in the model's shape, e.g. {"key": "k1", "value": "c0.1"}
        return {"revision": my_store.put(input["key"], input["value"], timeout=timeout)}

    Custom({"put": put, "get": get, ...}, model="kv")

A function returns the operation's output in the model's shape, or raises when no answer came
(the operation is then recorded as indeterminate). ``ops`` may also be a function of the client
index giving that client its own functions (its own connection, say)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, Union

from gofail_py.errors import TrafficError
from gofail_py.models import Model, get_model
from gofail_py.traffic.targets import Connection, Target
from gofail_py.traffic.workload import WorkloadFactory

OpFunction = Callable[[dict[str, Any], float], dict[str, Any]]
Ops = Union[Mapping[str, OpFunction], Callable[[int], Mapping[str, OpFunction]]]


class CustomConnection(Connection):
    def __init__(self, ops: Mapping[str, OpFunction]) -> None:
        self.ops = ops

    def do(self, op: str, input: dict[str, Any], deadline: float) -> dict[str, Any]:
        function = self.ops.get(op)
        if function is None:
            raise TrafficError(f"the client has no function for the operation {op!r}")
        return function(input, max(0.0, deadline - time.monotonic()))

    def recover(self, deadline: float, stop: threading.Event) -> bool:
        stop.wait(max(0.0, min(0.05, deadline - time.monotonic())))
        return True


class Custom(Target):
    """Traffic through your functions; ``model`` is a built-in model's name or a Model object,
    ``workload`` (for a model without a built-in one) makes each client's stream of operations."""

    name = "custom"
    own_answers = True

    def __init__(self, ops: Ops, model: str | Model = "kv", workload: WorkloadFactory | None = None,
                 name: str = "custom") -> None:
        if not callable(ops) and not isinstance(ops, Mapping):
            raise TrafficError("ops must map each operation to a function, or be a function of the client index")
        if isinstance(ops, Mapping):
            for op, function in ops.items():
                if not isinstance(op, str) or not callable(function):
                    raise TrafficError(f"ops must map operation names to functions, not {op!r}: {function!r}")
        self.model = get_model(model)
        self.ops = ops
        self.workload = workload
        self.name = name

    def supports(self) -> frozenset[str] | None:
        return frozenset(self.ops) if isinstance(self.ops, Mapping) else None

    def connect(self, client: int) -> Connection:
        ops = self.ops(client) if not isinstance(self.ops, Mapping) else self.ops
        if not isinstance(ops, Mapping):
            raise TrafficError(f"ops({client}) must give a mapping of operation names to functions, not {ops!r}")
        return CustomConnection(ops)

    def describe(self) -> str:
        return f"{self.name} ({self.model.name} model)"
