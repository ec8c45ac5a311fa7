"""A big kv history read in two processes (gofail_py/history/twohalves.py) gives what the
sequential reader gives: the same operations with the same line numbers, or the same FILE:LINE
error, on the random and hostile files of test_read_fast; and no child is left behind, whatever
way the read ends."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

import pytest

from benchmarks.history_gen import Spec, write
from gofail_py.check import check
from gofail_py.errors import HistoryError
from gofail_py.history import read_history, twohalves
from tests.test_read_fast import _history, _read

FILES = 1500
# the split needs a second CPU; the tests give it an idle-looking machine (the suite itself loads it)
pytestmark = pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="one CPU: a history is never split")


@pytest.fixture(autouse=True)
def idle(monkeypatch: pytest.MonkeyPatch) -> None:
    """An idle machine and a process of one thread, as the CLI is: a test run before these in the
    same worker may leave a thread behind (a fresh-clone run failed 5 of these on that)."""
    monkeypatch.setattr(os, "getloadavg", lambda: (0.0, 0.0, 0.0))
    monkeypatch.setattr(twohalves, "running_now", lambda: 0)
    monkeypatch.setattr(threading, "active_count", lambda: 1)


def _read_in_two(path: Path) -> tuple[str, list[str]] | tuple[str, str]:
    try:
        ops = twohalves.read_operations(read_history(str(path), "kv"), None, min_bytes=0)
    except HistoryError as error:
        return "error", str(error)
    return "ops", [f"{op.path}:{op.line} " + json.dumps(op.to_dict()) for op in ops]


def _no_child_left() -> None:
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)


@pytest.fixture
def splits(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """One entry a read that tried to split: False when it fell back to one process (a half not
    UTF-8, a file of one line), True when the two halves read it (or found its error)."""
    taken: list[bool] = []
    split = twohalves.read_in_two

    def counted(*args: Any) -> Any:
        taken.append(True)
        ops = split(*args)
        taken[-1] = ops is not None
        return ops

    monkeypatch.setattr(twohalves, "read_in_two", counted)
    return taken


def test_two_halves_and_the_sequential_reader_agree_on_random_and_hostile_files(tmp_path: Path,
                                                                                 splits: list[bool]) -> None:
    path = tmp_path / "h.jsonl"
    outcomes = {"ops": 0, "error": 0}
    for seed in range(FILES):
        data = _history(seed)
        path.write_bytes(data)
        got = _read_in_two(path)
        assert got == _read(path, False), f"seed {seed}:\n{data.decode(errors='replace')}"
        outcomes[got[0]] += 1
    _no_child_left()
    assert min(outcomes.values()) >= FILES // 5, outcomes
    assert sum(splits) >= FILES * 3 // 4, f"split {sum(splits)} of {len(splits)}"  # the fork path did the reading


def test_a_real_history_reads_the_same_and_checks_the_same(tmp_path: Path, splits: list[bool]) -> None:
    path = tmp_path / "h.jsonl"
    write(Spec(6000, keys=4, stale_read=True), path)
    assert _read_in_two(path) == _read(path, True) == _read(path, False)
    assert splits == [True]
    assert check(str(path)).verdict == check(list(read_history(str(path)))).verdict == "not linearizable"


def test_a_child_that_fails_leaves_the_reading_to_this_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                               splits: list[bool]) -> None:
    path = tmp_path / "h.jsonl"
    write(Spec(2000, keys=3), path)

    def broken(lines: list[str]) -> list[object]:
        raise RuntimeError("the child's parse failed")

    monkeypatch.setattr(twohalves, "_parse", broken)
    assert _read_in_two(path) == _read(path, False)
    assert splits == [True]
    _no_child_left()


def test_the_deadline_stops_the_read_and_the_child(tmp_path: Path) -> None:
    path = tmp_path / "h.jsonl"
    write(Spec(4000, keys=3), path)
    with pytest.raises(twohalves.OutOfTime):
        twohalves.read_operations(read_history(str(path)), deadline=0.0, min_bytes=0)
    _no_child_left()


def test_what_does_not_split_is_read_in_one_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A pipe, a small file, another model, a busy machine: no fork."""
    path = tmp_path / "h.jsonl"
    write(Spec(100), path)
    assert not twohalves.worth_it(read_history(str(path)))  # smaller than PAYS_FROM
    assert twohalves.worth_it(read_history(str(path)), min_bytes=0)
    register = tmp_path / "r.jsonl"
    write(Spec(100, model="register"), register)
    assert not twohalves.worth_it(read_history(str(register)), min_bytes=0)
    read_end, write_end = os.pipe()
    os.write(write_end, path.read_bytes())
    os.close(write_end)
    assert not twohalves.worth_it(read_history(f"/dev/fd/{read_end}"), min_bytes=0)
    os.close(read_end)
    busy = float(len(os.sched_getaffinity(0)))
    monkeypatch.setattr(os, "getloadavg", lambda: (busy, busy, busy))
    assert not twohalves.worth_it(read_history(str(path)), min_bytes=0)


