"""Finds local gofail binaries by reading /proc: processes that listen on their own GOFAIL_HTTP.

A process merely carrying GOFAIL_HTTP in its environment (a shell that exported it, a `sleep`
started from that shell) is not one: the listening socket of the endpoint must be among the
process's own file descriptors, and the endpoint must answer as the gofail runtime does.
"""

from __future__ import annotations

import ipaddress
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

from gofail_py.client.client import ENV_ENDPOINT, Client
from gofail_py.errors import ClientError

STARTING_FOR = 3.0  # seconds: a younger process may still register failpoints; GET / would be fatal
_LISTEN = "0A"


@dataclass(frozen=True)
class GofailProcess:
    pid: int
    endpoint: str
    binary: str
    command: str
    state: str  # "ready", or "starting" (too young to be asked for its failpoints)
    active: dict[str, str] | None  # active failpoints with their terms; None while starting

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def _listening(proc: Path) -> dict[int, tuple[str, int]]:
    """Listening TCP sockets by inode: (address, port)."""
    sockets = {}
    for table in ("tcp", "tcp6"):
        try:
            lines = (proc / "net" / table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) < 10 or fields[3] != _LISTEN:
                continue
            address_hex, port_hex = fields[1].split(":")
            raw = bytes.fromhex(address_hex)
            # the kernel prints each 32-bit word in host (little-endian) order
            words = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))
            address = str(ipaddress.ip_address(words))
            sockets[int(fields[9])] = (address, int(port_hex, 16))
    return sockets


def _socket_inodes(pid_dir: Path) -> set[int]:
    inodes = set()
    for fd in (pid_dir / "fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(int(target[8:-1]))
    return inodes


def _listens_on(endpoint: str, inodes: set[int], listening: dict[int, tuple[str, int]]) -> bool:
    host, _, port = endpoint.rpartition(":")
    host = host.strip("[]")
    for inode in inodes & listening.keys():
        address, listen_port = listening[inode]
        if listen_port != int(port):
            continue
        wildcard = address in ("0.0.0.0", "::")
        try:
            same = ipaddress.ip_address(host) == ipaddress.ip_address(address)
        except ValueError:
            same = True  # a host name: the port decides
        if wildcard or same:
            return True
    return False


def _age(pid_dir: Path) -> float:
    """Seconds since the process started (from /proc/PID/stat and /proc/uptime)."""
    stat = (pid_dir / "stat").read_text()
    start_ticks = int(stat.rpartition(")")[2].split()[19])
    uptime = float((pid_dir.parent / "uptime").read_text().split()[0])
    return uptime - start_ticks / os.sysconf("SC_CLK_TCK")


def _environ(pid_dir: Path) -> dict[str, str]:
    raw = (pid_dir / "environ").read_bytes()
    pairs = (item.decode("utf-8", "replace").partition("=") for item in raw.split(b"\0") if item)
    return {key: value for key, _, value in pairs}


def gofail_processes(proc: Path = Path("/proc"), timeout: float = 1.0,
                     starting_for: float = STARTING_FOR) -> list[GofailProcess]:
    """Every readable process serving the gofail runtime on its own GOFAIL_HTTP endpoint.

    The candidates are asked at once (a thread each, up to _ASK_AT_ONCE): a process listening
    but never answering costs one ``timeout`` for the whole call, not one per process.
    """
    listening = _listening(proc)
    candidates = []
    for pid_dir in sorted(proc.iterdir(), key=lambda p: int(p.name) if p.name.isdigit() else -1):
        if not pid_dir.name.isdigit() or int(pid_dir.name) == os.getpid():
            continue
        try:
            endpoint = _environ(pid_dir).get(ENV_ENDPOINT)
            if not endpoint:
                continue
            client = Client(endpoint, timeout=timeout)
            if not _listens_on(client.endpoint, _socket_inodes(pid_dir), listening):
                client.close()
                continue
            command = (pid_dir / "cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace").strip()
            try:
                binary = os.readlink(pid_dir / "exe")
            except OSError:
                binary = command.split(" ")[0]
            age = _age(pid_dir)
        except (OSError, ValueError, ClientError):
            continue  # gone, not ours to read, or a GOFAIL_HTTP that is no endpoint
        candidates.append((int(pid_dir.name), client, binary, command, age))
    if not candidates:
        return []
    with ThreadPoolExecutor(max_workers=min(_ASK_AT_ONCE, len(candidates))) as pool:
        answers = list(pool.map(lambda c: _ask(c[1], c[4] >= starting_for), candidates))
    return [GofailProcess(pid, client.endpoint, binary, command, state, active)
            for (pid, client, binary, command, _), (state, active) in zip(candidates, answers) if state]


_ASK_AT_ONCE = 32


def listener_age(endpoint: str, proc: Path = Path("/proc")) -> tuple[int, float] | None:
    """(pid, seconds since it started) of the local process listening on ``endpoint``; None when
    no readable local process does (a remote host, another user's process, nothing listening)."""
    host = endpoint.rpartition(":")[0].strip("[]")
    if host != "localhost":
        try:
            ipaddress.ip_address(host)
        except ValueError:
            return None  # a host name: maybe another machine; its processes are not in our /proc
    listening = _listening(proc)
    if not _listens_on(endpoint, set(listening), listening):
        return None
    for pid_dir in proc.iterdir():
        if not pid_dir.name.isdigit():
            continue
        try:
            if _listens_on(endpoint, _socket_inodes(pid_dir), listening):
                return int(pid_dir.name), _age(pid_dir)
        except (OSError, ValueError):
            continue  # gone, or not ours to read
    return None


def _ask(client: Client, ready: bool) -> tuple[str, dict[str, str] | None]:
    """("ready", active failpoints), ("starting", None), or ("", None) when it is no gofail endpoint."""
    with client:
        if not client.available():  # never GET /: safe while it registers failpoints
            return "", None
        if not ready:
            return "starting", None
        try:
            return "ready", {name: terms for name, terms in client.list().items() if terms}
        except ClientError:
            return "", None
