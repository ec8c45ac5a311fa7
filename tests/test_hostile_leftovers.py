"""Leftovers of the hostile pass, each against the real program: env words keep their inner
quotes, the CLI waits out a young process's registration before GET /, --report is checked
before the run, sweep knows explore's temp dirs, clear errors at the Python API's boundary."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from gofail_py import Cluster, Scenario, disable, enable, list_failpoints
from gofail_py.client import Client
from gofail_py.errors import ScenarioSyntaxError
from gofail_py.explore.template import fill_template
from gofail_py.scenario import parse_scenario, run_scenario
from tests.support.goprog import REPO, TESTDATA, build_enabled, start

CLI = [sys.executable, "-m", "gofail_py.cli"]

pytestmark = pytest.mark.hostile


@pytest.fixture(scope="module")
def slowinit_binary(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_enabled(TESTDATA / "slowinit", tmp_path_factory.mktemp("slowinit"), "slowinit")


@pytest.mark.parametrize("word", [
    'GOFAIL_FAILPOINTS=lateFailpoint=return("env")',
    "'GOFAIL_FAILPOINTS=lateFailpoint=return(\"env\")'",
    'GOFAIL_FAILPOINTS=\'lateFailpoint=return("env")\'',
])
def test_env_value_reaches_the_process_as_written(slowinit_binary: Path, tmp_path: Path, word: str) -> None:
    text = f"process slow: {{slowinit}}\nenv slow SLOWINIT_MS=1500 {word}\nstart slow\nunset slow all\nexpect slow running\n"
    scenario = parse_scenario(text, str(tmp_path / "s.gofail"))
    assert dict(scenario.processes["slow"].env)["GOFAIL_FAILPOINTS"] == 'lateFailpoint=return("env")'
    result = run_scenario(scenario, variables={"slowinit": str(slowinit_binary)})
    assert result.passed, result.summary()
    unset = next(r for r in result.timeline if r.statement == "unset slow all")
    assert unset.answer == ["lateFailpoint"]


@pytest.mark.parametrize(("word", "value"), [
    ('A="hello world"', "hello world"),
    ("'A=hello world'", "hello world"),
    ("A=it's", None),
    ('A=x"a b"y', 'x"a b"y'),
])
def test_env_quoting(word: str, value: str | None) -> None:
    text = f"process p: true\nenv p {word}\n"
    if value is None:
        with pytest.raises(ScenarioSyntaxError, match="<string>:2:"):
            parse_scenario(text)
        return
    scenario = parse_scenario(text)
    assert dict(scenario.processes["p"].env)["A"] == value
    # the text format writes it back so that it reads back the same
    assert dict(parse_scenario(scenario.to_text()).processes["p"].env)["A"] == value


@pytest.mark.parametrize("word", [
    "GOFAIL_FAILPOINTS={failpoint}={terms}",
    "'GOFAIL_FAILPOINTS={failpoint}={terms}'",
    'GOFAIL_FAILPOINTS="{failpoint}={terms}"',
])
def test_env_template_values_arrive_as_given(word: str) -> None:
    text = f"process p: true\nenv p {word}\n"
    filled = fill_template(text, {"failpoint": "fp", "terms": 'return("a b")'})
    assert dict(parse_scenario(filled).processes["p"].env)["GOFAIL_FAILPOINTS"] == 'fp=return("a b")'


def _young(binary: Path, armed: bool = False) -> tuple[subprocess.Popen[bytes], str]:
    env = {"SLOWINIT_MS": "2500", **({"GOFAIL_FAILPOINTS": 'lateFailpoint=return("env")'} if armed else {})}
    return start(binary, env=env)  # registers lateFailpoint 2.5 s after its start, endpoint at once


def _cli(*args: str, endpoint: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args, "--endpoint", endpoint], capture_output=True, text=True, timeout=60)


def test_ls_waits_out_a_young_binarys_registration(slowinit_binary: Path) -> None:
    proc, endpoint = _young(slowinit_binary)
    try:
        done = _cli("ls", "--json", endpoint=endpoint)
        assert done.returncode == 0, done.stderr
        assert [f["name"] for f in json.loads(done.stdout)] == ["lateFailpoint"]
        assert proc.poll() is None
    finally:
        proc.kill()
        proc.communicate()


def test_unset_all_waits_out_a_young_binarys_registration(slowinit_binary: Path) -> None:
    proc, endpoint = _young(slowinit_binary, armed=True)
    try:
        done = _cli("unset", "--all", "--json", endpoint=endpoint)
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["disabled"] == ["lateFailpoint"]
        assert proc.poll() is None
    finally:
        proc.kill()
        proc.communicate()


def test_ls_with_a_short_timeout_says_the_binary_is_starting(slowinit_binary: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # in this process, the process counted young for a minute more than its age: a loaded machine
    # once took over 3 s to start the CLI in a subprocess, and the binary was no longer young then
    from click.testing import CliRunner

    from gofail_py.processes import procfind
    from gofail_py.cli import main

    proc, endpoint = start(slowinit_binary, env={"SLOWINIT_MS": "60000"})
    try:
        found = procfind.listener_age(endpoint)
        assert found is not None
        monkeypatch.setattr(procfind, "STARTING_FOR", found[1] + 60.0)
        done = CliRunner().invoke(main, ["ls", "--timeout", "0.1", "--endpoint", endpoint])
        assert done.exit_code == 3 and "Traceback" not in done.stderr, done.stderr
        assert f"(pid {proc.pid}) started" in done.stderr and "nothing was sent" in done.stderr
        assert proc.poll() is None
    finally:
        proc.kill()
        proc.communicate()


@pytest.mark.parametrize("report", ["missing/dir/r.html", "adir", "file.txt/r.html"])
def test_run_report_into_a_missing_dir_is_refused_before_the_run(tmp_path: Path, report: str) -> None:
    (tmp_path / "adir").mkdir()
    (tmp_path / "file.txt").write_text("x")
    scenario = tmp_path / "s.gofail"
    scenario.write_text(f"run touch {tmp_path}/ran\n")
    done = subprocess.run([*CLI, "run", str(scenario), "--report", report], cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stdout + done.stderr
    assert "--report" in done.stderr and report in done.stderr
    assert not (tmp_path / "ran").exists(), "the run went ahead"


def test_sweep_lists_and_removes_a_killed_explores_temp_dir(tmp_path: Path) -> None:
    template = tmp_path / "t.gofail"
    template.write_text("log {failpoint} {terms}\nrun sleep 300\n")
    before = set(Path(tempfile.gettempdir()).glob("gofail-py-explore-*"))
    explore = subprocess.Popen([*CLI, "explore", str(template), "--source", str(REPO / "examples" / "kvserver"),
                                "--only", "slowWrite"], cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        made: set[Path] = set()
        while not made:
            made = set(Path(tempfile.gettempdir()).glob("gofail-py-explore-*")) - before
            assert time.monotonic() < deadline, "explore made no temp dir"
            time.sleep(0.1)
    finally:
        explore.send_signal(signal.SIGKILL)
        explore.wait()
    listed = subprocess.run([*CLI, "sweep"], capture_output=True, text=True, timeout=60)
    assert listed.returncode == 0 and all(str(d) in listed.stdout for d in made), listed.stdout
    as_json = subprocess.run([*CLI, "sweep", "--json"], capture_output=True, text=True, timeout=60)
    assert {str(d) for d in made} <= {item.get("dir") for item in json.loads(as_json.stdout)}, as_json.stdout
    assert all(d.exists() for d in made), "sweep without --stop removed something"
    # --run: only this explore's leftovers (an unscoped --stop would also stop what other tests left on purpose)
    stopped = subprocess.run([*CLI, "sweep", "--stop", "--run", str(explore.pid)], capture_output=True, text=True, timeout=60)
    assert stopped.returncode == 0, stopped.stderr
    assert not any(d.exists() for d in made), "sweep --stop left the dead explore's temp dir"


def test_sweep_lists_a_killed_runs_temp_dir(tmp_path: Path) -> None:
    scenario = tmp_path / "s.gofail"
    scenario.write_text("run sleep 300\n")
    runner = subprocess.Popen([*CLI, "run", str(scenario)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        made: list[Path] = []
        while not made:
            made = list(Path(tempfile.gettempdir()).glob(f"gofail-py-run-{runner.pid}.*"))
            assert time.monotonic() < deadline, "the run made no temp dir"
            time.sleep(0.1)
    finally:
        runner.send_signal(signal.SIGKILL)
        runner.wait()
    listed = subprocess.run([*CLI, "sweep"], capture_output=True, text=True, timeout=60)
    assert str(made[0]) in listed.stdout, listed.stdout
    subprocess.run([*CLI, "sweep", "--stop", "--run", str(runner.pid)], capture_output=True, text=True, timeout=60)
    assert not made[0].exists()


@pytest.mark.parametrize("journal", ["/dev/null", "file.txt"])
def test_explore_journal_onto_a_file_says_it_needs_a_folder(tmp_path: Path, journal: str) -> None:
    (tmp_path / "file.txt").write_text("keep")
    template = tmp_path / "t.gofail"
    template.write_text("log {failpoint} {terms}\n")
    done = subprocess.run([*CLI, "explore", str(template), "--source", str(REPO / "examples" / "kvserver"),
                           "--only", "slowWrite", "--journal", journal], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert "File exists" not in done.stderr and ("not a folder" in done.stderr or "is a file" in done.stderr), done.stderr
    assert (tmp_path / "file.txt").read_text() == "keep"


_NOWHERE = "127.0.0.1:1"


@pytest.mark.parametrize(("call", "error", "names"), [
    (lambda: Client(12345), TypeError, "endpoint"),  # type: ignore[arg-type]
    (lambda: Client(b"127.0.0.1:2"), TypeError, "endpoint"),  # type: ignore[arg-type]
    (lambda: Client(_NOWHERE, timeout="5"), TypeError, "timeout"),  # type: ignore[arg-type]
    (lambda: Client(_NOWHERE, timeout=True), TypeError, "timeout"),
    (lambda: Client(_NOWHERE, registration_grace="5"), TypeError, "registration_grace"),  # type: ignore[arg-type]
    (lambda: Client(_NOWHERE, registration_grace=-1), ValueError, "registration_grace"),
    (lambda: Client(_NOWHERE, started_at="x"), TypeError, "started_at"),  # type: ignore[arg-type]
    (lambda: Client(_NOWHERE, inventory="abc"), TypeError, "inventory"),
    (lambda: Client(_NOWHERE, inventory=[1]), TypeError, "inventory"),  # type: ignore[list-item]
    (lambda: Client(_NOWHERE, journal=5), TypeError, "journal"),  # type: ignore[arg-type]
    (lambda: Client(_NOWHERE, process=5), TypeError, "process"),  # type: ignore[arg-type]
    (lambda: Client(_NOWHERE).enable(5, "panic"), TypeError, "name"),  # type: ignore[arg-type]
    (lambda: Client(_NOWHERE).enable("x", 5), TypeError, "terms"),  # type: ignore[arg-type]
    (lambda: Client(_NOWHERE).enable_many({"x": 5}), TypeError, "terms"),  # type: ignore[dict-item]
    (lambda: Client(_NOWHERE).get(None), TypeError, "name"),  # type: ignore[arg-type]
    (lambda: Client(_NOWHERE).get("x", wait_registered="1"), TypeError, "wait_registered"),  # type: ignore[arg-type]
    (lambda: Client(_NOWHERE).disable(b"x"), TypeError, "name"),  # type: ignore[arg-type]
    (lambda: Client(_NOWHERE).count(1), TypeError, "name"),  # type: ignore[arg-type]
    (lambda: Client(_NOWHERE).wait_count("x", "3", 1), TypeError, "at_least"),  # type: ignore[arg-type]
    (lambda: Client(_NOWHERE).wait_count("x", 3, "1"), TypeError, "timeout"),  # type: ignore[arg-type]
    (lambda: Cluster(12345), TypeError, "endpoints"),  # type: ignore[arg-type]
    (lambda: Cluster(_NOWHERE), TypeError, "endpoints"),
    (lambda: Scenario().process("p", "ls"), TypeError, "argv"),
    (lambda: Scenario().process(5, ["ls"]), TypeError, "name"),  # type: ignore[arg-type]
    (lambda: list_failpoints("examples/kvserver"), TypeError, "paths"),  # type: ignore[arg-type]
    (lambda: enable(12345), TypeError, "paths"),  # type: ignore[arg-type]
    (lambda: disable([12345]), TypeError, "paths"),  # type: ignore[list-item]
])
def test_wrong_argument_types_are_named_at_the_boundary(call: Callable[[], object], error: type[Exception],
                                                         names: str) -> None:
    with pytest.raises(error) as caught:
        call()
    assert type(caught.value) is error and names in str(caught.value), repr(caught.value)


def test_client_with_a_bare_port_suggests_the_endpoint() -> None:
    with pytest.raises(TypeError, match="'127.0.0.1:12345'"):
        Client(12345)  # type: ignore[arg-type]
