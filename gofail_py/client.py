"""One gofail runtime HTTP endpoint, over a keep-alive requests session."""

from __future__ import annotations

import builtins
import difflib
import os
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from types import TracebackType

import requests

from gofail_py.errors import (
    ClientError,
    EndpointTimeout,
    EndpointUnreachable,
    FailpointDisabled,
    FailpointNotFound,
    InvalidFailpointName,
    NoEndpoint,
    ProcessDied,
    UnexpectedResponse,
    WaitTimeout,
)
from gofail_py.names import is_go_identifier
from gofail_py.terms import Terms, normalize_terms

ENV_ENDPOINT = "GOFAIL_HTTP"
# The runtime splits a PUT /failpoints body at `;` and `=`: terms holding either go one by one.
# Readiness is probed with GET of a name no program has: the runtime answers it under its lock.
# GET / would not do: runtime v0.2.0 walks its failpoint map for it without the lock, and a GET /
# while packages are still registering failpoints at start-up kills the binary (a fatal
# concurrent map access).
READINESS_PATH = "/__gofail_py_readiness_probe"
_BATCH_UNSAFE = (";", "=")


def parse_endpoint(endpoint: str | None) -> str:
    """`host:port` from `host:port`, `http://host:port[/]`, `:port` or, when None, $GOFAIL_HTTP."""
    if endpoint is None:
        endpoint = os.environ.get(ENV_ENDPOINT)
        if not endpoint:
            raise NoEndpoint(f"no endpoint: pass --endpoint HOST:PORT or set {ENV_ENDPOINT}")
    address = endpoint.removeprefix("http://").rstrip("/")
    if address.startswith(":"):
        address = "127.0.0.1" + address  # the runtime listens on every interface for `:port`
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise NoEndpoint(f"endpoint {endpoint!r} is not HOST:PORT")
    return address


