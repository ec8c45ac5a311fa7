"""A big kv history read by two processes: the second half's lines go through fastlines.py in a
forked child (gofail_py.children.Forked) while this process reads the first half, then come back
in one marshal blob (tuples of ints and strings: a tenth of the time it took to parse them).

The operations, and the error of a bad file, are exactly the sequential reader's: the child only
runs the fast path's parse and sends back the text of every line it could not take; those lines,
and every check that spans lines (unique ids, line numbers), are the reader's own, here, in order.
Anything unusual (a file that is not regular, a half that is not UTF-8, no process left to fork)
means no split: the caller reads the file the ordinary way and words the error. Forking is only done where it is safe and pays:
Linux, a CPU to spare (no other process running now on every other CPU this process may use, a
one-minute load average below their number), no other thread in this process, a regular file of
PAYS_FROM bytes or more."""

from __future__ import annotations

import os
import stat
import sys
import threading
import time
from typing import TYPE_CHECKING, cast

from gofail_py.children import Forked
from gofail_py.errors import HistoryError
from gofail_py.history.reader import MAX_LINE, HistoryReader, duplicate
from gofail_py.models.operation import Operation

if TYPE_CHECKING:
    from gofail_py.history.fastlines import Line

PAYS_FROM = 4 << 20  # bytes: below it the fork and the blob cost more than half the parsing saves
# the share of the bytes this process parses: it also loads the child's blob and makes the child's
# operations (measured on 50k operations: 0.30 s of reading at 0.5, 0.36 s at 0.36, where this
# process also decoded the child's half)
SHARE = 0.5
# characters: a line longer than this may be longer than MAX_LINE bytes, and the reader (which reads
# lines by the byte) says so at its own point: such a file is read in one process
LONG = MAX_LINE // 4
# bytes: a file is held whole (bytes, then text) while it splits; beyond this it streams in one process
UP_TO = 256 << 20


class OutOfTime(Exception):
    """The deadline came while reading."""


def worth_it(reader: HistoryReader, min_bytes: int = PAYS_FROM) -> bool:
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    if not (reader.takes_fast_lines and sys.platform == "linux" and cpus > 1 and threading.active_count() == 1
            and hasattr(os, "fork")):
        return False
    # a CPU left over: on a busy machine the child waits for a CPU and the reader waits for the child
    # (measured: 0.68 s where one process took 0.46 s). Busy over the last minute means a load of
    # all the CPUs (checks run one after another load one and a half by themselves), or busy now:
    # another process running on every other CPU
    if os.getloadavg()[0] >= cpus or running_now() > cpus - 2:
        return False
    info = os.fstat(reader.file.fileno())
    return stat.S_ISREG(info.st_mode) and min_bytes <= info.st_size <= UP_TO


def running_now() -> int:
    """The processes running or ready to run at this moment, this one left out (Linux's count)."""
    try:
        with open("/proc/loadavg", encoding="ascii") as file:
            return max(int(file.read().split()[3].split("/")[0]) - 1, 0)
    except (OSError, ValueError, IndexError):
        return 0  # unknown: the one-minute load average decides alone


def read_operations(reader: HistoryReader, deadline: float | None, min_bytes: int = PAYS_FROM) -> list[Operation]:
    """Every operation of the reader's file, in two processes when that pays, else in this one;
    OutOfTime when the deadline comes first. The reader is closed at the end."""
    try:
        if worth_it(reader, min_bytes):
            halves = read_in_two(reader, deadline)
            if halves is not None:
                return halves
        ops: list[Operation] = []
        for count, op in enumerate(reader, 1):
            ops.append(op)
            if count & 8191 == 0 and deadline is not None and time.monotonic() > deadline:
                raise OutOfTime
        return ops
    finally:
        reader.close()


def read_in_two(reader: HistoryReader, deadline: float | None) -> list[Operation] | None:
    """The operations of the reader's file (its header already read), or None when the file does not
    split (the caller then iterates the reader, which is left where it was only in that case)."""
    start_number, data = reader.rest(UP_TO + 1)
    if len(data) > UP_TO:  # it grew since its size was taken: held whole, it could be any size
        reader.unread(data)
        return None
    cut = data.find(b"\n", int(len(data) * SHARE)) + 1
    if cut <= 0 or cut >= len(data):
        reader.unread(data)
        return None
    import gofail_py.history.fastlines  # noqa: F401  # compiled here, before the fork: once for both processes

    try:
        child = Forked(_parse, data, cut)  # it parses the second half while this process reads the first
    except OSError:  # no process or descriptor left: one process reads it all
        reader.unread(data)
        return None
    try:
        try:
            first = data[:cut].decode("utf-8").split("\n")
        except UnicodeDecodeError:
            reader.unread(data)
            return None
        first.pop()  # after the half's last newline
        if max(map(len, first), default=0) > LONG:
            reader.unread(data)
            return None
        ids: dict[int, int] = {}
        ops: list[Operation] = []
        problem: HistoryError | None = None
        try:
            for count, op in enumerate(reader.operations(enumerate(first, start_number + 1), ids), 1):
                ops.append(op)
                if count & 8191 == 0 and deadline is not None and time.monotonic() > deadline:
                    raise OutOfTime
        except HistoryError as error:
            problem = error  # the file's first error, unless the second half is not UTF-8 (below)
        answer = child.result(deadline)  # None: it failed or was stuck, or its half is not all UTF-8 lines
        whole = type(answer) is list and len(answer) == data.count(b"\n", cut) + 1
        if problem is not None:
            if whole:
                raise problem  # the second half is clean: the file's first error is the first half's
            # which comes first, this error or the second half's, is the reader's to say (it refuses a
            # chunk that is not UTF-8 before reading its lines); and a deadline does not hide it
            reader.unread(data)
            return None
        if deadline is not None and time.monotonic() > deadline:
            raise OutOfTime
        after = start_number + len(first)
        if whole:
            path = reader.path
            for number, item in enumerate(cast("list[object]", answer), after + 1):
                if type(item) is tuple:  # what fastlines gave: the reader's own loop, without the parse
                    got = cast("Line", item)
                    on = ids.setdefault(got[0], number)
                    if on != number:
                        raise duplicate(path, number, got[0], on)
                    ops.append(Operation(*got, None, path, number))
                else:  # a line the child did not take comes back as its text, for the general reader here
                    ops.extend(reader.operations(((number, cast(str, item)),), ids, fast=False))
            return ops
        second = _lines_of(data, cut)  # the child failed or was stuck: this process reads its half
        if second is None:
            # a half that is not UTF-8 lines is refused by the reader chunk by chunk, before the lines
            # of that chunk: which error comes first is the reader's to say, reading it all again
            reader.unread(data)
            return None
        ops.extend(reader.operations(enumerate(second, after + 1), ids))
        return ops
    finally:
        child.stop()


def _lines_of(data: bytes, cut: int) -> list[str] | None:
    """The lines of the second half, or None when it is not all UTF-8 lines of at most LONG characters."""
    try:
        lines = data[cut:].decode("utf-8").split("\n")
    except UnicodeDecodeError:
        return None
    return lines if max(map(len, lines)) <= LONG else None


def _parse(data: bytes, cut: int) -> list[object] | None:
    """In the child: for each line of the second half, what fastlines gives, or the line's text
    when it gives nothing; None when the half is not all UTF-8 lines of at most LONG characters."""
    from gofail_py.history.fastlines import line_parser

    lines = _lines_of(data, cut)
    if lines is None:
        return None
    parse = line_parser()
    return [parse(text) or text for text in lines]
