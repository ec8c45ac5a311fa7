"""A big kv history read by two processes: the second half's lines go through fastlines.py in a
forked child (gofail_py.children.Forked) while this process reads the first half, then come back
in one marshal blob (tuples of ints and strings: a tenth of the time it took to parse them).

The operations, and the error of a bad file, are exactly the sequential reader's: the child only
runs the fast path's parse; every line it could not take, and every check that spans lines
(unique ids, line numbers), is the reader's own, here, in order. Anything unusual (a file that is
not regular, a half that is not UTF-8, no process left to fork) means no split: the caller reads
the file the ordinary way and words the error. Forking is only done where it is safe and pays:
Linux, a CPU to spare (the load average at least one below the CPUs this process may use), no
other thread in this process, a regular file of PAYS_FROM bytes or more."""

from __future__ import annotations

import os
import stat
import sys
import threading
import time

from gofail_py.children import Forked
from gofail_py.history.reader import MAX_LINE, HistoryReader
from gofail_py.models.operation import Operation

PAYS_FROM = 4 << 20  # bytes: below it the fork and the blob cost more than half the parsing saves
# the share of the lines this process parses: it also decodes both halves, loads the child's blob
# and makes the child's operations (measured on 50k operations: they finish together at about this)
SHARE = 0.36
# bytes: a file is held whole (bytes, then text) while it splits; beyond this it streams in one process
UP_TO = 256 << 20


class OutOfTime(Exception):
    """The deadline came while reading."""


def worth_it(reader: HistoryReader, min_bytes: int = PAYS_FROM) -> bool:
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    if not (reader.takes_fast_lines and sys.platform == "linux" and cpus > 1 and threading.active_count() == 1
            and hasattr(os, "fork")):
        return False
    # a CPU left over, on average over the last minute: on a busy machine the child waits for a CPU
    # and the reader waits for the child (measured: 0.68 s where one process took 0.46 s)
    if os.getloadavg()[0] > cpus - 1:
        return False
    info = os.fstat(reader.file.fileno())
    return stat.S_ISREG(info.st_mode) and min_bytes <= info.st_size <= UP_TO


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
    start_number, data = reader.rest()
    cut = data.find(b"\n", int(len(data) * SHARE)) + 1
    if cut <= 0 or cut >= len(data):
        reader.unread(data)
        return None
    try:
        child = Forked(_parse, data, cut)  # it parses the second half while this process reads the first
    except OSError:  # no process or descriptor left: one process reads it all
        reader.unread(data)
        return None
    try:
        try:
            first = data[:cut].decode("utf-8").split("\n")
            second = data[cut:].decode("utf-8").split("\n")
        except UnicodeDecodeError:
            reader.unread(data)
            return None
        first.pop()  # after the half's last newline
        if max(map(len, first), default=0) > MAX_LINE or max(map(len, second), default=0) > MAX_LINE:
            reader.unread(data)
            return None
        ids: dict[int, int] = {}
        ops: list[Operation] = []
        for count, op in enumerate(reader.operations(enumerate(first, start_number + 1), ids), 1):
            ops.append(op)
            if count & 8191 == 0 and deadline is not None and time.monotonic() > deadline:
                raise OutOfTime
        parsed = child.result(deadline)  # None: it failed or was stuck, and this process parses that half
        if deadline is not None and time.monotonic() > deadline:
            raise OutOfTime
        if type(parsed) is not list or len(parsed) != len(second):
            parsed = None
        numbered = enumerate(second, start_number + 1 + len(first))
        ops.extend(reader.operations(numbered, ids, None if parsed is None else iter(parsed)))
        return ops
    finally:
        child.stop()


def _parse(data: bytes, cut: int) -> list[object]:
    """In the child: what fastlines gives for each line of the second half."""
    from gofail_py.history.fastlines import line_parser

    parse = line_parser()
    return [parse(text) for text in data[cut:].decode("utf-8").split("\n")]
