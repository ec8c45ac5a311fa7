"""All or nothing for ``Client.enable_many``: the runtime applies the entries of a
``PUT /failpoints`` one by one in Go map order (random) and stops at the first it refuses, so the
ones it met first stay set. Before sending, each entry's terms are read (GET /NAME, safe while the
binary registers; never GET /); after a refusal, every entry that now differs is put back.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from gofail_py.errors import ClientError, FailpointDisabled, FailpointNotFound

if TYPE_CHECKING:
    from gofail_py.client import Client

NOT_REGISTERED = None  # an entry's state before the batch: its terms, "" when off, None when unknown


def state(client: Client, name: str, deadline: float) -> str | None:
    """The failpoint's terms, "" when off, None when the runtime does not know the name; asked once."""
    try:
        return client.terms_now(name, deadline)
    except FailpointDisabled:
        return ""
    except FailpointNotFound:
        return NOT_REGISTERED


def snapshot(client: Client, names: Iterable[str], deadline: float) -> dict[str, str | None]:
    return {name: state(client, name, deadline) for name in names}


def roll_back(client: Client, before: dict[str, str | None], deadline: float) -> list[str]:
    """Puts back every registered entry whose terms changed; returns their names. Best effort: an
    entry that cannot be read or restored now is named in the list all the same."""
    restored = []
    for name, terms in before.items():
        if terms is NOT_REGISTERED:
            continue
        try:
            if state(client, name, deadline) == terms:
                continue
        except ClientError:
            pass  # unreadable now: put it back all the same
        restored.append(name)
        try:
            client.put_back(name, terms, deadline)
        except ClientError:
            pass  # the refusal is what the caller hears about
    return restored


def refused_message(error: ClientError, restored: list[str], size: int) -> str:
    """The runtime's refusal, and what became of the rest of the batch."""
    if restored:
        return (f"{error}; none of the {size} failpoints was changed: the runtime had already set "
                f"{', '.join(sorted(restored))}, put back as before")
    return f"{error}; none of the {size} failpoints was changed"
