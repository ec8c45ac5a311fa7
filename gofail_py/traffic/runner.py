"""Running traffic: client threads that send operations to a target until the duration is over or
they are asked to stop, each operation recorded in a history (gofail_py.history.Recorder).

An operation without an answer (past its deadline, a dropped connection, an error status) is
recorded as indeterminate, never as failed, and its client goes on under a new client id (its
open operation stays open to the end of the history, so one id must not call again). Whatever
way the traffic ends, stop() joins the threads and closes the recorder: the history is complete
on disk when it returns."""

from __future__ import annotations

import itertools
import os
import random
import stat
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Protocol

from gofail_py.errors import GofailError, RecorderError, TrafficError
from gofail_py.history import Recorder
from gofail_py.models import Model, get_model
from gofail_py.traffic.config import TrafficConfig
from gofail_py.traffic.targets import Connection, NoAnswer, Target, why
from gofail_py.traffic.wire import WireError
from gofail_py.traffic.workload import WorkloadFactory, builtin_workload

_HEADER = b'{"gofail_py_history"'  # how every history the Recorder writes begins
RECOVER_FOR = 5.0  # after an operation without an answer, wait at most this long for the target
SAMPLES = 64  # operations drawn before the start to check that the model fits the traffic


class HistorySink(Protocol):
    """What the clients record into: a Recorder (or, for a benchmark, something that drops it all)."""

    def call(self, client: int, op: str, input: Any, meta: dict[str, Any] | None = None, at: int | None = None
             ) -> Any: ...

    def returned(self, call: Any, output: Any, at: int | None = None) -> None: ...

    def lost(self, call: Any, error: str) -> None: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class TrafficStats:
    """What a traffic run did."""

    history: str
    target: str
    clients: int
    operations: int
    answered: int
    indeterminate: int
    odd_answers: int  # answers that did not fit the model: recorded as indeterminate
    by_op: dict[str, int] = field(default_factory=dict)
    elapsed: float = 0.0

    @property
    def rate(self) -> float:
        return self.operations / self.elapsed if self.elapsed > 0 else 0.0

    def to_json(self) -> dict[str, Any]:
        return {"history": self.history, "target": self.target, "clients": self.clients,
                "operations": self.operations, "answered": self.answered, "indeterminate": self.indeterminate,
                "odd_answers": self.odd_answers, "by_op": dict(sorted(self.by_op.items())),
                "elapsed": round(self.elapsed, 3), "ops_per_second": round(self.rate, 1)}

    def summary(self) -> str:
        return (f"traffic: {self.operations} operations in {self.elapsed:.1f} s ({self.rate:.0f}/s) from "
                f"{self.clients} clients to {self.target}: {self.answered} answered, {self.indeterminate} "
                f"without an answer; history {self.history}")


class _Pace:
    """A shared rate limit: the next free start slot, one every 1/rate seconds."""

    def __init__(self, rate: float | None) -> None:
        self.gap = 1.0 / rate if rate else 0.0
        self.next = 0.0
        self.lock = threading.Lock()

    def wait(self, stop: threading.Event) -> None:
        if not self.gap:
            return
        with self.lock:
            now = time.monotonic()
            slot = max(now, self.next)
            self.next = slot + self.gap
        if slot > now:
            stop.wait(slot - now)


class _Tally:
    __slots__ = ("operations", "answered", "indeterminate", "odd", "by_op")

    def __init__(self) -> None:
        self.operations = self.answered = self.indeterminate = self.odd = 0
        self.by_op: Counter[str] = Counter()


