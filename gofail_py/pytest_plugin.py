"""pytest fixtures for robustness tests: start gofail-enabled binaries, run scenarios.

Registered through the `pytest11` entry point, so installing gofail-py makes them available:

    def test_crash(gofail_process, gofail_scenario):
        kv = gofail_process(["./kvserver", "--listen", "127.0.0.1:{port}"])
        kv.client.enable("afterCommit", "panic")
        ...
        gofail_scenario("scenarios/crash.gofail", variables={"kvserver": "./kvserver"})
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from gofail_py.client import Client
from gofail_py.errors import ClientError, ProcessStartError


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class GofailProcess:
    """A started binary: its process, its gofail client, and the {port} its command was given."""

    popen: subprocess.Popen[bytes]
    client: Client
    port: int

    def stop(self) -> int:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout=3)
            except subprocess.TimeoutExpired:
                self.popen.kill()
        return self.popen.wait()


StartProcess = Callable[..., GofailProcess]


@pytest.fixture
def gofail_process() -> Iterator[StartProcess]:
    """A factory: ``gofail_process(argv, env=None, timeout=10)`` starts a gofail-enabled binary.

    `{port}` in argv becomes a free loopback port; GOFAIL_HTTP is set to another one and the
    factory waits until the endpoint answers. At teardown every failpoint of a live process is
    disabled and every process is stopped.
    """
    started: list[GofailProcess] = []

    def start(argv: Sequence[str | os.PathLike[str]], env: Mapping[str, str] | None = None,
              timeout: float = 10.0) -> GofailProcess:
        port = _free_port()
        client = Client(f"127.0.0.1:{_free_port()}")
        full_env = {**os.environ, **(env or {}), "GOFAIL_HTTP": client.endpoint}
        args = [os.fspath(a).replace("{port}", str(port)) for a in argv]
        popen = subprocess.Popen(args, env=full_env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        process = GofailProcess(popen, client, port)
        started.append(process)
        deadline = time.monotonic() + timeout
        while not client.available():
            if popen.poll() is not None or time.monotonic() > deadline:
                process.stop()
                stderr = popen.stderr.read().decode(errors="replace") if popen.stderr else ""
                raise ProcessStartError(f"{args[0]} did not answer on {client.endpoint}: {stderr[-500:]}")
            time.sleep(0.01)
        return process

    yield start
    for process in started:
        if process.popen.poll() is None:
            try:
                process.client.disable_all()
            except ClientError:
                pass
        process.stop()
        process.client.close()


@pytest.fixture
def gofail_scenario() -> Callable[..., object]:
    """``gofail_scenario(path_or_scenario, variables=None, journal=None)`` runs a scenario and
    fails the test at the scenario's failing step, with its timeline; returns the result."""
    from gofail_py.scenario import Scenario, load_scenario, run_scenario

    def run(scenario: str | Path | Scenario, variables: Mapping[str, str] | None = None,
            journal: str | Path | None = None) -> object:
        model = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
        result = run_scenario(model, variables=variables, journal=journal)
        if not result.passed:
            pytest.fail(f"scenario {model.name} failed:\n{result.summary()}", pytrace=False)
        return result

    return run
