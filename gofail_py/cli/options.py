"""Option types shared by the command modules."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    _ParamType = click.ParamType[float]
else:  # click < 8.2 has no generic ParamType at run time
    _ParamType = click.ParamType

MAX_SECONDS = 10_000_000.0  # ~115 days; a larger value overflows the socket layer's time_t


class Seconds(_ParamType):
    """A finite number of seconds: above 0 (or at least 0 with ``zero_ok``), no NaN or infinity
    (NaN passes click's FloatRange, infinity overflows a socket timeout into a traceback)."""

    name = "seconds"

    def __init__(self, zero_ok: bool = False) -> None:
        self.zero_ok = zero_ok

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        try:
            seconds = float(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a number of seconds", param, ctx)
        low_ok = seconds >= 0 if self.zero_ok else seconds > 0
        if not math.isfinite(seconds) or not low_ok or seconds > MAX_SECONDS:
            bound = "at least 0" if self.zero_ok else "above 0"
            self.fail(f"{value!r}: expected a number of seconds {bound} and at most {MAX_SECONDS:g}", param, ctx)
        return seconds
