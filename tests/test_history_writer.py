"""The Recorder's writer (lines made field by field, in batches at each write): its files read
back as the frozen ones before it (tests/support/recorder_v1.py, recorder_v2.py) wrote them, line
for line byte for byte as recorder_v2's, whatever the strings hold; many threads lose no line and
write none twice, also while close() comes in between; a run killed midway leaves whole lines."""

from __future__ import annotations

import itertools
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from gofail_py.errors import HistoryError, RecorderError
from gofail_py.history import Recorder, read_history
from gofail_py.history.lines import history_lines, json_text, kv_input_text, kv_output_text
from gofail_py.history.recorder import FLUSH_LINES
from tests.support.goprog import REPO
from tests.support.recorder_v1 import RecorderV1
from tests.support.recorder_v2 import RecorderV2

# what breaks hand-made JSON: quotes, backslashes, every control character, separators JSON allows
# raw but JavaScript does not, non-ASCII of each UTF-8 length, and text that looks like JSON
HOSTILE = ['"', "\\", '\\"', "\x00", "\x1f", "\x7f", "\n", "\r\n", "\t", "\b\f", "\u2028", "\u2029", "é", "中",
           "\U0001f600", "\ufeff", '","id":1,"x":"', "}{", "null", " ", ""]


def text(rng: random.Random) -> str:
    parts = []
    for _ in range(rng.randrange(4)):
        roll = rng.random()
        if roll < 0.4:
            parts.append(rng.choice(HOSTILE))
        elif roll < 0.7:
            parts.append(chr(rng.randrange(0x20, 0x7f)))
        else:  # any code point but a surrogate (UTF-8 cannot hold one)
            point = rng.randrange(0x110000 - 0x800)
            parts.append(chr(point if point < 0xD800 else point + 0x800))
    return "".join(parts)


def shuffled(rng: random.Random, value: dict[str, Any]) -> dict[str, Any]:
    """The same dict with its keys in another order (a reader must not care)."""
    items = list(value.items())
    rng.shuffle(items)
    return dict(items)


def kv(rng: random.Random) -> dict[str, Any]:
    return shuffled(rng, {"key": text(rng), "value": text(rng), "create_revision": rng.randrange(1, 10**12),
                          "mod_revision": rng.randrange(1, 10**12), "version": rng.randrange(1, 99)})


def sub_op(rng: random.Random) -> tuple[dict[str, Any], dict[str, Any]]:
    """A txn's operation and its result."""
    kind = rng.choice(["put", "get", "get", "delete"])
    if kind == "put":
        return shuffled(rng, {"op": "put", "key": text(rng), "value": text(rng)}), {}
    if kind == "get":
        sub = {"op": "get", "key": text(rng), **({"prefix": rng.random() < 0.5} if rng.random() < 0.3 else {})}
        return shuffled(rng, sub), {"kvs": [kv(rng) for _ in range(rng.randrange(3))]}
    return shuffled(rng, {"op": "delete", "key": text(rng)}), {"deleted": rng.randrange(2)}


def kv_operation(rng: random.Random) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """A well-formed kv operation: (op, input, output), keys in random order."""
    revision = rng.randrange(1, 10**15)
    op = rng.choice(["put", "get", "delete", "txn"])
    if op == "put":
        return op, shuffled(rng, {"key": text(rng), "value": text(rng)}), {"revision": revision}
    if op == "get":
        input = {"key": text(rng), **({"prefix": rng.random() < 0.5} if rng.random() < 0.3 else {})}
        return op, shuffled(rng, input), shuffled(rng, {"revision": revision, "kvs": [kv(rng) for _ in range(rng.randrange(4))]})
    if op == "delete":
        return op, {"key": text(rng)}, shuffled(rng, {"revision": revision, "deleted": rng.randrange(2)})
    compare = []
    for _ in range(rng.randrange(3)):
        target = rng.choice(["value", "mod_revision", "create_revision", "version"])
        compare.append(shuffled(rng, {"key": text(rng), "target": target,
                                      "value": text(rng) if target == "value" else rng.randrange(10**9)}))
    success = [sub_op(rng) for _ in range(rng.randrange(4))]
    failure = [sub_op(rng) for _ in range(rng.randrange(3))]
    succeeded = rng.random() < 0.5
    input = shuffled(rng, {"compare": compare, "success": [s for s, _ in success], "failure": [s for s, _ in failure]})
    results = [r for _, r in (success if succeeded else failure)]
    return op, input, shuffled(rng, {"revision": revision, "succeeded": succeeded, "results": results})