def test_a_machine_busy_only_with_earlier_checks_still_splits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Checks run one after another (a benchmark, a campaign) raise the one-minute load average by
    themselves, about one and a half, while no other process runs: a CPU is free all the same. A
    process that runs now on every other CPU is what makes the child wait."""
    path = tmp_path / "h.jsonl"
    write(Spec(100), path)
    cpus = len(os.sched_getaffinity(0))
    monkeypatch.setattr(os, "getloadavg", lambda: (cpus - 0.5, cpus - 0.5, cpus - 0.5))
    assert twohalves.worth_it(read_history(str(path)), min_bytes=0)
    monkeypatch.setattr(twohalves, "running_now", lambda: cpus - 1)  # the other CPUs taken, now
    assert not twohalves.worth_it(read_history(str(path)), min_bytes=0)


def test_a_reader_killed_midway_leaves_no_child(tmp_path: Path) -> None:
    """SIGKILL of the reading process while its child parses: the child dies with it."""
    import signal
    import subprocess
    import sys
    import time

    path = tmp_path / "h.jsonl"
    write(Spec(2000, keys=3), path)
    script = ("import os, sys, time\n"
              "os.getloadavg = lambda: (0.0, 0.0, 0.0)\n"  # as if idle: the suite loads the machine
              "from gofail_py.history import read_history, twohalves\n"
              "twohalves.running_now = lambda: 0\n"
              "twohalves._parse = lambda lines: time.sleep(60)\n"  # the child hangs in its parse
              "print('reading', flush=True)\n"
              "twohalves.read_operations(read_history(sys.argv[1]), None, min_bytes=0)\n")
    reader = subprocess.Popen([sys.executable, "-c", script, str(path)], stdout=subprocess.PIPE, text=True)
    try:
        assert reader.stdout is not None and reader.stdout.readline() == "reading\n"
        children: list[int] = []
        until = time.monotonic() + 10
        while not children and time.monotonic() < until:
            text = Path(f"/proc/{reader.pid}/task/{reader.pid}/children").read_text()
            children = [int(pid) for pid in text.split()]
            time.sleep(0.01)
        assert len(children) == 1, "the reader forked no child"
        time.sleep(0.2)  # the child is in its parse, the parent waits for it
        reader.send_signal(signal.SIGKILL)
        reader.wait(10)
        until = time.monotonic() + 5
        while Path(f"/proc/{children[0]}").exists() and time.monotonic() < until:
            time.sleep(0.02)
        status = Path(f"/proc/{children[0]}/status")
        alive = status.exists() and "zombie" not in status.read_text()
        assert not alive, f"the child {children[0]} outlived its killed parent"
    finally:
        reader.kill()
        reader.wait()


def test_a_child_that_is_stopped_leaves_the_reading_to_this_process(tmp_path: Path) -> None:
    """SIGSTOP of the child while it parses (a debugger, a hung disk): the read still ends, with the
    sequential reader's operations, the parent reading that half itself."""
    import subprocess
    import sys

    from tests.support.goprog import REPO

    path = tmp_path / "h.jsonl"
    write(Spec(2000, keys=3), path)
    script = ("import os, signal, sys\n"
              f"sys.path.insert(0, {str(REPO)!r})\n"
              "os.getloadavg = lambda: (0.0, 0.0, 0.0)\n"
              "from gofail_py.history import read_history, twohalves\n"
              "twohalves.running_now = lambda: 0\n"
              "twohalves._parse = lambda lines: os.kill(os.getpid(), signal.SIGSTOP)\n"
              "ops = twohalves.read_operations(read_history(sys.argv[1]), None, min_bytes=0)\n"
              "print(len(ops), len(list(read_history(sys.argv[1]))))\n")
    done = subprocess.run([sys.executable, "-c", script, str(path)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    got, expected = done.stdout.split()
    assert got == expected == "2000"


def test_a_file_that_grew_past_the_bound_after_its_size_was_taken_is_read_in_one_process(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The split holds the file whole; its size is looked at first, and a file still being written
    can be bigger by the time it is read: the read stops one byte past the bound and gives it back,
    and the file streams through one process (the same operations)."""
    path = tmp_path / "h.jsonl"
    write(Spec(2000, keys=3), path)
    size = path.stat().st_size
    monkeypatch.setattr(twohalves, "UP_TO", size // 2)  # as if the file had doubled since it was measured
    reader = read_history(str(path), "kv")
    taken: list[int] = []
    read = reader.file.read

    def counted(n: int = -1) -> bytes:
        data = read(n)
        taken.append(len(data))
        return data

    monkeypatch.setattr(reader.file, "read", counted)
    assert twohalves.read_in_two(reader, None) is None
    assert taken and max(taken) <= size // 2 + 1, taken  # never the whole file at once
    ops = list(reader)
    assert [op.to_dict() for op in ops] == [op.to_dict() for op in read_history(str(path), "kv")]
    _no_child_left()
