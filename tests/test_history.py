"""The history format: the Recorder many threads share, and the streaming reader's errors."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

import pytest

from gofail_py.check import check
from gofail_py.errors import HistoryError, RecorderError
from gofail_py.history import Recorder, read_history

PUT = {"id": 1, "client": 0, "op": "put", "input": {"key": "k", "value": "a"}, "call": 0, "return": 10,
       "output": {"revision": 2}}


class Store:
    """A tiny key-value store with etcd's revisions, one lock: the system under test. ``stale``
    makes gets answer from a copy taken at the previous put (a cache that lags by one write)."""

    def __init__(self, stale: bool = False) -> None:
        self.lock = threading.Lock()
        self.revision, self.data = 1, dict[str, dict[str, Any]]()
        self.stale, self.cache = stale, (1, dict[str, dict[str, Any]]())

    def put(self, key: str, value: str) -> dict[str, Any]:
        with self.lock:
            self.cache = (self.revision, dict(self.data))
            self.revision += 1
            old = self.data.get(key)
            self.data[key] = {"key": key, "value": value, "create_revision": old["create_revision"] if old else self.revision,
                              "mod_revision": self.revision, "version": old["version"] + 1 if old else 1}
            return {"revision": self.revision}

    def get(self, key: str) -> dict[str, Any]:
        with self.lock:
            revision, data = self.cache if self.stale else (self.revision, self.data)
            return {"revision": revision, "kvs": [data[key]] if key in data else []}


def _traffic(store: Store, path: Path, threads: int = 6, each: int = 150) -> None:
    with Recorder(path, model="kv") as rec:
        def client(number: int) -> None:
            for i in range(each):
                if i % 3 == 0:
                    value = f"c{number}-{i}"
                    op = rec.call(number, "put", {"key": "k", "value": value})
                    rec.returned(op, store.put("k", value))
                else:
                    op = rec.call(number, "get", {"key": "k"})
                    rec.returned(op, store.get("k"))

        workers = [threading.Thread(target=client, args=(n,)) for n in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()


def test_threads_share_a_recorder_and_a_correct_store_checks_linearizable(tmp_path: Path) -> None:
    path = tmp_path / "h.jsonl"
    _traffic(Store(), path)
    ops = list(read_history(str(path)))
    assert len(ops) == 900 and len({op.id for op in ops}) == 900
    assert all(op.ret is not None and op.call <= op.ret for op in ops)
    assert [op.line for op in ops] == list(range(2, 902))  # line 1 is the header
    assert json.loads(path.read_text().splitlines()[0]) == {"gofail_py_history": 1, "model": "kv"}
    assert check(str(path)).verdict == "linearizable"


def test_a_store_answering_from_a_lagging_cache_is_caught(tmp_path: Path) -> None:
    path = tmp_path / "h.jsonl"
    _traffic(Store(stale=True), path)
    result = check(str(path))
    assert result.verdict == "not linearizable"
    assert result.violation is not None and all(item.op.op == "get" for item in result.violation.unplaced)


def test_close_records_calls_in_flight_as_indeterminate_and_the_file_appears_only_then(tmp_path: Path) -> None:
    path = tmp_path / "h.jsonl"
    path.write_text("an older history\n")
    rec = Recorder(path, model="kv", clock=iter(range(100, 200)).__next__)
    done = rec.call(0, "put", {"key": "k", "value": "a"}, meta={"note": "first"})
    rec.returned(done, {"revision": 2})
    rec.call(1, "put", {"key": "k", "value": "b"})
    assert path.read_text() == "an older history\n"  # not replaced before close
    rec.close()
    rec.close()  # twice is fine
    ops = list(read_history(str(path)))
    assert [(op.id, op.call, op.ret, op.output, op.error, op.meta) for op in ops] == [
        (0, 100, 101, {"revision": 2}, None, {"note": "first"}),
        (1, 102, None, None, "recorder closed before it returned", None)]
    assert [name for name in os.listdir(tmp_path)] == ["h.jsonl"]  # no temporary file left


def test_lost_operations_are_indeterminate(tmp_path: Path) -> None:
    path = tmp_path / "h.jsonl"
    with Recorder(path) as rec:
        op = rec.call(0, "put", {"key": "k", "value": "a"})
        rec.lost(op, "timeout after 0.5s")
        read = rec.call(1, "get", {"key": "k"})
        rec.returned(read, {"revision": 2, "kvs": [{"key": "k", "value": "a", "create_revision": 2, "mod_revision": 2,
                                                    "version": 1}]})
    first = next(iter(read_history(str(path))))
    assert first.indeterminate and first.error == "timeout after 0.5s" and first.output is None
    assert check(str(path)).verdict == "linearizable"  # the lost put took effect: the get saw it


def test_the_recorder_refuses_misuse(tmp_path: Path) -> None:
    with Recorder(tmp_path / "h.jsonl") as rec:
        with pytest.raises(RecorderError, match="expected an operation of the kv model"):
            rec.call(0, "increment", {"key": "k"})
        with pytest.raises(RecorderError, match="expected put's input"):
            rec.call(0, "put", {"key": "k"})
        op = rec.call(0, "put", {"key": "k", "value": "a"})
        with pytest.raises(RecorderError, match="client 0 already has an operation in flight"):
            rec.call(0, "get", {"key": "k"})
        with pytest.raises(RecorderError, match="expected put's output"):
            rec.returned(op, {"revision": "2"})
        rec.returned(op, {"revision": 2})
        with pytest.raises(RecorderError, match="not in flight"):
            rec.returned(op, {"revision": 2})
    with pytest.raises(RecorderError, match="closed"):
        rec.call(1, "get", {"key": "k"})
    with pytest.raises(RecorderError, match="cannot record"):
        Recorder(tmp_path / "missing" / "h.jsonl")


def _lines(tmp_path: Path, *lines: Any, name: str = "h.jsonl") -> str:
    path = tmp_path / name
    path.write_bytes(b"".join((line if isinstance(line, bytes) else json.dumps(line).encode()) + b"\n" for line in lines))
    return str(path)


def _with(**changes: Any) -> dict[str, Any]:
    line = {**PUT, **changes}
    return {key: value for key, value in line.items() if value is not ...}


BAD_LINES: list[tuple[Any, str]] = [
    (b"{not json", "expected one JSON object: Expecting property name"),
    (b"[1, 2]", "expected one JSON object (an operation)"),
    (b'{"id": 1} {"id": 2}', "expected one JSON object: Extra data"),
    (b"\xff\xfe{}", "expected UTF-8 text"),
    (b"[" * 100000 + b"]" * 100000, "it nests too deep"),
    (b'{"id": ' + b"9" * 5000 + b"}", "Exceeds the limit (4300 digits)"),
    (_with(call=...), "missing call"),
    (_with(colour="red"), "unknown colour"),
    (_with(id="1"), 'expected id to be an integer, not "1"'),
    (_with(client=-1), "expected client to be an integer >= 0"),
    (_with(call=20), "expected return >= call: it returned at 10, before its call at 20"),
    (_with(output=None), "expected an output for an operation that returned"),
    (_with(error="boom"), "expected no error on an operation that returned"),
    (_with(**{"return": None}), "expected output null for an operation with no return"),
    (_with(op="increment"), "expected an operation of the kv model (put, get, delete, txn), not \"increment\""),
    (_with(input={"key": "k", "value": "a", "lease": 5}), "expected put's input to be"),
    (_with(output={"revision": 2, "header": {}}), "expected put's output to be"),
    (_with(op="get", input={"key": "k"}, output={"revision": 2, "kvs": [{"key": "k", "value": "a"}]}),
     "expected get's output to be"),
    (_with(op="txn", input={"compare": [], "success": [{"op": "put", "key": "k", "value": "a"}], "failure": []},
           output={"revision": 2, "succeeded": True, "results": []}), "one output for each of the 1 operations"),
    (_with(op="txn", input={"compare": [{"key": "k", "target": "lease", "value": 1}], "success": [], "failure": []},
           output={"revision": 1, "succeeded": True, "results": []}), "expected each txn compare"),
]


@pytest.mark.parametrize("line, message", BAD_LINES, ids=[message for _, message in BAD_LINES])
def test_a_bad_line_is_an_error_at_its_file_and_line(tmp_path: Path, line: Any, message: str) -> None:
    path = _lines(tmp_path, {"gofail_py_history": 1, "model": "kv"}, PUT | {"id": 0}, line)
    with pytest.raises(HistoryError) as caught:
        list(read_history(path))
    assert str(caught.value).startswith(f"{path}:3: ")
    assert message in str(caught.value)
    assert caught.value.exit_code == 2


def test_a_duplicate_id_names_both_lines(tmp_path: Path) -> None:
    path = _lines(tmp_path, PUT, PUT)
    with pytest.raises(HistoryError, match=r"h.jsonl:2: expected a unique id: 1 is also the id on line 1"):
        list(read_history(path))


def test_the_header_names_the_model_and_a_contradicting_one_is_an_error(tmp_path: Path) -> None:
    path = _lines(tmp_path, {"gofail_py_history": 1, "model": "register"},
                  {"id": 1, "client": 0, "op": "write", "input": {"value": 3}, "call": 0, "return": 5, "output": {}})
    reader = read_history(path)
    assert reader.model.name == "register" and [op.op for op in reader] == ["write"]
    with pytest.raises(HistoryError, match=r"h.jsonl:1: the header says model 'register'; it was to be checked as 'kv'"):
        read_history(path, "kv")
    bad = _lines(tmp_path, {"gofail_py_history": 2}, name="bad.jsonl")
    with pytest.raises(HistoryError, match=r"bad.jsonl:1: expected the header"):
        read_history(bad)


def test_blank_lines_crlf_and_no_header_are_fine(tmp_path: Path) -> None:
    path = tmp_path / "h.jsonl"
    path.write_bytes(json.dumps(PUT).encode() + b"\r\n\r\n" + json.dumps(PUT | {"id": 2, "call": 20, "return": 30,
                                                                                "output": {"revision": 3}}).encode())
    ops = list(read_history(str(path)))
    assert [(op.id, op.line) for op in ops] == [(1, 1), (2, 3)]


def test_a_long_history_streams_through_chunks(tmp_path: Path) -> None:
    """Lines cut by the 1 MB chunks are whole again, with their numbers, multi-byte text included."""
    lines = [PUT | {"id": i, "call": 10 * i, "return": 10 * i + 5, "input": {"key": "ключ", "value": f"значение{i}"},
                    "output": {"revision": i + 2}} for i in range(20000)]
    path = _lines(tmp_path, *lines)
    ops = list(read_history(path))
    assert [op.line for op in ops] == list(range(1, 20001))
    assert ops[-1].input == {"key": "ключ", "value": "значение19999"}
    assert check(path).verdict == "linearizable"


def test_a_missing_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(HistoryError, match="cannot read"):
        read_history(str(tmp_path / "nope.jsonl"))
