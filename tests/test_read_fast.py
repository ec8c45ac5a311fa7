"""The kv reader's fast path (gofail_py/history/fastlines.py) gives what the general reader gives:
the same operations, or the same FILE:LINE error, on thousands of random history files.

The files mix the lines our Recorder writes (which the fast path takes) with every way a line
can differ from them: other spellings of the same JSON (spaces, reordered fields, escapes,
ASCII-escaped unicode, extra fields, numbers as 1.0 or 1e3) and bad lines (truncated, a wrong
type, leading zeros, a return before its call, a revision 0, numbers of thousands of digits,
invalid UTF-8, duplicate ids). Both readers read each file; the fast one must also have taken
most of the Recorder's lines (else the comparison would test nothing)."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

from gofail_py.errors import HistoryError
from gofail_py.history import Recorder, read_history
from gofail_py.history.fastlines import line_parser

FILES = 3000

# seconds of CPU: in the default suite, out of the developer loop `-m "not slow"`
_slow = pytest.mark.slow
# strings: plain, unicode, what JSON must escape, what looks like the format's own punctuation
PIECES = ["k", "key/0", "v1", "", "é", "日本", "😀", '"', "\\", "\n", "\t", "\x01", "\x7f", "\u2028", "},", '":',
          "null", " ", "/", "\ud7ff", "},{", "}]"]
TIMES = [0, 1, 7, 10**9, 10**17, 10**18 - 1, 10**18, 10**19, 2**63]


def _text(rng: random.Random) -> str:
    return "".join(rng.choice(PIECES[:7] if rng.random() < 0.8 else PIECES) for _ in range(rng.randint(0, 3)))


def _kvs(rng: random.Random, keys: list[str]) -> list[dict[str, Any]]:
    return [{"key": key, "value": rng.choice(["v1", "v2", _text(rng)]), "create_revision": rng.randint(1, 9),
             "mod_revision": rng.choice([rng.randint(1, 9), 0, 10**18]), "version": rng.randint(0, 3)}
            for key in sorted(rng.sample(keys, rng.randint(0, min(3, len(keys)))))]


def _operation(rng: random.Random, number: int, keys: list[str]) -> dict[str, Any]:
    key = rng.choice(keys)
    kind = rng.choice(["put", "get", "get", "delete", "txn", "txn"])
    revision = rng.choice([1, 2, 5, 1234, 10**18 - 1, 10**18]) if rng.random() < 0.1 else rng.randint(1, 50)
    if rng.random() < 0.01:
        revision = 0
    call = rng.choice(TIMES) if rng.random() < 0.1 else rng.randrange(10**12)
    ret: int | None = call + rng.choice([0, 1, 500, 10**9]) if rng.random() < 0.97 else None
    if rng.random() < 0.02 and ret is not None:
        ret = call - 1  # returned before its call
    input: dict[str, Any]
    output: dict[str, Any]
    if kind == "put":
        input, output = {"key": key, "value": _text(rng)}, {"revision": revision}
    elif kind == "get":
        input = {"key": key} if rng.random() < 0.6 else {"key": key[:1], "prefix": rng.random() < 0.8}
        output = {"revision": revision, "kvs": _kvs(rng, keys)}
    elif kind == "delete":
        input, output = {"key": key}, {"revision": revision, "deleted": rng.choice([0, 1, 1])}
    elif rng.random() < 0.8:  # etcd's compare-and-put
        target = rng.choice(["mod_revision", "mod_revision", "version", "create_revision", "value"])
        input = {"compare": [{"key": key, "target": target, "value": _text(rng) if target == "value" else rng.randint(0, 9)}],
                 "success": [{"op": "put", "key": key, "value": _text(rng)}], "failure": [{"op": "get", "key": key}]}
        succeeded = rng.random() < 0.6
        output = {"revision": revision, "succeeded": succeeded,
                  "results": [{}] if succeeded else [{"kvs": _kvs(rng, [key])}]}
    else:  # another txn: no compare, several operations
        input = {"compare": [], "success": [{"op": "put", "key": key, "value": "x"}, {"op": "get", "key": key}],
                 "failure": []}
        output = {"revision": revision, "succeeded": True, "results": [{}, {"kvs": _kvs(rng, [key])}]}
    line: dict[str, Any] = {"id": number, "client": rng.randint(0, 9), "op": kind, "input": input, "call": call,
                            "return": ret, "output": output if ret is not None else None}
    if ret is None:
        line["error"] = rng.choice(["timeout after 0.5s", _text(rng)])
    if rng.random() < 0.03:
        line["meta"] = {"note": _text(rng)}
    return line


def _spelled(rng: random.Random, line: dict[str, Any]) -> str:
    """The line as the Recorder writes it, mostly; else another spelling of the same JSON."""
    roll = rng.random()
    if roll < 0.9:
        return json.dumps(line, ensure_ascii=False, separators=(",", ":"))
    if roll < 0.93:
        return json.dumps(line, separators=(",", ":"))  # unicode as \\u escapes (history_gen's spelling)
    if roll < 0.96:
        return json.dumps(line, ensure_ascii=False)  # spaces
    if roll < 0.99:
        fields = list(line.items())
        rng.shuffle(fields)
        return json.dumps(dict(fields), ensure_ascii=False, separators=(",", ":"))
    text = json.dumps(line, ensure_ascii=False, separators=(",", ":"))
    return text.replace(f'"call":{line["call"]}', f'"call":{line["call"]}.0' if rng.random() < 0.5 else
                        f'"call":{line["call"]}e0')


def _damaged(rng: random.Random, text: str) -> str:
    """One hostile change to a line's text."""
    roll = rng.randrange(12)
    if roll == 0:
        return text[:rng.randrange(max(len(text), 1))]  # truncated
    if roll == 1:
        return text.replace('"revision":', '"revision":0', 1)  # a leading zero (or revision 0..)
    if roll == 2:
        return text.replace('"revision":', '"revision":-', 1)
    if roll == 3:
        return text.replace('"revision":', '"revision":' + "9" * 5000, 1)  # beyond int()'s digit limit
    if roll == 4:
        return text.replace('"call":', '"call":' + "1" * 20, 1)  # past the fast path's 18 digits
    if roll == 5:
        return text.replace('"op":"', '"op":"X', 1)
    if roll == 6:
        return text[:-1] + ',"extra":1}'
    if roll == 7:
        return text + "\r"
    if roll == 8:
        return text.replace('"kvs":[', '"kvs":[1,', 1)
    if roll == 9:
        return text.replace("true", "1", 1).replace("false", "0", 1)
    if roll == 10:
        return text.replace('"key":"', '"key":"\\u0041', 1)
    return " " + text


