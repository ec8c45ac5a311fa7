"""The client commands through click's CliRunner, against a running kvserver."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from gofail_py.cli import main
from tests.support.goprog import free_port
from tests.test_client import KV


@pytest.fixture
def kv(kvserver_binary: Path, tmp_path: Path) -> Iterator[KV]:
    server = KV(kvserver_binary, tmp_path / "data")
    yield server
    server.stop()


def gofail(kv: KV | None, *args: str) -> Result:
    env = {"GOFAIL_HTTP": kv.client.endpoint} if kv else {"GOFAIL_HTTP": ""}
    return CliRunner().invoke(main, list(args), env=env)


def test_set_as_people_write_it(kv: KV) -> None:
    result = gofail(kv, "set", "slowWrite=sleep(1s)")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == 'set slowWrite=sleep("1s")\n'  # says what it sent
    assert kv.client.get("slowWrite") == 'sleep("1s")'
    result = gofail(kv, "set", "--json", "slowWrite=off", "readOnly=return(true)")
    assert json.loads(result.stdout) == [{"name": "slowWrite", "terms": "off"}, {"name": "readOnly", "terms": "return(true)"}]


def test_unclosed_terms_are_refused_and_nothing_is_sent(kv: KV) -> None:
    result = gofail(kv, "set", "slowWrite=sleep(1s")
    assert result.exit_code == 1
    assert result.stderr.startswith("gofail-py: bad terms for slowWrite at column 9: `sleep(` is not closed")
    assert result.stderr.endswith("\n  sleep(1s\n" + " " * 10 + "^\n")
    assert kv.client.list()["slowWrite"] == ""
    # --raw sends the text as is: the runtime reads sleep(1s as sleep(1)
    assert gofail(kv, "set", "--raw", "slowWrite=sleep(1s").exit_code == 0
    assert kv.client.get("slowWrite") == "sleep(1s"


def test_unknown_sleep_unit_and_repeated_names(kv: KV) -> None:
    result = gofail(kv, "set", "slowWrite=sleep(1x)")
    assert result.exit_code == 1 and "unknown duration unit 'x'" in result.stderr
    result = gofail(kv, "set", "slowWrite=print", "slowWrite=off")
    assert result.exit_code == 0
    assert "warning: slowWrite is given twice; the last terms (off) are set" in result.stderr
    assert kv.client.get("slowWrite") == "off"


def test_unset_is_idempotent_get_and_count_of_an_inactive_failpoint(kv: KV) -> None:
    assert gofail(kv, "set", "writeError=print").exit_code == 0
    result = gofail(kv, "unset", "writeError", "slowWrite")
    assert (result.exit_code, result.stdout) == (0, "disabled writeError\nslowWrite was already off\n")
    assert json.loads(gofail(kv, "unset", "--json", "writeError").stdout) == {"disabled": [], "already_off": ["writeError"]}
    result = gofail(kv, "get", "writeError")
    assert (result.exit_code, result.stdout) == (0, "\n") and "writeError is off" in result.stderr
    assert kv.client.get("writeError") == ""  # the Python API says the same (it raised FailpointDisabled)
    assert json.loads(gofail(kv, "get", "--json", "writeError").stdout) == {"name": "writeError", "terms": None, "active": False}
    result = gofail(kv, "count", "writeError")
    assert result.exit_code == 1 and "is off" in result.stderr


def test_set_several_get_count_ls_unset(kv: KV) -> None:
    assert gofail(kv, "set", 'writeError=return("x")', "beforeCommit=print").exit_code == 0
    assert gofail(kv, "get", "writeError").output == 'return("x")\n'
    kv.put("a", "1")
    assert gofail(kv, "count", "writeError").output == "1\n"
    assert json.loads(gofail(kv, "count", "--json", "writeError").output) == {"name": "writeError", "count": 1}
    listing = gofail(kv, "ls").output.splitlines()
    assert '* writeError=return("x")' in listing and "  slowWrite" in listing
    entries = json.loads(gofail(kv, "ls", "--json").output)
    assert {e["name"] for e in entries if e["active"]} == {"beforeCommit", "writeError"}
    assert gofail(kv, "unset", "writeError").exit_code == 0
    assert gofail(kv, "unset", "--all").output == "disabled 1 failpoint(s): beforeCommit\n"
    assert all(not terms for terms in kv.client.list().values())


def test_endpoint_option_overrides_the_environment(kv: KV) -> None:
    result = CliRunner().invoke(main, ["ls", "--endpoint", kv.client.endpoint], env={"GOFAIL_HTTP": "127.0.0.1:1"})
    assert result.exit_code == 0 and "writeError" in result.output


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["set", "slowWrite=sleep(1s -> off"], 1, "gofail-py: bad terms for slowWrite at column 9"),
        (["set", "nosuch=panic"], 1, "no failpoint nosuch"),
        (["count", "nosuch"], 1, "no failpoint nosuch"),
        (["get", "nosuch"], 1, "no failpoint nosuch"),
        (["unset", "nosuch"], 1, "no failpoint nosuch"),
        (["set", "justaname"], 2, "expected NAME=TERMS"),
        (["unset"], 2, "--all"),
    ],
)
def test_problems_and_their_exit_codes(kv: KV, args: list[str], code: int, message: str) -> None:
    result = gofail(kv, *args)
    assert result.exit_code == code
    assert message in result.stderr + result.output


def test_unreachable_and_missing_endpoint() -> None:
    result = CliRunner().invoke(main, ["ls", "--endpoint", f"127.0.0.1:{free_port()}"])
    assert result.exit_code == 3 and "GOFAIL_HTTP" in result.stderr
    result = gofail(None, "ls")
    assert result.exit_code == 2 and "set GOFAIL_HTTP" in result.stderr


def test_help_documents_exit_codes() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert "Exit codes:" in result.output and "3  endpoint or process unreachable" in result.output


@pytest.mark.parametrize("command", ["set", "unset", "get", "count", "ls", "ps"])
def test_every_client_command_has_an_example_and_the_shared_options(command: str) -> None:
    text = CliRunner().invoke(main, [command, "--help"]).output
    assert "gofail-py " + command in text and "docs/client.md" in text
    assert "--timeout SECONDS" in text and "--json" in text
    if command != "ps":
        assert "-e, --endpoint HOST:PORT" in text


def test_ps_lists_only_processes_serving_their_own_endpoint(kv: KV) -> None:
    import os
    import subprocess
    import sys

    from gofail_py.processes.procfind import gofail_processes

    kv.client.enable("slowWrite", "sleep(1)")
    env = {**os.environ, "GOFAIL_HTTP": kv.client.endpoint}
    bystander = subprocess.Popen(["sleep", "30"], env=env)  # only carries the variable
    port = free_port()
    impostor = subprocess.Popen(  # listens on its own GOFAIL_HTTP, but is no gofail runtime
        [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", str(port)],
        env={**os.environ, "GOFAIL_HTTP": f"127.0.0.1:{port}"}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        from gofail_py.client import Client
        from gofail_py.errors import NotGofailEndpoint

        with pytest.raises(NotGofailEndpoint):
            Client(f"127.0.0.1:{port}").ready(timeout=10)  # up, and not gofail
        entries = json.loads(CliRunner().invoke(main, ["ps", "--json"]).output)
        pids = {e["pid"] for e in entries}
        assert kv.proc.pid in pids and bystander.pid not in pids and impostor.pid not in pids
        mine = next(e for e in entries if e["pid"] == kv.proc.pid)
        assert (mine["endpoint"], mine["state"]) == (kv.client.endpoint, "starting")  # young: not asked GET /
        assert mine["binary"].endswith("kvserver") and "--listen" in mine["command"]
        ready = [p for p in gofail_processes(starting_for=0) if p.pid == kv.proc.pid]
        assert [(p.state, p.active) for p in ready] == [("ready", {"slowWrite": "sleep(1)"})]
    finally:
        for proc in (bystander, impostor):
            proc.kill()
            proc.wait()
