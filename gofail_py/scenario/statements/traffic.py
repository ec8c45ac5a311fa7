"""traffic and check: clients driving a system in the background while the other statements arm,
crash and restart processes, every operation recorded in a history; then the history checked.

``traffic`` starts the clients and returns at once; they run for their duration, or until the
scenario ends whatever way it ends (cleanup stops them first, and the history is closed on disk).
``check`` waits until the traffic before it has ended, checks each history against its model and
fails with the checker's explanation when one is not linearizable."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gofail_py.errors import CheckUndecided, ExpectationFailed, GofailError, TrafficError
from gofail_py.scenario.model import Step, format_duration
from gofail_py.scenario.statements.table import Spec, register

if TYPE_CHECKING:
    from gofail_py.scenario.journal import StepRecord
    from gofail_py.scenario.cursor import Cursor, Token
    from gofail_py.scenario.runtime import Runtime
    from gofail_py.traffic import Target, Traffic, TrafficStats

KINDS = ("kvserver", "etcd")
_OPTIONS = ("clients", "for", "keys", "rate", "timeout", "mix", "seed", "history", "model")
# (the traffic package is imported when a traffic runs, not by every scenario's parse: its config
# checks clients against traffic.config.MAX_CLIENTS again)
_BOUNDS = {"clients": (1, 1000), "keys": (1, 1_000_000), "rate": (1, 1_000_000), "seed": (0, 2**63 - 1)}
CHECK_TIMEOUT = 120.0


@dataclass(frozen=True)
class TrafficStep(Step):
    kind: str  # kvserver | etcd
    address: str  # HOST:PORT (etcd: the members', comma-separated); {placeholders} filled in when it runs
    clients: int = 4
    duration: float = 10.0
    keys: int = 10
    rate: int | None = None
    timeout: float = 1.0
    mix: tuple[tuple[str, int], ...] | None = None
    seed: int = 0
    history: str | None = None
    model: str | None = None


@dataclass(frozen=True)
class CheckStep(Step):
    histories: tuple[str, ...] = ()  # none: the history of every traffic that ran before it
    model: str | None = None
    timeout: float = CHECK_TIMEOUT
    now: bool = False  # stop the traffic at once instead of waiting for the end of its duration


def _target(kind: str, address: str) -> Target:
    from gofail_py.traffic import Etcd, Kvserver

    return Kvserver(address) if kind == "kvserver" else Etcd(address.split(","))


def _config(step: TrafficStep) -> Any:
    from gofail_py.traffic import TrafficConfig

    return TrafficConfig(clients=step.clients, duration=step.duration, keys=step.keys, rate=step.rate,
                         op_timeout=step.timeout, seed=step.seed, mix=dict(step.mix) if step.mix else None)


def _parse_traffic(cursor: Cursor, tokens: Sequence[Token]) -> TrafficStep:
    from gofail_py.traffic import Traffic, parse_mix

    if len(tokens) < 3:
        raise cursor.error(tokens[-1].column + len(tokens[-1].text), "expected `traffic kvserver|etcd ADDRESS [OPTION VALUE]...`")
    if tokens[1].text not in KINDS:
        raise cursor.error(tokens[1].column, f"unknown traffic target {tokens[1].text!r}: expected {' or '.join(KINDS)}")
    values: dict[str, Any] = {}
    rest = tokens[3:]
    for name, value in zip(rest[::2], rest[1::2]):
        if name.text not in _OPTIONS:
            raise cursor.error(name.column, f"unknown traffic option {name.text!r}: expected one of {', '.join(_OPTIONS)}")
        if name.text in values:
            raise cursor.error(name.column, f"{name.text} is given twice")
        try:
            if name.text in ("for", "timeout"):
                values[name.text] = cursor.duration(value)
            elif name.text == "mix":
                values["mix"] = tuple(parse_mix(value.text).items())
            elif name.text in ("history", "model"):
                values[name.text] = value.text
            else:
                low, high = _BOUNDS[name.text]
                values[name.text] = cursor.integer(value, f"traffic's {name.text}", low, high)
        except TrafficError as error:
            raise cursor.error(value.column, str(error)) from None
    if len(rest) % 2:
        raise cursor.error(rest[-1].column, f"expected a value after {rest[-1].text!r}")
    step = TrafficStep(tokens[1].text, tokens[2].text, **{("duration" if k == "for" else k): v for k, v in values.items()},
                       where=cursor.where())
    try:
        # everything but the address, checked before anything runs: no process, no file, no network
        Traffic(_target(step.kind, "127.0.0.1:1"), os.devnull, _config(step), model=step.model)
    except GofailError as error:
        raise cursor.error(tokens[1].column, str(error)) from None
    return step


def _describe_traffic(step: TrafficStep) -> str:
    words = ["traffic", step.kind, step.address]  # words of one token each: no quoting in this statement
    defaults = TrafficStep("", "")
    for name, field in (("clients", "clients"), ("for", "duration"), ("keys", "keys"), ("rate", "rate"),
                        ("timeout", "timeout"), ("mix", "mix"), ("seed", "seed"), ("history", "history"),
                        ("model", "model")):
        value = getattr(step, field)
        if value == getattr(defaults, field):
            continue
        if field in ("duration", "timeout"):
            value = format_duration(value)
        elif field == "mix":
            value = ",".join(f"{op}={weight}" for op, weight in value)
        words += [name, str(value)]
    return " ".join(words)


class _Running:
    """A traffic in the background: a thread waits for its end and writes the journal record."""

    def __init__(self, rt: Runtime, traffic: Traffic, statement: str) -> None:
        self.rt, self.traffic, self.history = rt, traffic, traffic.history
        self.stats: TrafficStats | None = None
        self.error: BaseException | None = None
        self.record = rt.record("traffic", f"{statement} (ended)")
        self.thread = threading.Thread(target=self._wait, daemon=True, name=f"traffic {self.history}")
        self.thread.start()

    def _wait(self) -> None:
        try:
            self.stats = self.traffic.wait()
            self.record.answer = self.stats.to_json()
        except BaseException as error:  # noqa: BLE001 - a `check` step raises it
            self.error = error
            self.record.outcome, self.record.message = "error", str(error)
        self.rt.finish(self.record)

    def close(self) -> None:
        """At cleanup: the clients stop, the history is closed, the record written. Never raises."""
        try:
            self.traffic.stop()
        except BaseException:  # noqa: BLE001 - the waiter records it
            pass
        self.thread.join(10.0)

    def end(self, rt: Runtime) -> None:
        """Waits (cancel-aware) until it has ended; raises what made it fail."""
        while self.thread.is_alive():
            rt.pause(0.05)
        if self.error is not None:
            raise self.error


def beside(rt: Runtime, address: str) -> tuple[Any, int] | None:
    """A running traffic's history over the store at ``address`` and a client number of its own,
    for the writes a step makes beside the traffic (a trigger's): None when no traffic runs there."""
    with rt.lock:
        runs: list[_Running] = list(rt.extras.get("traffic", []))  # type: ignore[call-overload]
    for running in runs:
        writer = running.traffic.side_writer(address)
        if writer is not None:
            return writer
    return None


def _default_history(rt: Runtime, index: str) -> str:
    journal = rt.journal.path
    if journal is not None:  # beside the journal: kept for `report` and `run --report`
        return str(journal.parent / f"{journal.stem}.traffic-{index}.jsonl")
    return str(Path(rt.variables["tmp"]) / f"traffic-{index}.jsonl")


def _run_traffic(rt: Runtime, step: TrafficStep, record: StepRecord, index: str) -> None:
    from gofail_py.traffic import Traffic

    history = os.path.abspath(rt.substitute(step.history) if step.history else _default_history(rt, index))
    traffic = Traffic(_target(step.kind, rt.substitute(step.address)), history, _config(step), model=step.model)
    record.sent = {"target": traffic.target.describe(), "history": history, "clients": step.clients,
                   "duration": step.duration}
    traffic.start()
    # the history's clock (time.monotonic_ns) at the journal's time 0: one time axis for both
    record.answer = {"history": history, "clock_ns": time.monotonic_ns() - round(rt.now() * 1e9)}
    running = _Running(rt, traffic, record.statement)
    with rt.lock:
        runs: list[_Running] = rt.extras.setdefault("traffic", [])  # type: ignore[assignment]
        runs.append(running)
        rt.closers.append(running.close)


register(Spec(
    TrafficStep, ("traffic",), "traffic kvserver 127.0.0.1:{kv.port} clients 4 for 10s",
    "starts clients in the background that send a mix of operations (put, get, list, delete, cas, txn) to "
    "examples/kvserver's API or to etcd's gateway (`traffic etcd ADDR,ADDR,...`) for the duration, each one "
    "recorded in a history; options `keys N`, `rate N`, `timeout D` (per operation), `mix put=40,get=60`, "
    "`seed N`, `history PATH`, `model NAME`. The scenario's end stops it",
    parse=_parse_traffic, describe=_describe_traffic, run=_run_traffic,
    words=lambda step: (step.address, *((step.history,) if step.history else ())),
))


def _parse_check(cursor: Cursor, tokens: Sequence[Token]) -> CheckStep:
    histories: list[str] = []
    values: dict[str, Any] = {}
    position = 1
    now = False
    while position < len(tokens):
        word = tokens[position]
        if word.text == "now":
            now = True
            position += 1
            continue
        if word.text in ("model", "timeout"):
            if position + 1 >= len(tokens):
                raise cursor.error(word.column, f"expected a value after {word.text!r}")
            value = tokens[position + 1]
            values[word.text] = cursor.duration(value) if word.text == "timeout" else value.text
            position += 2
            continue
        histories.append(word.text)
        position += 1
    model = values.get("model")
    if model is not None:
        from gofail_py.models import get_model

        try:
            get_model(model)
        except GofailError as error:
            raise cursor.error(tokens[1].column, str(error)) from None
    return CheckStep(tuple(histories), model, values.get("timeout", CHECK_TIMEOUT), now, where=cursor.where())


def _describe_check(step: CheckStep) -> str:
    words = ["check", *step.histories, *(["now"] if step.now else [])]
    if step.model is not None:
        words += ["model", step.model]
    if step.timeout != CHECK_TIMEOUT:
        words += ["timeout", format_duration(step.timeout)]
    return " ".join(words)


def _run_check(rt: Runtime, step: CheckStep, record: StepRecord, index: str) -> None:
    from gofail_py.check import check
    from gofail_py.check.explain import explain

    with rt.lock:
        runs: list[_Running] = list(rt.extras.get("traffic", []))  # type: ignore[call-overload]
    paths = [os.path.abspath(rt.substitute(path)) for path in step.histories] or [run.history for run in runs]
    if not paths:
        raise TrafficError("check: no traffic ran before it and no history is named (`check PATH`)")
    for run in runs:
        if run.history in paths:
            if step.now:
                run.close()
            run.end(rt)
    results = []
    deadline = time.monotonic() + step.timeout  # one for the step, whatever the number of histories
    for path in paths:
        result = check(path, model=step.model, timeout=max(0.0, deadline - time.monotonic()))
        results.append({"history": path, "verdict": result.verdict, "operations": result.operations,
                        "indeterminate": result.indeterminate, "elapsed": round(result.elapsed, 3)})
        if not result.linearizable:
            record.answer = results
            if result.verdict == "unknown":  # the run is an error (exit 3), not a failure of the system
                raise CheckUndecided(explain(result))
            raise ExpectationFailed(explain(result))
    record.answer = results


register(Spec(
    CheckStep, ("check",), "check [HISTORY...] [now] [model kv] [timeout 60s]",
    "waits until the traffic before it has ended (`now`: stops it at once), then checks each history (by default every traffic's) against "
    "its model; fails with the checker's explanation unless each is linearizable (*unknown*, the timeout, one deadline for all its histories, reached: "
    "exit 3). The journal holds each verdict, operation count and check time",
    parse=_parse_check, describe=_describe_check, run=_run_check, words=lambda step: step.histories,
))
