"""One run's timeline, kept within a budget while its events stream in.

Every step, armed window, crash and process event becomes a ``Span`` in a list of its kind (steps;
per process: its states, its crashes, a row per failpoint). Past the run's budget of spans, the
longest list merges its neighbours pairwise: two spans become one covering both, with their
counts and hits summed. Memory and the page's size are then bounded by the budget, whatever the
journal's size; a merged span says how many events it stands for, and the page says that the
timeline is aggregated. A run with few events keeps every one as it was.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gofail_py.recording.events import Crash, FailpointWindow, ProcessEvent, Step

PER_RUN = 1_000  # spans one run's timeline keeps (and draws); past it, neighbours merge
PAGE = 60_000  # spans a whole page draws (its runs share it; a browser shows that many SVG shapes)
MAX_RUNS = 500  # runs drawn; later runs are counted in the table and named in the page, not drawn
MAX_LANES = 20  # processes drawn per run; the others share the lane OTHER_PROCESSES
MAX_ROWS = 30  # failpoint rows per process; the others share the row OTHER_FAILPOINTS
TITLE = 200  # characters of a tooltip kept (a step's message can be a command's whole stderr tail)
MAX_TRAFFICS = 20  # traffic histories drawn per run
OTHER_PROCESSES = "(other processes)"
OTHER_FAILPOINTS = "(other failpoints)"
FAILED = ("failed", "not-reached", "error")


def _cut(text: str) -> str:
    return text if len(text) <= TITLE else text[: TITLE - 1] + "…"


@dataclass(slots=True)
class Span:
    """One event, or neighbours merged (``count`` of them, ``start``..``end``)."""

    start: float
    end: float
    kind: str  # a step's outcome, a process event's action (the latest one merged), "window", "crash"
    source: Step | ProcessEvent | FailpointWindow | Crash | None = None  # the one event; None once merged
    label: str = ""  # a step's index, a window's failpoint (the first one merged)
    last: str = ""  # the label of the last one merged
    count: int = 1
    hits: int = 0  # a window's hits; for steps, how many did not pass
    exact: bool = True
    flag: bool = False  # a window that crashed its process

    def merge(self, other: Span) -> Span:
        latest = other if other.end >= self.end else self
        return Span(min(self.start, other.start), max(self.end, other.end), latest.kind, None, self.label,
                    other.last or other.label, self.count + other.count, self.hits + other.hits,
                    self.exact and other.exact, self.flag or other.flag)


@dataclass
class Spans:
    items: list[Span] = field(default_factory=list)

    def halve(self) -> int:
        """Merges neighbours in time, the narrowest pairs first (at most the half of the pairs that
        are narrower than the median pair): spans merged before are wide and wait until the others
        are as coarse, so a long run is drawn at one resolution from its start to its end.
        Returns how many spans that saved."""
        ordered = sorted(self.items, key=lambda span: (span.start, span.end))
        if len(ordered) < 2:
            return 0
        widths = [max(a.end, b.end) - a.start for a, b in zip(ordered, ordered[1:])]
        narrow = sorted(widths)[len(widths) // 2]
        merged: list[Span] = []
        at = 0
        while at < len(ordered):
            if at + 1 < len(ordered) and widths[at] <= narrow:
                merged.append(ordered[at].merge(ordered[at + 1]))
                at += 2
            else:
                merged.append(ordered[at])
                at += 1
        saved = len(self.items) - len(merged)
        self.items = merged
        return saved


@dataclass
class Run:
    """The timeline of one run, bounded: see the module's docstring."""

    run: str
    name: str = ""
    started: float | None = None
    processes: list[str] = field(default_factory=list)  # lanes, in order of appearance
    steps: Spans = field(default_factory=Spans)
    states: dict[str, Spans] = field(default_factory=dict)  # a process's start/restart/stop/exit events
    crashes: dict[str, Spans] = field(default_factory=dict)
    windows: dict[str, dict[str, Spans]] = field(default_factory=dict)  # process -> failpoint -> windows
    failed_step: Step | None = None  # the first step that did not pass, kept whole
    culprits: set[tuple[str, float, str]] = field(default_factory=set)  # crashes by a failpoint
    end: float = 0.0
    events: int = 0
    size: int = 0  # spans held
    merged: bool = False  # some spans stand for several events
    budget: int = PER_RUN
    traffics: list[Step] = field(default_factory=list)  # `traffic` steps naming their history (report/history.py)
    verdicts: dict[str, str] = field(default_factory=dict)  # a history's path -> the `check` step's verdict

    def lane(self, process: str) -> str:
        if process in self.processes:
            return process
        if len(self.processes) < MAX_LANES:
            self.processes.append(process)
            return process
        if OTHER_PROCESSES not in self.processes:
            self.processes.append(OTHER_PROCESSES)
        return OTHER_PROCESSES

    def _add(self, spans: Spans, span: Span) -> None:
        spans.items.append(span)
        self.size += 1
        self.events += 1
        self.end = max(self.end, span.end)
        self.fit(self.budget)

    def fit(self, budget: int) -> None:
        """Past ``budget`` spans, halves the longest lists until the run holds three quarters of
        it (or cannot shrink): the next merge is a quarter of the budget away, so adding a span
        costs the same, on average, however long the run."""
        target = budget * 3 // 4
        while self.size > budget:
            shrunk = False
            for spans in sorted(self._lists(), key=lambda spans: len(spans.items), reverse=True):
                saved = spans.halve()
                self.size -= saved
                shrunk = shrunk or saved > 0
                if self.size <= target:
                    break
            if not shrunk:
                return  # one span a list: it cannot shrink further
            self.merged = True

    def _lists(self) -> list[Spans]:
        rows = [spans for by_failpoint in self.windows.values() for spans in by_failpoint.values()]
        return [self.steps, *self.states.values(), *self.crashes.values(), *rows]

    def add_step(self, step: Step) -> None:
        if self.failed_step is None and step.outcome in FAILED:
            self.failed_step = step
        self._traffic(step)
        if step.index == "traffic":  # a background traffic's span: its history is drawn under the timeline
            self.end = max(self.end, step.end)
            return
        self._add(self.steps, Span(step.start, step.end, step.outcome, step, step.index, hits=step.outcome != "ok"))

    def _traffic(self, step: Step) -> None:
        """Keeps what the histories' drawing needs: each traffic's history and clock, each verdict."""
        answer = step.answer
        if step.statement.startswith("traffic ") and isinstance(answer, dict) and step.index != "traffic":
            if isinstance(answer.get("history"), str) and type(answer.get("clock_ns")) is int and \
                    len(self.traffics) < MAX_TRAFFICS:
                self.traffics.append(step)
        elif step.statement.startswith("check") and isinstance(answer, list):
            for item in answer[:MAX_TRAFFICS]:
                if isinstance(item, dict) and isinstance(item.get("history"), str) and isinstance(item.get("verdict"), str):
                    self.verdicts[item["history"]] = item["verdict"]

    def add_process(self, event: ProcessEvent) -> None:
        self._add(self.states.setdefault(self.lane(event.process), Spans()), Span(event.time, event.time, event.action, event))

    def add_window(self, window: FailpointWindow) -> None:
        rows = self.windows.setdefault(self.lane(window.process), {})
        row = window.failpoint if window.failpoint in rows or len(rows) < MAX_ROWS else OTHER_FAILPOINTS
        crashed = (window.process, window.end, window.failpoint) in self.culprits
        self._add(rows.setdefault(row, Spans()), Span(window.start, window.end, "window", window, window.failpoint,
                                                      hits=window.hits, exact=window.exact, flag=crashed))

    def add_crash(self, crash: Crash) -> None:
        lane = self.lane(crash.process)
        if crash.failpoint is not None and len(self.culprits) < PER_RUN:
            self.culprits.add((crash.process, crash.time, crash.failpoint))
        self._add(self.crashes.setdefault(lane, Spans()), Span(crash.time, crash.time, "crash", crash))


