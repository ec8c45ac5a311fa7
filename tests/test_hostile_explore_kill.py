"""explore killed by SIGKILL: the `gofail-py run` children it started must not live on.

They used to run to their own end (a hanging step: its 120 s command timeout, or forever for
what has none), with their processes, after the campaign that would have stopped them was gone.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.goprog import REPO

pytestmark = pytest.mark.hostile


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rpartition(")")[2].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_runs_end_when_explore_is_killed(tmp_path: Path) -> None:
    template = tmp_path / "t.gofail"
    template.write_text("log {failpoint} {terms}\nrun sleep 300\n")
    explore = subprocess.Popen([sys.executable, "-m", "gofail_py.cli", "explore", str(template), "--source",
                                str(REPO / "examples" / "kvserver"), "--only", "slowWrite"], cwd=tmp_path,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        runs: list[int] = []
        while not runs:  # the run is under way once it started its `sleep 300`
            runs = [pid for pid in _children(explore.pid) if _children(pid)]
            assert time.monotonic() < deadline, "explore started no run"
            time.sleep(0.1)
        explore.send_signal(signal.SIGKILL)
        explore.wait()
        deadline = time.monotonic() + 30  # the run's cleanup takes ~0 s; its own timeout 120 s
        while any(_alive(pid) for pid in runs) and time.monotonic() < deadline:
            time.sleep(0.2)
        left = [pid for pid in runs if _alive(pid)]
    finally:
        if explore.poll() is None:
            explore.kill()
            explore.wait()
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    assert not left, "the run outlived the explore that started it"
