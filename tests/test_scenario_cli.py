"""`gofail-py run` as a user meets it: hostile input, every error at once, counts, help.

Each case runs the real command in a subprocess: one message, a documented exit code, never a
Python traceback, and nothing started when the input is bad.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from gofail_py.scenario.parser import DECLARATIONS
from gofail_py.scenario.statements import grammar_table, keywords
from tests.support.goprog import REPO

CLI = [sys.executable, "-m", "gofail_py.cli"]
KVCLIENT = str(REPO / "examples" / "kvclient.py")


def gofail_run(tmp_path: Path, text: str | bytes, *args: str) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "s.gofail"
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    result = subprocess.run([*CLI, "run", str(path), *args], capture_output=True, text=True, timeout=120)
    assert "Traceback" not in result.stderr + result.stdout, result.stderr
    return result


def nested(depth: int) -> str:
    return "".join(f"{'  ' * level}repeat 1:\n" for level in range(depth)) + "  " * depth + "sleep 1ms\n"


@pytest.mark.parametrize(("text", "message"), [
    (b"process a: sh -c 'touch {tmp}/started'\nstart a\nrun echo a\0b\n", ":3:1: a NUL byte in a command word"),
    (b"sleep 1s\nrun echo \xff\xfe\n", ":2:10: invalid UTF-8; a scenario file must be UTF-8"),
    ("process a: x\nset a f=panic for 99999999999h\n", ":2:19: '99999999999h' is out of range: a duration is at most 24h"),
    ("sleep 25h\n", ":1:7: '25h' is out of range"),
    (nested(2000), ":51:101: blocks are nested deeper than 50 levels"),
], ids=["nul", "utf8", "for-huge", "sleep-huge", "nesting"])
def test_hostile_scenario_files_give_one_message_and_exit_2(tmp_path: Path, text: str | bytes, message: str) -> None:
    result = gofail_run(tmp_path, text)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.startswith(f"{tmp_path / 's.gofail'}{message}") and result.stderr.count("\n") == 1, result.stderr
    assert result.stdout == "", "nothing ran"


def test_a_journal_that_cannot_be_written(tmp_path: Path) -> None:
    result = gofail_run(tmp_path, "sleep 1ms\n", "--journal", "/proc/nope/j.jsonl")
    assert result.returncode == 2
    assert result.stderr.startswith("gofail-py: cannot write the journal /proc/nope/j.jsonl:"), result.stderr
    assert result.stderr.count("\n") == 1 and result.stdout == ""


def test_a_missing_file_says_no_such_file(tmp_path: Path) -> None:
    result = subprocess.run([*CLI, "run", str(tmp_path / "nope.gofail")], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr == f"gofail-py: {tmp_path / 'nope.gofail'}: no such file\n"


@pytest.mark.parametrize(("path", "message"), [("/dev/zero", "not a regular file"), ("/", "not a regular file")])
def test_a_scenario_path_that_is_not_a_file(path: str, message: str) -> None:
    result = subprocess.run([*CLI, "run", path], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert message in result.stderr or "is a directory" in result.stderr, result.stderr


def test_every_error_of_a_file_at_once(tmp_path: Path) -> None:
    result = gofail_run(tmp_path, "process a: x\nstart b\nsleep 5\nparallel:\n  frob\n  unset a 9x\nexpect a running\n")
    assert result.returncode == 2
    path = tmp_path / "s.gofail"
    assert result.stderr.splitlines() == [
        f"{path}:2:7: no process 'b' declared",
        f"{path}:3:7: '5' is not a duration (like 500ms, 2s, 1m)",
        f"{path}:5:3: unknown statement 'frob': expected one of {', '.join([*DECLARATIONS, *keywords()])}",
        f"{path}:6:11: '9x' is not a failpoint name (a Go identifier)",
    ]


def test_unknown_placeholders_are_reported_once_before_anything_starts(tmp_path: Path) -> None:
    marker = tmp_path / "started"
    result = gofail_run(tmp_path, f"process a: sh -c 'touch {marker}; sleep 9' {{nope}}\nstart a\nrun echo {{a.nope}} {{tmp}} {{dir}}\n")
    assert result.returncode == 2 and result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 2, lines
    assert lines[0].endswith("unknown placeholder {nope} (built in: {port} {port2} {port3} {endpoint} {tmp} {dir} "
                             "{NAME.port} {NAME.endpoint} {NAME.pid}; --var names: none given)")
    assert "unknown placeholder {a.nope}" in lines[1] and ":3:1:" in lines[1]
    assert not marker.exists(), "nothing started"


def test_tmp_and_dir_are_built_in_not_var_names(tmp_path: Path) -> None:
    result = gofail_run(tmp_path, "sleep 1ms\n", "--var", "tmp=/x")
    assert result.returncode == 2 and "{tmp} is built in" in result.stderr


def test_a_process_failing_at_start_shows_its_stderr_or_says_it_was_empty(tmp_path: Path) -> None:
    silent = gofail_run(tmp_path, "process a: true\nstart a\n")
    assert silent.returncode == 3 and "exited with code 0 before its gofail endpoint answered; its stderr was empty" in silent.stdout
    loud = gofail_run(tmp_path, "process a: sh -c 'echo cannot open data dir >&2; exit 4'\nstart a\n")
    assert loud.returncode == 3
    assert "exited with code 4 before its gofail endpoint answered; last lines of its stderr:\ncannot open data dir\n" in loud.stdout
    assert loud.stdout.splitlines()[-1].startswith("FAILED at "), loud.stdout


def test_passed_counts_the_statements_as_numbered(tmp_path: Path) -> None:
    result = gofail_run(tmp_path, "sleep 1ms\nrepeat 3:\n  sleep 1ms\n  sleep 1ms\nsleep 1ms\n")
    assert result.returncode == 0
    assert result.stdout.splitlines()[-1] == "PASSED: 3 statement(s) (9 with the steps inside blocks)"


def test_run_help_has_an_example_and_points_to_the_grammar() -> None:
    result = subprocess.run([*CLI, "run", "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    assert "gofail-py run examples/demo.gofail --var kvserver=" in result.stdout
    assert "docs/scenario.md" in result.stdout


def test_the_docs_table_of_statements_is_the_registry() -> None:
    """docs/scenario.md holds the table generated from gofail_py.scenario.statements as is."""
    docs = (REPO / "docs" / "scenario.md").read_text()
    assert grammar_table() in docs, "regenerate: python -c 'from gofail_py.scenario.statements import grammar_table; print(grammar_table())'"


def test_the_docs_grammar_has_a_rule_for_every_statement() -> None:
    """Every keyword of the registry is a quoted word of a rule in the grammar block (reach and
    recover were missing), and every rule the statement line names is defined."""
    import re

    from gofail_py.scenario.statements import REGISTRY

    docs = (REPO / "docs" / "scenario.md").read_text()
    grammar = docs.split("## Grammar", 1)[1].split("```", 2)[1]
    rules = dict(re.findall(r"^(\w+)\s+=\s+(.*?);", grammar, re.S | re.M))
    for keyword in {k for spec in REGISTRY.values() for k in spec.keywords}:
        quoted = f'"{keyword.rstrip(":?")}'
        assert any(quoted in body for body in rules.values()), f"{keyword} has no rule in docs/scenario.md's grammar"
    named = {word for word in re.findall(r"\b[a-z]+\b", rules["statement"])}
    assert named <= set(rules), f"undefined rules: {sorted(named - set(rules))}"


def test_log_writes_its_message_to_the_timeline_and_the_journal(tmp_path: Path) -> None:
    journal = tmp_path / "j.jsonl"
    result = gofail_run(tmp_path, "log before   the {x} step # not part of it\nsleep 1ms\n", "--var", "x=first",
                        "--journal", str(journal))
    assert result.returncode == 0, result.stdout + result.stderr
    import json

    record = json.loads(journal.read_text().splitlines()[1])  # after the `run` event
    assert record["statement"] == "log before   the {x} step" and record["answer"] == {"message": "before   the first step"}
    assert 'log before   the {x} step  -> {"message": "before   the first step"}' in result.stdout
    bad = gofail_run(tmp_path, "log\nlog {nope}\n")
    assert bad.returncode == 2 and bad.stderr.splitlines()[0].endswith(":1:4: expected `log MESSAGE`")
