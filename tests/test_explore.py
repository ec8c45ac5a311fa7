"""`gofail-py explore` against real processes: examples/kvserver built with its failpoints enabled.

One template (examples/explore/kv.gofail, with `reach` and `recover`) for every kind of fault:
`return(2)` (truncateValue then stores two bytes of an acknowledged write: a robustness bug made
on purpose, `failed`), `0*return(2)` (terms that never fire: `not-reached` on purpose), and
`panic`, which kills the server on every failpoint; every acknowledged write reads back after it
is started again.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from tests.support.goprog import KV_FAILPOINTS, REPO
from tests.support.procs import default_sigint

# real processes and Go builds for seconds a test: in the default suite, not the `-m "not slow"` loop
pytestmark = pytest.mark.slow

EXPLORE = REPO / "examples" / "explore"
KVSERVER = REPO / "examples" / "kvserver"
# the write path's failpoints (the template's writes reach them; the seeded bugs have tests of their own)
FAILPOINTS = ["slowWrite", "readOnly", "writeError", "truncateValue", "flakyDisk", "beforeCommit", "afterCommit"]
ONLY = [f"--only={name}" for name in FAILPOINTS]
NONFATAL = ["return(2)", "0*return(2)"]


def explore(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "gofail_py.cli", "explore", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=timeout)


# Every process this test worker starts carries this tag, and so do their descendants (the
# environment is inherited): survivors() counts only those. Another pytest-xdist worker runs tests
# with the same kvserver binary at the same time; its servers are not this test's survivors (the
# two cases of test_pytest_xdist_gives_the_outcomes_of_explore failed side by side under -n 2).
_TAG_NAME = "GOFAIL_PY_TEST_WORKER"
os.environ[_TAG_NAME] = f"{os.getpid()}.{os.urandom(6).hex()}"
_TAG = f"{_TAG_NAME}={os.environ[_TAG_NAME]}".encode()


def survivors(*needles: str, first: bool = False) -> list[str]:
    """Command lines of this worker's live processes (not zombies) that mention any needle
    (``first``: as argv[0])."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
            if _TAG not in (entry / "environ").read_bytes().split(b"\0"):
                continue
        except OSError:
            continue
        if state != "Z" and any(cmdline.startswith(needle) if first else needle in cmdline for needle in needles):
            found.append(f"{entry.name}: {cmdline}")
    return found


def expected_nonfatal(failpoint: str, terms: str) -> str:
    if terms.startswith("0*"):
        return "not-reached"
    return "failed" if failpoint == "truncateValue" else "passed"


def outcomes(report: dict[str, Any]) -> dict[tuple[str, str], str]:
    return {(run["failpoint"], run["terms"]): run["outcome"] for run in report["runs"]}


@pytest.mark.explore
def test_matrix_in_parallel_isolated_and_nothing_left(kvserver_binary: Path, tmp_path: Path) -> None:
    journals = tmp_path / "journals"
    result = explore(str(EXPLORE / "kv.gofail"), "--source", str(KVSERVER), *(f"--terms={t}" for t in NONFATAL),
                     *ONLY, "-j", "2", "--json", "--journal", str(journals), "--var", f"kvserver={kvserver_binary}",
                     "-o", str(tmp_path / "report.html"))
    assert result.returncode == 1, result.stderr  # a run failed
    report = json.loads(result.stdout)
    assert outcomes(report) == {(fp, t): expected_nonfatal(fp, t) for fp in FAILPOINTS for t in NONFATAL}
    assert report["summary"] == {"passed": 6, "failed": 1, "not-reached": 7, "error": 0}
    assert "[14/14]" in result.stderr and "so far:" in result.stderr  # progress, on stderr with --json
    failed = next(run for run in report["runs"] if run["outcome"] == "failed")
    assert "read HTTP 200 'va'" in failed["message"]  # the check saw the truncated value

    # one journal per run; each run had its own {tmp}
    paths = [Path(run["journal"]) for run in report["runs"]]
    assert len(set(paths)) == 14 and all(path.parent == journals and path.is_file() for path in paths)
    starts = []
    for path in paths:
        records = [json.loads(line) for line in path.read_text().splitlines()]
        starts.append(next(r for r in records if r.get("statement") == "start kv")["sent"])
    data_dirs = {tuple(start["argv"])[-1] for start in starts}
    assert len(data_dirs) == 14  # ports may come back in a later run; a clash would show as an error above
    assert survivors(str(kvserver_binary)) == []
    page = (tmp_path / "report.html").read_text()
    assert page.count('class="failed"') == 1 and "truncateValue" in page


