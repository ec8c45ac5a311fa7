"""`reach` and `recover` against real processes: examples/kvserver and testdata/panicnoise (a real
Go program on the real runtime whose failpoint panic is followed by many lines of stderr, as etcd's is)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from gofail_py.scenario import ScenarioResult, parse_scenario, run_scenario
from tests.support.goprog import REPO, TESTDATA, build_enabled

KVCLIENT = str(REPO / "examples" / "kvclient.py")
KV = "process kv: {kvserver} --listen 127.0.0.1:{port} --data {tmp}/kv\n"
NOISY = "process p: {noisy}\n"


@pytest.fixture(scope="session")
def noisy_binary(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_enabled(TESTDATA / "panicnoise", tmp_path_factory.mktemp("panicnoise"), "panicnoise")


def run_text(text: str, tmp_path: Path, **variables: str) -> ScenarioResult:
    scenario = parse_scenario(text, str(tmp_path / "t.gofail"))
    return run_scenario(scenario, journal=tmp_path / "journal.jsonl", variables={"kvclient": KVCLIENT, **variables})


def step(result: ScenarioResult, first_word: str) -> object:
    return next(r for r in result.timeline if r.statement.split()[0] == first_word)


def test_a_panic_far_from_the_end_of_stderr_is_found(noisy_binary: Path, tmp_path: Path) -> None:
    # 70 lines follow the panic's own line: reading only the last lines called the death unexpected
    result = run_text(NOISY + "start p\nset p boom=panic\nexpect p exit panic within 5s\n", tmp_path,
                      noisy=str(noisy_binary))
    assert result.passed, result.summary()
    assert "failpoint panic" in step(result, "expect").answer["panic"]  # type: ignore[attr-defined]


def test_reach_by_a_panic_then_recover_starts_it_again(noisy_binary: Path, tmp_path: Path) -> None:
    result = run_text(NOISY + "start p\nset p boom=panic\nreach p boom within 5s\nrecover p\nexpect p running\n",
                      tmp_path, noisy=str(noisy_binary))
    assert result.passed, result.summary()
    assert step(result, "reach").answer["reached"] == "panic"  # type: ignore[attr-defined]
    recovered = step(result, "recover").answer  # type: ignore[attr-defined]
    assert recovered["recovered"] is True and recovered["previous_exit_code"] == 2


def test_a_panic_of_another_failpoint_is_not_this_ones(noisy_binary: Path, tmp_path: Path) -> None:
    # the bare `panic` writes "failpoint panic: {}": the armed set says whose panic it was
    result = run_text(NOISY + "start p\nset p boom=panic\nreach p other within 5s\n", tmp_path, noisy=str(noisy_binary))
    assert not result.passed and result.exit_code == 1
    assert result.failed_step is not None and result.failed_step.outcome == "failed"
    assert "died unexpectedly" in (result.error or "")


def test_reach_by_the_count_and_recover_does_nothing(kvserver_binary: Path, tmp_path: Path) -> None:
    result = run_text(KV + """start kv
set kv slowWrite=sleep(1ms)
run python3 {kvclient} put {kv.port} a 1
reach kv slowWrite within 5s
recover kv
run python3 {kvclient} get {kv.port} a --equals 1
""", tmp_path, kvserver=str(kvserver_binary))
    assert result.passed, result.summary()
    assert step(result, "reach").answer == {"reached": "count", "count": 1}  # type: ignore[attr-defined]
    assert step(result, "recover").answer["recovered"] is False  # type: ignore[attr-defined]


def test_not_reached_skips_the_rest_and_cleans_up(kvserver_binary: Path, tmp_path: Path) -> None:
    result = run_text(KV + """start kv
set kv slowWrite=0*return(2)
run python3 {kvclient} put {kv.port} a 1
reach kv slowWrite within 300ms
log never
""", tmp_path, kvserver=str(kvserver_binary))
    assert not result.passed and result.exit_code == 1
    assert result.failed_step is not None and result.failed_step.outcome == "not-reached"
    assert (result.error or "").startswith("not reached: slowWrite did not fire within 300ms")
    assert not any(r.statement.startswith("log") for r in result.timeline)
    cleanup = [r.statement for r in result.timeline if r.kind == "cleanup"]
    assert cleanup == ["unset kv slowWrite", "stop kv"]
    records = [json.loads(line) for line in (tmp_path / "journal.jsonl").read_text().splitlines()]
    assert [r["outcome"] for r in records if r.get("event") == "step" and r["statement"].startswith("reach")] == ["not-reached"]


def test_a_crash_that_is_no_failpoint_panic_is_reported_by_recover(noisy_binary: Path, tmp_path: Path) -> None:
    result = run_text(NOISY + "start p\nrun kill -9 {p.pid}\nsleep 200ms\nrecover p\n", tmp_path, noisy=str(noisy_binary))
    assert not result.passed and result.failed_step is not None
    assert result.failed_step.statement == "recover p" and "died unexpectedly (exit code -9)" in (result.error or "")


def test_gofail_py_run_says_not_reached_and_exits_1(kvserver_binary: Path, tmp_path: Path) -> None:
    scenario = tmp_path / "nr.gofail"
    scenario.write_text(KV + "start kv\nset kv slowWrite=0*return(2)\nreach kv slowWrite within 200ms\n")
    run = subprocess.run([sys.executable, "-m", "gofail_py.cli", "run", str(scenario), "--var", f"kvserver={kvserver_binary}"],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 1 and "not reached" in run.stdout + run.stderr
    assert "Traceback" not in run.stderr


@pytest.mark.parametrize("line, message", [
    ("reach kv slowWrite", "expected `reach TARGET FAILPOINT within DURATION`"),
    ("reach kv slowWrite within", "expected `reach TARGET FAILPOINT within DURATION`"),
    ("reach kv slowWrite in 5s", "expected `reach TARGET FAILPOINT within DURATION`"),
    ("reach kv 9x within 5s", "not a failpoint name"),
    ("reach nobody slowWrite within 5s", "no process or endpoint 'nobody'"),
    ("recover", "recover PROCESS"),
    ("recover nobody", "no process 'nobody'"),
])
def test_bad_reach_and_recover_lines(line: str, message: str, tmp_path: Path) -> None:
    from gofail_py.errors import ScenarioSyntaxError

    with pytest.raises(ScenarioSyntaxError) as caught:
        parse_scenario(KV + line + "\n", "t.gofail")
    assert message in str(caught.value)
