"""What every trigger uses: the member as the triggers see it, the Control they act on processes
through, acknowledged puts, and a member's armed failpoints."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from gofail_py.errors import EtcdError, TriggerFailed, TriggerUsageError
from gofail_py.etcd.gateway import Gateway, left

PREFIX = b"gofail-py/trigger/"


@dataclass(frozen=True)
class Member:
    """A member as the triggers see it: its name (for the Control), its client address
    HOST:PORT, and its gofail endpoint (restart carries its armed failpoints over; optional)."""

    name: str
    address: str
    gofail: str | None = None


class Control(Protocol):
    """What the triggers that act on processes ask of whoever runs the members."""

    def pid(self, name: str) -> int | None: ...  # the running member's pid (None: not running)
    def stop(self, name: str) -> None: ...
    def start(self, name: str, env: Mapping[str, str]) -> None: ...  # again, with env added; returns once it answers
    def spawn(self, name: str, argv: Sequence[str]) -> Callable[[], None]: ...  # a new process; returns its stopper


def need(control: Control | None, action: str) -> Control:
    if control is None:
        raise TriggerUsageError(f"trigger {action} starts or stops processes: it needs a Control (a scenario gives "
                                "its own; a script passes one)")
    return control


def key(kind: str, number: int) -> bytes:
    return PREFIX + f"{kind}/{os.getpid()}-{time.monotonic_ns()}-{number}".encode()


def puts(gateway: Gateway, count: int, kind: str, deadline: float) -> int:
    """``count`` puts, each acknowledged with a revision; the last revision."""
    revision = 0
    for number in range(count):
        name = key(kind, number)
        made = gateway.put(name, name, deadline)  # a unique value, as the traffic's
        if made <= revision:
            raise TriggerFailed(f"etcd at {gateway.address} acknowledged a put at revision {made}, not after "
                                f"{revision}")
        revision = made
    return revision


def armed_failpoints(member: Member) -> dict[str, str]:
    """The member's armed failpoints (name -> terms), to arm them again from the start."""
    if member.gofail is None:
        return {}
    from gofail_py.client import Client

    return {name: terms for name, terms in Client(member.gofail, timeout=5.0).list().items() if terms}


def wait_ready(gateway: Gateway, member: Member, deadline: float) -> dict[str, Any]:
    """Asks until the member answers a read of the cluster (a quorum and a leader), or the deadline."""
    last: EtcdError | None = None
    while left(deadline) > 0:
        try:
            gateway.range(PREFIX, min(deadline, time.monotonic() + 2.0), count_only=True)
            return gateway.status(deadline)
        except EtcdError as error:
            last = error
        time.sleep(min(0.1, max(0.0, left(deadline))))
    raise TriggerFailed(f"{member.name} did not answer again before the deadline: {last}")