@pytest.mark.explore
def test_fatal_faults_are_survived_and_the_terminal_matrix(kvserver_binary: Path) -> None:
    result = explore(str(EXPLORE / "kv.gofail"), "--source", str(KVSERVER), *ONLY, "-j", "2",
                     "--var", f"kvserver={kvserver_binary}")
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[-9].split() == ["failpoint", "panic"]
    assert [line.split() for line in lines[-8:-1]] == [[fp, "pass"] for fp in FAILPOINTS]
    assert lines[-1] == "7 run(s): passed 7  failed 0  not-reached 0  error 0"
    assert survivors(str(kvserver_binary)) == []


@pytest.mark.explore
def test_sampling_runs_the_same_cells_again(kvserver_binary: Path) -> None:
    def cells() -> list[tuple[str, str]]:
        result = explore(str(EXPLORE / "kv.gofail"), "--source", str(KVSERVER), *(f"--terms={t}" for t in NONFATAL),
                         "--seed", "3", "--sample", "3", "-j", "2", "--json", "--var", f"kvserver={kvserver_binary}")
        report = json.loads(result.stdout)
        assert all(run["journal"] is None for run in report["runs"])
        return [(run["failpoint"], run["terms"]) for run in report["runs"]]

    first = cells()
    assert len(first) == 3 and first == cells()


def test_nothing_reached_is_said_loudly(kvserver_binary: Path) -> None:
    args = [str(EXPLORE / "kv.gofail"), "--source", str(KVSERVER), "--only", "slowWrite",
            "--terms", "0*return(2)", "--var", f"kvserver={kvserver_binary}"]
    result = explore(*args)
    assert result.returncode == 0 and "NOTHING WAS REACHED" in result.stdout
    assert explore(*args, "--fail-on-not-reached").returncode == 1


def test_a_port_lost_to_another_run_is_retried(tmp_path: Path) -> None:
    # the first run of each cell says what a server that lost its port says, the next one passes
    template = tmp_path / "flaky.gofail"
    template.write_text(
        "run python3 -c \"import os,sys; p=os.path.join(sys.argv[1], sys.argv[2]); "
        "first=not os.path.exists(p); open(p,'a').close(); "
        "first and sys.exit('listen tcp 127.0.0.1:9: bind: address already in use')\" {state} {failpoint}\n"
    )
    state = tmp_path / "state"
    state.mkdir()
    result = explore(str(template), "--source", str(KVSERVER), "--only", "slow*", "--only", "flakyDisk",
                     "-j", "2", "--json", "--var", f"state={state}")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert [(run["failpoint"], run["outcome"], run["attempts"]) for run in report["runs"]] == [
        ("slowWrite", "passed", 2), ("flakyDisk", "passed", 2)]


def test_a_port_always_taken_is_reported_after_the_retries(tmp_path: Path) -> None:
    template = tmp_path / "taken.gofail"
    template.write_text("run python3 -c \"import sys; sys.exit('bind: address already in use')\" {failpoint}\n")
    result = explore(str(template), "--source", str(KVSERVER), "--only", "slowWrite", "--json")
    report = json.loads(result.stdout)
    assert result.returncode == 3 and report["runs"][0]["attempts"] == 3
    assert report["runs"][0]["outcome"] == "error"  # the environment, not the program under test


def test_a_real_server_losing_its_port_is_recognised(kvserver_binary: Path, tmp_path: Path) -> None:
    # the port is held by this test for the whole campaign: every attempt of the real server fails to bind.
    # The server can only find that out after its gofail endpoint answered (`start` waits for that):
    # with nothing after `set`, a run whose server died a few ms after the end check passed (1 in 6),
    # its crash in the journal. `reach` waits for its failpoint, which nothing fires: it ends when the
    # server dies, with the death and its stderr, every time.
    template = tmp_path / "busy.gofail"
    template.write_text("process kv: {kvserver} --listen 127.0.0.1:{busy} --data {tmp}/kv\nstart kv\n"
                        "reach kv {failpoint} within 60s\nset kv {failpoint}={terms}\n")
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        result = explore(str(template), "--source", str(KVSERVER), "--only", "slowWrite", "--json",
                         "--var", f"kvserver={kvserver_binary}", "--var", f"busy={holder.getsockname()[1]}")
    run = json.loads(result.stdout)["runs"][0]
    assert (result.returncode, run["outcome"], run["attempts"]) == (3, "error", 3)
    assert "address already in use" in run["message"]


def test_a_run_over_its_timeout_is_stopped_and_an_error(tmp_path: Path) -> None:
    template = tmp_path / "slow.gofail"
    template.write_text("run true {failpoint}\nsleep 60s\n")
    began = time.monotonic()
    result = explore(str(template), "--source", str(KVSERVER), "--only", "slowWrite", "--json", "--timeout", "2")
    run = json.loads(result.stdout)["runs"][0]
    assert (result.returncode, run["outcome"]) == (3, "error") and "longer than 2 s" in run["message"]
    assert time.monotonic() - began < 30  # stopped, not waited for
    assert survivors(str(template)) == []


