"""The campaign's sample for the etcd job: one failpoint per trigger of failpoints.tsv, and then a
summary of what explore --json said of each cell.

    campaign_sample.py only TABLE          --only arguments: the first failpoint of each trigger
    campaign_sample.py summary RESULT.json  one line per cell, then the counts
"""

from __future__ import annotations

import csv
import json
import sys
from collections import Counter


def only(table: str) -> list[str]:
    chosen: dict[str, str] = {}
    with open(table, newline="", encoding="utf-8") as rows:
        for row in csv.DictReader((line for line in rows if not line.startswith("#")), delimiter="\t"):
            chosen.setdefault(row["trigger"], row["failpoint"])  # "put 200" and "put" apart: each trigger as written
    return [word for name in chosen.values() for word in ("--only", name)]


def summary(path: str) -> list[str]:
    with open(path, encoding="utf-8") as result:
        runs = json.load(result)["runs"]
    lines, counts = [], Counter()
    for run in runs:
        # a cell failed by the model says "not linearizable": a finding; any other failure is the tool's
        kind = run["outcome"] if run["outcome"] != "failed" or "not linearizable" in run.get("message", "") else "broken"
        counts[kind] += 1
        lines.append(f"    {run['failpoint']} x {run['terms']}: {kind}" + (f" ({run.get('message', '')[:160]})" if kind != "passed" else ""))
    order = ("passed", "failed", "not-reached", "error", "broken")
    return [*lines, f"campaign sample: {len(runs)} cells, " + ", ".join(f"{counts[k]} {k}" for k in order)]


if __name__ == "__main__":
    print(" ".join(only(sys.argv[2])) if sys.argv[1] == "only" else "\n".join(summary(sys.argv[2])))
