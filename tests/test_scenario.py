"""Scenarios against real processes: examples/kvserver built with our rewriter and the runtime."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from gofail_py.cli import main
from gofail_py.errors import ScenarioSyntaxError
from gofail_py.scenario import Scenario, ScenarioResult, parse_scenario, run_scenario
from tests.support.goprog import REPO

KVCLIENT = str(REPO / "examples" / "kvclient.py")
HEADER = "process kv: {kvserver} --listen 127.0.0.1:{port} --data {tmp}/kv\n"


def run_text(text: str, binary: Path, tmp_path: Path, **extra: str) -> ScenarioResult:
    scenario = parse_scenario(text, str(tmp_path / "test.gofail"))
    journal = tmp_path / "journal.jsonl"
    result = run_scenario(scenario, journal=journal, variables={"kvserver": str(binary), "kvclient": KVCLIENT, **extra})
    assert len(journal.read_text().splitlines()) == len(result.timeline)
    return result


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is gone for our purposes
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


def started_pids(result: ScenarioResult) -> list[int]:
    return [r.answer["pid"] for r in result.timeline if isinstance(r.answer, dict) and "pid" in r.answer]


def test_every_basic_statement(kvserver_binary: Path, tmp_path: Path) -> None:
    result = run_text(HEADER + """
env kv GOFAIL_FAILPOINTS=readOnly=return(false)
start kv
expect kv running
set kv slowWrite=sleep(200ms) writeError=return("boom")
run? python3 {kvclient} put {kv.port} a 1 --fails-with boom --at-least 200ms
expect kv writeError count == 1
expect kv slowWrite count >= 1
unset kv writeError
run python3 {kvclient} put {kv.port} a 1
wait kv slowWrite count >= 2 within 2s
unset kv all
sleep 50ms
restart kv
run python3 {kvclient} get {kv.port} a --equals 1
stop kv
start kv
kill kv
""", kvserver_binary, tmp_path)
    assert result.passed, result.summary()
    statements = [r.statement for r in result.timeline]
    assert "unset kv all" in statements and "kill kv" in statements
    unset_all = next(r for r in result.timeline if r.statement == "unset kv all")
    assert sorted(unset_all.answer) == ["readOnly", "slowWrite"]  # readOnly came from GOFAIL_FAILPOINTS
    assert all(not pid_alive(pid) for pid in started_pids(result))


def test_for_window_disables_after_its_time(kvserver_binary: Path, tmp_path: Path) -> None:
    result = run_text(HEADER + """
start kv
set kv slowWrite=sleep(1) for 300ms
run python3 {kvclient} put {kv.port} a 1
sleep 600ms
run? python3 -c "import requests,sys; sys.exit(requests.get('http://{kv.endpoint}/slowWrite').status_code != 404)"
run python3 -c "import requests,sys; sys.exit(requests.get('http://{kv.endpoint}/slowWrite').status_code != 404)"
""", kvserver_binary, tmp_path)
    assert result.passed, result.summary()
    timer = next(r for r in result.timeline if r.index == "timer")
    set_step = next(r for r in result.timeline if r.statement.startswith("set kv"))
    sleep_step = next(r for r in result.timeline if r.statement.startswith("sleep"))
    assert set_step.end <= timer.start <= sleep_step.end and timer.outcome == "ok"


def test_parallel_runs_its_steps_at_once(kvserver_binary: Path, tmp_path: Path) -> None:
    result = run_text("parallel:\n  sleep 300ms\n  sleep 300ms\n  run true\n", kvserver_binary, tmp_path)
    assert result.passed
    first, second = [r for r in result.timeline if r.statement == "sleep 0.3s"]
    assert first.start < second.end and second.start < first.end, "the two sleeps overlapped"


def test_repeat_and_counts(kvserver_binary: Path, tmp_path: Path) -> None:
    result = run_text(HEADER + """
start kv
set kv beforeCommit=print
repeat 3:
  run python3 {kvclient} put {kv.port} k v
expect kv beforeCommit count == 3
""", kvserver_binary, tmp_path)
    assert result.passed, result.summary()
    assert [r.index for r in result.timeline if r.statement.startswith("run")] == ["3.1.1", "3.2.1", "3.3.1"]


def _choices(result: ScenarioResult) -> list[int]:
    return [r.answer["chosen"] for r in result.timeline if r.statement.startswith("choose")]


def test_choose_with_a_seed_is_reproducible(kvserver_binary: Path, tmp_path: Path) -> None:
    text = "repeat 8:\n  choose seed {seed}:\n    sleep 1ms\n    sleep 2ms\n    sleep 3ms\n"
    first = run_text(text.format(seed=42), kvserver_binary, tmp_path)
    again = run_text(text.format(seed=42), kvserver_binary, tmp_path)
    other = run_text(text.format(seed=7), kvserver_binary, tmp_path)
    assert first.passed and len(_choices(first)) == 8
    assert _choices(first) == _choices(again)
    assert _choices(first) != _choices(other)
    unseeded = run_text(text.replace(" seed {seed}", ""), kvserver_binary, tmp_path)
    assert "seed" in next(r for r in unseeded.timeline if r.statement.startswith("choose")).sent


def test_expected_crash_and_restart_after_panic(kvserver_binary: Path, tmp_path: Path) -> None:
    result = run_text(HEADER + """
