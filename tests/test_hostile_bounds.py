"""Numbers past every bound (issue 21, item 8): Python's 4,300-digit limit on int(str), digits
that are not ASCII, and values that make no sense (a lock wait of nan). Each is a clear error with
the documented exit code, never a traceback, and never a wait without end.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.answering import answering
from tests.support.hostile import module

pytestmark = pytest.mark.hostile

GOFAIL_PY = Path(sys.executable).with_name("gofail-py")
HUGE = "9" * 4400  # past Python's int-str limit (4,300 digits)


def cli(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([str(GOFAIL_PY), *args], capture_output=True, text=True, timeout=timeout, cwd=cwd,
                            env={**os.environ, **(env or {})})
    assert "Traceback" not in result.stdout + result.stderr, result.stderr[-3000:]
    return result


def one_line(text: str, limit: int = 400) -> None:
    """A message a person can read: short, not the number echoed back whole."""
    assert text.count("\n") <= 1 and len(text) < limit, text[:500]


# --- scenarios ----------------------------------------------------------------------------------


@pytest.mark.parametrize("statement", [
    f"wait p fp count >= {HUGE} within 1s",
    f"expect p fp count == {HUGE}",
    f"repeat {HUGE}:\n  log x",
    f"choose seed {HUGE}:\n  log x",
    "expect p fp count == 9223372036854775808",  # one past what the runtime's count (a Go int) can be
    "repeat 1000001:\n  log x",
    "repeat ²:\n  log x",  # str.isdigit() says yes, int() says no
    "repeat ٣:\n  log x",  # an Arabic-Indic 3: int() reads it, nobody means it
    "choose seed 18446744073709551616:\n  log x",
    f"sleep {HUGE}s",
])
def test_a_number_out_of_bounds_in_a_scenario_is_a_located_error(tmp_path: Path, statement: str) -> None:
    scenario = tmp_path / "s.gofail"
    scenario.write_text(f"process p: {sys.executable} -c pass\n{statement}\n")
    result = cli("run", str(scenario))
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.startswith(f"{scenario}:2:"), result.stderr[:500]
    one_line(result.stderr)


def test_the_python_api_has_the_same_bounds() -> None:
    from gofail_py.errors import ScenarioSyntaxError
    from gofail_py.scenario import Scenario

    scenario = Scenario().process("p", ["true"])
    with pytest.raises(ScenarioSyntaxError):
        scenario.expect_count("p", "fp", "==", 2**63)
    with pytest.raises(ScenarioSyntaxError):
        scenario.wait_count("p", "fp", ">=", -1)
    with pytest.raises(ScenarioSyntaxError):
        with scenario.repeat(10**4400):
            scenario.sleep(0.1)
    with pytest.raises(ScenarioSyntaxError):
        with scenario.choose(seed=-1):
            scenario.sleep(0.1)


# --- terms ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("terms", [f"{HUGE}*panic", f"return({HUGE})", f"return(-{HUGE})", f"{HUGE}*off->return(1)"])
def test_a_huge_number_in_terms_is_a_term_error(terms: str) -> None:
    result = cli("set", "-e", "127.0.0.1:1", f"writeError={terms}")
    assert result.returncode == 1, result.stderr[:500]
    assert "too large" in result.stderr or "does not fit" in result.stderr, result.stderr[:500]
    assert len(result.stderr) < len(terms) * 2 + 400  # the text once, with its caret line


# --- a hostile endpoint's numbers ---------------------------------------------------------------


def _serve(answer: bytes) -> Iterator[str]:
    def handle(conn: socket.socket) -> None:
        conn.recv(65536)
        conn.sendall(answer)

    with answering(handle) as endpoint:
        yield endpoint


@pytest.fixture
def huge_count() -> Iterator[str]:
    yield from _serve(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(HUGE), HUGE.encode()))


@pytest.fixture
def huge_length() -> Iterator[str]:
    yield from _serve(b"HTTP/1.1 200 OK\r\nContent-Length: " + HUGE.encode() + b"\r\n\r\n3")


def test_a_count_of_more_digits_than_a_go_int_has_is_no_gofail_answer(huge_count: str) -> None:
    result = cli("count", "fp", "-e", huge_count)
    assert result.returncode == 3, result.stderr[:500]
    assert "not a gofail endpoint" in result.stderr
    one_line(result.stderr)


def test_a_wait_on_a_huge_count_is_no_gofail_answer(huge_count: str) -> None:
    from gofail_py.client import Client
    from gofail_py.errors import NotGofailEndpoint

    with Client(huge_count) as client, pytest.raises(NotGofailEndpoint):
        client.wait_count("fp", 1, timeout=5)


def test_a_content_length_past_the_limit_is_a_transport_error(huge_length: str) -> None:
    result = cli("count", "fp", "-e", huge_length, "--timeout", "5")
    assert result.returncode == 3, result.stderr[:500]
    one_line(result.stderr)


# --- report -------------------------------------------------------------------------------------


def _window(hits: int | str, run: str = "r") -> str:
    return (f'{{"event":"window","run":"{run}","process":"kv","failpoint":"fp","terms":"panic","start":0,"end":1,'
            f'"hits":{hits}}}\n')


def test_summed_hits_past_the_digit_limit_are_refused_at_their_line(tmp_path: Path) -> None:
    journal = tmp_path / "j.jsonl"
    journal.write_text(_window("9" * 4300) * 10)  # each one parses; their sum has 4,301 digits
    for extra in ([], ["--json"]):
        result = cli("report", str(journal), *extra)
        assert result.returncode == 2, result.stdout[:300] + result.stderr[:500]
        assert result.stderr.startswith(f"gofail-py: {journal}:1:"), result.stderr[:500]
        one_line(result.stderr)


def test_hits_of_the_largest_go_int_still_add_up(tmp_path: Path) -> None:
    journal = tmp_path / "j.jsonl"
    journal.write_text(_window(2**63 - 1) * 3)
    data = json.loads(cli("report", str(journal), "--json").stdout)
    assert data["failpoints"][0]["hits"] == 3 * (2**63 - 1)


@pytest.mark.parametrize("number", ["1e308", "-1e308", "1" + "0" * 400])
def test_a_time_past_any_run_is_refused_or_drawn(tmp_path: Path, number: str) -> None:
    journal = tmp_path / "j.jsonl"
    journal.write_text(f'{{"event":"process","run":"r","process":"kv","action":"start","time":{number}}}\n' + _window(1))
    result = cli("report", str(journal), "-o", str(tmp_path / "r.html"))
    assert result.returncode in (0, 2), result.stderr[:500]
    if result.returncode == 2:
        assert f"{journal}:1:" in result.stderr
        one_line(result.stderr)


# --- GOFAIL_PY_LOCK_WAIT --------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["abc", "nan", "-1", "inf", "-inf", "1e9", "3601", " 5", "٣", HUGE])
def test_a_bad_lock_wait_is_a_usage_error_when_the_lock_is_taken(tmp_path: Path, value: str) -> None:
    root = module(tmp_path / "m")
    env = {"GOFAIL_PY_LOCK_WAIT": value}
    assert cli("list", str(root), env=env).returncode == 0  # read lazily: only a command that locks asks
    before = (root / "f0.go").read_bytes()
    result = cli("enable", str(root), env=env, timeout=30)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "GOFAIL_PY_LOCK_WAIT" in result.stderr, result.stderr
    one_line(result.stderr)
    assert (root / "f0.go").read_bytes() == before


def test_a_nan_lock_wait_never_waits_forever_on_a_held_lock(tmp_path: Path) -> None:
    from gofail_py.rewriter.runlock import key_for, lock_path

    root = module(tmp_path / "m")
    path = lock_path(key_for(root))
    with open(path, "a") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)
        result = cli("enable", str(root), env={"GOFAIL_PY_LOCK_WAIT": "nan"}, timeout=30)
    assert result.returncode == 2, result.stderr


@pytest.mark.parametrize("value", ["", "0", "2.5", ".5"])
def test_an_empty_or_plain_lock_wait_is_taken(tmp_path: Path, value: str) -> None:
    root = module(tmp_path / "m")
    assert cli("enable", str(root), env={"GOFAIL_PY_LOCK_WAIT": value}).returncode == 0


def test_a_good_lock_wait_is_used(tmp_path: Path) -> None:
    from gofail_py.rewriter.runlock import key_for, lock_path

    root = module(tmp_path / "m")
    with open(lock_path(key_for(root)), "a") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)
        result = cli("enable", str(root), env={"GOFAIL_PY_LOCK_WAIT": "0.2"}, timeout=30)
    assert result.returncode == 3 and "another gofail-py run" in result.stderr, result.stderr
