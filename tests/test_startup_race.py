"""Start-up race: the endpoint answers before package init registers the failpoints (etcd does this).

testdata/slowinit is a real Go program on the real runtime whose failpoint package initialises
only after a package whose init sleeps SLOWINIT_MS: deterministic, unlike etcd's own timing.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from gofail_py.cli import main
from gofail_py.client import Client
from gofail_py.errors import FailpointNotFound
from tests.support.goprog import TESTDATA, build_enabled, start

# real processes and Go builds for seconds a test: in the default suite, not the `-m "not slow"` loop
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def slowinit_binary(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_enabled(TESTDATA / "slowinit", tmp_path_factory.mktemp("slowinit"), "slowinit")


class Started:
    def __init__(self, binary: Path, init_ms: int) -> None:
        self.at = time.monotonic()
        self.proc, self.endpoint = start(binary, env={"SLOWINIT_MS": str(init_ms)})

    def stop(self) -> str:
        if self.proc.poll() is None:
            self.proc.kill()
        out, err = self.proc.communicate()
        return out.decode() + err.decode()


@pytest.fixture
def started(slowinit_binary: Path) -> Iterator[list[Started]]:
    processes: list[Started] = []
    yield processes
    for process in processes:
        process.stop()


def test_a_failpoint_registered_late_is_waited_for(slowinit_binary: Path, started: list[Started]) -> None:
    process = Started(slowinit_binary, 1500)
    started.append(process)
    client = Client(process.endpoint, started_at=process.at, registration_grace=20)
    client.enable("lateFailpoint", 'return("late")')  # asked while the program still initialises
    assert client.get("lateFailpoint") == 'return("late")'
    assert process.proc.poll() is None
    client.wait_count("lateFailpoint", 2, timeout=10)  # the program evaluated it, printed it, and went on
    assert "value: late" in process.stop()


def test_a_name_missing_when_the_window_ends_is_not_found_without_proposing_itself(
    slowinit_binary: Path, started: list[Started]
) -> None:
    process = Started(slowinit_binary, 4000)
    started.append(process)
    client = Client(process.endpoint, started_at=process.at, registration_grace=0.2)
    with pytest.raises(FailpointNotFound) as caught:
        client.enable("lateFailpoint", "print")
    message = str(caught.value)
    assert "not registered within the grace window" in message and "did you mean lateFailpoint" not in message
    client.enable("lateFailpoint", "print", wait_registered=20)  # a per-call window
    assert client.get("lateFailpoint") == "print"
    assert process.proc.poll() is None


def test_cli_set_waits_for_registration(slowinit_binary: Path, started: list[Started]) -> None:
    process = Started(slowinit_binary, 1500)
    started.append(process)
    result = CliRunner().invoke(
        main, ["set", "--wait-registered", "20", "lateFailpoint=return(\"cli\")"], env={"GOFAIL_HTTP": process.endpoint}
    )
    assert (result.exit_code, result.output) == (0, 'set lateFailpoint=return("cli")\n'), result.output
    Client(process.endpoint).wait_count("lateFailpoint", 2, timeout=10)
    assert process.proc.poll() is None and "value: cli" in process.stop()


def test_the_race_is_real_without_a_window(slowinit_binary: Path, started: list[Started]) -> None:
    """Why the window exists: right after start the runtime answers, and does not know the name."""
    process = Started(slowinit_binary, 4000)
    started.append(process)
    done = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "PUT", "-d", "print",
                           f"http://{process.endpoint}/lateFailpoint"], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.skip("no curl")
    assert done.stdout == "400"


def test_a_recording_client_gets_a_new_window_after_a_restart(slowinit_binary: Path, tmp_path: Path,
                                                              started: list[Started]) -> None:
    """Client(journal=) sends through an inner client: mark_started must open its window too."""
    first = Started(slowinit_binary, 1500)
    started.append(first)
    port = int(first.endpoint.rsplit(":", 1)[1])
    client = Client(first.endpoint, started_at=first.at, registration_grace=3, journal=tmp_path / "j.jsonl")
    client.enable("lateFailpoint", 'return("late")')
    first.stop()
    time.sleep(max(0.0, first.at + 3.2 - time.monotonic()))  # the first window is over
    second = Started.__new__(Started)
    second.at = time.monotonic()
    second.proc, second.endpoint = start(slowinit_binary, env={"SLOWINIT_MS": "1500"}, port=port)
    started.append(second)
    client.mark_started(second.at)
    client.enable("lateFailpoint", 'return("again")')  # registered ~1.5 s after the restart
    assert client.get("lateFailpoint") == 'return("again")'
    client.close()