def off_shape(rng: random.Random, value: Any) -> Any:
    """``value`` bent out of the model's shapes, as a trusted caller that broke its promise would
    give it: the writer must still write what it was given."""
    roll = rng.random()
    if roll < 0.2:
        return {**value, "extra": text(rng)}
    if roll < 0.4 and value:
        return {key: 1.5 for key in value}
    if roll < 0.6:
        return {key: [None, {"deep": text(rng)}] for key in value}
    if roll < 0.8:
        return [value, text(rng)]
    return {key + "x": item for key, item in value.items()}


def record(cls: type[Any], path: Path, rng: random.Random, trusted: bool, model: str = "kv", bent: bool = False) -> None:
    """Drives one recorder through random calls of several clients: answered, lost (with hostile
    reasons), with meta, some still in flight at close. ``rng`` decides it all, so two recorders
    given equal generators get the same calls in the same order."""
    clock = iter(range(1000, 10**9, 7)).__next__
    rec = cls(path, model=model, clock=clock, trusted=trusted)
    in_flight: dict[int, tuple[Any, Any]] = {}
    for _ in range(rng.randrange(20, 120)):
        client = rng.randrange(6)
        if client in in_flight:
            call, output = in_flight.pop(client)
            if rng.random() < 0.15:
                rec.lost(call, rng.choice(["timeout after 0.5s", text(rng)]))
            else:
                rec.returned(call, output)
            continue
        if model == "kv":
            op, input, output = kv_operation(rng)
            if bent and rng.random() < 0.3:
                input = off_shape(rng, input)
            if bent and rng.random() < 0.3:
                output = off_shape(rng, output)
        else:
            op, input, output = rng.choice([("read", {}, {"value": text(rng)}), ("write", {"value": text(rng)}, {}),
                                            ("cas", {"expect": text(rng), "value": text(rng)}, {"ok": rng.random() < 0.5})])
        meta = {"note": text(rng), text(rng): [1, None]} if rng.random() < 0.1 else None
        in_flight[client] = (rec.call(client, op, input, meta=meta), output)
    rec.close()


def parsed_lines(path: Path) -> dict[int, Any]:
    """Every operation line as parsed JSON, by id (the order of lines is free)."""
    lines = path.read_text(encoding="utf-8").split("\n")  # not splitlines(): U+2028 and others are in strings
    assert lines.pop() == ""
    assert json.loads(lines[0])["gofail_py_history"] == 1
    found = {}
    for line in lines[1:]:
        value = json.loads(line)
        assert value["id"] not in found
        found[value["id"]] = value
    return found


def operations(path: Path) -> list[tuple[Any, ...]]:
    return sorted((op.id, op.client, op.op, op.input, op.call, op.ret, op.output, op.error, op.meta)
                  for op in read_history(str(path)))


@pytest.mark.parametrize("trusted", [False, True])
def test_the_writer_reads_back_as_the_one_before_on_random_kv_operations(tmp_path: Path, trusted: bool) -> None:
    total = 0
    for seed in range(40):
        old, new = tmp_path / f"old{seed}.jsonl", tmp_path / f"new{seed}.jsonl"
        record(RecorderV1, old, random.Random(seed), trusted)
        record(Recorder, new, random.Random(seed), trusted)
        before = operations(old)
        assert operations(new) == before, seed
        assert parsed_lines(new) == parsed_lines(old)
        total += len(before)
    assert total > 1000  # the generator made enough to mean something