def _history(seed: int) -> bytes:
    rng = random.Random(seed)
    keys = rng.choice([["k"], ["a", "b", "c"], ["key/00", "key/01", "ké"]])
    lines = ['{"gofail_py_history": 1, "model": "kv"}'] if rng.random() < 0.9 else []
    for number in range(rng.randint(1, 25)):
        text = _spelled(rng, _operation(rng, number if rng.random() < 0.98 else 0, keys))
        if rng.random() < 0.04:
            text = _damaged(rng, text)
        if rng.random() < 0.02:
            text = ""
        lines.append(text)
    data = "\n".join(lines).encode()
    if data and rng.random() < 0.02:
        at = rng.randrange(len(data))
        data = data[:at] + b"\xff" + data[at:]
    return data + (b"\n" if rng.random() < 0.8 else b"")


def _read(path: Path, fast: bool) -> tuple[str, list[str]] | tuple[str, str]:
    try:
        ops = list(read_history(str(path), "kv", fast=fast))
    except HistoryError as error:
        return "error", str(error)
    # to_dict through json: True and 1 (or 1 and 1.0) spelled apart, as they are different values
    return "ops", [f"{op.path}:{op.line} " + json.dumps(op.to_dict()) for op in ops]


@_slow
def test_the_fast_path_and_the_general_reader_agree_on_random_and_hostile_files(tmp_path: Path) -> None:
    path = tmp_path / "h.jsonl"
    outcomes = {"ops": 0, "error": 0}
    taken = tried = 0
    parse = line_parser()
    for seed in range(FILES):
        data = _history(seed)
        path.write_bytes(data)
        fast, general = _read(path, True), _read(path, False)
        assert fast == general, f"seed {seed}:\n{data.decode(errors='replace')}"
        outcomes[fast[0]] += 1
        for text in data.decode(errors="replace").split("\n"):
            if text.startswith('{"id":'):
                tried += 1
                taken += parse(text) is not None
    assert min(outcomes.values()) >= FILES // 5, outcomes  # both kinds of outcome, well represented
    assert taken >= tried // 2, (taken, tried)  # the fast path did the reading it is there for


