"""What a traffic run does: how many clients, for how long, which operations in which proportion,
over how many keys, how fast, and how long one operation may take. Values only; checked here."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gofail_py.errors import TrafficError

# the kv workload's operations (what each sends is in workload.py) and the register workload's
KV_MIX = {"put": 40, "get": 25, "list": 10, "delete": 5, "cas": 10, "txn": 10}
REGISTER_MIX = {"write": 40, "read": 50, "cas": 10}
MAX_CLIENTS = 1000


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


@dataclass(frozen=True)
class TrafficConfig:
    """``clients`` threads run for ``duration`` seconds, each picking operations by the weights of
    ``mix`` (None: the workload's default) over ``keys`` keys (1: one hot key), all of them together
    at most ``rate`` operations a second (None: as fast as they go). An operation without an answer
    within ``op_timeout`` seconds is recorded as indeterminate. ``seed`` makes the choices repeatable."""

    clients: int = 4
    duration: float = 10.0
    mix: Mapping[str, int] | None = None
    keys: int = 10
    rate: float | None = None
    op_timeout: float = 1.0
    seed: int = 0
    key_prefix: str = "key"

    def check(self) -> None:
        """TrafficError (exit 2) for a value that cannot run."""
        if type(self.clients) is not int or not 1 <= self.clients <= MAX_CLIENTS:
            raise TrafficError(f"clients must be a whole number from 1 to {MAX_CLIENTS}, not {self.clients!r}")
        if not _number(self.duration) or not math.isfinite(self.duration) or self.duration <= 0:
            raise TrafficError(f"the traffic's duration must be a finite number of seconds above 0, not {self.duration!r}")
        if type(self.keys) is not int or not 1 <= self.keys <= 1_000_000:
            raise TrafficError(f"keys must be a whole number from 1 (one hot key) to 1000000, not {self.keys!r}")
        if self.rate is not None and (not _number(self.rate) or not math.isfinite(self.rate) or self.rate <= 0):
            raise TrafficError(f"rate must be a finite number of operations a second above 0 (or none), not {self.rate!r}")
        if not _number(self.op_timeout) or not math.isfinite(self.op_timeout) or self.op_timeout <= 0:
            raise TrafficError(f"op_timeout must be a finite number of seconds above 0, not {self.op_timeout!r}")
        if type(self.seed) is not int:
            raise TrafficError(f"seed must be a whole number, not {self.seed!r}")
        if not isinstance(self.key_prefix, str) or not self.key_prefix or "\0" in self.key_prefix:
            raise TrafficError(f"key_prefix must be a non-empty string without NUL, not {self.key_prefix!r}")
        if not self.key_prefix.isascii() and not _utf8(self.key_prefix):
            raise TrafficError(f"key_prefix must be text UTF-8 can hold (no lone surrogate), not {self.key_prefix!r}")
        if self.mix is not None:
            check_mix(self.mix)


def _utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def check_mix(mix: Mapping[str, int], known: Mapping[str, Any] | None = None) -> None:
    """Weights are whole numbers >= 0, at least one above 0; with ``known``, every name is one of its."""
    if not isinstance(mix, Mapping) or not mix:
        raise TrafficError(f"the operation mix must name at least one operation with a weight, not {mix!r}")
    for name, weight in mix.items():
        if known is not None and name not in known:
            raise TrafficError(f"unknown operation {name!r} in the mix: expected one of {', '.join(known)}")
        if type(weight) is not int or weight < 0:
            raise TrafficError(f"the weight of {name!r} must be a whole number >= 0, not {weight!r}")
    if not any(mix.values()):
        raise TrafficError("every weight of the operation mix is 0: nothing to do")


def parse_mix(text: str) -> dict[str, int]:
    """``put=40,get=30,cas=5`` as a mix (names checked later, against the workload)."""
    mix: dict[str, int] = {}
    for part in text.split(","):
        name, eq, weight = part.strip().partition("=")
        if not eq or not name.strip() or not weight.strip().isdigit():
            raise TrafficError(f"bad operation mix {text!r}: expected NAME=WEIGHT,... with whole weights, e.g. put=40,get=60")
        if name.strip() in mix:
            raise TrafficError(f"bad operation mix {text!r}: {name.strip()} is named twice")
        mix[name.strip()] = int(weight)
    check_mix(mix)
    return mix
