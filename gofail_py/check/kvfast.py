"""The kv model's own check, driven by the revisions in the answers (docs/check.md, "How a history
is checked").

kvprep.plan fixes each answered operation's place by its revision; this module walks the
revisions in order on one store changed in place, checking each answer against the store and
keeping real time with one number: ``point``, the earliest moment the last write can have taken
effect given everything placed before it. A write of revision r takes effect at max(point, the
latest call of the reads of r-1, its own call) and no later than its return; a read of r must
return after the write of r took effect. Those greedy earliest moments are optimal for a fixed
order, and reads of one revision never need ordering among themselves, so the only choices are
the gaps: which unanswered write created a revision no answer claims. Only there does the check
branch (depth first, undoing the store's changes on the way back), trying pinned writes alone,
interchangeable ones once per class, and remembering (revision, store, used writes) with the
earliest point it was reached at: a later arrival no earlier is dominated (Lowe's memo, bounded).

A gap's write is only tried when it was called before every later-placed operation returned
(kvprep's bound), so ``point`` is never pushed past an operation's return by a gap's choice:
only by an answered operation's call, the same in every order. So an operation that returns
before ``point`` fails in every order: the history is not linearizable, at once, without trying
the other choices of the gaps before (a stale read near the end of a history full of lost writes
made the search try them all)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from itertools import islice
from typing import Any

from gofail_py.check import kvexplain, kvlocal, kvprep
from gofail_py.check.result import LINEARIZABLE, NOT_LINEARIZABLE, UNKNOWN, Unplaced, Violation
from gofail_py.check.search import Outcome
from gofail_py.models.operation import Operation
from gofail_py.models.kvstore import Store, Undo, execute, put, read_range, rollback

# wrong reads met before asking whether one is impossible in every order (kvlocal: a pass over the
# whole history): a linearizable history with lost writes meets a few, one per wrong guess at a gap
# (22 in 50k operations over 12 keys, where building it was a quarter of the check); a failing one
# with many gaps meets them by the thousand, and then it pays at once
LOCAL_AFTER = 64
MEMO_BYTES = 256 << 20  # what the memo of configurations at gaps may hold, roughly; the older half is forgotten beyond
_EARLIEST = float("-inf")


class _Gap:
    """A revision no answered write claims, and the unanswered writes tried for it."""

    __slots__ = ("revision", "point", "candidates", "next", "mark", "placed", "chosen", "chosen_class", "wrote")

    def __init__(self, revision: int, point: float, candidates: list[tuple[int, Operation]], mark: int,
                 placed: int) -> None:
        self.revision = revision
        self.point = point  # the point before its write: after the reads of revision - 1
        self.candidates = candidates  # (class number, or -1 for the pinned op; the op)
        self.next = 0
        self.mark = mark
        self.placed = placed
        self.chosen: Operation | None = None
        self.chosen_class = -1
        self.wrote = False  # a candidate created the revision in this state


class _Check:
    def __init__(self, plan: kvprep.Plan, ops: list[Operation], deadline: float | None, memo_bytes: int) -> None:
        self.plan = plan
        self.ops = ops
        self._local: kvlocal.Local | None = None
        self.deadline = deadline
        self.memo_bytes = memo_bytes
        self.store: Store = {}
        self.undo: Undo = []
        self.gaps: list[_Gap] = []
        self.used = [0] * len(plan.classes)
        self.pins_used: set[int] = set()
        self.memo: dict[tuple[Any, ...], float] = {}
        self.best = kvexplain.Best()
        self.certain = False  # after a failure: no order at all gets past it
        self.wrong_reads = 0  # dead ends at a wrong answer so far

    def local(self) -> kvlocal.Local:
        if self._local is None:
            self._local = kvlocal.Local(self.plan, self.ops)
        return self._local

    def _fail(self, revision: int, reads_at_end: bool, placed: int, unplaced: Callable[[], list[Unplaced]],
              certain: bool = False) -> None:
        """Records a dead end (``certain``: every order fails there) and, when it is the deepest
        yet or certain, why (only then are its reasons worded); the store is the prefix's end state."""
        self.certain = certain
        if placed > self.best.placed or certain:
            best = self.best
            best.placed, best.revision, best.reads_at_end, best.unplaced = placed, revision, reads_at_end, unplaced()
            best.excluded = {id(item.op) for item in best.unplaced}
            best.choices = {gap.revision: gap.chosen for gap in self.gaps if gap.chosen is not None}
            best.store = dict(self.store)

    def _reads(self, revision: int, point: float, placed: int) -> bool:
        """Places the reads of ``revision`` after its write took effect at ``point``."""
        reads = self.plan.reads[revision]
        if reads is None:
            return True
        store = self.store
        late: list[Operation] = []
        wrong: list[Operation] = []
        ranges: dict[str, list[Any]] = {}  # prefix -> what a get of it sees: reads of a revision share the store
        for read in reads:
            if read.ret < point:  # type: ignore[operator]
                late.append(read)
            elif read.op == "get":  # its revision is this one: only the kvs are left to compare
                input = read.input
                if input.get("prefix"):
                    key = input["key"]
                    seen = ranges.get(key)
                    if seen is None:
                        seen = ranges[key] = read_range(store, key, True)
                    if read.output["kvs"] != seen:  # type: ignore[index]
                        wrong.append(read)
                else:
                    entry = store.get(input["key"])
                    if read.output["kvs"] != ([] if entry is None else [entry]):  # type: ignore[index]
                        wrong.append(read)
            else:  # a delete of nothing or a txn that wrote nothing: it must change nothing here either
                undo: Undo = []
                out = execute(store, revision, read.op, read.input, undo)[1]
                rollback(store, undo)
                if out != read.output:
                    wrong.append(read)
        if not late and not wrong:
            return True
        self.wrong_reads += 1
        if late:  # fails in every order: worded now, with the stale reads that made it late if those are at fault
            unplaced, innocent = kvexplain.late_reads(self.plan, revision, late)
            unplaced += kvexplain.wrong_reads(store, revision, wrong + innocent)
            self._fail(revision, True, placed + len(reads) - len(unplaced), lambda: unplaced, True)
            return False
        # an answer no choice can explain fails in every order; any other may be another choice's to fix
        certain = bool(self.gaps) and self.wrong_reads > LOCAL_AFTER and any(self.local().impossible(read) for read in wrong)
        self._fail(revision, True, placed + len(reads) - len(wrong),
                   lambda: kvexplain.wrong_reads(store, revision, wrong), certain)
        return False

    # -- the walk ---------------------------------------------------------------------------

    def run(self) -> Outcome:
        plan, deadline = self.plan, self.deadline
        writers, reads, read_calls, top = plan.writers, plan.reads, plan.read_calls, plan.top
        revision, point, placed, steps = 1, _EARLIEST, 0, 0
        while True:
            if self._reads(revision, point, placed):
                group = reads[revision]
                if group is not None:
                    placed += len(group)
                if revision == top:
                    return Outcome(LINEARIZABLE)
                after = read_calls[revision]
                if after < point:
                    after = point
                claimed = writers[revision + 1]
                if claimed is not None:
                    moment = self._write(claimed, revision, point, after, placed)
                    if moment is not None:
                        revision, point, placed = revision + 1, moment, placed + 1
                        steps += 1
                        if steps & 63 == 0 and deadline is not None and time.monotonic() > deadline:
                            return Outcome(UNKNOWN)
                        continue
                else:
                    gap = self._open_gap(revision + 1, after, placed)
                    if gap is not None:
                        self.gaps.append(gap)
            if self.certain:
                return Outcome(NOT_LINEARIZABLE, kvexplain.violation(plan, self.best))
            moved = self._next_candidate()
            if moved is None:
                return Outcome(NOT_LINEARIZABLE, kvexplain.violation(plan, self.best))
            revision, point, placed = moved
            steps += 1
            if steps & 63 == 0 and deadline is not None and time.monotonic() > deadline:
                return Outcome(UNKNOWN)

    def _write(self, claimed: list[Operation], revision: int, point: float, after: float, placed: int) -> float | None:
        """Applies the answered write of revision + 1: the moment it took effect, or None (the
        failure recorded). ``point``: when the write of ``revision`` took effect; ``after``: when
        the reads of ``revision`` were all called too."""
        new, writer, store, undo = revision + 1, claimed[0], self.store, self.undo
        if len(claimed) > 1:
            self._fail(revision, True, placed, lambda: [Unplaced(other, f"it answered revision {new}, which "
                                                                        f"{writer.where()} answered too") for other in claimed[1:]],
                       True)
            return None
        mark = len(undo)
        if writer.op == "put":  # its answer is its revision, which is this one: nothing left to compare
            input = writer.input
            put(store, input["key"], input["value"], new, undo)
            out = writer.output
        else:
            out = execute(store, revision, writer.op, writer.input, undo)[1]
        if out != writer.output:
            rollback(store, undo, mark)
            self._fail(revision, True, placed, lambda: [Unplaced(writer, f"its answer is not possible at revision "
                                                                         f"{revision}, where the store would answer "
                                                                         f"{kvexplain.short(out)}")])
            return None
        moment = max(after, writer.call)
        if moment <= writer.ret:  # type: ignore[operator]
            return moment
        # it returned before the operations placed before it were all called: those that were called
        # after its return fail in every order, the reads of older revisions (stale) or, when a write
        # of an older revision was, this write itself
        stale, writes = kvexplain.called_after(self.plan, new, writer.ret)  # type: ignore[arg-type]
        unplaced = [kvexplain.stale(read, writer) for read in stale]
        if stale and not writes:  # the prefix ends with this write in the store
            self._fail(new, False, placed - len(stale) + 1, lambda: unplaced, True)
            rollback(store, undo, mark)
            return None
        rollback(store, undo, mark)
        if writes:
            reason = (f"it created revision {new}, but returned before {writes[0].where()}, which created revision "
                      f"{writes[0].output['revision']}, was called")  # type: ignore[index]
        else:  # not met: called_after names every cause
            reason = f"it created revision {new}, but returned before it could (at {writer.ret}, not before {point:.0f})"
        unplaced.append(Unplaced(writer, reason))
        self._fail(revision, True, placed - len(stale), lambda: unplaced, True)
        return None

    def _open_gap(self, revision: int, point: float, placed: int) -> _Gap | None:
        """A gap at ``revision``: its candidates, or None (recorded as a failure) when there are none
        or the same configuration was reached before at an earlier or equal point."""
        plan = self.plan
        limit = plan.bound[revision]
        candidates: list[tuple[int, Operation]] = []
        if revision in plan.pins:
            pinned = plan.pins[revision]
            if pinned is not None and id(pinned) not in self.pins_used and pinned.call <= limit:
                candidates.append((-1, pinned))
        else:
            used = self.used
            for number, members in enumerate(plan.classes):
                count = used[number]
                if count < len(members) and members[count].call <= limit:
                    candidates.append((number, members[count]))
            candidates.sort(key=lambda item: item[1].call)
        if not candidates:
            self._fail(revision - 1, True, placed, lambda: kvexplain.no_writer(plan, revision))
            return None
        key = (revision, frozenset((name, e["value"], e["create_revision"], e["mod_revision"], e["version"])
                                   for name, e in self.store.items()), tuple(self.used))
        seen = self.memo.get(key)
        if seen is not None and seen <= point:
            self.certain = False
            return None
        # an entry's size: the key's tuples (store entries and used counts) and the dict's slot
        if len(self.memo) * (200 + 150 * len(self.store) + 8 * len(self.used)) >= self.memo_bytes:
            for old in list(islice(self.memo, len(self.memo) // 2)):
                del self.memo[old]
        self.memo[key] = point
        return _Gap(revision, point, candidates, len(self.undo), placed)

    def _undo_choice(self, gap: _Gap) -> None:
        rollback(self.store, self.undo, gap.mark)
        if gap.chosen_class >= 0:
            self.used[gap.chosen_class] -= 1
        elif gap.chosen is not None:
            self.pins_used.discard(id(gap.chosen))
        gap.chosen = None

    def _next_candidate(self) -> tuple[int, float, int] | None:
        """The next untried choice of the innermost gap, backing out of exhausted gaps:
        (revision, point, placed)."""
        plan, store, undo, gaps = self.plan, self.store, self.undo, self.gaps
        while gaps:
            gap = gaps[-1]
            if gap.chosen is not None:
                self._undo_choice(gap)
            while gap.next < len(gap.candidates):
                number, op = gap.candidates[gap.next]
                gap.next += 1
                name, input = plan.class_inputs[number] if number >= 0 else (op.op, op.input)
                new, _ = execute(store, gap.revision - 1, name, input, undo)
                if new != gap.revision:  # it writes nothing in this state: it cannot have created the revision
                    rollback(store, undo, gap.mark)
                    continue
                gap.chosen, gap.chosen_class, gap.wrote = op, number, True
                if number >= 0:
                    self.used[number] += 1
                else:
                    self.pins_used.add(id(op))
                return gap.revision, max(gap.point, op.call), gap.placed + 1
            gaps.pop()
            if not gap.wrote:  # every candidate writes nothing in this state: a dead end of its own
                self._fail(gap.revision - 1, True, gap.placed, lambda: kvexplain.no_writer(plan, gap.revision))
        return None


def check_revisions(ops: Sequence[Operation], deadline: float | None, memo_bytes: int = MEMO_BYTES) -> Outcome:
    """Whether a kv history is linearizable, using the revisions in its answers."""
    plan = kvprep.plan(ops)
    if plan.overflow is not None:
        return Outcome(NOT_LINEARIZABLE, kvexplain.too_many_revisions(plan, list(ops), plan.overflow))
    if plan.bad_writes:
        unplaced = [Unplaced(op, "it answered a write with revision 1 or less: the empty store is revision 1, "
                                 "so the first write creates 2") for op in plan.bad_writes[:10]]
        return Outcome(NOT_LINEARIZABLE, Violation(0, [], {"revision": 1, "kvs": []}, unplaced))
    return _Check(plan, ops if isinstance(ops, list) else list(ops), deadline, memo_bytes).run()