def test_a_journal_dir_that_cannot_be_made_is_bad_input(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    result = explore("examples/explore/kv.gofail", "--source", "examples/kvserver",
                     "--journal", str(tmp_path / "file" / "j"), "--var", "kvserver=/bin/false")
    assert result.returncode == 2 and "--journal" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize(("args", "message"), [
    (["missing.gofail", "--source", "examples/kvserver"], "missing.gofail: no such file"),
    (["examples/explore/kv.gofail", "--source", "examples/kvserver", "--only", "nope*"], "no failpoints matching nope*"),
    (["examples/explore/kv.gofail", "--source", "examples/kvserver", "--terms", "explode"], "bad terms"),
    (["examples/explore/kv.gofail", "--source", "examples/kvserver", "--var", "failpoint=x"], "set per run"),
    (["examples/explore/kv.gofail", "--source", "examples/kvserver", "--seed", "1"], "--sample"),
    (["examples/explore/kv.gofail", "--source", "nowhere"], "nowhere"),
    (["testdata/scenarios/../../examples/explore/kvwork.py", "--source", "examples/kvserver"], "unknown statement"),
])
def test_bad_input_exits_2_before_anything_runs(args: list[str], message: str, tmp_path: Path) -> None:
    result = explore(*args, "--journal", str(tmp_path / "j"), "--var", "kvserver=/bin/false")
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "j").exists()


def test_run_replays_one_cell_of_a_template(kvserver_binary: Path) -> None:
    base = [sys.executable, "-m", "gofail_py.cli", "run", str(EXPLORE / "kv.gofail"), "-q",
            "--var", f"kvserver={kvserver_binary}"]
    replay = subprocess.run([*base, "--var", "failpoint=truncateValue", "--var", "terms=return(2)"],
                            capture_output=True, text=True, timeout=120)
    assert replay.returncode == 1 and "read HTTP 200 'va'" in replay.stdout
    missing = subprocess.run(base, capture_output=True, text=True, timeout=60)
    assert missing.returncode == 2 and "--var failpoint=... --var terms=..." in missing.stderr


@pytest.mark.explore
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_stops_every_run(signum: int, kvserver_binary: Path, tmp_path: Path) -> None:
    template = tmp_path / "long.gofail"
    template.write_text(
        "process kv: {kvserver} --listen 127.0.0.1:{port} --data {tmp}/kv\nstart kv\n"
        "set kv {failpoint}={terms}\nsleep 60s\n"
    )
    proc = subprocess.Popen([sys.executable, "-m", "gofail_py.cli", "explore", str(template), "--source", str(KVSERVER),
                             "-j", "2", "--terms", "sleep(1)", "--var", f"kvserver={kvserver_binary}"],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=default_sigint)
    deadline = time.monotonic() + 60
    while len(survivors(str(kvserver_binary), first=True)) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert len(survivors(str(kvserver_binary), first=True)) == 2  # two runs under way, each with its server
    proc.send_signal(signum)  # SIGINT: what Ctrl-C sends (the runs are in their own sessions)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "interrupted" in err
    assert survivors(str(kvserver_binary), str(template)) == []


