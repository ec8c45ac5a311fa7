"""All or nothing for ``Client.enable_many``: the runtime applies the entries of a
``PUT /failpoints`` one by one in Go map order (random) and stops at the first it refuses, so the
ones it met first stay set. Before sending, each entry's terms are read (GET /NAME, safe while the
binary registers; never GET /); after a refusal, every entry that now differs is put back.

Also what a client asks by name inside the registration window, where GET / could kill the binary.
The functions use the client's request helpers: they are the client's, kept apart for size.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol

from gofail_py.client.transport import Answer
from gofail_py.errors import ClientError, EndpointTimeout, FailpointDisabled, FailpointNotFound


class Client(Protocol):
    """What these functions use of the client (gofail_py.client.client.Client, which calls them with
    itself): its request helpers and what it keeps of the process's failpoints. A protocol, so that
    this module, below the client, does not import it."""

    endpoint: str
    timeout: float
    registration_grace: float
    started_at: float
    inventory: frozenset[str] | None
    on_wait: Callable[[str], None] | None
    armed: set[str]
    disarmed: set[str]
    env_failpoints: list[str]

    def _path(self, name: str, suffix: str = "") -> str: ...
    def _deadline(self, timeout: float | None = None) -> float: ...
    def _request(self, method: str, path: str, body: Any = None, deadline: float | None = None) -> Answer: ...
    def _raise_for(self, answer: Answer, name: str | None, *expected: int) -> str: ...
    def registering(self) -> bool: ...
    def get(self, name: str, *, wait_registered: float | None = None) -> str: ...
    def _list_before(self, deadline: float) -> dict[str, str]: ...


RETRY_PAUSE = 0.02
NOT_REGISTERED = None  # an entry's state before the batch: its terms, "" when off, None when unknown


def send(client: Client, bodies: dict[str, str], before: dict[str, str | None], window_end: float,
         deadline: float) -> None:
    """PUT /failpoints, sent again while a name may still be registering (``before`` gets the
    state of a name that registered meanwhile, read before the batch can touch it)."""
    text = ";".join(f"{n}={b}" for n, b in bodies.items())
    waiting = Waiting(client, [name for name, terms in before.items() if terms is NOT_REGISTERED], window_end)
    while True:
        try:
            client._raise_for(client._request("PUT", "/failpoints", text, min(client._deadline(), deadline)), None, 204)
            client.armed.update(bodies)
            return
        except FailpointNotFound:
            if time.monotonic() + RETRY_PAUSE >= window_end:
                raise
            waiting.tick()
            time.sleep(RETRY_PAUSE)
            for name in [n for n, terms in before.items() if terms is NOT_REGISTERED]:
                before[name] = state(client, name, client._deadline())


def state(client: Client, name: str, deadline: float) -> str | None:
    """The failpoint's terms, "" when off, None when the runtime does not know the name; asked
    once (no grace window, no GET /)."""
    try:
        answer = client._request("GET", client._path(name), None, deadline)
        return client._raise_for(answer, name, 200).removesuffix("\n")
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
            if terms:
                client._raise_for(client._request("PUT", client._path(name), terms, deadline), name, 204)
            else:
                client._raise_for(client._request("DELETE", client._path(name), None, deadline), name, 204)
        except ClientError:
            pass  # already off again, or gone: the refusal is what the caller hears about
    return restored


def refused_message(error: ClientError, restored: list[str], size: int) -> str:
    """The runtime's refusal, and what became of the rest of the batch."""
    if restored:
        return (f"{error}; none of the {size} failpoints was changed: the runtime had already set "
                f"{', '.join(sorted(restored))}, put back as before")
    return f"{error}; none of the {size} failpoints was changed"


def env_failpoints(env: Mapping[str, str]) -> list[str]:
    """The names GOFAIL_FAILPOINTS (`a=T;b=T`) arms at a process's start."""
    value = env.get("GOFAIL_FAILPOINTS", "")
    return [item.partition("=")[0] for item in value.split(";") if "=" in item]


# The runtime makes a failpoint visible before it applies its GOFAIL_FAILPOINTS terms (register,
# then Enable): asked in between, one armed at start reads as off. The gap is a few instructions,
# longer only if the runtime's goroutine is descheduled there (a loaded machine): one armed at
# start that reads as off while the process registers is asked again for this long.
ENV_ARMING_WAIT = 1.0
_ARMING_PAUSE = 0.01


