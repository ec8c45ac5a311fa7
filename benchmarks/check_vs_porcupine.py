"""`gofail-py check` side by side with Porcupine v1.3.1 on the same generated kv histories.

    python3 benchmarks/check_vs_porcupine.py [--quick] [--json PATH] [--keep DIR]
    python3 benchmarks/run_all.py --only check

The histories (benchmarks/history_gen.py, seed 1, 10 clients): 10k and 50k operations on one hot
key, 50k on one hot key with one stale read near the end (not linearizable), 50k over 12 keys.
Porcupine runs as benchmarks/porcupine/ (built here with `go build`), whose kv model has the same
semantics. Each row runs the two in turn (A B A B ..., whole processes, file reading included),
records wall, cpu and peak memory, and prints medians, ranges and the ratio A/B pair by pair.
A ratio is printed only when both gave the same verdict on every run; when they disagree, the row
says so and the script exits 1. Porcupine is stopped at its timeout or memory bound (a verdict of
"unknown" or "out of memory"), and neither run may pass the kill bound (the machine is shared).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.harness import Measured, measure  # noqa: E402
from benchmarks.history_gen import Spec, write  # noqa: E402
from benchmarks.rewriter_rows import GOFAIL_PY  # noqa: E402

GIB = 1 << 30
VERDICTS = ("linearizable", "not linearizable", "unknown")


@dataclass
class Row:
    name: str
    what: str
    spec: Spec
    runs: int
    goal: str  # how the goal reads in the table
    ratio_goal: float | None = None  # A/B wall, when the goal is a ratio
    seconds_goal: float | None = None  # A's wall, when the goal is a time
    memory_goal: int | None = None  # A's peak bytes
    verdict_goal: str | None = None


def rows(quick: bool) -> list[Row]:
    many = 2 if quick else 5
    few = 1 if quick else 3
    return [
        Row("hot_10k", "10k operations, one hot key", Spec(10_000), many, "≤ 1.0x Porcupine", ratio_goal=1.0),
        Row("hot_50k", "50k operations, one hot key", Spec(50_000), few, "≤ 0.6x Porcupine", ratio_goal=0.6),
        Row("stale_50k", "50k operations, one hot key, a stale read near the end", Spec(50_000, stale_read=True), 1,
            "not linearizable within 60 s, ≤ 2 GB", seconds_goal=60.0, memory_goal=2_000_000_000,
            verdict_goal="not linearizable"),
        Row("keys_50k", "50k operations over 12 keys", Spec(50_000, keys=12), many, "≤ 0.5 s", seconds_goal=0.5),
    ]


def verdict_of(run: Measured, who: str) -> str:
    """The verdict a run printed (its JSON), or why it has none; a crash or usage error raises."""
    if run.killed:
        return run.killed
    try:  # gofail-py prints one indented object, the Go program one line
        answer = json.loads(run.stdout)
        verdict = answer["verdict"]
    except (ValueError, IndexError, KeyError, TypeError):
        raise RuntimeError(f"{who}: exit {run.exit}, no verdict: {run.stdout[-500:]}{run.stderr[-2000:]}") from None
    if verdict not in VERDICTS and verdict != "out of memory":
        raise RuntimeError(f"{who}: unknown verdict {verdict!r}")
    return str(verdict)


def build_porcupine(work: Path) -> Path:
    binary = work / "porcupine"
    env = {**os.environ, "GOTOOLCHAIN": os.environ.get("GOTOOLCHAIN", "local"), "GOFLAGS": "-mod=readonly"}
    subprocess.run(["go", "build", "-o", str(binary), "."], cwd=REPO / "benchmarks" / "porcupine", env=env, check=True)
    return binary


def figures(runs: list[Measured]) -> dict[str, float]:
    walls = [r.wall for r in runs]
    return {"wall_median": statistics.median(walls), "wall_min": min(walls), "wall_max": max(walls),
            "cpu_median": statistics.median(r.cpu for r in runs),
            "peak_rss_max": max(r.peak_rss for r in runs), "peak_tree_max": max(r.peak_tree for r in runs)}


def bench_row(row: Row, work: Path, porcupine: Path, args: argparse.Namespace) -> dict[str, object]:
    history = work / f"{row.name}.jsonl"
    ops = write(row.spec, history)
    lost = sum(op.ret is None for op in ops)
    print(f"\n== {row.what}: {history.name}, {len(ops)} operations ({lost} lost), {history.stat().st_size / 1e6:.1f} MB", flush=True)
    check = [*GOFAIL_PY, "check", "--json", "--model", "kv", "--timeout", str(args.check_timeout), str(history)]
    pcp = [str(porcupine), "-timeout", f"{args.porcupine_timeout}s", "-max-mem", str(int(args.porcupine_mem * GIB)), str(history)]
    a_runs: list[Measured] = []
    b_runs: list[Measured] = []
    warmup = 0 if row.runs == 1 else 1
    for index in range(warmup + row.runs):
        a = measure(check, work, deadline=args.check_timeout * 3 + 30, kill_above=int(args.kill_above * GIB))
        b = measure(pcp, work, deadline=args.porcupine_timeout * 2 + 30, kill_above=int(args.kill_above * GIB))
        if index >= warmup:
            a_runs.append(a)
            b_runs.append(b)
    a_verdicts = {verdict_of(r, "gofail-py check") for r in a_runs}
    b_verdicts = {verdict_of(r, "porcupine") for r in b_runs}
    result: dict[str, object] = {
        "what": row.what, "history": str(history) if args.keep else history.name, "operations": len(ops), "lost": lost,
        "runs": row.runs, "gofail_py": figures(a_runs), "porcupine": figures(b_runs),
        "gofail_py_verdicts": sorted(a_verdicts), "porcupine_verdicts": sorted(b_verdicts), "goal": row.goal,
    }
    decided = {"linearizable", "not linearizable"}
    # two different verdicts anywhere (between the checkers, or between runs of one) is a disagreement;
    # a run without a verdict (unknown, out of memory) has nothing to compare
    disagree = len((a_verdicts | b_verdicts) & decided) > 1
    agree = len(a_verdicts) == 1 and a_verdicts == b_verdicts and a_verdicts <= decided
    result["agree"] = agree
    result["disagree"] = disagree
    if agree:
        for kind in ("wall", "cpu"):
            ratios = [getattr(a, kind) / max(getattr(b, kind), 1e-9) for a, b in zip(a_runs, b_runs)]
            result[f"ratio_{kind}"] = {"median": statistics.median(ratios), "min": min(ratios), "max": max(ratios)}
    result["goal_met"] = goal_met(row, result, a_runs)
    print(describe(result), flush=True)
    return result


def goal_met(row: Row, result: dict[str, object], a_runs: list[Measured]) -> bool:
    if result["disagree"]:
        return False
    fa = result["gofail_py"]
    assert isinstance(fa, dict)
    met = True
    if row.ratio_goal is not None:
        ratio = result.get("ratio_wall")
        met = isinstance(ratio, dict) and ratio["median"] <= row.ratio_goal
    if row.seconds_goal is not None:
        met = met and fa["wall_median"] <= row.seconds_goal
    if row.memory_goal is not None:
        met = met and fa["peak_tree_max"] <= row.memory_goal
    if row.verdict_goal is not None:
        met = met and result["gofail_py_verdicts"] == [row.verdict_goal]
    return met


def _side(name: str, fig: dict[str, float], verdicts: list[str]) -> str:
    return (f"  {name:<16} wall {fig['wall_median']:.2f} s ({fig['wall_min']:.2f}–{fig['wall_max']:.2f}), "
            f"cpu {fig['cpu_median']:.2f} s, peak {fig['peak_tree_max'] / 2**20:.0f} MB: {' / '.join(verdicts)}")


def describe(result: dict[str, object]) -> str:
    fa, fb = result["gofail_py"], result["porcupine"]
    va, vb = result["gofail_py_verdicts"], result["porcupine_verdicts"]
    assert isinstance(fa, dict) and isinstance(fb, dict) and isinstance(va, list) and isinstance(vb, list)
    lines = [_side("gofail-py check", fa, va), _side("Porcupine", fb, vb)]
    ratio = result.get("ratio_wall")
    if isinstance(ratio, dict):
        cpu = result["ratio_cpu"]
        assert isinstance(cpu, dict)
        lines.append(f"  ratio A/B wall {ratio['median']:.2f}x ({ratio['min']:.2f}–{ratio['max']:.2f}), "
                     f"cpu {cpu['median']:.2f}x ({cpu['min']:.2f}–{cpu['max']:.2f})")
    elif result["disagree"]:
        lines.append("  THE VERDICTS DIFFER: no ratio")
    else:
        lines.append("  no ratio: Porcupine gave no verdict")
    lines.append(f"  goal {result['goal']}: {'met' if result['goal_met'] else 'not met'}")
    return "\n".join(lines)


def _cell(fig: dict[str, float], verdicts: list[str]) -> str:
    return (f"{fig['wall_median']:.2f} s ({fig['wall_min']:.2f}–{fig['wall_max']:.2f}), cpu {fig['cpu_median']:.2f} s, "
            f"{fig['peak_tree_max'] / 2**20:.0f} MB: {' / '.join(verdicts)}")


def markdown(results: dict[str, object]) -> str:
    """The table for docs: both columns (wall median and range, peak memory, verdict), the ratio, the goal."""
    lines = ["| history | gofail-py check | Porcupine v1.3.1 | ratio wall | ratio cpu | goal | met |",
             "|---|---|---|---|---|---|---|"]
    for key, result in results.items():
        if not key.startswith("check_") or not isinstance(result, dict) or "what" not in result:
            continue  # check_run: when and under what load
        shown = []
        for kind in ("wall", "cpu"):
            ratio = result.get(f"ratio_{kind}")
            shown.append(f"{ratio['median']:.2f}x ({ratio['min']:.2f}–{ratio['max']:.2f})" if isinstance(ratio, dict)
                         else "verdicts differ" if result["disagree"] else "–")
        lines.append(f"| {result['what']} | {_cell(result['gofail_py'], result['gofail_py_verdicts'])}"
                     f" | {_cell(result['porcupine'], result['porcupine_verdicts'])} | {shown[0]} | {shown[1]} | {result['goal']}"
                     f" | {'yes' if result['goal_met'] else 'no'} |")
    return "\n".join(lines)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--check-timeout", type=float, default=120.0, help="gofail-py check --timeout (seconds)")
    parser.add_argument("--porcupine-timeout", type=float, default=120.0, help="Porcupine's -timeout (seconds)")
    parser.add_argument("--porcupine-mem", type=float, default=4.0, help="Porcupine's -max-mem (GiB)")
    parser.add_argument("--kill-above", type=float, default=6.0, help="kill either run past this many GiB resident")
    parser.add_argument("--keep", type=Path, help="write the histories here (else a temporary folder)")
    parser.add_argument("--check-rows", default="hot_10k,hot_50k,stale_50k,keys_50k", help="which histories")


def bench_check(work: Path, quick: bool, results: dict[str, object], args: argparse.Namespace) -> bool:
    """Every row into `results` (as check_<row>); False if a row's verdicts differ."""
    work.mkdir(parents=True, exist_ok=True)
    porcupine = build_porcupine(work)
    import time

    run = {"started": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "loadavg_at_start": os.getloadavg()}
    wanted = set(args.check_rows.split(","))
    same = True
    for row in rows(quick):
        if row.name in wanted:
            result = bench_row(row, args.keep or work, porcupine, args)
            results[f"check_{row.name}"] = result
            same = same and not result["disagree"]
    results["check_run"] = {**run, "ended": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "loadavg_at_end": os.getloadavg()}
    return same


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer runs")
    parser.add_argument("--json", type=Path, help="write the figures here")
    add_arguments(parser)
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so the run in progress is killed too
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
    results: dict[str, object] = {}
    with tempfile.TemporaryDirectory(prefix="gofail-py-check-bench-") as tmp:
        same = bench_check(Path(tmp), args.quick, results, args)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    print("\n" + markdown(results))
    if not same:
        print("\nthe two checkers gave different verdicts: see the rows above")
        sys.exit(1)


if __name__ == "__main__":
    main()
