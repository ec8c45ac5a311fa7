"""Text that would become a second failpoint, or drive the terminal (issue 21, items 4 and 5).

Terms go to the real kvserver (examples/kvserver built against the real runtime v0.2.0) through the
real CLI; terminal text comes from a hostile HTTP endpoint on 127.0.0.1 and from a Go source file
of a "malicious repository".
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from gofail_py.client import Client
from gofail_py.errors import TermSyntaxError
from gofail_py.terms import Terms, normalize_terms
from tests.test_client import KV

pytestmark = pytest.mark.hostile

GOFAIL_PY = Path(sys.executable).with_name("gofail-py")
# the runtime splits GOFAIL_FAILPOINTS at `;`: `return(5x` is return(5) to it, then slowWrite is armed
SMUGGLED_ENV = "writeError=return(5x;slowWrite=sleep(99999);y=)"
SMUGGLED = "writeError=return(`x\nslowWrite=sleep(99999)`)"  # the shell argument, as argv gets it


def cli(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([str(GOFAIL_PY), *args], capture_output=True, text=True, timeout=60, env=env, cwd=cwd)
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    return result


@pytest.fixture
def kv(kvserver_binary: Path, tmp_path: Path) -> Iterator[KV]:
    server = KV(kvserver_binary, tmp_path / "data")
    yield server
    server.stop()


def _nothing_armed(client: Client) -> None:
    """What the runtime holds, asked name by name, and what its listing (`ls`) shows."""
    for name in ("writeError", "slowWrite"):
        assert client.get(name) == "", name  # off (Client.get says "" for an off failpoint, as the CLI)
    assert not any(client.list().values()), client.list()


# --- item 4: one assignment, one failpoint ------------------------------------------------------


@pytest.mark.parametrize("raw", [False, True], ids=["checked", "raw"])
def test_a_newline_in_a_term_value_arms_no_second_failpoint(kv: KV, raw: bool) -> None:
    result = cli("set", "-e", kv.client.endpoint, *(["--raw"] if raw else []), SMUGGLED)
    assert result.returncode == 1, result.stdout + result.stderr  # a term problem (docs/cli.md)
    assert "newline" in result.stderr and "one failpoint per line" in result.stderr, result.stderr
    assert result.stdout == ""
    _nothing_armed(kv.client)


def test_the_runtime_lists_a_newline_as_a_second_failpoint(kv: KV) -> None:
    """Why item 4 refuses it: set past gofail-py, the runtime's own `GET /` shows a failpoint
    nobody set (its line-per-failpoint listing), while `GET /slowWrite` says it is off."""
    import requests

    assert requests.put(f"http://{kv.client.endpoint}/writeError", data=SMUGGLED.partition("=")[2], timeout=5).status_code == 204
    listing = requests.get(f"http://{kv.client.endpoint}/", timeout=5).text
    assert "\nslowWrite=sleep(99999)`)\n" in listing
    assert kv.client.get("slowWrite") == ""  # off


@pytest.mark.parametrize("terms", [
    "return(`x\ny`)", "return(`x\n`)", "\nreturn", "return\n", "panic->\nreturn", "return(`a\r\nb`)",
])
@pytest.mark.parametrize("raw", [False, True], ids=["checked", "raw"])
def test_no_way_of_sending_terms_lets_a_newline_through(kv: KV, terms: str, raw: bool) -> None:
    with pytest.raises(TermSyntaxError):
        normalize_terms(terms, raw=raw)
    with pytest.raises(TermSyntaxError):
        kv.client.enable("writeError", terms, raw=raw)
    with pytest.raises(TermSyntaxError):
        kv.client.enable_many({"writeError": terms, "readOnly": "return(true)"}, raw=raw)
    _nothing_armed(kv.client)


def test_terms_built_in_code_with_a_newline_are_refused(kv: KV) -> None:
    with pytest.raises(TermSyntaxError, match="newline"):
        kv.client.enable("writeError", Terms.return_("x\nslowWrite=sleep(99999)"))
    _nothing_armed(kv.client)


def test_a_semicolon_in_a_value_stays_one_failpoint(kv: KV) -> None:
    """`;` splits a PUT /failpoints body: a batch holding it goes name by name, never as a list."""
    kv.client.enable_many({"writeError": "return(`x;slowWrite=sleep(99999)`)", "readOnly": "return(true)"}, raw=True)
    assert kv.client.get("writeError") == "return(`x;slowWrite=sleep(99999)`)"
    assert kv.client.get("slowWrite") == ""  # off


def test_a_recording_client_refuses_it_before_the_journal(kv: KV, tmp_path: Path) -> None:
    journal = tmp_path / "j.jsonl"
    with Client(kv.client.endpoint, journal=journal) as client, pytest.raises(TermSyntaxError):
        client.enable("writeError", "return(`x\nslowWrite=sleep(99999)`)")
    assert "slowWrite" not in journal.read_text()
    _nothing_armed(kv.client)


def test_a_scenario_set_with_a_newline_cannot_be_written(tmp_path: Path) -> None:
    from gofail_py.errors import ScenarioSyntaxError
    from gofail_py.scenario import Scenario

    scenario = Scenario().process("kv", ["true"])
    with pytest.raises((TermSyntaxError, ScenarioSyntaxError)):
        scenario.set("kv", writeError="return(`x\nslowWrite=sleep(99999)`)")


def test_gofail_failpoints_in_a_scenario_cannot_smuggle_an_entry(kvserver_binary: Path, tmp_path: Path) -> None:
    """The runtime splits GOFAIL_FAILPOINTS at `;` first: a `;` inside one entry's value arms the
    text after it as a second failpoint. The scenario is refused before anything starts."""
    scenario = tmp_path / "s.gofail"
    scenario.write_text(f"process kv: {kvserver_binary} --listen 127.0.0.1:{{port}} --data {{tmp}}/kv\n"
                        f"env kv GOFAIL_FAILPOINTS={SMUGGLED_ENV}\n"
                        "start kv\n")
    result = cli("run", str(scenario))
    assert result.returncode == 2, result.stdout + result.stderr
    assert "s.gofail:2:" in result.stderr and "GOFAIL_FAILPOINTS" in result.stderr, result.stderr
    # from a --var, known only at the start: refused there, the process never started
    scenario.write_text(scenario.read_text().replace(SMUGGLED_ENV, "{fps}") + "expect kv running\n")
    result = cli("run", str(scenario), "--var", f"fps={SMUGGLED_ENV}")
    assert result.returncode == 1 and "GOFAIL_FAILPOINTS" in result.stdout + result.stderr, result.stdout + result.stderr
    assert "error  1        start kv" in result.stdout and "expect kv running" not in result.stdout, result.stdout


def test_gofail_failpoints_splitting_is_what_the_runtime_does(kvserver_binary: Path, tmp_path: Path) -> None:
    """The fact the check above rests on, asked of the real runtime: the smuggled entry is armed."""
    server = KV(kvserver_binary, tmp_path / "data", env={"GOFAIL_FAILPOINTS": SMUGGLED_ENV})
    try:
        assert server.client.get("slowWrite", wait_registered=10) == "sleep(99999)"
        assert server.client.get("writeError") == "return(5x"
    finally:
        server.stop()
