"""Paired timing of whole processes: A and B in turn, each after its own untimed setup, with the
ratio taken pair by pair (so a comparison holds while a shared machine's speed drifts)."""

from __future__ import annotations

import os
import statistics
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Step:
    """A command to time; `setup` runs before each timing, untimed (e.g. to reset a tree)."""

    label: str
    argv: Sequence[str]
    cwd: Path
    env: dict[str, str] | None = None
    setup: Callable[[], None] | None = None


@dataclass
class Figures:
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)  # user + sys of the process and what it waited for

    def summary(self) -> dict[str, float]:
        return {
            "wall_median": statistics.median(self.wall), "wall_min": min(self.wall), "wall_max": max(self.wall),
            "cpu_median": statistics.median(self.cpu), "cpu_min": min(self.cpu), "cpu_max": max(self.cpu),
        }


def run_once(step: Step) -> tuple[float, float]:
    if step.setup is not None:
        step.setup()
    began = time.perf_counter()
    proc = subprocess.Popen(step.argv, cwd=step.cwd, env=step.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert proc.stderr is not None
    error = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - began
    proc.stderr.close()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"{step.label}: exit {proc.returncode}: {error.decode(errors='replace')[-2000:]}")
    return wall, usage.ru_utime + usage.ru_stime


def paired(a: Step, b: Step, runs: int, warmup: int = 1) -> dict[str, object]:
    """A and B in turn, `runs` counted pairs after `warmup` uncounted ones."""
    fa, fb = Figures(), Figures()
    for index in range(warmup + runs):
        wa, ca = run_once(a)
        wb, cb = run_once(b)
        if index >= warmup:
            fa.wall.append(wa), fa.cpu.append(ca), fb.wall.append(wb), fb.cpu.append(cb)
    wall_ratios = [x / y for x, y in zip(fa.wall, fb.wall)]
    cpu_ratios = [x / y for x, y in zip(fa.cpu, fb.cpu)]
    return {
        "a": a.label, "b": b.label, "runs": runs,
        "a_figures": fa.summary(), "b_figures": fb.summary(),
        "ratio_wall": {"median": statistics.median(wall_ratios), "min": min(wall_ratios), "max": max(wall_ratios)},
        "ratio_cpu": {"median": statistics.median(cpu_ratios), "min": min(cpu_ratios), "max": max(cpu_ratios)},
    }


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 10 else f"{seconds:.1f} s"


def describe(row: dict[str, object]) -> str:
    """One printed line: medians (and ranges) of A and B, then the ratio A/B pair by pair."""
    fa, fb = row["a_figures"], row["b_figures"]
    rw, rc = row["ratio_wall"], row["ratio_cpu"]
    assert isinstance(fa, dict) and isinstance(fb, dict) and isinstance(rw, dict) and isinstance(rc, dict)
    return (
        f"  {row['a']}: wall {ms(fa['wall_median'])} ({ms(fa['wall_min'])}–{ms(fa['wall_max'])}), cpu {ms(fa['cpu_median'])}\n"
        f"  {row['b']}: wall {ms(fb['wall_median'])} ({ms(fb['wall_min'])}–{ms(fb['wall_max'])}), cpu {ms(fb['cpu_median'])}\n"
        f"  ratio A/B: wall {rw['median']:.2f}x ({rw['min']:.2f}–{rw['max']:.2f}), cpu {rc['median']:.2f}x ({rc['min']:.2f}–{rc['max']:.2f})"
    )


def same_tree(a: Path, b: Path) -> list[str]:
    """Relative paths whose bytes differ, or that exist on one side only."""
    def files(root: Path) -> dict[str, Path]:
        return {str(p.relative_to(root)): p for p in root.rglob("*") if p.is_file() and not p.is_symlink()}

    left, right = files(a), files(b)
    differ = sorted(set(left) ^ set(right))
    differ += sorted(name for name in set(left) & set(right) if left[name].read_bytes() != right[name].read_bytes())
    return differ


@dataclass
class Measured:
    """One whole-process run whose exit code and output matter (a checker's verdict)."""

    wall: float
    cpu: float
    peak_rss: int  # bytes: the largest single process (the kernel's ru_maxrss)
    peak_tree: int  # bytes: the most the process and its children held at once (sampled)
    exit: int
    stdout: str
    stderr: str
    killed: str = ""  # why the run was ended early, if it was


def _tree_rss(pid: int) -> int:
    """Resident bytes of pid and its descendants now (0 once gone)."""
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        try:
            with open(f"/proc/{current}/statm") as statm:
                total += int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as children:
                    todo += [int(child) for child in children.read().split()]
        except (OSError, ValueError):
            continue
    return total


def measure(argv: Sequence[str], cwd: Path, env: dict[str, str] | None = None, *,
            deadline: float = 3600.0, kill_above: int = 8 << 30) -> Measured:
    """Runs argv in its own process group, samples its memory every 100 ms, and kills the group
    past `deadline` seconds or `kill_above` resident bytes (a shared machine must not swap)."""
    import signal
    import tempfile
    import threading

    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        began = time.perf_counter()
        proc = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                start_new_session=True)
        peak, killed, done = [0], [""], threading.Event()

        def watch() -> None:
            while not done.wait(0.1):
                peak[0] = max(peak[0], _tree_rss(proc.pid))
                reason = ("memory" if peak[0] > kill_above else
                          "deadline" if time.perf_counter() - began > deadline else "")
                if reason and not killed[0]:
                    killed[0] = f"killed: {reason} ({peak[0] / 2**30:.1f} GiB, {time.perf_counter() - began:.0f} s)"
                    os.killpg(proc.pid, signal.SIGKILL)

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        try:
            os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOWAIT)  # exited, not reaped: its pid stays its own
        except BaseException:  # interrupted (^C, SIGTERM made SystemExit): nothing of it stays running
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            raise
        wall = time.perf_counter() - began
        done.set()
        watcher.join()
        os.killpg(proc.pid, signal.SIGKILL)  # whatever it left in its group
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0), err.seek(0)
        return Measured(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024, max(peak[0], usage.ru_maxrss * 1024),
                        proc.returncode, out.read().decode(errors="replace"), err.read().decode(errors="replace"), killed[0])