def test_the_recorders_lines_take_the_fast_path(tmp_path: Path) -> None:
    """Each shape the fast path exists for, written by a real Recorder, is read by it."""
    path = tmp_path / "h.jsonl"
    with Recorder(path, model="kv") as rec:
        rec.returned(rec.call(0, "put", {"key": "ké", "value": "日本"}), {"revision": 2})
        rec.returned(rec.call(0, "get", {"key": "ké"}), {"revision": 2, "kvs": [
            {"key": "ké", "value": "日本", "create_revision": 2, "mod_revision": 2, "version": 1}]})
        rec.returned(rec.call(0, "get", {"key": "", "prefix": True}), {"revision": 2, "kvs": []})
        rec.returned(rec.call(0, "delete", {"key": "x"}), {"revision": 2, "deleted": 0})
        rec.returned(rec.call(0, "txn", {"compare": [{"key": "x", "target": "mod_revision", "value": 0}],
                                         "success": [{"op": "put", "key": "x", "value": "1"}],
                                         "failure": [{"op": "get", "key": "x"}]}),
                     {"revision": 3, "succeeded": True, "results": [{}]})
        rec.returned(rec.call(0, "txn", {"compare": [{"key": "x", "target": "mod_revision", "value": 0}],
                                         "success": [{"op": "put", "key": "x", "value": "2"}],
                                         "failure": [{"op": "get", "key": "x"}]}),
                     {"revision": 3, "succeeded": False, "results": [{"kvs": [
                         {"key": "x", "value": "1", "create_revision": 3, "mod_revision": 3, "version": 1}]}]})
        rec.lost(rec.call(0, "put", {"key": "y", "value": "z"}), "timeout after 0.5s")
    parse = line_parser()
    lines = path.read_text(encoding="utf-8").splitlines()[1:]
    assert len(lines) == 7
    for text in lines:
        assert parse(text) is not None, text
    assert _read(path, True) == _read(path, False)


@pytest.mark.parametrize("text", [
    '{"id":1,"client":0,"op":"put","input":{"key":"k","value":"v"},"call":5,"return":4,"output":{"revision":2}}',
    '{"id":1,"client":0,"op":"put","input":{"key":"k","value":"v"},"call":5,"return":6,"output":{"revision":0}}',
    '{"id":1,"client":0,"op":"put","input":{"key":"k","value":"v\\n"},"call":5,"return":6,"output":{"revision":2}}',
    '{"id":1,"client":0,"op":"put","input":{"key":"k","value":"v"},"call":5,"return":6,"output":{"revision":2},"meta":{}}',
    '{"id":1,"client":0,"op":"get","input":{"key":"k"},"call":5,"return":6,"output":{"revision":2,"kvs":[{"key":"k"}]}}',
    '{"id":1,"client":0,"op":"txn","input":{"compare":[],"success":[],"failure":[]},"call":5,"return":6,'
    '"output":{"revision":2,"succeeded":true,"results":[]}}',
])
def test_lines_the_fast_path_leaves_to_the_general_reader(text: str) -> None:
    """What it must not take: a return before the call, revision 0, an escape, a meta field, a
    malformed kv, a txn of another shape."""
    assert line_parser()(text) is None
