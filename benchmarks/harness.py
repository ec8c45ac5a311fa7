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
