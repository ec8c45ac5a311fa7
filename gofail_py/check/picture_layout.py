"""A history laid out as plain shapes for a time range (the Jinja2 template only draws them).

One lane per client; each operation a bar from its call to its return, an indeterminate one (no
answer) on a thin row under its lane, open to the right edge. For a violation, the failing part's
linearizable prefix is numbered (the last NUMBERED of it) and the operations that could not be
placed next are marked. Past ``max_bars`` operations in the range, a browser would choke on one
element each: the lanes then show how many operations each client called per column of pixels,
and only the violation's operations are drawn one by one (``View.note`` says so).

x = left + width * (t - start) / (end - start): the same left margin and width as the failpoint
timeline (gofail_py/timeline.py), so the two can share one time axis.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from gofail_py.check.result import Violation, describe
from gofail_py.models.operation import Operation

LEFT = 150  # room for the lane names, as in the failpoint timeline
WIDTH = 900
ROW = 16  # an answered operation's bar
LOST_ROW = 11  # one row of indeterminate operations
LOST_ROWS = 3  # at most this many under a lane; more share the last
LANE_PAD = 3
AXIS = 30
MAX_BARS = 2500
NUMBERED = 40  # the last this many operations of the prefix carry their number
CELL = 3  # px per column of a lane's density
MAX_LOST = 500  # in density mode, operations without an answer drawn one by one up to this many
MAX_LANES = 100  # past this many clients, a lane holds several (a page a few thousand lanes tall is no use)


@dataclass
class Bar:
    """One operation: ``kind`` becomes its CSS classes; ``open``: no return, drawn to the edge."""

    kind: str
    x: float
    y: float
    w: float
    h: float
    title: str
    label: str = ""
    open: bool = False


@dataclass
class Cell:
    """How many operations a client called in one column of pixels (density mode)."""

    x: float
    y: float
    w: float
    h: float
    title: str


@dataclass
class Lane:
    client: int  # its first client
    y: float
    height: float
    name: str = ""


@dataclass
class Tick:
    x: float
    label: str


@dataclass
class View:
    start: int
    end: int
    left: float
    width: float
    height: float
    lanes: list[Lane]
    bars: list[Bar]
    cells: list[Cell]
    ticks: list[Tick]
    in_view: int  # operations that intersect the range
    dense: bool  # the lanes show density, not each operation
    note: str
    marks: list[Bar] = field(default_factory=list)  # ranges to outline (the detail's window)


class Roles:
    """Who is what in a violation, by object identity (ids repeat across files)."""

    def __init__(self, violation: Violation | None) -> None:
        self.prefix: dict[int, int] = {}
        self.unplaced: dict[int, str] = {}
        if violation is not None:
            self.prefix = {id(op): number for number, op in enumerate(violation.prefix, 1)}
            self.unplaced = {id(item.op): item.reason for item in violation.unplaced}
        self.numbered_from = max(len(self.prefix) - NUMBERED + 1, 1)

    def kind(self, op: Operation) -> str:
        kind = f"op op-{op.op}"
        if id(op) in self.prefix:
            kind += " prefix" + (" tail" if self.prefix[id(op)] >= self.numbered_from else "")
        if id(op) in self.unplaced:
            kind += " unplaced"
        return kind + (" lost" if op.ret is None else "")

    def marked(self, op: Operation) -> bool:
        """Drawn one by one even in density mode: the prefix's numbered tail and the unplaced."""
        return id(op) in self.unplaced or self.prefix.get(id(op), 0) >= self.numbered_from

    def label(self, op: Operation) -> str:
        """Its number in the prefix (the numbered tail), ✕ if it could not be placed."""
        if id(op) in self.unplaced:
            return "✕"
        number = self.prefix.get(id(op), 0)
        return str(number) if number >= self.numbered_from and number else ""

    def title(self, op: Operation) -> str:
        text = describe(op)
        if id(op) in self.prefix:
            text += f"\nlinearized #{self.prefix[id(op)]} of {len(self.prefix)}"
        if id(op) in self.unplaced:
            text += f"\ncould not be placed next: {self.unplaced[id(op)]}"
        return text


