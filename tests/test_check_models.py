"""The model protocol's edges: what check() refuses, with our errors (exit 2), before it searches."""

from __future__ import annotations

from typing import Any

import pytest

from gofail_py.check import check
from gofail_py.errors import HistoryError, ModelError
from gofail_py.history import Operation
from gofail_py.models import Model, get_model
from tests.support.histories import Registers

WRITE = Operation(1, 0, "write", {"name": "x", "value": 1}, 0, 10, {})


class ListStates(Registers):
    def init(self) -> Any:
        return [0]


class DropsOperations(Registers):
    def partition(self, ops: Any) -> list[list[Operation]]:
        return [list(ops)[:-1]]


def test_unhashable_states_are_refused() -> None:
    with pytest.raises(ModelError, match="states must be hashable"):
        check([WRITE], ListStates())


def test_a_partition_must_keep_every_operation() -> None:
    with pytest.raises(ModelError, match="every operation in exactly one part"):
        check([WRITE, Operation(2, 1, "read", {"name": "x"}, 20, 30, {"value": 1})], DropsOperations())


def test_unknown_models_methods_and_options_are_refused() -> None:
    with pytest.raises(ModelError, match="unknown model 'etcd'"):
        get_model("etcd")
    with pytest.raises(ModelError, match="is not a model"):
        get_model(object())  # type: ignore[arg-type]
    with pytest.raises(ModelError, match="unknown method"):
        check([WRITE], Registers(), method="fast")
    with pytest.raises(ModelError, match="memory must be"):
        check([WRITE], Registers(), memory=0)
    with pytest.raises(ModelError, match="the kv model's own check"):
        check([WRITE], Registers(), method="revisions")
    assert isinstance(get_model("register"), Model) and get_model("kv").name == "kv"


def test_operations_given_as_objects_are_checked_against_the_model() -> None:
    with pytest.raises(HistoryError, match="operation id 1: expected an operation of the kv model"):
        check([WRITE], "kv")
    assert check([Operation(1, 0, "write", {"value": 1}, 0, 10, {})], "register").verdict == "linearizable"
    assert check([], "kv").verdict == "linearizable"
