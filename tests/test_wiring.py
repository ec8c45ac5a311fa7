"""Coverage, the client and the runner together, against real processes (examples/kvserver,
testdata/slowinit): the scenario journal's windows equal the runtime's counts, `run --report`,
`Client(journal=)`, the pytest plugin's options, the start-up grace window, `ps --stale`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from gofail_py.client import Client
from gofail_py.recording.events import Crash, FailpointWindow, ProcessEvent, read_journal
from tests.support.goprog import REPO, TESTDATA, build_enabled, free_port, start

# real processes and Go builds for seconds a test: in the default suite, not the `-m "not slow"` loop
pytestmark = pytest.mark.slow

CLI = [sys.executable, "-m", "gofail_py.cli"]
KVCLIENT = str(REPO / "examples" / "kvclient.py")
KVSERVER_SRC = str(REPO / "examples" / "kvserver")

COUNTS = """\
process kv: {kvserver} --listen 127.0.0.1:{port} --data {tmp}/kv
start kv
set kv writeError=return("x")
run python3 {kvclient} put {kv.port} a 1 --fails-with x
run python3 {kvclient} put {kv.port} b 1 --fails-with x
run python3 {kvclient} put {kv.port} c 1 --fails-with x
expect kv writeError count == 3
set kv writeError=return("y")
run python3 {kvclient} put {kv.port} d 1 --fails-with y
run python3 {kvclient} put {kv.port} e 1 --fails-with y
expect kv writeError count == 2
unset kv writeError
set kv slowWrite=sleep(1ms)
run python3 {kvclient} put {kv.port} f 1
expect kv slowWrite count == 1
restart kv
set kv afterCommit=2*off->panic
run python3 {kvclient} put {kv.port} g 1
run python3 {kvclient} put {kv.port} h 1
run python3 {kvclient} put {kv.port} i 1 --no-answer
expect kv exit panic within 10s
"""


@pytest.fixture(scope="module")
def slowinit_binary(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_enabled(TESTDATA / "slowinit", tmp_path_factory.mktemp("slowinit"), "slowinit")


def gofail_run(tmp_path: Path, text: str, *args: str) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "s.gofail"
    path.write_text(text)
    return subprocess.run([*CLI, "run", str(path), *args], capture_output=True, text=True, timeout=180)


def test_a_scenarios_windows_equal_the_runtimes_counts_across_reset_unset_stop_and_panic(
    kvserver_binary: Path, tmp_path: Path
) -> None:
    journal, html = tmp_path / "j.jsonl", tmp_path / "report.html"
    done = gofail_run(tmp_path, COUNTS, "--journal", str(journal), "--report", str(html), "--source", KVSERVER_SRC,
                      "--var", f"kvserver={kvserver_binary}", "--var", f"kvclient={KVCLIENT}")
    assert done.returncode == 0, done.stdout + done.stderr
    events = list(read_journal(journal))
    windows = [(w.failpoint, w.terms, w.hits, w.exact, w.closed_by) for w in events if isinstance(w, FailpointWindow)]
    # the `expect ... count` steps read the runtime's own count just before each re-set/unset/stop
    assert windows == [
        ("writeError", 'return("x")', 3, True, "reset"),
        ("writeError", 'return("y")', 2, True, "unset"),
        ("slowWrite", 'sleep("1ms")', 1, True, "stop"),
        ("afterCommit", "2*off->panic", 3, True, "crash"),  # the panic's own hit is the third
    ]
    assert [e.action for e in events if isinstance(e, ProcessEvent)] == ["start", "stop", "restart", "exit"]
    [crash] = [e for e in events if isinstance(e, Crash)]
    assert (crash.failpoint, crash.reason, crash.line) == ("afterCommit", "stack", 125)
    steps = [e for e in events if e.kind == "step"]
    assert len(steps) == 20 and all(s.outcome == "ok" for s in steps)
    assert "fault coverage: 7 failpoints in source, 3 armed (43%), 3 hit (43%), 1 crashed a process" in done.stdout
    page = html.read_text()
    assert "<svg" in page and "afterCommit" in page
    data = json.loads(subprocess.run([*CLI, "report", "--json", str(journal), "--source", KVSERVER_SRC],
                                     capture_output=True, text=True, timeout=60, check=True).stdout)
    hits = {fp["name"]: (fp["hits"], fp["crashes"]) for fp in data["failpoints"] if fp["armed"]}
    assert hits == {"writeError": (5, 0), "slowWrite": (1, 0), "afterCommit": (3, 1)}


def test_a_failed_run_still_writes_its_report(kvserver_binary: Path, tmp_path: Path) -> None:
    html = tmp_path / "report.html"
    text = "process kv: {kvserver} --listen 127.0.0.1:{port} --data {tmp}/kv\nstart kv\n" \
           "set kv writeError=return(\"x\")\nexpect kv writeError count == 1\n"
    done = gofail_run(tmp_path, text, "--report", str(html), "--var", f"kvserver={kvserver_binary}")
    assert done.returncode == 1 and "FAILED at" in done.stdout and "Traceback" not in done.stderr
    assert "step failed" in html.read_text() and "writeError count is 0, not == 1" in html.read_text()


def test_bad_report_options_are_exit_2_before_anything_starts(tmp_path: Path) -> None:
    done = gofail_run(tmp_path, "sleep 1ms\n", "--source", str(tmp_path / "missing"))
    assert done.returncode == 2 and "Traceback" not in done.stderr and "missing" in done.stderr, done.stderr


def test_a_scenario_start_then_set_waits_for_a_late_registration(slowinit_binary: Path, tmp_path: Path) -> None:
    text = "process slow: {slowinit}\nenv slow SLOWINIT_MS=1500\nstart slow\n" \
           "set slow lateFailpoint=return(\"late\")\nwait slow lateFailpoint count >= 2 within 10s\n" \
           "restart slow\nset slow lateFailpoint=return(\"again\")\nwait slow lateFailpoint count >= 2 within 10s\n"
    done = gofail_run(tmp_path, text, "--var", f"slowinit={slowinit_binary}")
    assert done.returncode == 0, done.stdout + done.stderr


def test_client_journal_records_windows_equal_to_the_runtime(kvserver_binary: Path, tmp_path: Path) -> None:
    port = free_port()
    proc, endpoint = start(kvserver_binary, "--listen", f"127.0.0.1:{port}", "--data", str(tmp_path / "d"))
    journal = tmp_path / "c.jsonl"
    truth = Client(endpoint)
    try:
        client = Client(endpoint, journal=journal, process="kv")
        client.enable("writeError", 'return("x")')
        for key in "ab":
            assert requests.put(f"http://127.0.0.1:{port}/kv/{key}", data="v", timeout=10).status_code == 500
        assert truth.count("writeError") == 2
        client.enable("writeError", 'return("y")')
        assert requests.put(f"http://127.0.0.1:{port}/kv/c", data="v", timeout=10).status_code == 500
        assert truth.count("writeError") == 1
        assert client.disable("writeError") is True and client.disable("writeError") is False
        client.enable("slowWrite", "sleep(1ms)")
        assert requests.put(f"http://127.0.0.1:{port}/kv/d", data="v", timeout=10).status_code == 204
        client.close()  # the open window ends with its count read
    finally:
        proc.kill()
        proc.wait()
    got = [(w.process, w.failpoint, w.hits, w.exact, w.closed_by) for w in read_journal(journal)
           if isinstance(w, FailpointWindow)]
    assert got == [("kv", "writeError", 2, True, "reset"), ("kv", "writeError", 1, True, "unset"),
                   ("kv", "slowWrite", 1, True, "end")]


PLUGIN_TESTS = '''
import os
import pytest
import requests


def start(gofail_process, tmp_path):
    return gofail_process([os.environ["KV"], "--listen", "127.0.0.1:{port}", "--data", str(tmp_path / "kv")])


def test_errors(gofail_process, tmp_path):
    kv = start(gofail_process, tmp_path)
    kv.client.enable("writeError", 'return("x")')
    for key in "abc":
        assert requests.put(f"http://127.0.0.1:{kv.port}/kv/{key}", data="v", timeout=10).status_code == 500
    assert kv.client.count("writeError") == 3


def test_crash(gofail_process, tmp_path):
    kv = start(gofail_process, tmp_path)
    kv.client.enable("afterCommit", "panic")
    with pytest.raises(requests.ConnectionError):
        requests.put(f"http://127.0.0.1:{kv.port}/kv/a", data="v", timeout=10)
    kv.popen.wait(timeout=10)


def test_late(gofail_process):
    slow = gofail_process([os.environ["SLOWINIT"]], env={"SLOWINIT_MS": "1500"})
    slow.client.enable("lateFailpoint", 'return("late")')  # registered ~1.5 s after the endpoint answers
    slow.client.wait_count("lateFailpoint", 2, timeout=10)
'''


def run_plugin(tmp_path: Path, kvserver: Path, slowinit: Path, *options: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "test_inner.py").write_text(PLUGIN_TESTS)
    env = {**os.environ, "KV": str(kvserver), "SLOWINIT": str(slowinit)}
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "test_inner.py", *options],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)


def test_the_pytest_plugin_collects_the_sessions_coverage(kvserver_binary: Path, slowinit_binary: Path,
                                                          tmp_path: Path) -> None:
    html = tmp_path / "cov.html"
    done = run_plugin(tmp_path, kvserver_binary, slowinit_binary, f"--gofail-report={html}",
                      f"--gofail-source={KVSERVER_SRC}", f"--gofail-source={TESTDATA / 'slowinit'}/...")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "3 passed" in done.stdout
    # 7 in kvserver, 1 in slowinit; writeError, afterCommit and lateFailpoint armed and hit
    line = "gofail-py fault coverage: 8 failpoints in source, 3 armed (38%), 3 hit (38%), 1 crashed a process"
    assert line in done.stdout, done.stdout
    page = html.read_text()
    assert "test_inner.py::test_crash" in page and "lateFailpoint" in page
    under = run_plugin(tmp_path, kvserver_binary, slowinit_binary, f"--gofail-source={KVSERVER_SRC}",
                       "--gofail-fail-under=50", "-k", "errors")
    assert under.returncode == 1, under.stdout + under.stderr
    assert "1 passed" in under.stdout and "under --gofail-fail-under 50%" in under.stdout
    usage = run_plugin(tmp_path, kvserver_binary, slowinit_binary, "--gofail-fail-under=50")
    assert usage.returncode == 4 and "--gofail-fail-under needs --gofail-source" in usage.stderr
    off = run_plugin(tmp_path, kvserver_binary, slowinit_binary, "-k", "errors")
    assert off.returncode == 0 and "fault coverage" not in off.stdout


def test_ps_stale_lists_and_stops_what_a_dead_run_left(tmp_path: Path) -> None:
    from gofail_py.processes.supervisor import RUN_ENV, _start_time

    gone = subprocess.Popen(["true"])
    started = _start_time(gone.pid)
    gone.wait()
    token = f"{gone.pid}.{started}.{os.urandom(4).hex()}"
    left = subprocess.Popen(["sleep", "300"], env={**os.environ, RUN_ENV: token}, start_new_session=True)
    try:
        deadline = time.monotonic() + 10
        listed: list[dict[str, object]] = []
        while time.monotonic() < deadline and not listed:
            done = subprocess.run([*CLI, "ps", "--stale", "--json"], capture_output=True, text=True, timeout=60)
            assert done.returncode == 0, done.stderr
            listed = [p for p in json.loads(done.stdout) if p["run"] == token]
        assert [p["pid"] for p in listed] == [left.pid]
        misuse = subprocess.run([*CLI, "ps", "--stop"], capture_output=True, text=True, timeout=60)
        assert misuse.returncode == 2 and "--stale" in misuse.stderr
        stopped = subprocess.run([*CLI, "ps", "--stale", "--stop", "--run", token], capture_output=True, text=True,
                                 timeout=60)
        assert stopped.returncode == 0 and f"{left.pid}\tstopped" in stopped.stdout
        assert left.wait(timeout=10) is not None
    finally:
        if left.poll() is None:
            left.kill()
            left.wait()


def test_a_set_waiting_for_registration_holds_up_no_parallel_step(slowinit_binary: Path, tmp_path: Path) -> None:
    """The recorder takes no lock across a request: steps running beside a waiting `set` go on."""
    from gofail_py.scenario import parse_scenario, run_scenario

    text = (f"process slow: {slowinit_binary}\nenv slow SLOWINIT_MS=3000\nstart slow\nparallel:\n"
            "  set slow lateFailpoint=return(\"late\")\n  repeat 2:\n    log tick\n")
    result = run_scenario(parse_scenario(text, str(tmp_path / "p.gofail")))
    assert result.passed, result.summary()
    [set_step] = [r for r in result.timeline if r.statement.startswith("set")]
    ticks = [r for r in result.timeline if r.statement.startswith("log")]
    assert len(ticks) == 2 and set_step.end - set_step.start > 1.0  # it did wait for the registration
    assert ticks[1].start < set_step.end  # the second tick did not wait for the first one's record