def line_bytes(path: Path) -> tuple[bytes, list[bytes]]:
    """The header line and every other line, sorted (each write's lines are in id order; where the
    writes fall differs between writers)."""
    lines = path.read_bytes().split(b"\n")
    assert lines.pop() == b""
    return lines[0], sorted(lines[1:])


@pytest.mark.parametrize(("trusted", "bent", "model"), [(False, False, "kv"), (True, False, "kv"), (True, True, "kv"),
                                                        (False, False, "register")])
def test_every_line_is_byte_for_byte_the_one_before(tmp_path: Path, trusted: bool, bent: bool, model: str) -> None:
    """The format did not change: the same calls give the same bytes as recorder_v2 (the same
    clock readings: a call's and a return's, none for a lost call), off the shapes too."""
    for seed in range(40):
        old, new = tmp_path / f"old{seed}.jsonl", tmp_path / f"new{seed}.jsonl"
        record(RecorderV2, old, random.Random(seed), trusted, model=model, bent=bent)
        record(Recorder, new, random.Random(seed), trusted, model=model, bent=bent)
        assert line_bytes(new) == line_bytes(old), seed


def test_the_writer_reads_back_as_the_one_before_on_a_model_of_ones_own_shapes(tmp_path: Path) -> None:
    for seed in range(10):
        old, new = tmp_path / f"old{seed}.jsonl", tmp_path / f"new{seed}.jsonl"
        record(RecorderV1, old, random.Random(seed), False, model="register")
        record(Recorder, new, random.Random(seed), False, model="register")
        assert operations(new) == operations(old)


def test_a_trusted_caller_that_breaks_its_promise_gets_what_it_gave_written(tmp_path: Path) -> None:
    """Off the shapes the f-strings know, the writer falls back to plain JSON: the line holds what
    it was given, as before (and the reader refuses it, as before)."""
    for seed in range(30):
        old, new = tmp_path / f"old{seed}.jsonl", tmp_path / f"new{seed}.jsonl"
        record(RecorderV1, old, random.Random(seed), True, bent=True)
        record(Recorder, new, random.Random(seed), True, bent=True)
        assert parsed_lines(new) == parsed_lines(old), seed


@pytest.mark.parametrize("seed", range(200))
def test_each_part_is_the_json_of_its_value(seed: int) -> None:
    rng = random.Random(seed)
    op, input, output = kv_operation(rng)
    assert json.loads(kv_input_text(op, input)) == input
    assert json.loads(kv_output_text(op, output)) == output
    bent_in, bent_out = off_shape(rng, input), off_shape(rng, output)
    assert kv_input_text(op, bent_in) == json_text(bent_in) == json.dumps(bent_in, ensure_ascii=False, separators=(",", ":"))
    assert kv_output_text(op, bent_out) == json_text(bent_out)
    assert kv_output_text("put", {"revision": "2,\"x\":3"}) == '{"revision":"2,\\"x\\":3"}'  # no text unescaped


class Revision(int):
    """An int of another type: written as format(n, "d") writes it."""


