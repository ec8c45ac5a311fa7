"""A synthetic fault-coverage journal of a given size, for measuring `report`'s memory.

    python -m benchmarks.gen_journal OUT.jsonl --mb 250 [--runs 40]

Each run has a few processes restarting now and then, failpoints armed and disarmed over and
over (windows with hits), scenario steps (with output tails in their answers), and a crash now
and then: the shapes of a long `repeat` scenario or a long pytest session. The same seed gives the
same file. Measure with `/usr/bin/time -v gofail-py report OUT.jsonl [-o r.html]` (max RSS).
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

FAILPOINTS = [f"fp{n}" for n in range(40)]
PROCESSES = ["kv0", "kv1", "kv2"]


def _run_lines(rng: random.Random, run: str, budget: int) -> tuple[list[str], int]:
    lines = [json.dumps({"event": "run", "run": run, "name": f"scenario {run}", "started": 1.7e9})]
    written, t = len(lines[0]), 0.0
    for process in PROCESSES:
        lines.append(json.dumps({"event": "process", "run": run, "process": process, "action": "start", "time": t, "pid": 1000}))
    step = 0
    while written < budget:
        t += rng.random() * 0.05
        kind = rng.random()
        process = rng.choice(PROCESSES)
        if kind < 0.6:
            start = max(0.0, t - rng.random())
            line = {"event": "window", "run": run, "process": process, "failpoint": rng.choice(FAILPOINTS),
                    "terms": rng.choice(["panic", "2*off->return(\"x\")", "sleep(10)", "50.0%return(1)"]),
                    "start": round(start, 6), "end": round(t, 6), "hits": rng.randrange(0, 50), "exact": True,
                    "closed_by": rng.choice(["unset", "reset", "stop"])}
        elif kind < 0.95:
            step += 1
            line = {"event": "step", "run": run, "index": f"3.{step}.1", "statement": "run curl -s http://127.0.0.1/kv/a",
                    "location": "s.gofail:7:3", "target": process, "start": round(max(0.0, t - 0.01), 6), "end": round(t, 6),
                    "outcome": "ok", "sent": ["curl", "-s", "http://127.0.0.1/kv/a"],
                    "answer": {"exit_code": 0, "stdout": "v" * rng.randrange(10, 200), "stderr": ""}, "message": ""}
        elif kind < 0.99:
            line = {"event": "process", "run": run, "process": process, "action": rng.choice(["stop", "restart"]),
                    "time": round(t, 6), "pid": rng.randrange(1000, 9000)}
        else:
            line = {"event": "crash", "run": run, "process": process, "time": round(t, 6), "failpoint": rng.choice(FAILPOINTS),
                    "file": "store.go", "line": 118, "message": "failpoint panic: {}", "reason": "stack", "pid": 1234,
                    "exit_code": 2}
        text = json.dumps(line)
        lines.append(text)
        written += len(text) + 1
    return lines, written


def generate(out: Path, megabytes: float, runs: int, seed: int = 21) -> None:
    rng = random.Random(seed)
    per_run = int(megabytes * 1_000_000 / runs)
    with open(out, "w", encoding="utf-8") as file:
        for number in range(runs):
            lines, _ = _run_lines(rng, f"run{number}", per_run)
            file.write("\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--mb", type=float, default=250.0)
    parser.add_argument("--runs", type=int, default=40)
    args = parser.parse_args()
    generate(args.out, args.mb, args.runs)


if __name__ == "__main__":
    main()
