"""A wait for a failpoint name to register says what it waits for, and a name that never
registers gets the real list's close names (issue 21, item 14); `ls` on a young binary says why
it waits. The real kvserver, the real CLI."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from gofail_py.client import batch
from gofail_py.client import Client
from gofail_py.errors import FailpointNotFound
from tests.support.goprog import start

CLI = [sys.executable, "-m", "gofail_py.cli"]


@pytest.fixture
def young_kv(kvserver_binary: Path, tmp_path: Path) -> Iterator[tuple[str, float]]:
    """A kvserver just started: its endpoint and when it started (time.monotonic())."""
    began = time.monotonic()
    proc, endpoint = start(kvserver_binary, "--listen", "127.0.0.1:0", "--data", str(tmp_path / "data"))
    try:
        yield endpoint, began
    finally:
        proc.kill()
        proc.wait()


def test_a_client_with_a_start_up_window_says_why_it_waits_and_names_the_close_failpoint(
        young_kv: tuple[str, float]) -> None:
    endpoint, began = young_kv
    said: list[str] = []
    client = Client(endpoint, registration_grace=batch.NOTICE_AFTER + 2, started_at=began, on_wait=said.append)
    with pytest.raises(FailpointNotFound) as raised:
        client.enable("slowWirte", "sleep(10)")
    # before: "...; it has 0 failpoint(s)" (the list was not read), and nothing said meanwhile
    assert str(raised.value) == (f"no failpoint slowWirte at {endpoint} (not registered within the grace window); "
                                 "did you mean slowWrite?")
    assert len(said) == 1 and said[0].startswith(f"slowWirte not registered at {endpoint} yet: asking again for ")
    assert "a misspelt name waits all that time" in said[0]


def test_several_names_at_once_say_so_too(young_kv: tuple[str, float]) -> None:
    endpoint, began = young_kv
    said: list[str] = []
    client = Client(endpoint, registration_grace=batch.NOTICE_AFTER + 2, started_at=began, on_wait=said.append)
    with pytest.raises(FailpointNotFound) as raised:
        client.enable_many({"slowWrite": "sleep(10)", "redOnly": "return(true)"})
    assert "no failpoint redOnly" in str(raised.value) and "did you mean readOnly?" in str(raised.value)
    assert len(said) == 1 and said[0].startswith(f"redOnly not registered at {endpoint} yet")
    assert client.list()["slowWrite"] == ""  # all or nothing: the other one was put back


def test_inside_the_window_the_list_is_not_claimed_empty(young_kv: tuple[str, float]) -> None:
    endpoint, began = young_kv
    client = Client(endpoint, registration_grace=60, started_at=began)
    with pytest.raises(FailpointNotFound) as raised:
        client.get("slowWirte", wait_registered=0.2)  # a shorter wait: the window is still open
    assert "0 failpoint(s)" not in str(raised.value)
    assert "not listed while it may still be registering them" in str(raised.value)


@pytest.mark.slow
def test_a_misspelt_name_in_a_scenario_says_what_it_waits_for_and_proposes_the_name(
        kvserver_binary: Path, tmp_path: Path) -> None:
    # the reproduction: 30 s of silence, then "it has 0 failpoint(s)" (it has 7)
    scenario = tmp_path / "typo.gofail"
    scenario.write_text("process kv: {kvserver} --listen 127.0.0.1:{port} --data {tmp}/kv\nstart kv\n"
                        "set kv slowWirte=sleep(1s)\n")
    done = subprocess.run([*CLI, "run", str(scenario), "-q", "--var", f"kvserver={kvserver_binary}"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "(not registered within the grace window); did you mean slowWrite?" in done.stdout
    assert "0 failpoint(s)" not in done.stdout
    waits = [line for line in done.stderr.splitlines() if "not registered at" in line]
    assert len(waits) == 1 and waits[0].startswith("gofail-py: slowWirte not registered at 127.0.0.1:")


@pytest.mark.parametrize("command", [["ls"], ["unset", "--all"]])
def test_ls_right_after_start_says_why_it_waits(command: list[str], young_kv: tuple[str, float],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    # before: 2.7 s without a word. The process counts as young for 2 s more than its age now,
    # whatever the load (the real command, in this process: no start-up time in between)
    from click.testing import CliRunner

    from gofail_py.processes import procfind
    from gofail_py.cli import main

    endpoint, _ = young_kv
    found = procfind.listener_age(endpoint)
    assert found is not None
    monkeypatch.setattr(procfind, "STARTING_FOR", found[1] + 2.0)
    done = CliRunner().invoke(main, [*command, "-e", endpoint])
    assert done.exit_code == 0, done.stderr
    [line] = done.stderr.splitlines()
    assert line.startswith(f"gofail-py: {endpoint}: its process (pid {found[0]}) started ")
    assert "may still be registering failpoints (asking for the list then can kill it): waiting " in line