def active_by_name(client: Client, names: Iterable[str]) -> list[str]:
    """Those of ``names`` that have terms, asked one by one (no GET /); one not registered yet
    is waited for within the client's grace window, as any named request. Those armed at start
    that read as off are asked again, together, for up to ENV_ARMING_WAIT (below)."""
    names = list(names)
    active: set[str] = set()
    off, give_up = names, None
    while True:
        still = []
        for name in off:
            has = _has_terms(client, name)
            if has:
                active.add(name)
            elif has is None:
                still.append(name)
        off = still
        give_up = time.monotonic() + ENV_ARMING_WAIT if give_up is None else give_up  # one wait for them all
        if not off or not client.registering() or time.monotonic() + _ARMING_PAUSE >= give_up:
            return [name for name in names if name in active]
        time.sleep(_ARMING_PAUSE)


def _has_terms(client: Client, name: str) -> bool | None:
    """True if it has terms; False if not; None if it reads as off but GOFAIL_FAILPOINTS armed
    it, this client has not turned it off since, and the process is still registering (it may be
    in the gap: ask again)."""
    try:
        if client.get(name):
            return True
    except FailpointNotFound:
        return False
    waiting = name in client.env_failpoints and name not in client.disarmed and client.registering()
    return None if waiting else False


# --- waiting for names to register -----------------------------------------------------------

NOTICE_AFTER = 3.0  # seconds of waiting for a name before the client's on_wait is told why
LOOKUP = 1.0  # seconds the close-name lookup (GET /) may take once the window is over


def call_deadline(client: Client, now: float, window_end: float, until: float | None = None) -> float:
    """The deadline of a whole named call: the client's timeout, or the window's end and then
    the close-name lookup of a name that never registered (``until``: the caller's own, final)."""
    deadline = max(now + client.timeout, window_end + min(client.timeout, LOOKUP) if window_end > now else now)
    return deadline if until is None else min(deadline, max(until, now))


class Waiting:
    """Tells the client's ``on_wait``, once a call has waited NOTICE_AFTER s for names to
    register, what it waits for and why (a misspelt name is asked for until the window ends)."""

    def __init__(self, client: Client, names: Iterable[str], window_end: float) -> None:
        self.client, self.names, self.window_end = client, list(names), window_end
        self.began = time.monotonic()
        self.told = client.on_wait is None

    def tick(self) -> None:
        now = time.monotonic()
        if self.told or now - self.began < NOTICE_AFTER:
            return
        self.told = True
        assert self.client.on_wait is not None
        names = ", ".join(self.names) or "the failpoints"
        self.client.on_wait(
            f"{names} not registered at {self.client.endpoint} yet: asking again for {self.window_end - now:.0f} s more "
            f"(a started program registers its failpoints after its endpoint answers, up to "
            f"{self.client.registration_grace:g} s after its start); a misspelt name waits all that time, a "
            "source inventory (`run --source`) has names checked before anything starts"
        )


def not_found_message(client: Client, name: str, waited: bool, deadline: float) -> str:
    """A name the endpoint does not know, with close names: from the source inventory, else from
    the endpoint's list (GET /) once no grace window is open (fatal during start-up). A call that
    waited out the window stops a moment before its end: it waits for that moment, then lists."""
    import difflib

    note = " (not registered within the grace window)" if waited else ""
    if client.inventory is not None and name not in client.inventory:
        close = difflib.get_close_matches(name, sorted(client.inventory), n=3)
        return f"no failpoint {name} at {client.endpoint}, nor in the source{f' (did you mean {close[0]}?)' if close else ''}"
    left = client.started_at + client.registration_grace - time.monotonic()
    if waited and 0 < left <= 2 * RETRY_PAUSE:
        time.sleep(left)
    if client.registering():
        return (f"no failpoint {name} at {client.endpoint}{note}; its failpoints are not listed while it may still be "
                "registering them (GET / then can kill it): `gofail-py ls` lists them once it has started")
    try:
        if deadline <= time.monotonic():
            raise EndpointTimeout("no time left to ask")  # the caller's deadline is the whole call's
        known = list(client._list_before(deadline))
    except ClientError:
        return f"no failpoint {name} at {client.endpoint}{note}"
    if name in known:
        return f"no failpoint {name} at {client.endpoint}{note}; it is registered now: the program was still starting"
    close = difflib.get_close_matches(name, [k for k in known if k != name], n=3)
    hint = f"; did you mean {', '.join(close)}?" if close else f"; it has {len(known)} failpoint(s): `gofail-py ls`"
    return f"no failpoint {name} at {client.endpoint}{note}{hint}"
