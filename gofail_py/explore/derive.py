"""Timeline events from a journal that holds only step records (a run without a recorder).

The steps say enough to draw a run: `start`/`restart`/`recover`/`stop` give the process's life,
`set`/`unset` the armed windows, a `panic` in an answer (reach, recover, expect exit) the crash,
counts read by `reach`/`wait`/`expect` the hits (a lower bound). A journal that already holds
process, window or crash events is left as it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from gofail_py.recording.events import Crash, Event, FailpointWindow, ProcessEvent, Step


@dataclass
class _Open:
    window: FailpointWindow  # replaced as its hits are learnt


def derive(events: Sequence[Event]) -> list[Event]:
    """``events`` plus what its steps imply, when it has no events but steps."""
    if any(not isinstance(event, Step) for event in events):
        return list(events)
    out: list[Event] = list(events)
    windows: dict[tuple[str, str], _Open] = {}  # (process, failpoint) -> open window
    dead: set[str] = set()
    end = 0.0

    def close(process: str, at: float, why: str, only: str | None = None) -> None:
        for (owner, name), open_ in list(windows.items()):
            if owner == process and (only is None or name == only):
                out.append(replace(open_.window, end=at, closed_by=why))
                del windows[(owner, name)]

    for step in (e for e in events if isinstance(e, Step)):
        end = max(end, step.end)
        words = step.statement.split()
        answer: dict[str, Any] = step.answer if isinstance(step.answer, dict) else {}
        target = step.target or (words[1] if len(words) > 1 else "")
        verb = words[0] if words else ""
        if step.outcome != "ok" and step.index != "cleanup" and verb != "reach":
            continue
        if answer.get("panic") and target not in dead:
            armed = [name for (owner, name), o in windows.items() if owner == target and "panic" in o.window.terms]
            culprit = words[2] if verb == "reach" else (armed[0] if armed else None)
            at = step.start
            out.append(Crash(step.run, target, at, culprit, message=str(answer["panic"]).removeprefix("panic: "),
                             reason="journal", exit_code=answer.get("exit_code", answer.get("previous_exit_code"))))
            out.append(ProcessEvent(step.run, target, "exit", at, exit_code=answer.get("exit_code")))
            if culprit is not None and (target, culprit) in windows:
                open_ = windows[(target, culprit)]
                open_.window = replace(open_.window, hits=max(open_.window.hits, 1), exact=False)
            close(target, at, "crash")
            dead.add(target)
        if verb in ("reach", "wait", "expect") and "count" in answer and len(words) > 2 and (target, words[2]) in windows:
            open_ = windows[(target, words[2])]
            open_.window = replace(open_.window, hits=max(open_.window.hits, int(answer["count"])), exact=False)
        if verb == "start" and "pid" in answer:
            out.append(ProcessEvent(step.run, target, "start", step.end, pid=answer["pid"]))
            dead.discard(target)
        elif (verb == "restart" or answer.get("recovered")) and "pid" in answer:
            if verb == "restart":
                close(target, step.start, "stop")
                out.append(ProcessEvent(step.run, target, "stop", step.start, exit_code=answer.get("previous_exit_code")))
            out.append(ProcessEvent(step.run, target, "restart", step.end, pid=answer["pid"]))
            dead.discard(target)
        elif verb in ("stop", "kill"):
            close(target, step.end, "stop")
            out.append(ProcessEvent(step.run, target, "stop", step.end, exit_code=answer.get("exit_code")))
        elif verb == "set" and isinstance(step.sent, dict):
            for name, terms in step.sent.items():
                close(target, step.start, "reset", only=name)
                windows[(target, name)] = _Open(FailpointWindow(step.run, target, name, str(terms), step.start, step.start))
        elif verb == "unset":
            names = words[2:] if len(words) > 2 and words[2] != "all" else [None]
            for name in names:
                close(target, step.start, "unset", only=name)
    for (process, _), open_ in list(windows.items()):
        close(process, end, "end")
    return out