@pytest.mark.explore
def test_a_sigkill_of_explore_leaves_no_run_behind(kvserver_binary: Path, tmp_path: Path) -> None:
    # explore cannot clean up after SIGKILL: the kernel ends its runs (parent-death signal of the
    # supervisor), and each run's own supervisor passes it on to the servers it started
    template = tmp_path / "long.gofail"
    template.write_text(
        "process kv: {kvserver} --listen 127.0.0.1:{port} --data {tmp}/kv\nstart kv\n"
        "set kv {failpoint}={terms}\nsleep 60s\n"
    )
    proc = subprocess.Popen([sys.executable, "-m", "gofail_py.cli", "explore", str(template), "--source", str(KVSERVER),
                             "-j", "2", "--terms", "sleep(1)", "--var", f"kvserver={kvserver_binary}"],
                            cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while len(survivors(str(kvserver_binary), first=True)) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert len(survivors(str(kvserver_binary), first=True)) == 2  # two runs under way, each with its server
    proc.kill()
    proc.wait(timeout=10)
    deadline = time.monotonic() + 30
    while survivors(str(kvserver_binary), str(template)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert survivors(str(kvserver_binary), str(template)) == []


@pytest.mark.explore
@pytest.mark.parametrize("sampled", [False, True], ids=["all", "sampled"])
def test_pytest_xdist_gives_the_outcomes_of_explore(sampled: bool, kvserver_binary: Path, tmp_path: Path) -> None:
    only = ["readOnly", "truncateValue", "afterCommit"]
    # seed 5 picks truncateValue × both terms and afterCommit × both: a failed, a passed, not-reached
    sampling = ", seed=5, sample=4" if sampled else ""
    sampling_args = ["--seed", "5", "--sample", "4"] if sampled else []
    test_file = tmp_path / "test_robust.py"
    test_file.write_text(f'''
import pytest

@pytest.mark.gofail_explore(template={str(EXPLORE / "kv.gofail")!r}, source={str(KVSERVER)!r},
                            terms={NONFATAL!r}, only={only!r}, variables={{"kvserver": {str(kvserver_binary)!r}}}{sampling})
def test_robust(gofail_cell):
    result = gofail_cell.run()
    if result.outcome == "not-reached":
        pytest.skip("not-reached")
    assert result.outcome == "passed", result.outcome
''')
    journals = tmp_path / "journals"
    run = subprocess.run([sys.executable, "-m", "pytest", "-n", "2", "-p", "no:cacheprovider", str(test_file),
                          f"--junitxml={tmp_path / 'junit.xml'}", f"--gofail-explore-journal={journals}"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert "2 workers" in run.stdout or "created: 2/2 workers" in run.stdout, run.stdout
    from_pytest = {}
    for case in ET.parse(tmp_path / "junit.xml").getroot().iter("testcase"):
        cell = case.attrib["name"].split("[", 1)[1][:-1]
        failure, skipped = case.find("failure"), case.find("skipped")
        from_pytest[cell] = ("not-reached" if skipped is not None else
                             "passed" if failure is None else failure.attrib["message"].split("AssertionError: ")[-1].split()[0])
    direct = explore(str(EXPLORE / "kv.gofail"), "--source", str(KVSERVER), *(f"--terms={t}" for t in NONFATAL),
                     *(f"--only={name}" for name in only), *sampling_args, "-j", "2", "--json",
                     "--var", f"kvserver={kvserver_binary}")
    from_explore = {f"{fp}-{t}": outcome for (fp, t), outcome in outcomes(json.loads(direct.stdout)).items()}
    assert from_pytest == from_explore
    assert from_explore["truncateValue-return(2)"] == "failed" and len(from_explore) == (4 if sampled else 6)
    assert set(from_explore.values()) == {"passed", "failed", "not-reached"}
    assert len(list(journals.glob("*.jsonl"))) == len(from_explore)  # both workers' journals side by side
    assert survivors(str(kvserver_binary)) == []


@pytest.mark.parametrize(("marker", "signature", "message"), [
    ('template="t.gofail", source={src!r}, sample=2', "gofail_cell", "needs seed="),
    ('template="t.gofail", source={src!r}', "other", "takes a `gofail_cell` argument"),
    ('template="t.gofail", source={src!r}, trems=["panic"]', "gofail_cell", "got ['source', 'template', 'trems']"),
])
def test_marker_misuse_is_a_usage_error(marker: str, signature: str, message: str, tmp_path: Path) -> None:
    test_file = tmp_path / "test_misuse.py"
    test_file.write_text(f"import pytest\n\n@pytest.mark.gofail_explore({marker.format(src=str(KVSERVER))})\n"
                         f"def test_x({signature}):\n    pass\n")
    run = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", str(test_file)],
                         cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert run.returncode != 0 and message in run.stdout + run.stderr


DOC = (REPO / "docs" / "explore.md").read_text(encoding="utf-8")


def test_the_docs_template_is_the_shipped_one() -> None:
    shipped = "".join(line for line in (EXPLORE / "kv.gofail").read_text().splitlines(keepends=True) if not line.startswith("#"))
    assert f"```\n{shipped}```\n" in DOC
    assert (EXPLORE / "kvwork.py").is_file()  # beside it, where {dir} points


@pytest.mark.explore
def test_the_docs_commands_run_as_written(tmp_path: Path) -> None:
    block = DOC.split("tests/test_explore.py runs these lines", 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    script = "set -euo pipefail\n" + block.replace("/tmp/kv", str(tmp_path / "kv"))
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}", GOFLAGS="-mod=mod")
    done = subprocess.run(["bash", "-c", script], cwd=REPO, env=env, capture_output=True, text=True, timeout=1200)
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-3000:]  # the documented failure
    assert "truncateValue" in done.stdout and (tmp_path / "kv" / "explore.html").is_file()
    assert len(list((tmp_path / "kv" / "journals").glob("*.jsonl"))) == 2 * len(KV_FAILPOINTS)  # every one of the source
    assert survivors(str(tmp_path / "kv" / "kvserver")) == []