start kv
run python3 {kvclient} put {kv.port} before-crash 1
set kv afterCommit=panic
run? python3 {kvclient} put {kv.port} committed yes
expect kv exit panic within 5s
start kv
run python3 {kvclient} get {kv.port} before-crash --equals 1
run python3 {kvclient} get {kv.port} committed --equals yes
""", kvserver_binary, tmp_path)
    assert result.passed, result.summary()
    exit_step = next(r for r in result.timeline if r.statement.startswith("expect kv exit"))
    assert exit_step.answer["exit_code"] == 2 and "failpoint panic" in exit_step.answer["panic"]


def test_unexpected_crash_fails_with_exit_code_and_stderr(kvserver_binary: Path, tmp_path: Path) -> None:
    result = run_text(HEADER + """
start kv
run kill -9 {kv.pid}
sleep 100ms
expect kv running
""", kvserver_binary, tmp_path)
    assert not result.passed and result.exit_code == 1
    assert result.failed_step is not None and result.failed_step.index in ("2", "3")
    assert "died unexpectedly (exit code -9)" in (result.error or "")


def test_expect_panic_fails_when_the_exit_was_not_a_panic(kvserver_binary: Path, tmp_path: Path) -> None:
    result = run_text(HEADER + "start kv\nset kv afterCommit=panic\nrun kill -TERM {kv.pid}\nexpect kv exit panic within 5s\n",
                      kvserver_binary, tmp_path)
    assert not result.passed and "not by a failpoint panic" in (result.error or "")


def test_cleanup_after_a_failed_expectation(kvserver_binary: Path, tmp_path: Path) -> None:
    result = run_text(HEADER + """
start kv
run background sleep 30
set kv slowWrite=sleep(10)
expect kv slowWrite count == 5
""", kvserver_binary, tmp_path)
    assert not result.passed and result.exit_code == 1 and result.failed_step is not None
    assert result.failed_step.statement == "expect kv slowWrite count == 5"
    cleanup = [r.statement for r in result.timeline if r.index == "cleanup"]
    assert cleanup == ["unset kv slowWrite", "stop kv"]
    assert all(not pid_alive(pid) for pid in started_pids(result))


def test_three_processes(kvserver_binary: Path, tmp_path: Path) -> None:
    members = "".join(f"process m{n}: {{kvserver}} --listen 127.0.0.1:{{port}} --data {{tmp}}/m{n}\n" for n in (1, 2, 3))
    result = run_text(members + """
parallel:
  start m1
  start m2
  start m3
set m2 beforeCommit=print
parallel:
  run python3 {kvclient} put {m1.port} a 1
  run python3 {kvclient} put {m2.port} a 1
  run python3 {kvclient} put {m3.port} a 1
expect m2 beforeCommit count == 1
set m3 afterCommit=panic
run? python3 {kvclient} put {m3.port} b 2
expect m3 exit panic
expect m1 running
expect m2 running
""", kvserver_binary, tmp_path)
    assert result.passed, result.summary()
    assert len(set(started_pids(result))) == 3
    assert all(not pid_alive(pid) for pid in started_pids(result))


def test_endpoint_of_a_process_started_elsewhere(kvserver_binary: Path, tmp_path: Path, gofail_process) -> None:  # type: ignore[no-untyped-def]
    kv = gofail_process([kvserver_binary, "--listen", "127.0.0.1:{port}", "--data", str(tmp_path / "d")])
    result = run_text(f"""
