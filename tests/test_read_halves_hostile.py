"""The two-process read (gofail_py/history/twohalves.py) against files a hostile review found where
the split's result differed from the sequential reader's (read_history(path, fast=False)): each must now be the same."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pytest

from gofail_py.check import check
from gofail_py.errors import HistoryError
from gofail_py.history import read_history, twohalves

pytestmark = pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="one CPU: a history is never split")

HEADER = '{"gofail_py_history": 1, "model": "kv"}'


@pytest.fixture(autouse=True)
def idle(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "getloadavg", lambda: (0.0, 0.0, 0.0))
    monkeypatch.setattr(twohalves, "running_now", lambda: 0)
    monkeypatch.setattr(threading, "active_count", lambda: 1)


def _put(i: int, value: str = "v", ret: int | None = None) -> str:
    return json.dumps({"id": i, "client": 0, "op": "put", "input": {"key": "k", "value": value}, "call": 10 * i + 1,
                       "return": 10 * i + 2 if ret is None else ret, "output": {"revision": i + 2}},
                      separators=(",", ":"), ensure_ascii=False)


def _split(path: Path, min_bytes: int = 0) -> tuple[str, object]:
    try:
        ops = twohalves.read_operations(read_history(str(path), "kv"), None, min_bytes=min_bytes)
    except HistoryError as error:
        return "error", str(error)
    return "ops", [f"{op.path}:{op.line} " + json.dumps(op.to_dict()) for op in ops]


def _sequential(path: Path) -> tuple[str, object]:
    try:
        ops = list(read_history(str(path), "kv", fast=False))
    except HistoryError as error:
        return "error", str(error)
    return "ops", [f"{op.path}:{op.line} " + json.dumps(op.to_dict()) for op in ops]


def test_a_headerless_files_first_line_error_comes_before_a_later_line_that_is_not_utf8(tmp_path: Path) -> None:
    """The fallback gives the reader back ALL the bytes (the headerless first line included) as one
    chunk: the UTF-8 check of that chunk runs before line 1 is looked at."""
    path = tmp_path / "h.jsonl"
    path.write_bytes(_put(0, ret=0).encode() + b"\n" + _put(1).encode() + b"\n\xff\n" + _put(2).encode() + b"\n")
    sequential = _sequential(path)
    assert sequential == ("error", f"{path}:1: expected return >= call: it returned at 0, before its call at 1")
    assert _split(path) == sequential


def test_an_early_error_comes_before_a_non_utf8_line_megabytes_later(tmp_path: Path) -> None:
    """The sequential reader decodes 1 MB chunks; the fallback after a split decodes the whole file as
    one chunk, so a bad byte at the end beats a JSON error on line 3 (a file of the size that splits)."""
    path = tmp_path / "h.jsonl"
    lines = [HEADER, _put(0), "{bad"] + [_put(i) for i in range(1, 40000)]
    path.write_bytes(("\n".join(lines) + "\n").encode() + b"\xff\n")
    assert path.stat().st_size >= twohalves.PAYS_FROM
    sequential = _sequential(path)
    assert sequential[0] == "error" and str(sequential[1]).startswith(f"{path}:3: expected one JSON object")
    assert _split(path, min_bytes=twohalves.PAYS_FROM) == sequential


def test_a_line_over_max_line_bytes_in_the_first_half_is_an_error(tmp_path: Path) -> None:
    """MAX_LINE is in bytes for the sequential reader; the split compares it with characters:
    9 Mi two-byte characters (18 MiB) pass."""
    path = tmp_path / "h.jsonl"
    lines = [HEADER, _put(0, "é" * (9 << 20))] + [_put(i) for i in range(1, 200)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    sequential = _sequential(path)
    assert sequential == ("error", f"{path}:2: expected a line of at most {16 << 20} bytes")
    assert _split(path) == sequential


def test_a_line_over_max_line_bytes_in_the_second_half_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "h.jsonl"
    padding = [" " * 1000] * (20 << 10)  # blank lines: the long line lands after the cut
    lines = [HEADER, _put(0)] + padding + [_put(1, "é" * (9 << 20)), _put(2)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    sequential = _sequential(path)
    assert sequential == ("error", f"{path}:{len(lines) - 1}: expected a line of at most {16 << 20} bytes")
    assert _split(path) == sequential


def test_a_deadline_during_the_split_does_not_hide_an_early_error(tmp_path: Path) -> None:
    """The sequential read raises line 3's error at once (it looks at the clock every 8192
    operations); the split keeps that error while it waits for the child, then says out of time:
    a malformed file's check becomes 'unknown' instead of the FILE:LINE error."""
    path = tmp_path / "h.jsonl"
    lines = [HEADER, _put(0), "{bad"] + [_put(i) for i in range(1, 40000)]
    path.write_text("\n".join(lines) + "\n")
    assert path.stat().st_size >= twohalves.PAYS_FROM
    with pytest.raises(HistoryError, match=r":3: expected one JSON object"):
        twohalves.read_operations(read_history(str(path), "kv"), 0.0)
    with pytest.raises(HistoryError, match=r":3: expected one JSON object"):
        check(str(path), timeout=0.02)