class Client:
    """The failpoints of one running binary: ``Client("127.0.0.1:22381").enable("x", "panic")``."""

    def __init__(self, endpoint: str | None = None, *, timeout: float = 5.0) -> None:
        self.endpoint = parse_endpoint(endpoint)
        self.timeout = timeout
        self._session = requests.Session()

    def __repr__(self) -> str:
        return f"Client({self.endpoint!r})"

    # --- the three helpers every call goes through ------------------------------------------

    def _path(self, name: str, suffix: str = "") -> str:
        if not is_go_identifier(name):
            raise InvalidFailpointName(f"{name!r} is not a failpoint name (a Go identifier)")
        return f"/{name}{suffix}"

    def _send(self, method: str, path: str, body: str | Iterable[bytes] | None = None, timeout: float | None = None) -> requests.Response:
        url = f"http://{self.endpoint}{path}"
        try:
            return self._session.request(method, url, data=body, timeout=timeout or self.timeout)
        except requests.Timeout as error:
            raise EndpointTimeout(f"{method} {url}: no answer within {timeout or self.timeout:g} s") from error
        except requests.ConnectionError as error:
            if _refused(error):
                raise EndpointUnreachable(
                    f"nothing answers at {self.endpoint}: is the binary running, built with failpoints "
                    f"enabled, and started with {ENV_ENDPOINT}={self.endpoint}?"
                ) from error
            # A reused keep-alive connection can be stale (the process restarted): retry once fresh.
            if self._alive():
                return self._session.request(method, url, data=body, timeout=timeout or self.timeout)
            raise ProcessDied(
                f"{method} {url}: the process closed the connection and is gone (expected after a panic action)"
            ) from error

    def _alive(self) -> bool:
        self._session.close()
        try:
            requests.get(f"http://{self.endpoint}{READINESS_PATH}", timeout=self.timeout)
            return True
        except requests.RequestException:
            return False

    def _check(self, response: requests.Response, name: str | None, *expected: int) -> requests.Response:
        """The response when its status is expected, else the exception the runtime's text means."""
        if response.status_code in expected:
            return response
        text = response.text.strip()
        if name is not None and "does not exist" in text:
            raise FailpointNotFound(self._not_found_message(name))
        if name is not None and "is disabled" in text:
            raise FailpointDisabled(f"failpoint {name} at {self.endpoint} is disabled (no terms set)")
        raise UnexpectedResponse(f"{response.request.method} {response.url}: HTTP {response.status_code}: {text}")

    def _not_found_message(self, name: str) -> str:
        try:
            known = list(self.list())
        except ClientError:
            known = []
        close = difflib.get_close_matches(name, known, n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else f"; it has {len(known)} failpoint(s): `gofail-py ls`"
        return f"no failpoint {name} at {self.endpoint}{hint}"

    # --- the API ------------------------------------------------------------------------------

    def list(self) -> dict[str, str]:
        """Every registered failpoint, sorted, with its terms ("" when disabled)."""
        response = self._check(self._send("GET", "/"), None, 200)
        failpoints = {}
        for line in response.text.splitlines():
            if line:
                name, _, terms = line.partition("=")
                failpoints[name] = terms
        return failpoints

    def get(self, name: str) -> str:
        """The terms a failpoint is set to; FailpointDisabled when it has none."""
        response = self._send("GET", self._path(name))
        if response.status_code == 404:
            known = self.list()
            if name in known:
                raise FailpointDisabled(f"failpoint {name} at {self.endpoint} is disabled (no terms set)")
            raise FailpointNotFound(self._not_found_message(name))
        return self._check(response, name, 200).text.removesuffix("\n")

    def count(self, name: str) -> int:
        """How often its terms fired since they were last set."""
        response = self._check(self._send("GET", self._path(name, "/count")), name, 200)
        return int(response.text.strip())

    def enable(self, name: str, terms: str | Terms) -> None:
        """Sets a failpoint's terms (checked first; `sleep(1s)` is sent as `sleep("1s")`)."""
        body = normalize_terms(terms)
        self._check(self._send("PUT", self._path(name), body), name, 204)

    def enable_many(self, failpoints: Mapping[str, str | Terms]) -> None:
        """Sets several failpoints in one request (one per failpoint when terms hold `;` or `=`)."""
        bodies = {self._path(name)[1:]: normalize_terms(terms) for name, terms in failpoints.items()}
        if any(char in body for body in bodies.values() for char in _BATCH_UNSAFE):
            for name, body in bodies.items():
                self._check(self._send("PUT", f"/{name}", body), name, 204)
            return
        response = self._send("PUT", "/failpoints", ";".join(f"{n}={b}" for n, b in bodies.items()))
        if response.status_code != 204 and "does not exist" in response.text:
            known = self.list()
            missing = [name for name in bodies if name not in known]
            raise FailpointNotFound("; ".join(self._not_found_message(name) for name in missing))
        self._check(response, None, 204)

    def disable(self, name: str) -> None:
        """Clears a failpoint's terms; FailpointDisabled if it had none."""
        self._check(self._send("DELETE", self._path(name)), name, 204)

    def disable_all(self) -> builtins.list[str]:
        """Disables every active failpoint; returns their names."""
        active = [name for name, terms in self.list().items() if terms]
        for name in active:
            try:
                self.disable(name)
            except FailpointDisabled:
                pass  # it was disabled between the list and now
        return active

    @contextmanager
    def failpoint(self, name: str, terms: str | Terms) -> Iterator[Client]:
        """Enables a failpoint for the body of a ``with``; disables it on the way out, always."""
        self.enable(name, terms)
        try:
            yield self
        finally:
            try:
                self.disable(name)
            except (FailpointDisabled, ProcessDied, EndpointUnreachable):
                pass  # already off, or the process is gone (a panic action does that)

    def wait_count(self, name: str, at_least: int, timeout: float, interval: float = 0.01) -> int:
        """Polls the count until it reaches ``at_least``; WaitTimeout otherwise."""
        deadline = time.monotonic() + timeout
        while True:
            count = self.count(name)
            if count >= at_least:
                return count
            if time.monotonic() >= deadline:
                raise WaitTimeout(f"failpoint {name} at {self.endpoint} fired {count} time(s), not {at_least}, within {timeout:g} s")
            time.sleep(interval)

    def available(self) -> bool:
        """True when the endpoint answers (safe to ask while the binary is still starting)."""
        try:
            self._send("GET", READINESS_PATH)
            return True
        except ClientError:
            return False

    def ready(self, timeout: float) -> None:
        """Waits until the endpoint answers; EndpointUnreachable after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while not self.available():
            if time.monotonic() >= deadline:
                raise EndpointUnreachable(f"nothing answered at {self.endpoint} within {timeout:g} s")
            time.sleep(0.02)

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None) -> None:
        self.close()


def _refused(error: BaseException) -> bool:
    """True when the connection was refused (nothing listens), not cut mid-request."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, ConnectionRefusedError) or "NewConnectionError" in type(seen).__name__:
            return True
        for arg in getattr(seen, "args", ()):
            if isinstance(arg, BaseException) and _refused_leaf(arg):
                return True
        seen = seen.__cause__ or seen.__context__
    return False


def _refused_leaf(error: BaseException) -> bool:
    if isinstance(error, ConnectionRefusedError) or "NewConnectionError" in type(error).__name__:
        return True
    reason = getattr(error, "reason", None)
    return isinstance(reason, BaseException) and _refused_leaf(reason)


__all__ = ["Client", "parse_endpoint"]
