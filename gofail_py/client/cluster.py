"""Several endpoints at once: apply one operation to every client and report per endpoint."""

from __future__ import annotations

import builtins
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Generic, TypeVar

from gofail_py.client.client import Client
from gofail_py.errors import GofailError
from gofail_py.terms import Terms

T = TypeVar("T")


@dataclass(frozen=True)
class EndpointResult(Generic[T]):
    """What one endpoint answered: a value, or the error it raised."""

    endpoint: str
    value: T | None
    error: GofailError | None

    @property
    def ok(self) -> bool:
        return self.error is None


class Cluster:
    """A group of clients, e.g. the members of an etcd cluster."""

    def __init__(self, endpoints: Iterable[str | Client], *, timeout: float = 5.0, registration_grace: float = 0.0,
                 started_at: float | None = None, trust_env: bool = False) -> None:
        """Endpoints given as text get a Client with these options (see Client)."""
        if isinstance(endpoints, (str, bytes)) or not isinstance(endpoints, Iterable):
            raise TypeError(f"endpoints must be a list, e.g. ['127.0.0.1:22381'], not {type(endpoints).__name__} {endpoints!r}")
        self.clients = [
            e if isinstance(e, Client) else Client(e, timeout=timeout, registration_grace=registration_grace,
                                                   started_at=started_at, trust_env=trust_env)
            for e in endpoints
        ]

    def apply(self, operation: Callable[[Client], T]) -> list[EndpointResult[T]]:
        """Runs the operation on every client concurrently; errors are collected, not raised."""

        def one(client: Client) -> EndpointResult[T]:
            try:
                return EndpointResult(client.endpoint, operation(client), None)
            except GofailError as error:
                return EndpointResult(client.endpoint, None, error)

        with ThreadPoolExecutor(max_workers=max(1, len(self.clients))) as pool:
            return list(pool.map(one, self.clients))

    def enable(self, name: str, terms: str | Terms) -> list[EndpointResult[None]]:
        return self.apply(lambda c: c.enable(name, terms))

    def enable_many(self, failpoints: Mapping[str, str | Terms]) -> list[EndpointResult[None]]:
        return self.apply(lambda c: c.enable_many(failpoints))

    def disable(self, name: str, *, strict: bool = False) -> list[EndpointResult[bool]]:
        """Per endpoint: True if the failpoint had terms (already off is no error unless ``strict``)."""
        return self.apply(lambda c: c.disable(name, strict=strict))

    def disable_all(self) -> builtins.list[EndpointResult[builtins.list[str]]]:
        return self.apply(Client.disable_all)

    def list(self) -> builtins.list[EndpointResult[dict[str, str]]]:
        return self.apply(Client.list)

    def count(self, name: str) -> builtins.list[EndpointResult[int]]:
        return self.apply(lambda c: c.count(name))

    def close(self) -> None:
        for client in self.clients:
            client.close()
