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
    assert kv.client.get("slowWrite") == 'sleep("1s")'


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
        (["set", "slowWrite=sleep(1s -> off"], 1, "bad terms at column 9"),
        (["set", "nosuch=panic"], 1, "no failpoint nosuch"),
        (["get", "writeError"], 1, "is disabled"),
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


def test_ps_finds_the_process(kv: KV) -> None:
    kv.client.enable("slowWrite", "sleep(1)")
    entries = json.loads(CliRunner().invoke(main, ["ps", "--json"]).output)
    mine = [e for e in entries if e["pid"] == kv.proc.pid]
    assert mine == [{"pid": kv.proc.pid, "command": mine[0]["command"], "endpoint": kv.client.endpoint, "active": 1}]
    assert "--listen" in mine[0]["command"]


def test_help_documents_exit_codes() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert "Exit codes:" in result.output and "3  endpoint or process unreachable" in result.output