@pytest.mark.parametrize(("op", "input", "output"), [
    ("put", {"key": "k", "value": "v"}, {"revision": 2}),
    ("put", {"value": "v", "key": "k\u2028\""}, {"revision": True}),  # a bool where a number goes: 1
    ("put", {"key": "k", "value": "v"}, {"revision": Revision(7)}),
    ("put", {"key": "k", "value": 3}, {"revision": 2}),  # not a string: plain JSON
    ("put", {"key": "k", "value": "v", "x": 1}, {"revision": 2}),
    ("put", {"key": "k"}, {"revision": 2.0}),
    ("get", {"key": "k"}, {"revision": 2, "kvs": []}),
    ("get", {"key": "k", "prefix": True}, {"kvs": [{"key": "k", "value": "v", "create_revision": 2, "mod_revision": 3,
                                                    "version": False}], "revision": 3}),
    ("get", {"key": "k"}, {"revision": 2, "kvs": [{"key": "k", "value": "v"}]}),
    ("get", {"prefix": True}, {"revision": 2, "kvs": None}),
    ("delete", {"key": "k"}, {"revision": 2, "deleted": 1}),
    ("delete", {"key": "k"}, {"deleted": True, "revision": 2}),
    ("delete", {"key": "k", "prefix": True}, {"revision": 2, "deleted": 0}),
    ("delete", {"key": "k"}, {"revision": 2, "deleted": "1"}),
    ("delete", {"key": "k"}, {"revision": 2}),
    ("get", ["k"], {"revision": 2, "kvs": []}),
    ("put", {"key": "k", "value": "v"}, [2]),
    ("put", {"key": "k", "value": "v"}, {"revision": {1, 2}}),  # JSON cannot write it: no answer
])
def test_each_line_of_a_put_get_or_delete_is_the_one_its_parts_make(op: str, input: Any, output: Any) -> None:
    """A trusted put, get or delete's line is made in one f-string; off its shapes, the parts of the
    general way (the input's text, the output's) decide: the same bytes either way."""
    call = (5, 1, op, input, 100, None, None)
    line = history_lines([(5, call, 99, output)], kv=True)[0]  # a return before its call: the call time
    try:
        parts = (f'{{"id":5,"client":1,"op":"{op}","input":{kv_input_text(op, input)},"call":100,"return":100,'
                 f'"output":{kv_output_text(op, output)}}}\n')
    except TypeError:
        assert json.loads(line)["output"] is None and "could not be written" in json.loads(line)["error"]
        return
    assert line == parts


