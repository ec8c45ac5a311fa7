"""Finds local processes started with GOFAIL_HTTP, by reading /proc."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path

from gofail_py.client import ENV_ENDPOINT, Client
from gofail_py.errors import ClientError


@dataclass(frozen=True)
class GofailProcess:
    pid: int
    command: str
    endpoint: str
    active: int | None  # active failpoints; None when the endpoint did not answer

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def _environ(pid_dir: Path) -> dict[str, str]:
    raw = (pid_dir / "environ").read_bytes()
    pairs = (item.decode("utf-8", "replace").partition("=") for item in raw.split(b"\0") if item)
    return {key: value for key, _, value in pairs}


def gofail_processes(proc: Path = Path("/proc"), timeout: float = 1.0) -> list[GofailProcess]:
    """Every readable process whose environment sets GOFAIL_HTTP, with its active failpoint count."""
    found = []
    for pid_dir in sorted(proc.iterdir(), key=lambda p: int(p.name) if p.name.isdigit() else -1):
        if not pid_dir.name.isdigit() or int(pid_dir.name) == os.getpid():
            continue
        try:
            endpoint = _environ(pid_dir).get(ENV_ENDPOINT)
            if not endpoint:
                continue
            command = (pid_dir / "cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace").strip()
        except OSError:
            continue  # gone, or not ours to read
        active: int | None
        try:
            with Client(endpoint, timeout=timeout) as client:
                active = sum(1 for terms in client.list().values() if terms)
        except ClientError:
            active = None
        found.append(GofailProcess(int(pid_dir.name), command, endpoint, active))
    return found