endpoint remote: {kv.client.endpoint}
set remote writeError=return("x")
expect remote writeError count == 0
""", kvserver_binary, tmp_path)
    assert result.passed, result.summary()
    assert kv.client.list()["writeError"] == "", "the scenario's cleanup disabled what it set"


def test_python_api_builds_the_same_model_as_the_text() -> None:
    built = Scenario("api")
    built.process("kv", ["{kvserver}", "--listen", "127.0.0.1:{port}"])
    built.start("kv").set("kv", afterCommit="panic", duration=1.5)
    with built.repeat(2):
        built.command(["true"], allow_failure=True)
    built.expect_exit("kv", panic=True, within=5)
    parsed = parse_scenario(
        "process kv: {kvserver} --listen 127.0.0.1:{port}\nstart kv\nset kv afterCommit=panic for 1500ms\n"
        "repeat 2:\n  run? true\nexpect kv exit panic within 5s\n"
    )
    strip = lambda steps: [type(s).__name__ for s in steps]  # noqa: E731
    assert strip(built.steps) == strip(parsed.steps)
    assert built.steps[1].failpoints == parsed.steps[1].failpoints == (("afterCommit", "panic"),)  # type: ignore[union-attr]
    assert built.steps[1].duration == parsed.steps[1].duration == 1.5  # type: ignore[union-attr]


def test_api_run_with_the_pytest_fixture(kvserver_binary: Path, gofail_scenario) -> None:  # type: ignore[no-untyped-def]
    scenario = Scenario("fixture")
    scenario.process("kv", [str(kvserver_binary), "--listen", "127.0.0.1:{port}", "--data", "{tmp}/kv"])
    scenario.start("kv").set("kv", slowWrite="sleep(1)").expect_count("kv", "slowWrite", "==", 0)
    result = gofail_scenario(scenario)
    assert result.passed


SYNTAX_ERRORS = [
    ("frobnicate kv\n", "1:1: unknown statement 'frobnicate'"),
    ("start kv\n", "1:7: no process 'kv' declared"),
    (HEADER + "set kv x=50%panic\n", "2:12: bad terms: the runtime reads 50% as a count missing its `*`"),
    (HEADER + "set kv afterCommit=panic for 3 s\n", "2:26: `for` takes one duration and ends the line"),
    (HEADER + "sleep 5x\n", "2:7: '5x' is not a duration"),
    (HEADER + "repeat 3:\n", "2:1: `repeat 3:` needs an indented block of steps below it"),
    (HEADER + "start kv\n  stop kv\n", "3:3: unexpected indentation"),
    (HEADER + "wait kv afterCommit count = 3\n", "2:27: expected `wait TARGET FAILPOINT count OP N [within DURATION]`"),
    (HEADER + "expect kv exploded\n", "2:11: expected `expect TARGET FAILPOINT count OP N`"),
    (HEADER + "process kv: other\n", "2:9: 'kv' is declared twice"),
    ("endpoint r: nowhere\nstart r\n", "1:13: endpoint 'nowhere' is not HOST:PORT"),
    ("endpoint r: 127.0.0.1:1\nstart r\n", "2:7: no process 'r' declared (an endpoint can only be set"),
    ("run echo 'unclosed\n", "1:5: cannot split the command: No closing quotation"),
]


@pytest.mark.parametrize(("text", "message"), SYNTAX_ERRORS)
def test_syntax_errors(text: str, message: str) -> None:
    with pytest.raises(ScenarioSyntaxError) as caught:
        parse_scenario(text, "s.gofail")
    assert str(caught.value).startswith(f"s.gofail:{message}")


def test_cli_exit_codes(kvserver_binary: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    cases = {
        "bad.gofail": ("frobnicate\n", 2),
        "fails.gofail": (HEADER + "start kv\nexpect kv afterCommit count == 1\n", 1),
        "unstartable.gofail": ("process x: /nonexistent/binary\nstart x\n", 3),
        "unknown_placeholder.gofail": ("run echo {nope}\n", 2),
        "passes.gofail": (HEADER + "start kv\nexpect kv running\n", 0),
    }
    for name, (text, code) in cases.items():
        (tmp_path / name).write_text(text)
        result = runner.invoke(main, ["run", str(tmp_path / name), "--var", f"kvserver={kvserver_binary}"])
        assert result.exit_code == code, (name, result.output, result.stderr)


def test_sigint_cleans_up_everything(kvserver_binary: Path, tmp_path: Path) -> None:
    scenario = tmp_path / "long.gofail"
    journal = tmp_path / "journal.jsonl"
    scenario.write_text(HEADER + "start kv\nset kv slowWrite=sleep(1)\nrun background sleep 60\nsleep 60s\n")
    proc = subprocess.Popen(
        [sys.executable, "-m", "gofail_py.cli", "run", str(scenario), "--journal", str(journal), "--var", f"kvserver={kvserver_binary}"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and (not journal.exists() or len(journal.read_text().splitlines()) < 3):
        time.sleep(0.05)
    records = [json.loads(line) for line in journal.read_text().splitlines()]
    pids = [r["answer"]["pid"] for r in records if isinstance(r["answer"], dict) and "pid" in r["answer"]]
    assert len(pids) == 2 and all(pid_alive(p) for p in pids)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=20)
    assert proc.returncode == 130, stderr
    assert b"interrupted" in stderr
    assert all(not pid_alive(p) for p in pids)
    statements = [json.loads(line)["statement"] for line in journal.read_text().splitlines()]
    assert "unset kv slowWrite" in statements and "stop kv" in statements
