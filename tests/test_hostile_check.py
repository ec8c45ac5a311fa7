"""Hostile histories: terminal escapes, endless lines, deep nesting, a store of many keys. Each
is a clear message and the right exit code, never a traceback, never unbounded memory."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.hostile

GOFAIL_PY = str(Path(sys.executable).parent / "gofail-py")


def cli(*args: str, limit: int | None = None) -> subprocess.CompletedProcess[str]:
    def limited() -> None:
        if limit is not None:
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    return subprocess.run([GOFAIL_PY, *args], capture_output=True, text=True, timeout=120, preexec_fn=limited)


def test_terminal_escapes_in_a_history_do_not_reach_the_terminal(tmp_path: Path) -> None:
    evil = "\x1b]0;owned\x07\x1b[2J\u202e"
    ops = [{"id": 1, "client": 0, "op": "put", "input": {"key": evil, "value": evil}, "call": 0, "return": 5,
            "output": {"revision": 2}, "error": None},
           {"id": 2, "client": 1, "op": "get", "input": {"key": evil}, "call": 10, "return": 20,
            "output": {"revision": 2, "kvs": []}, "meta": {"note": evil}}]
    ops[0].pop("error")
    path = tmp_path / f"h{evil[:1]}.jsonl"
    path.write_text("".join(json.dumps(op, ensure_ascii=False) + "\n" for op in ops))
    done = cli("check", str(path))
    assert done.returncode == 1, done.stderr
    assert "\x1b" not in done.stdout and "\u202e" not in done.stdout and "\x07" not in done.stdout
    assert "could not be placed next" in done.stdout


def test_an_endless_line_is_an_error_in_bounded_memory(tmp_path: Path) -> None:
    done = cli("check", "/dev/zero", limit=512 << 20)
    assert done.returncode == 2
    assert "/dev/zero:1: expected a line of at most 16777216 bytes" in done.stderr
    assert "Traceback" not in done.stderr


def test_deep_nesting_and_giant_numbers_are_errors(tmp_path: Path) -> None:
    for name, text in (("deep", "[" * 200000 + "]" * 200000), ("big", '{"id": ' + "7" * 100000 + "}")):
        path = tmp_path / f"{name}.jsonl"
        path.write_text(text + "\n")
        done = cli("check", str(path))
        assert done.returncode == 2, done.stderr
        assert done.stderr.startswith(f"{path}:1: expected one JSON object"), done.stderr
        assert "Traceback" not in done.stderr


def test_a_big_store_prints_a_cut_state(tmp_path: Path) -> None:
    ops = [{"id": i, "client": 0, "op": "put", "input": {"key": f"k{i:05d}", "value": "v"}, "call": 10 * i,
            "return": 10 * i + 5, "output": {"revision": i + 2}} for i in range(5000)]
    ops.append({"id": 5000, "client": 1, "op": "get", "input": {"key": "k00000"}, "call": 60000, "return": 60005,
                "output": {"revision": 5001, "kvs": []}})
    path = tmp_path / "h.jsonl"
    path.write_text("".join(json.dumps(op) + "\n" for op in ops))
    done = cli("check", str(path))
    assert done.returncode == 1
    state = next(line for line in done.stdout.splitlines() if line.startswith("the state at its end: "))
    assert len(state) < 2200 and state.endswith("characters; --json has it whole)")
    assert len(json.loads(cli("check", str(path), "--json").stdout)["violation"]["state"]["kvs"]) == 5000


def _fifo_with_no_writer(tmp_path: Path) -> Path:
    fifo = tmp_path / "history.fifo"
    os.mkfifo(fifo)
    return fifo


def test_a_fifo_with_no_writer_does_not_hold_the_check_past_its_deadline(tmp_path: Path) -> None:
    done = subprocess.run([GOFAIL_PY, "check", str(_fifo_with_no_writer(tmp_path)), "--timeout", "1"],
                          capture_output=True, text=True, timeout=20)
    assert "Traceback" not in done.stderr
    assert done.returncode == 2 and "a FIFO with no writer" in done.stderr, done.stderr


def test_a_history_from_a_pipe_is_read(tmp_path: Path) -> None:
    # `gofail-py check <(zcat h.jsonl.gz)` hands over a pipe: read like a file
    line = {"id": 1, "client": 0, "op": "put", "input": {"key": "k", "value": "v"}, "call": 0, "return": 5,
            "output": {"revision": 2}}
    done = subprocess.run(["bash", "-c", f'"$0" check <(printf "%s\\n" "$1")', GOFAIL_PY, json.dumps(line)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "linearizable (kv model, 1 operations" in done.stdout


def test_terminal_controls_in_a_history_do_not_reach_the_terminal_through_json(tmp_path: Path) -> None:
    # JSON escapes C0 controls itself, not C1 (U+009B is CSI on some terminals) nor bidi overrides
    evil = "k\u202e\u009b2J"
    ops = [{"id": 1, "client": 0, "op": "put", "input": {"key": evil, "value": evil}, "call": 0, "return": 5,
            "output": {"revision": 2}},
           {"id": 2, "client": 1, "op": "get", "input": {"key": evil}, "call": 10, "return": 20,
            "output": {"revision": 2, "kvs": []}}]
    path = tmp_path / "h.jsonl"
    path.write_text("".join(json.dumps(op, ensure_ascii=False) + "\n" for op in ops))
    done = cli("check", "--json", str(path))
    assert done.returncode == 1, done.stderr
    assert "\u202e" not in done.stdout and "\u009b" not in done.stdout
    assert json.loads(done.stdout)["violation"]["unplaced"][0]["input"] == {"key": evil}