def test_threads_lose_no_line_and_write_none_twice(tmp_path: Path) -> None:
    path = tmp_path / "h.jsonl"
    done: list[list[tuple[int, str, Any, Any]]] = [[] for _ in range(8)]
    with Recorder(path, trusted=True) as rec:
        def client(number: int) -> None:
            rng = random.Random(number)
            for i in range(600):
                op, input, output = kv_operation(rng)
                call = rec.call(number * 1000 + i // 100, op, input)
                if i % 50 == 49:
                    rec.lost(call, "timeout after 1s")
                    output = None
                else:
                    rec.returned(call, output)
                done[number].append((call.id, op, input, output))

        threads = [threading.Thread(target=client, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    read = {op.id: (op.id, op.op, op.input, op.output) for op in read_history(str(path))}
    expected = {item[0]: item for items in done for item in items}
    assert len(read) == len(expected) == 4800
    assert read == expected


def test_the_recorder_refuses_misuse_and_a_lone_surrogate(tmp_path: Path) -> None:
    path = tmp_path / "h.jsonl"
    with Recorder(path) as rec:
        call = rec.call(0, "put", {"key": "k", "value": "v"})
        with pytest.raises(RecorderError, match="lone surrogate"):
            rec.returned(rec.call(1, "get", {"key": "k"}),
                         {"revision": 2, "kvs": [{"key": "k", "value": "\ud800", "create_revision": 2,
                                                  "mod_revision": 2, "version": 1}]})
        with pytest.raises(RecorderError, match="lone surrogate"):
            rec.call(2, "put", {"key": "\udfff", "value": "v"})
        rec.lost(call, "a reason with \udc80 in it")  # a lost call is always written
        with pytest.raises(RecorderError, match="not in flight"):
            rec.lost(call, "again")
    ops = operations(path)
    assert [(op[0], op[7]) for op in ops] == [(0, "a reason with ? in it"),
                                               (1, "recorder closed before it returned")]


SCRIPT = """
import os, sys, time
from gofail_py.history import Recorder
rec = Recorder(sys.argv[1], trusted=True)
for i in range(int(sys.argv[2])):
    rec.returned(rec.call(0, "put", {"key": "k\\"\\\\\\n", "value": "v%d \\u00e9" % i}), {"revision": i + 2})
rec.call(1, "get", {"key": "k"})
if sys.argv[3] == "kill":
    print("ready", flush=True)
    time.sleep(60)
"""


def _recording(tmp_path: Path) -> Path:
    left = [name for name in os.listdir(tmp_path) if name.endswith(".recording")]
    assert len(left) == 1 and not (tmp_path / "h.jsonl").exists()
    return tmp_path / left[0]


def test_a_run_killed_midway_leaves_whole_lines_that_read_back(tmp_path: Path) -> None:
    """SIGKILL: what was flushed (every FLUSH_LINES lines of a thread) is there, in whole lines."""
    operations_ = 3 * FLUSH_LINES + 5
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT, str(tmp_path / "h.jsonl"), str(operations_), "kill"],
                            stdout=subprocess.PIPE, cwd=REPO, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline() == "ready\n"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    partial = _recording(tmp_path)
    assert partial.read_bytes().endswith(b"\n")
    ops = list(read_history(str(partial)))  # every line reads: none cut in two
    # at least what the count flushed (a slow machine may also have flushed by age), in order
    assert [op.id for op in ops] == list(range(len(ops))) and 3 * FLUSH_LINES <= len(ops) <= operations_
    assert ops[-1].input == {"key": 'k"\\\n', "value": f"v{len(ops) - 1} é"}


def test_a_recorder_dropped_without_close_writes_what_it_buffered(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path / "h.jsonl"), "10", "exit"], cwd=REPO,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert [op.id for op in read_history(str(_recording(tmp_path)))] == list(range(10))


def test_a_write_that_fails_is_an_error_and_close_says_where_the_rest_is(tmp_path: Path) -> None:
    """The file size limit (RLIMIT_FSIZE) stops a write midway, as a full disk would."""
    script = """
import resource, signal, sys
from gofail_py.errors import RecorderError
from gofail_py.history import Recorder
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (20000, 20000))
rec = Recorder(sys.argv[1])
failed = None
for i in range(2000):
    try:
        rec.returned(rec.call(0, "put", {"key": "k", "value": "v%d" % i}), {"revision": i + 2})
    except OSError as error:
        failed = failed or error
try:
    rec.close()
except RecorderError as error:
    print("close:", error)
print("write:", failed)
"""
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path / "h.jsonl")], cwd=REPO,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "write: [Errno 27] File too large" in done.stdout
    assert "close: cannot write" in done.stdout and "what was recorded is in" in done.stdout
    assert not (tmp_path / "h.jsonl").exists()
    ids: list[int] = []
    try:  # the partial file: whole lines up to the limit (the last may be cut there)
        ids.extend(op.id for op in read_history(str(_recording(tmp_path))))
    except HistoryError:
        pass
    assert ids == list(range(len(ids))) and len(ids) >= FLUSH_LINES


def test_a_trusted_caller_that_breaks_its_promise_still_gets_a_history(tmp_path: Path) -> None:
    """A trusted recorder makes its lines at the write, too late to raise to the caller: a value
    JSON cannot write makes that operation one without an answer (the error says why), a lone
    surrogate is written as JSON's escape of it (it reads back as it was); the others stand."""
    path = tmp_path / "h.jsonl"
    with Recorder(path, trusted=True) as rec:
        rec.returned(rec.call(0, "put", {"key": "k", "value": "a"}), {"revision": object()})
        rec.returned(rec.call(1, "put", {"key": "k\udc80", "value": "b"}), {"revision": 2})
        rec.returned(rec.call(2, "get", {"key": "k"}), {"revision": 2, "kvs": []})
        rec.returned(rec.call(3, "put", {"key": "k", "value": {1, 2}}), {"revision": 3})
    ops = list(itertools.islice(read_history(str(path)), 3))  # the reader streams: line 5 is read after
    assert [(op.id, op.ret is None, op.input, op.output) for op in ops] == [
        (0, True, {"key": "k", "value": "a"}, None), (1, False, {"key": "k\udc80", "value": "b"}, {"revision": 2}),
        (2, False, {"key": "k"}, {"revision": 2, "kvs": []})]
    assert ops[0].error is not None and ops[0].error.startswith("its answer could not be written: TypeError: ")
    last = json.loads(path.read_text(encoding="utf-8").splitlines()[4])  # its input JSON cannot write: as its repr
    assert (last["id"], last["input"], last["return"]) == (3, repr({"key": "k", "value": {1, 2}}), None)
    with pytest.raises(HistoryError, match=r"h.jsonl:5: "):  # which the reader refuses
        list(read_history(str(path)))