def span(ops: Sequence[Operation]) -> tuple[int, int]:
    """The whole history's time range: first call to last return (or call), a little padded."""
    if not ops:
        return 0, 1
    first = min(op.call for op in ops)
    last = max(op.ret if op.ret is not None else op.call for op in ops)
    pad = max((last - first) // 50, 1)
    return first - pad, last + pad


def ticks(start: int, end: int, origin: int, left: float, width: float) -> list[Tick]:
    """Round times in seconds since ``origin``, about eight over the range."""
    seconds = (end - start) / 1e9
    raw = seconds / 8
    magnitude = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    first = math.ceil((start - origin) / 1e9 / step)
    found = []
    for index in range(first, first + 12):
        t = index * step
        x = left + width * ((origin + t * 1e9) - start) / (end - start)
        if x > left + width + 0.5:
            break
        found.append(Tick(round(x, 2), f"{round(t, 9):g}s"))
    return found


def layout(ops: Sequence[Operation], violation: Violation | None, start: int, end: int, *,
           origin: int | None = None, clients: Sequence[int] | None = None, left: float = LEFT,
           width: float = WIDTH, max_bars: int = MAX_BARS) -> View:
    """The shapes of every operation of ``ops`` that intersects [start, end] (nanoseconds).
    ``clients``: the lanes, in order (default: every client of ``ops``); ``origin``: the time
    the axis counts seconds from (default: ``start``)."""
    end = max(end, start + 1)
    origin = start if origin is None else origin
    roles = Roles(violation)
    lane_order = sorted({op.client for op in ops}) if clients is None else list(clients)
    per_lane = -(-len(lane_order) // MAX_LANES)  # clients a lane holds: 1 up to MAX_LANES of them
    lane_index = {client: rank // per_lane for rank, client in enumerate(lane_order)}
    visible = [op for op in ops if op.call <= end and (op.ret is None or op.ret >= start)]
    # an indeterminate operation called before the range is open across it: counted, not drawn
    # (a row of its own for a bar that starts off screen), unless the violation names it
    earlier_open = [op for op in visible if op.ret is None and op.call < start and not roles.marked(op)]
    visible = [op for op in visible if not (op.ret is None and op.call < start and not roles.marked(op))]
    dense = len(visible) > max_bars

    def x(t: int) -> float:
        return round(left + width * (min(max(t, start), end) - start) / (end - start), 2)

    lost_row: dict[int, int] = {}
    lost_rows: dict[int, int] = {}
    lost = sorted((op for op in visible if op.ret is None), key=lambda op: op.call)
    drawn_lost = len(lost) <= MAX_LOST or not dense
    for op in (op for op in lost if op.client in lane_index):  # dense: one row a lane, the bars overlap
        index = lane_index[op.client]
        row = 0 if dense else min(lost_rows.get(index, 0), LOST_ROWS - 1)
        if drawn_lost or roles.marked(op):
            lost_row[id(op)] = row
            lost_rows[index] = 1 if dense else lost_rows.get(index, 0) + 1
    lanes: list[Lane] = []
    y = 4.0
    for index in range(-(-len(lane_order) // per_lane)):
        group = lane_order[index * per_lane:(index + 1) * per_lane]
        height = LANE_PAD * 2 + ROW + LOST_ROW * min(lost_rows.get(index, 0), LOST_ROWS)
        name = f"client {group[0]}" if len(group) == 1 else f"clients {group[0]}–{group[-1]}"
        lanes.append(Lane(group[0], y, height, name))
        y += height + 2
    lane_y = {client: lanes[index].y for client, index in lane_index.items()}

    def bar(op: Operation) -> Bar:
        top = lane_y[op.client] + LANE_PAD
        if op.ret is None:
            left_x = x(op.call)
            return Bar(roles.kind(op), left_x, top + ROW + LOST_ROW * lost_row[id(op)] + 1, left + width - left_x,
                       LOST_ROW - 2, roles.title(op), roles.label(op), open=True)
        return Bar(roles.kind(op), x(op.call), top, max(x(op.ret) - x(op.call), 2.0), ROW, roles.title(op), roles.label(op))

    shown = [op for op in visible if op.client in lane_y
             and (not dense or roles.marked(op) or (op.ret is None and drawn_lost))]
    bars = [bar(op) for op in shown]
    bars.sort(key=lambda b: ("prefix" in b.kind or "unplaced" in b.kind, "unplaced" in b.kind))  # marked ones on top
    cells = _density(visible, lanes, lane_index, start, end, origin, left, width) if dense else []
    note = _note(len(visible), len(earlier_open), dense, max_bars, (end - start) / 1e9 * CELL / width,
                 0 if drawn_lost else len(lost))
    if per_lane > 1:
        note = "; ".join(filter(None, [f"{len(lane_order):,} clients: more than {MAX_LANES} lanes, so a lane holds "
                                       f"{per_lane} clients and their bars may overlap", note]))
    return View(start, end, left, width, y + AXIS, lanes, bars, cells, ticks(start, end, origin, left, width),
                len(visible), dense, note)


def _density(ops: Sequence[Operation], lanes: list[Lane], lane_index: dict[int, int], start: int, end: int,
             origin: int, left: float, width: float) -> list[Cell]:
    columns = max(int(width // CELL), 1)
    counts: dict[tuple[int, int], int] = {}
    for op in ops:
        index = lane_index.get(op.client)
        if index is not None:
            column = min(max((op.call - start) * columns // (end - start), 0), columns - 1)
            counts[(index, column)] = counts.get((index, column), 0) + 1
    most = max(counts.values(), default=1)
    cells = []
    for (index, column), count in sorted(counts.items()):
        lane = lanes[index]
        h = max(ROW * count / most, 1.5)
        t0 = start + (end - start) * column / columns
        t1 = start + (end - start) * (column + 1) / columns
        cells.append(Cell(left + column * CELL, lane.y + LANE_PAD + ROW - h, CELL - 0.5, round(h, 2),
                          f"{lane.name}: {count} operation{'s' if count != 1 else ''} called "
                          f"{(t0 - origin) / 1e9:.3f}–{(t1 - origin) / 1e9:.3f} s"))
    return cells


def _note(count: int, earlier_open: int, dense: bool, max_bars: int, seconds_per_cell: float, lost: int) -> str:
    parts = []
    if dense:
        parts.append(f"{count:,} operations in this range: more than the {max_bars:,} drawn one by one, so each "
                     f"lane shows how many its client called per {CELL} px ({seconds_per_cell * 1000:.3g} ms); "
                     "the violation's operations and those without an answer are still drawn one by one")
    if lost:
        parts.append(f"the {lost:,} operations without an answer are more than {MAX_LOST}: only the violation's are drawn")
    if earlier_open:
        one = earlier_open == 1
        parts.append(f"{earlier_open} operation{'' if one else 's'} without an answer, called before this range, "
                     f"{'stays' if one else 'stay'} open across it and {'is' if one else 'are'} not drawn")
    return "; ".join(parts)


def detail_range(violation: Violation) -> tuple[int, int] | None:
    """The time range around the violation: the numbered tail of the prefix and the unplaced (an
    indeterminate one of the prefix may have been called long before: it is drawn from the edge)."""
    ops = [op for op in violation.prefix[-NUMBERED:] if op.ret is not None] + [item.op for item in violation.unplaced]
    if not ops:
        return None
    first = min(op.call for op in ops)
    last = max(op.ret if op.ret is not None else op.call for op in ops)
    pad = max((last - first) // 20, 1000)
    return first - pad, last + pad


__all__ = ["NUMBERED", "Bar", "Cell", "Lane", "Tick", "View", "detail_range", "layout", "span"]
