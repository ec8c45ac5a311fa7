"""Argument checks at the Python API's boundary: a wrong type is a TypeError naming the argument
there, not an AttributeError from deep inside (mypy catches these for typed callers only)."""

from __future__ import annotations

import math
import os
from collections.abc import Collection, Iterable
from typing import Any


def _kind(value: object) -> str:
    return f"{type(value).__name__} {value!r}"[:80]


def text(value: Any, name: str, *, optional: bool = False) -> str | None:
    """``value`` when it is a str (or None when ``optional``); else TypeError naming ``name``."""
    if isinstance(value, str) or (optional and value is None):
        return value
    raise TypeError(f"{name} must be a str{' or None' if optional else ''}, not {_kind(value)}")


def seconds(value: Any, name: str, *, optional: bool = False, negative_ok: bool = False,
            positive: bool = False) -> float | None:
    """A number of seconds (int or float, not bool); NaN, infinite or negative (with ``positive``,
    also 0) is a ValueError."""
    if optional and value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number of seconds (int or float), not {_kind(value)}")
    if math.isnan(value) or math.isinf(value) or (value < 0 and not negative_ok):
        raise ValueError(f"{name} must be a finite number of seconds{'' if negative_ok else ' >= 0'}, not {value!r}")
    if positive and value <= 0:  # a deadline of 0 s would make every call time out at once
        raise ValueError(f"{name} must be a finite number of seconds above 0, not {value!r}")
    return value


def whole(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, not {_kind(value)}")
    return value


def names(value: Any, name: str) -> Collection[str] | None:
    """A collection of str (a lone str is refused: it would be read letter by letter)."""
    if value is None:
        return None
    if isinstance(value, (str, bytes)) or not isinstance(value, Collection):
        raise TypeError(f"{name} must be a collection of failpoint names (e.g. a set of str), not {_kind(value)}")
    for item in value:
        if not isinstance(item, str):
            raise TypeError(f"{name} must hold str names, not {_kind(item)}")
    return value


def endpoint(value: Any) -> str | None:
    """The endpoint argument: a str or None; a bare port gets the address it probably meant."""
    if isinstance(value, int) and not isinstance(value, bool):
        raise TypeError(f"endpoint must be a str 'HOST:PORT', not int {value!r} (did you mean '127.0.0.1:{value}'?)")
    return text(value, "endpoint", optional=True)


def path(value: Any, name: str) -> None:
    if not isinstance(value, (str, os.PathLike)):
        raise TypeError(f"{name} must be a path (str or os.PathLike), not {_kind(value)}")


def client(endpoint_: Any, timeout: Any, registration_grace: Any, started_at: Any, journal_path: Any, process: Any,
           inventory: Any, on_wait: Any = None) -> str | None:
    """Client's arguments checked (``journal_path``: its journal argument unless that is a Recorder,
    which the client tells: these checks know no part of the package); its endpoint argument back."""
    if on_wait is not None and not callable(on_wait):
        raise TypeError(f"on_wait must be a function taking a str, or None, not {_kind(on_wait)}")
    seconds(timeout, "timeout", positive=True)
    seconds(registration_grace, "registration_grace")
    seconds(started_at, "started_at", optional=True, negative_ok=True)
    text(process, "process", optional=True)
    names(inventory, "inventory")
    if journal_path is not None:
        path(journal_path, "journal")
    return endpoint(endpoint_)


def count_wait(at_least: Any, timeout: Any) -> float:
    """wait_count's arguments checked; its timeout back."""
    whole(at_least, "at_least")
    return seconds(timeout, "timeout") or 0.0


def many(value: Any, name: str, example: str, *, paths: bool = False) -> None:
    """A list (or other iterable) of str (or os.PathLike with ``paths``); a lone one is refused:
    it would be read letter by letter."""
    single = (str, bytes, os.PathLike) if paths else (str, bytes)
    if isinstance(value, single) or not isinstance(value, Iterable):
        raise TypeError(f"{name} must be a list, e.g. {example}, not {_kind(value)}")
    for item in value if isinstance(value, Collection) else ():
        if not isinstance(item, (str, os.PathLike) if paths else str):
            raise TypeError(f"{name} must hold {'paths' if paths else 'str'}, not {_kind(item)}")
