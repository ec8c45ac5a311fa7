"""A check's result as text: the verdict, and for a violation the longest linearizable prefix's
end, the state there and the operations that could not be placed next (what `gofail-py check`
prints, and what a scenario's `check` step fails with)."""

from __future__ import annotations

import json

from gofail_py.check.result import CheckResult, describe
from gofail_py.terminal import visible

SHOWN_PREFIX = 5  # the last operations of the linearizable prefix printed by the text output
SHOWN_STATE = 2000  # characters of the state printed (a store of 10k keys is for --json)


def _printable(text: str) -> str:
    """One printable line (a history's strings could hold terminal escapes), cut to SHOWN_STATE."""
    text = visible(text)
    return text if len(text) <= SHOWN_STATE else f"{text[:SHOWN_STATE]}... ({len(text)} characters; --json has it whole)"


def explain(result: CheckResult) -> str:
    """The verdict, and for a violation its explanation, as the text output prints them."""
    files = _printable(", ".join(result.files)) or "the history"
    counts = f"{result.operations} operations, {result.indeterminate} without an answer"
    lines = [f"{files}: {result.verdict} ({result.model} model, {counts}; {result.elapsed:.2f} s)"]
    if result.verdict == "unknown":
        lines.append(f"the deadline (--timeout {result.timeout:g} s) came before a verdict" if result.timeout is not None
                     else "no verdict")
    violation = result.violation
    if violation is not None:
        part = result.parts[violation.part]
        if len(result.parts) > 1:
            lines.append(f"in {part.label} ({part.operations} operations):")
        prefix = violation.prefix
        lines.append(f"the longest linearizable prefix: {len(prefix)} operation{'s' if len(prefix) != 1 else ''}"
                     + (f", the last {SHOWN_PREFIX}:" if len(prefix) > SHOWN_PREFIX else ":" if prefix else ""))
        lines.extend(f"  {describe(op)}" for op in prefix[-SHOWN_PREFIX:])
        lines.append(f"the state at its end: {_printable(json.dumps(violation.state, ensure_ascii=False))}")
        lines.append("could not be placed next:")
        for item in violation.unplaced:
            lines.append(f"  {describe(item.op)}")
            lines.append(f"    {_printable(item.reason)}")
    return "\n".join(lines)
