"""Prints what a scenario's journal recorded worth a report line: the helpers' measurements, counts, panics.

    figures.py JOURNAL.jsonl
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def figures(records: list[dict[str, object]]) -> list[str]:
    lines = []
    for record in records:
        if record.get("event", "step") != "step":
            continue  # process, window, crash events: `gofail-py report` reads those
        statement, answer = str(record["statement"]), record.get("answer")
        if statement.startswith("check") and isinstance(answer, list):  # the history's verdict
            lines += [f"history {item['history']}: {item['verdict']} ({item['operations']} operations, "
                      f"{item['indeterminate']} without an answer; checked in {item['elapsed']} s)" for item in answer]
            continue
        if not isinstance(answer, dict):
            continue
        if record.get("index") == "traffic" and "operations" in answer:
            lines.append(f"traffic: {answer['operations']} operations from {answer['clients']} clients in "
                         f"{answer['elapsed']} s ({answer['ops_per_second']}/s), {answer['indeterminate']} without an answer")
            continue
        if "etcdkv.py" in statement and answer.get("stdout"):
            text = str(answer["stdout"]).strip()
            # readiness and leadership lines say nothing about the failpoint
            if not text.endswith(("is ready", "leads")):
                lines.append(text)
        elif statement.startswith(("expect", "wait")) and "count" in answer:
            lines.append(f"{statement.split()[2]} fired {answer['count']} times")
        elif statement.startswith("expect") and "panic" in answer:
            lines.append(f"died with {answer['panic']!r} (exit code {answer.get('exit_code')})")
    lines += reached(records)
    return lines


def reached(records: list[dict[str, object]]) -> list[str]:
    """triggers.gofail: how many of the table's failpoints a `reach` saw fire."""
    if not any(str(record.get("statement", "")).startswith("trigger") for record in records):
        return []
    table = Path(__file__).with_name("failpoints.tsv").read_text(encoding="utf-8").splitlines()[1:]
    fired = {str(record["statement"]).split()[2] for record in records
             if str(record.get("statement", "")).startswith("reach ") and record.get("outcome") == "ok"}
    return [f"triggers: {len(fired)} of {len([line for line in table if line.strip()])} failpoints reached"]


if __name__ == "__main__":
    with open(sys.argv[1], encoding="utf-8") as journal:
        print("\n".join(figures([json.loads(line) for line in journal if line.strip()])))