class Traffic:
    """``with Traffic(Kvserver("127.0.0.1:8080"), "h.jsonl", TrafficConfig(clients=4, duration=10)) as t:
    ...`` (or start(), then wait() or stop()): the stats come back from wait()/stop()."""

    def __init__(self, target: Target, history: str | os.PathLike[str], config: TrafficConfig | None = None,
                 model: str | Model | None = None, workload: WorkloadFactory | None = None,
                 sink: HistorySink | None = None) -> None:
        if not isinstance(target, Target):
            raise TrafficError(f"unknown traffic target {target!r}: expected Kvserver, Etcd or Custom "
                               "(gofail_py.traffic)")
        self.config = config if config is not None else TrafficConfig()
        self.config.check()
        self.target, self.history, self.sink_given = target, os.fspath(history), sink
        self.model = get_model(model if model is not None else target.model)
        given = workload if workload is not None else getattr(target, "workload", None)
        self._builtin_workload = given is None
        if given is not None:
            self.workload: WorkloadFactory = given
            sends = None
        else:
            # the operations come from the target (a kvserver sends kv operations), the model checks them
            self.workload, sends = builtin_workload(_name(target.model), self.config)
        self._fits(sends)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._tallies: list[_Tally] = []
        self._ids = itertools.count(self.config.clients)
        self._errors: list[BaseException] = []
        self._stats: TrafficStats | None = None
        self._stopping = threading.Lock()  # stop() may come from a waiter and a cleanup at once
        self._sink: HistorySink | None = None
        self.started = self.ends = 0.0

    def _fits(self, sends: frozenset[str] | None) -> None:
        """TrafficError unless every operation the workload sends is one the model and the target know."""
        operations = self.model.operations
        if sends is not None and operations is not None and not sends <= operations:
            raise TrafficError(f"the model {self.model.name!r} does not match the traffic: it has no "
                               f"{', '.join(sorted(sends - operations))} (its operations: {', '.join(sorted(operations))})")
        supported = self.target.supports()
        if sends is not None and supported is not None and not sends <= supported:
            raise TrafficError(f"{self.target.describe()} has no function for {', '.join(sorted(sends - supported))}, "
                               "which the operation mix sends")
        sample = self.workload(0, random.Random(self.config.seed))
        for _ in range(SAMPLES):
            op, input = sample.next()
            problem = self.model.validate(op, input, None)
            if problem is None and supported is not None and op not in supported:
                problem = f"the client has no function for {op!r}"
            if problem is not None:
                raise TrafficError(f"the model {self.model.name!r} does not match the traffic: {op}: {problem}")

    # --- running ------------------------------------------------------------------------------

    def start(self) -> Traffic:
        """Checks that the target answers and is empty, opens the history, starts the clients."""
        if self.started:
            raise TrafficError("this traffic was started already")
        first = self.target.first_revision(time.monotonic() + 10.0)
        if first is not None and self.model.name == "kv" and first != 1:
            raise TrafficError(f"{self.target.describe()} is not empty (revision {first}): the kv model checks a "
                               "history from an empty store; start the target on fresh data")
        if self.sink_given is None:
            _history_path_ok(self.history)
        # the inputs are the built-in workload's (made in the model's shapes, the model checked against
        # them before the start); the outputs are trusted when the target builds them field by field
        trusted = self.target.builds_outputs and self._builtin_workload and not self.target.own_answers
        self._sink = self.sink_given if self.sink_given is not None else Recorder(self.history, model=self.model,
                                                                                  trusted=trusted)
        self.started = time.monotonic()
        self.ends = self.started + self.config.duration
        pace = _Pace(self.config.rate)
        for index in range(self.config.clients):
            tally = _Tally()
            self._tallies.append(tally)
            thread = threading.Thread(target=self._client, args=(index, tally, pace), daemon=True,
                                      name=f"gofail-py traffic client {index}")
            self._threads.append(thread)
        for thread in self._threads:
            thread.start()
        return self

    def side_writer(self, address: str) -> tuple[HistorySink, int] | None:
        """This traffic's history and a client number of its own, for writes made beside it to the
        store it runs against (a trigger's puts on one of its members, at ``address``): recorded,
        they are in the history its check reads. None when it does not run against ``address``
        or is not running."""
        if self._sink is None or self._stats is not None or address not in getattr(self.target, "members", ()):
            return None
        return self._sink, next(self._ids)

    def _client(self, index: int, tally: _Tally, pace: _Pace) -> None:
        sink = self._sink
        assert sink is not None
        try:
            connection = self.target.connect(index)
            workload = self.workload(index, random.Random(f"{self.config.seed}/{index}"))
        except BaseException as error:  # noqa: BLE001 - any failure of the user's factories ends the traffic
            self._fail(error)
            return
        try:
            self._loop(index, tally, pace, sink, connection, workload)
        except BaseException as error:  # noqa: BLE001 - recorded, raised by stop()
            self._fail(error)
        finally:
            connection.close()

    def _loop(self, client: int, tally: _Tally, pace: _Pace, sink: HistorySink, connection: Connection,
              workload: Any) -> None:
        timeout, stop, own = self.config.op_timeout, self._stop, self.target.own_answers
        while not stop.is_set():
            pace.wait(stop)
            if stop.is_set() or time.monotonic() >= self.ends:
                break
            op, input = workload.next()
            reason = ""
            now = time.monotonic_ns()  # the call's time and its deadline's start: one reading for both
            call = sink.call(client, op, input, at=now)
            deadline = now / 1e9 + timeout  # time.monotonic()'s clock and scale
            tally.operations += 1
            tally.by_op[op] += 1
            try:
                output = connection.do(op, input, deadline)
                now = time.monotonic_ns()
                late = now / 1e9 > deadline
            except (GofailError, NoAnswer, OSError, ValueError, WireError) as error:
                if isinstance(error, TrafficError):
                    raise
                output, late, reason = None, False, why(error, timeout)
            except Exception as error:  # noqa: BLE001 - a user's function failing is "no answer"
                output, late, reason = None, False, why(error, timeout) if own else repr(error)
            if output is not None and late:
                output, reason = None, f"answered after its deadline ({timeout:g}s)"
            if output is not None:
                try:
                    sink.returned(call, output, at=now)
                except RecorderError as error:
                    if own:
                        sink.lost(call, "its answer did not fit the model")
                        raise TrafficError(f"the model {self.model.name!r} does not match the client's answers: "
                                           f"{error}") from None
                    tally.odd += 1
                    output, reason = None, f"an answer that does not fit the {self.model.name} model: {error}"
                else:
                    tally.answered += 1
                    workload.observe(op, input, output)
                    continue
            sink.lost(call, reason)
            tally.indeterminate += 1
            workload.observe(op, input, None)
            client = next(self._ids)  # its open operation stays open: this thread calls as someone new
            connection.recover(min(self.ends, time.monotonic() + RECOVER_FOR), stop)

    def _fail(self, error: BaseException) -> None:
        self._errors.append(error)
        self._stop.set()

    # --- ending -------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return any(thread.is_alive() for thread in self._threads)

    def wait(self, timeout: float | None = None) -> TrafficStats:
        """Waits until the duration is over (or ``timeout`` seconds), then stops."""
        if not self.started:
            raise TrafficError("this traffic was not started")
        until = self.ends if timeout is None else min(self.ends, time.monotonic() + timeout)
        self._stop.wait(max(0.0, until - time.monotonic()))
        return self.stop()

    def stop(self) -> TrafficStats:
        """Stops the clients (each finishes the call it is in, bounded by its deadline), closes the
        history and gives the stats; raises what made a client fail. Idempotent, thread-safe."""
        with self._stopping:
            return self._stop_once()

    def _stop_once(self) -> TrafficStats:
        if self._stats is not None:
            self._raise_failure()
            return self._stats
        self._stop.set()
        ended = time.monotonic()
        limit = ended + self.config.op_timeout + 2.0
        for thread in self._threads:
            thread.join(max(0.0, limit - time.monotonic()))
        stuck = [thread.name for thread in self._threads if thread.is_alive()]
        try:
            if self._sink is not None:
                self._sink.close()  # a stuck client's open call is written as indeterminate
        finally:
            totals = _Tally()
            for tally in self._tallies:
                totals.operations += tally.operations
                totals.answered += tally.answered
                totals.indeterminate += tally.indeterminate
                totals.odd += tally.odd
                totals.by_op.update(tally.by_op)
            self._stats = TrafficStats(self.history, self.target.describe(), self.config.clients, totals.operations,
                                       totals.answered, totals.operations - totals.answered, totals.odd,
                                       dict(totals.by_op), (min(ended, self.ends) if self.started else ended) - self.started)
        if stuck:
            self._errors.append(TrafficError(f"{len(stuck)} client(s) did not stop within their deadline: "
                                             f"{', '.join(stuck)}"))
        self._raise_failure()
        return self._stats

    def _raise_failure(self) -> None:
        if self._errors:
            error = self._errors[0]
            if isinstance(error, GofailError):
                raise error
            raise TrafficError(f"a traffic client failed: {error!r}") from error

    def __enter__(self) -> Traffic:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _history_path_ok(path: str) -> None:
    """The history replaces what is at its path only when that is an empty file or a history:
    `history main.go` is refused (exit 2), nothing written."""
    try:
        info = os.lstat(path)
    except OSError:
        return
    if stat.S_ISLNK(info.st_mode) or not stat.S_ISREG(info.st_mode):
        raise TrafficError(f"{path}: exists and is not a regular file; a history replaces only an empty file or "
                           "an earlier history: give another path")
    if info.st_size:
        try:
            with open(path, "rb") as file:
                head = file.read(len(_HEADER))
        except OSError as error:
            raise TrafficError(f"{path}: cannot be read to see what it is: {error.strerror or error}") from None
        if head != _HEADER:
            raise TrafficError(f"{path}: exists and is not a history; a history replaces only an empty file or an "
                               "earlier history: give another path, or remove it first")


def _name(model: Any) -> str:
    return model if isinstance(model, str) else get_model(model).name


def run_traffic(target: Target, history: str | os.PathLike[str], config: TrafficConfig | None = None,
                model: str | Model | None = None, workload: WorkloadFactory | None = None) -> TrafficStats:
    """Runs traffic for its whole duration and gives its stats (the history is on disk)."""
    traffic = Traffic(target, history, config, model, workload)
    traffic.start()
    try:
        return traffic.wait()
    finally:
        traffic.stop()
