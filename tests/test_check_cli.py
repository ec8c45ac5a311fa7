"""`gofail-py check` as a user runs it: verdicts and exit codes, the explanation, JSON, bad input,
and what docs/check.md shows (its commands, its output, its Python examples)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.goprog import REPO

GOFAIL_PY = str(Path(sys.executable).parent / "gofail-py")
DOC = (REPO / "docs" / "check.md").read_text(encoding="utf-8")
STALE = "examples/check/stale-read.jsonl"


def cli(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run([GOFAIL_PY, *args], capture_output=True, text=True, timeout=120, cwd=cwd)


def _timeless(text: str) -> str:
    return re.sub(r"; \d+\.\d\d s\)", "; T s)", text)


def test_the_violation_prints_as_docs_check_md_shows_it() -> None:
    done = cli("check", STALE)
    assert done.returncode == 1, done.stderr
    shown = re.search(r"^```text\n(.*?)^```", DOC, re.S | re.M)
    assert shown is not None
    assert _timeless(done.stdout) == _timeless(shown[1])


def test_the_docs_commands_run_with_the_exit_codes_they_say() -> None:
    block = re.search(r"^```sh\n(.*?)^```", DOC, re.S | re.M)
    assert block is not None
    for line in block[1].splitlines():
        command, comment = line.split("#", 1)
        args = command.split()
        assert args[:2] == ["gofail-py", "check"]
        done = cli(*args[1:])
        assert f"exit {done.returncode}" in comment, (line, done.stdout, done.stderr)


def test_json_has_the_documented_shape() -> None:
    done = cli("check", STALE, "--json")
    assert done.returncode == 1
    result = json.loads(done.stdout)
    assert set(result) == {"verdict", "model", "files", "operations", "indeterminate", "timeout", "elapsed", "parts",
                           "violation"}
    assert (result["verdict"], result["model"], result["files"], result["operations"], result["indeterminate"]) == (
        "not linearizable", "kv", [STALE], 6, 1)
    violation = result["violation"]
    assert [ref["line"] for ref in violation["prefix"]] == [2, 3, 7, 4, 5]
    assert violation["prefix"][0] == {"file": STALE, "line": 2, "id": 1}
    assert violation["state"]["revision"] == 4
    [unplaced] = violation["unplaced"]
    assert (unplaced["line"], unplaced["id"], unplaced["op"], unplaced["client"]) == (6, 6, "get", 3)
    assert "called after" in unplaced["reason"]


def test_both_methods_agree_and_several_files_are_one_history(tmp_path: Path) -> None:
    lines = (REPO / STALE).read_text().splitlines()
    (tmp_path / "a.jsonl").write_text("\n".join(lines[:4]) + "\n")
    (tmp_path / "b.jsonl").write_text("\n".join([lines[0], *lines[4:]]) + "\n")
    for method in ("auto", "search"):
        done = cli("check", "a.jsonl", "b.jsonl", "--method", method, "--json", cwd=tmp_path)
        assert done.returncode == 1, done.stderr
        result = json.loads(done.stdout)
        assert result["operations"] == 6 and result["files"] == ["a.jsonl", "b.jsonl"]
        assert [item["file"] for item in result["violation"]["unplaced"]] == ["b.jsonl"]
    # alone, a.jsonl has a read of revision 3 and no write that can have made it (b.jsonl's lost put did)
    alone = cli("check", "a.jsonl", cwd=tmp_path)
    assert alone.returncode == 1 and "no operation can have created revision 3" in alone.stdout


def test_register_histories(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    ops = [{"id": 1, "client": 0, "op": "write", "input": {"value": 1}, "call": 0, "return": 10, "output": {}},
           {"id": 2, "client": 1, "op": "cas", "input": {"expect": 1, "value": 2}, "call": 20, "return": 30, "output": {"ok": True}},
           {"id": 3, "client": 0, "op": "read", "input": {}, "call": 40, "return": 50, "output": {"value": 1}}]
    path.write_text("".join(json.dumps(op) + "\n" for op in ops))
    done = cli("check", str(path), "--model", "register")
    assert done.returncode == 1 and "the state at its end: 2" in done.stdout, done.stdout
    ops[2]["output"] = {"value": 2}
    path.write_text("".join(json.dumps(op) + "\n" for op in ops))
    assert cli("check", str(path), "--model", "register").returncode == 0
    # read as kv (the default without a header) it is bad input, at its line
    done = cli("check", str(path))
    assert done.returncode == 2 and done.stderr.startswith(f"{path}:1: expected an operation of the kv model")


@pytest.mark.parametrize("args, message", [
    (["missing.jsonl"], "missing.jsonl: cannot read"),
    (["."], "Error: Invalid value for 'HISTORIES...'"),
    ([STALE, "--timeout", "-1"], "expected a number of seconds above 0"),
    ([STALE, "--model", "etcd"], "Invalid value for '--model'"),
    ([STALE, "--memory", "0"], "Invalid value for '--memory'"),
    ([STALE, "--model", "register"], "the header says model 'kv'"),
])
def test_bad_input_is_exit_2_without_a_traceback(args: list[str], message: str) -> None:
    done = cli("check", *args)
    assert done.returncode == 2
    assert message in done.stderr
    assert "Traceback" not in done.stderr + done.stdout


def test_check_loads_only_its_own_modules() -> None:
    """The command is registered lazily: other commands never import the checker, and check
    imports neither the HTTP client nor tree-sitter."""
    probe = ("import sys\nfrom gofail_py.cli import main\ntry:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
             "print(sorted(m for m in sys.modules if m.startswith(('gofail_py.check', 'gofail_py.cli.', 'gofail_py.history',"
             " 'gofail_py.models', 'requests', 'tree_sitter', 'jinja2'))))")
    def loaded(*args: str) -> list[str]:
        done = subprocess.run([sys.executable, "-c", probe, *args], capture_output=True, text=True, cwd=REPO, timeout=60)
        return json.loads(done.stdout.splitlines()[-1].replace("'", '"'))
    assert loaded("list", "--help") == ["gofail_py.cli.rewriter"]
    mine = loaded("check", STALE)
    assert "gofail_py.cli.check" in mine and "gofail_py.check.kvfast" in mine
    assert not [name for name in mine if name.split(".")[0] in ("requests", "tree_sitter", "jinja2")]
    assert not [name for name in mine if name.startswith("gofail_py.cli.") and name not in ("gofail_py.cli.check", "gofail_py.cli.options")]


def test_the_python_examples_of_docs_check_md_run(tmp_path: Path) -> None:
    blocks = re.findall(r"^```python\n(.*?)^```", DOC, re.S | re.M)
    assert len(blocks) == 3
    script = "\n".join(blocks)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path, timeout=60,
                          env=dict(os.environ, PYTHONPATH=str(REPO)))
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["0 put {'revision': 2}", "not linearizable ['not linearizable', None]"]