def title(span: Span, lane: str) -> str:
    """The tooltip of one event's mark (cut to TITLE characters; in the shared lane, it names its
    process); "" for a merged span, whose tooltip the timeline writes from its counts."""
    event = span.source
    if event is None:
        return ""
    if isinstance(event, Step):
        text = f"{event.index} {event.statement} [{event.outcome}] {event.start:.3f}s..{event.end:.3f}s"
        return _cut(text + (f": {event.message}" if event.message else ""))
    who = "" if lane == event.process else f"{event.process}: "
    if isinstance(event, ProcessEvent):
        done = {"start": "started", "restart": "restarted", "stop": "stopped", "exit": "exited"}.get(event.action, event.action)
        return _cut(f"{who}{done} at {event.time:.3f}s" + (f" (pid {event.pid})" if event.pid is not None else ""))
    if isinstance(event, FailpointWindow):
        hits = f"{event.hits}" if event.exact else f"≥{event.hits}"
        return _cut(f"{who}{event.failpoint}={event.terms}: {hits} hit(s), {event.start:.3f}s..{event.end:.3f}s, "
                    f"closed by {event.closed_by}")
    by = event.failpoint or f"unattributed: {event.reason}"
    return _cut(f"{who}crashed at {event.time:.3f}s by {by}; {event.message}")


__all__ = ["MAX_RUNS", "OTHER_FAILPOINTS", "OTHER_PROCESSES", "PAGE", "PER_RUN", "Run", "Span", "Spans", "title"]
