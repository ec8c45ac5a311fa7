"""The registration window without waiting in vain or killing the binary (testdata/slowinit,
examples/kvserver, real runtime): names checked against the source inventory before anything
starts; a client that knows the inventory does not wait for a name the source lacks; disable_all
inside the window disables by name instead of GET / (fatal while failpoints register)."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from gofail_py.client import Client
from gofail_py.errors import FailpointNotFound
from gofail_py.scenario import parse_scenario, run_scenario
from tests.support.goprog import REPO, TESTDATA, build_enabled, start

CLI = [sys.executable, "-m", "gofail_py.cli"]
KVSERVER_SRC = str(REPO / "examples" / "kvserver")
ARMED_AT_START = {"GOFAIL_FAILPOINTS": 'lateFailpoint=return("env")'}


@pytest.fixture(scope="module")
def slowinit_binary(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_enabled(TESTDATA / "slowinit", tmp_path_factory.mktemp("slowinit"), "slowinit")


@pytest.fixture
def procs() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for proc in started:
        proc.kill()
        proc.communicate()


def test_a_mistyped_name_is_a_located_usage_error_before_anything_starts(kvserver_binary: Path, tmp_path: Path) -> None:
    path = tmp_path / "s.gofail"
    path.write_text("process kv: {kvserver} --listen 127.0.0.1:{port} --data {tmp}/kv\nstart kv\n"
                    "set kv slowWirte=sleep(1ms)\nexpect kv writeError count == 0\nwait kv truncateValeu count >= 1\n")
    done = subprocess.run([*CLI, "run", str(path), "--source", KVSERVER_SRC, "--var", f"kvserver={kvserver_binary}"],
                          capture_output=True, text=True, timeout=180)
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stdout + done.stderr
    assert f"{path}:3:5: no failpoint slowWirte in the source (did you mean slowWrite?)" in done.stderr
    assert f"{path}:5:6: no failpoint truncateValeu in the source (did you mean truncateValue?)" in done.stderr
    assert "writeError" not in done.stderr and "start kv" not in done.stdout  # nothing ran


def test_a_client_knowing_the_inventory_does_not_wait_for_a_name_the_source_lacks(
    slowinit_binary: Path, procs: list[subprocess.Popen[bytes]]
) -> None:
    began = time.monotonic()
    proc, endpoint = start(slowinit_binary, env={"SLOWINIT_MS": "60000"})  # registers nothing for a minute
    procs.append(proc)
    client = Client(endpoint, started_at=began, registration_grace=600, inventory={"lateFailpoint"})
    errors: list[BaseException] = []

    def enable() -> None:
        try:
            client.enable("lateFailpiont", "return(1)")
        except BaseException as error:  # noqa: BLE001 - handed to the test thread
            errors.append(error)

    caller = threading.Thread(target=enable, daemon=True)
    caller.start()
    caller.join(60)  # without the inventory it would ask again for 600 s
    assert not caller.is_alive(), "the client waited for a name the source does not have"
    assert len(errors) == 1 and isinstance(errors[0], FailpointNotFound)
    assert "nor in the source (did you mean lateFailpoint?)" in str(errors[0])
    assert proc.poll() is None


def test_disable_all_inside_the_window_disables_by_name(slowinit_binary: Path, procs: list[subprocess.Popen[bytes]]) -> None:
    """GET / inside the window would list no failpoint yet (or kill the binary): the one
    GOFAIL_FAILPOINTS arms is disabled by name once it registers."""
    began = time.monotonic()
    env = {"SLOWINIT_MS": "1500", **ARMED_AT_START}
    proc, endpoint = start(slowinit_binary, env=env)
    procs.append(proc)
    client = Client(endpoint, started_at=began, registration_grace=20)
    client.mark_started(began, env)
    assert client.registering()
    assert client.disable_all() == ["lateFailpoint"]
    assert client.get("lateFailpoint") == ""  # off
    assert proc.poll() is None


def test_disable_all_in_the_gap_between_registering_and_arming(slowinit_binary: Path, procs: list[subprocess.Popen[bytes]]) -> None:
    """The runtime makes a failpoint visible, then applies its GOFAIL_FAILPOINTS terms: asked in
    between, one armed at start reads as off, and disable_all left it armed. slowinit stretches
    that gap to 300 ms (it arms the failpoint itself); the client asks again and disables it."""
    began = time.monotonic()
    env = {"SLOWINIT_MS": "1200", "SLOWINIT_ARM": 'return("env")', "SLOWINIT_ARM_AFTER_MS": "300"}
    proc, endpoint = start(slowinit_binary, env=env)
    procs.append(proc)
    client = Client(endpoint, started_at=began, registration_grace=20)
    client.mark_started(began, ARMED_AT_START)  # what the binary's GOFAIL_FAILPOINTS would say
    assert client.disable_all() == ["lateFailpoint"]
    assert client.get("lateFailpoint") == ""  # off
    assert proc.poll() is None


def test_unset_all_in_a_scenario_started_with_armed_failpoints(slowinit_binary: Path, tmp_path: Path) -> None:
    text = ("process slow: {slowinit}\nenv slow SLOWINIT_MS=1500 'GOFAIL_FAILPOINTS=lateFailpoint=return(\"env\")'\n"
            "start slow\nunset slow all\nexpect slow running\n")
    result = run_scenario(parse_scenario(text, str(tmp_path / "s.gofail")), variables={"slowinit": str(slowinit_binary)})
    assert result.passed, result.summary()
    unset = next(r for r in result.timeline if r.statement == "unset slow all")
    assert unset.answer == ["lateFailpoint"]
