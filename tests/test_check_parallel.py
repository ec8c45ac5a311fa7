"""Independent parts of a big history are checked in forked workers, with the same verdicts and
explanations as one after the other."""

from __future__ import annotations

import random

import pytest

from gofail_py.check import check, parallel
from gofail_py.models.operation import Operation
from tests.support.histories import Registers, generate, registers_apply, registers_input


def _big(seed: int, ops: int) -> list[Operation]:
    rng = random.Random(seed)
    history = generate(rng, registers_input, registers_apply, {}, ops=ops, clients=8, unanswered=0.001)
    return history


def _summary(result: object) -> object:
    """The result without its time and the parts' verdicts (a part still running when another's
    violation settled the verdict is left unchecked: null)."""
    data = result.to_json()  # type: ignore[attr-defined]
    data.pop("elapsed")
    data["parts"] = [{**part, "verdict": "-"} for part in data["parts"]]
    return data


@pytest.mark.parametrize("broken", [False, True])
def test_parts_in_parallel_give_what_one_after_the_other_gives(monkeypatch: pytest.MonkeyPatch, broken: bool) -> None:
    history = _big(7, 24_000)
    if broken:  # an early read answers a value no write of that name ever had
        read = next(op for op in history[200:] if op.op == "read" and op.ret is not None)
        read.output = {"value": 99}
    assert parallel.worth_it(Registers().partition(history))
    together = check(history, Registers())
    monkeypatch.setattr(parallel, "PAYS_FROM", 1 << 40)
    alone = check(history, Registers())
    assert together.verdict == ("not linearizable" if broken else "linearizable")
    assert _summary(together) == _summary(alone)
    for mine, theirs in zip(together.parts, alone.parts):
        assert mine.verdict in (None, theirs.verdict)


def test_a_checker_killed_midway_leaves_no_worker(tmp_path: object) -> None:
    """SIGKILL of a check while its forked workers search: they die with it."""
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    from tests.support.goprog import REPO

    script = ("import random, sys, time\n"
              f"sys.path.insert(0, {str(REPO)!r})\n"
              "from tests.support.histories import Registers, generate, registers_apply, registers_input\n"
              "from gofail_py.check import check\n"
              "class Slow(Registers):\n"
              "    def step(self, *args):\n"
              "        time.sleep(0.001)\n"  # each part takes minutes
              "        return super().step(*args)\n"
              "history = generate(random.Random(7), registers_input, registers_apply, {}, ops=24000, clients=8,"
              " unanswered=0.001)\n"
              "print('checking', flush=True)\n"
              "check(history, Slow())\n")
    checker = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert checker.stdout is not None and checker.stdout.readline() == "checking\n"
        workers: list[int] = []
        until = time.monotonic() + 20
        while len(workers) < 2 and time.monotonic() < until:
            text = Path(f"/proc/{checker.pid}/task/{checker.pid}/children").read_text()
            workers = [int(pid) for pid in text.split()]
            time.sleep(0.05)
        assert len(workers) >= 2, f"no workers forked: {workers}"
        time.sleep(0.5)
        checker.send_signal(signal.SIGKILL)
        checker.wait(10)
        until = time.monotonic() + 5
        left = workers
        while left and time.monotonic() < until:
            left = [pid for pid in workers if Path(f"/proc/{pid}").exists()
                    and "zombie" not in Path(f"/proc/{pid}/status").read_text(errors="replace")]
            time.sleep(0.05)
        assert not left, f"workers {left} outlived the killed checker"
    finally:
        checker.kill()
        checker.wait()