@pytest.mark.parametrize("trusted", [False, True])
def test_close_amid_returning_threads_writes_each_call_once(tmp_path: Path, trusted: bool) -> None:
    """close() while eight threads go on calling and returning: every call a thread was handed is
    in the history exactly once, answered or (if close() took it first) without an answer."""
    switching = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # threads take turns often: close() lands between a call's steps
    try:
        _close_amid(tmp_path, trusted)
    finally:
        sys.setswitchinterval(switching)


def _close_amid(tmp_path: Path, trusted: bool) -> None:
    for round_ in range(10):
        path = tmp_path / f"h{round_}.jsonl"
        rec = Recorder(path, trusted=trusted)
        handed: list[list[int]] = [[] for _ in range(8)]
        started = threading.Barrier(9)

        def client(number: int) -> None:
            started.wait()
            for i in range(5000):
                try:
                    call = rec.call(number, "put", {"key": "k", "value": f"{number}.{i}"})
                except RecorderError:
                    return
                handed[number].append(call.id)
                try:
                    rec.returned(call, {"revision": i + 2})
                except RecorderError:
                    return

        threads = [threading.Thread(target=client, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        started.wait()
        while sum(map(len, handed)) < 100 * (round_ + 1):
            time.sleep(0.001)
        rec.close()
        for thread in threads:
            thread.join()
        ids = [op.id for op in read_history(str(path))]  # the reader refuses a duplicate id
        assert sorted(ids) == sorted(id for ids_ in handed for id in ids_), round_


def test_a_return_that_close_does_not_take_leaves_its_call_without_an_answer(tmp_path: Path) -> None:
    """The interleaving the test above met once in a loaded run, made to happen: a trusted return
    passes its check that the recorder is open, close() takes the waiting records before the
    return adds its own, and the client's next call comes in before close() has looked at which
    calls are open. The call must be written without an answer (it was lost before: its client's
    next call had taken its place among the open ones), and the next call must raise."""
    path = tmp_path / "h.jsonl"
    rec = Recorder(path, trusted=True)
    rec.returned(rec.call(0, "put", {"key": "k", "value": "a"}), {"revision": 2})
    adding, go_on = threading.Event(), threading.Event()

    class Held(list[Any]):
        def append(self, item: Any) -> None:
            adding.set()
            go_on.wait(10)
            super().append(item)

    held = Held(rec._file.waiting)  # the list the recorder and its file share, with an append that waits
    rec._file.waiting = rec._waiting = held
    call = rec.call(0, "put", {"key": "k", "value": "b"})
    outcome: list[str] = []

    def client() -> None:
        rec.returned(call, {"revision": 3})
        try:
            rec.call(0, "put", {"key": "k", "value": "c"})
            outcome.append("called")
        except RecorderError:
            outcome.append("closed")

    thread = threading.Thread(target=client)
    thread.start()
    assert adding.wait(10)
    take = rec._file.take

    def take_then_let_the_return_in() -> list[Any]:
        records = take()
        go_on.set()
        thread.join(10)
        return records

    rec._file.take = take_then_let_the_return_in  # type: ignore[method-assign]
    rec.close()
    assert outcome == ["closed"]
    assert [(op.id, op.ret is None, op.error) for op in read_history(str(path))] == [
        (0, False, None), (1, True, "recorder closed before it returned")]
