"""The process supervisor: nothing a run starts outlives it, whatever the process does to escape.

Each leak case runs the real `gofail-py run` on examples/kvserver (real runtime, real HTTP) and
then checks /proc for survivors and that the ports are free again.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

from gofail_py.processes.supervisor import RUN_ENV, Cancelled, Supervisor, poll_until, stale_processes
from tests.support.goprog import REPO
from tests.support.procs import default_sigint

# real processes and Go builds for seconds a test: in the default suite, not the `-m "not slow"` loop
pytestmark = pytest.mark.slow

KVCLIENT = str(REPO / "examples" / "kvclient.py")
CLI = [sys.executable, "-m", "gofail_py.cli"]


def alive(pid: int) -> bool:
    """Running: not gone and not a zombie."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return raw[raw.rfind(")") + 2:].split()[0] not in ("Z", "X")


def port_free(port: int) -> bool:
    """Nothing listens on it (SO_REUSEADDR: a closed connection's TIME_WAIT does not count)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def gone(pids: list[int], timeout: float = 10.0) -> bool:
    return bool(poll_until(lambda: True if not any(alive(p) for p in pids) else None, time.monotonic() + timeout))


def ports_of(journal: Path) -> list[int]:
    """The kvserver port and the gofail port of every `start` in a journal."""
    ports = []
    for line in journal.read_text().splitlines():
        record = json.loads(line)
        if record["event"] == "step" and record["statement"].startswith("start") and isinstance(record["sent"], dict):
            ports.append(int(record["sent"]["GOFAIL_HTTP"].rpartition(":")[2]))
            ports += [int(w.rpartition(":")[2]) for w in record["sent"]["argv"] if w.startswith("127.0.0.1:")]
    return ports


def run_cli(scenario: str, tmp_path: Path, binary: Path) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "leak.gofail"
    path.write_text(scenario)
    return subprocess.run([*CLI, "run", str(path), "--journal", str(tmp_path / "j.jsonl"), "--var", f"kvserver={binary}",
                           "--var", f"kvclient={KVCLIENT}"], capture_output=True, text=True, timeout=120)


def test_a_wrapper_that_backgrounds_its_server_and_exits(kvserver_binary: Path, tmp_path: Path) -> None:
    pidfile = tmp_path / "server.pid"
    result = run_cli(f"""
process w: sh -c "{{kvserver}} --listen 127.0.0.1:{{port}} --data {{tmp}}/kv & echo $! > {pidfile}"
start w
sleep 300ms
expect w running
""", tmp_path, kvserver_binary)
    assert result.returncode in (1, 3), result.stdout + result.stderr
    assert "died unexpectedly" in result.stdout or "exited with code 0" in result.stdout, result.stdout
    server = int(pidfile.read_text())
    assert gone([server]), "the server outlived the run"
    assert all(port_free(port) for port in ports_of(tmp_path / "j.jsonl"))


def test_a_wrapper_that_setsids_its_server_and_waits(kvserver_binary: Path, tmp_path: Path) -> None:
    pidfile = tmp_path / "server.pid"
    result = run_cli(f"""
process w: sh -c "setsid {{kvserver}} --listen 127.0.0.1:{{port}} --data {{tmp}}/kv & echo $! > {pidfile}; wait"
start w
run python3 {{kvclient}} put {{w.port}} a 1
""", tmp_path, kvserver_binary)
    assert result.returncode == 0, result.stdout + result.stderr
    server = int(pidfile.read_text())
    assert not alive(server), "cleanup left the setsid server running"
    assert all(port_free(port) for port in ports_of(tmp_path / "j.jsonl"))


def _token_holders(token_dir: Path) -> list[int]:
    return [p.pid for p in stale_processes() if p.token.startswith(token_dir.name)]


def test_sigkill_of_the_runner_leaves_nothing_running(kvserver_binary: Path, tmp_path: Path) -> None:
    pidfile = tmp_path / "server.pid"
    path = tmp_path / "killed.gofail"
    path.write_text(f"""
process kv: {{kvserver}} --listen 127.0.0.1:{{port}} --data {{tmp}}/kv
process w: sh -c "setsid {{kvserver}} --listen 127.0.0.1:{{port}} --data {{tmp}}/w & echo $! > {pidfile}; wait"
start kv
start w
run background sleep 300
run sleep 301
""")
    journal = tmp_path / "j.jsonl"
    runner = subprocess.Popen([*CLI, "run", str(path), "--journal", str(journal), "--var", f"kvserver={kvserver_binary}"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        def started() -> list[int] | None:
            pids = [pid for pid in _ours(runner.pid) if _cmdline(pid) in ("sleep 300", "sleep 301")]
            return pids if len(pids) == 2 else None

        sleeps = poll_until(started, time.monotonic() + 60)
        assert sleeps is not None, "the scenario never reached its `run sleep 301`"
        servers = [record["answer"]["pid"] for record in map(json.loads, journal.read_text().splitlines())
                   if record["event"] == "step" and record["statement"].startswith("start")] + [int(pidfile.read_text())]
        tmp_dirs = list(Path(tempfile.gettempdir()).glob(f"gofail-py-run-{runner.pid}.*"))
        assert len(tmp_dirs) == 1
    finally:
        runner.send_signal(signal.SIGKILL)
        runner.wait()
    # direct children die with the runner (parent-death signal): both servers' wrappers, both sleeps
    assert gone(sleeps + servers[:2]), "direct children outlived the SIGKILLed runner"
    # the server that left the session is found later by its run token
    listed = subprocess.run([*CLI, "sweep", "--json"], capture_output=True, text=True, timeout=60)
    assert listed.returncode == 0 and servers[2] in [p["pid"] for p in json.loads(listed.stdout)], listed.stdout
    # --run: only this run's leftovers (an unscoped --stop would also stop what other tests left on purpose)
    stopped = subprocess.run([*CLI, "sweep", "--stop", "--run", str(runner.pid)], capture_output=True, text=True, timeout=60)
    assert stopped.returncode == 0, stopped.stderr
    assert gone(servers), "sweep --stop left a server running"
    assert not tmp_dirs[0].exists(), "sweep --stop removes the dead run's temp dir"
    assert all(port_free(port) for port in ports_of(journal))


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
    except OSError:
        return ""


def _ours(runner_pid: int) -> list[int]:
    """Live processes whose run token names the runner's pid."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if any(item.startswith(f"{RUN_ENV}={runner_pid}.".encode()) for item in environ) and alive(int(entry.name)):
            found.append(int(entry.name))
    return found


def test_the_supervisor_stops_what_its_children_left_behind(tmp_path: Path) -> None:
    supervisor = Supervisor(tmp_path)
    pidfile = tmp_path / "orphan.pid"
    child = supervisor.start("wrapper", ["sh", "-c", f"setsid sleep 300 & echo $! > {pidfile}"])
    assert poll_until(child.exit_code, time.monotonic() + 10) == 0
    orphan = int(poll_until(lambda: pidfile.read_text().strip() or None, time.monotonic() + 10) or 0)
    assert alive(orphan) and orphan in supervisor.descendants()
    supervisor.close(grace=1.0)
    assert gone([orphan])


def test_a_command_that_cannot_start_is_a_clear_error(tmp_path: Path) -> None:
    from gofail_py.errors import ProcessStartError

    supervisor = Supervisor(tmp_path)
    try:
        with pytest.raises(ProcessStartError, match="no-such-program"):
            supervisor.start("x", ["no-such-program-gofail"])
        with pytest.raises(ProcessStartError, match="null byte"):
            supervisor.start("x", ["echo", "a\0b"])
    finally:
        supervisor.close()


def test_poll_until_checks_once_more_at_the_deadline_and_stops_when_cancelled() -> None:
    calls: list[float] = []
    assert poll_until(lambda: calls.append(time.monotonic()) or None, time.monotonic() + 0.05) is None
    assert len(calls) >= 2, "at least the first call and one at the deadline"
    assert poll_until(lambda: 7, time.monotonic() - 1) == 7, "a deadline already past still checks once"
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled):
        poll_until(lambda: None, time.monotonic() + 60, cancel)


def test_the_pytest_fixture_stops_a_server_that_left_the_session(kvserver_binary: Path, tmp_path: Path) -> None:
    """gofail_process shares the supervisor: at teardown a setsid'd server is found and stopped."""
    pidfile = tmp_path / "server.pid"
    (tmp_path / "test_leak.py").write_text(f'''
from pathlib import Path

def test_wrapped(gofail_process):
    kv = gofail_process(["sh", "-c", "setsid {kvserver_binary} --listen 127.0.0.1:{{port}} --data {tmp_path}/d & echo $! > {pidfile}; wait"])
    assert kv.client.list() is not None
''')
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path / "test_leak.py")],
                            capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert gone([int(pidfile.read_text())]), "the fixture's teardown left the setsid server running"


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_an_interrupted_run_cleans_up_and_exits_130(kvserver_binary: Path, tmp_path: Path, sig: int) -> None:
    path = tmp_path / "interrupted.gofail"
    path.write_text("process kv: {kvserver} --listen 127.0.0.1:{port} --data {tmp}/kv\n"
                    "start kv\nset kv slowWrite=sleep(1)\nrun background sleep 300\nrun sleep 301\n")
    journal = tmp_path / "j.jsonl"
    # SIGINT as a terminal would send it: a suite started as a shell's background job (`cmd &`)
    # inherits SIGINT ignored, and Python then keeps ignoring it (the shell's rule for such jobs)
    runner = subprocess.Popen([*CLI, "run", str(path), "--journal", str(journal), "--var", f"kvserver={kvserver_binary}"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=default_sigint)
    try:
        sleeps = poll_until(lambda: (lambda found: found if len(found) == 2 else None)(
            [pid for pid in _ours(runner.pid) if _cmdline(pid) in ("sleep 300", "sleep 301")]), time.monotonic() + 60)
        assert sleeps is not None, "the scenario never reached its `run sleep 301`"
        ours = _ours(runner.pid)
        tmp_dirs = list(Path(tempfile.gettempdir()).glob(f"gofail-py-run-{runner.pid}.*"))
        runner.send_signal(sig)
        out, err = runner.communicate(timeout=60)
    finally:
        if runner.poll() is None:
            runner.kill()
    assert runner.returncode == 130, out + err
    assert "interrupted: processes stopped and failpoints disabled" in err and "Traceback" not in err
    records = [json.loads(line) for line in journal.read_text().splitlines()]
    assert [r["statement"] for r in records if r["event"] == "step" and r["index"] == "cleanup"] == [
        "unset kv slowWrite", "stop kv"]
    assert gone(ours, timeout=1.0), "everything was stopped before the runner exited"
    assert len(tmp_dirs) == 1 and not tmp_dirs[0].exists()
    assert all(port_free(port) for port in ports_of(journal))


# A process that takes half a second to shut down on SIGTERM (as a server flushing its data does):
# it writes OUT.ready once its handler is in place and OUT.done when its shutdown is complete.
GRACEFUL = """
import os, signal, sys, time
out = sys.argv[1]
def shut_down(*_):
    time.sleep(0.5)
    open(out + ".done", "w").close()
    os._exit(0)
signal.signal(signal.SIGTERM, shut_down)
open(out + ".pid", "w").write(str(os.getpid()))
os.rename(out + ".pid", out + ".ready")
while True:
    time.sleep(1)
"""


@pytest.mark.parametrize("how", ["in the group", "setsid"])
def test_stop_returns_once_everything_the_process_started_is_gone(tmp_path: Path, how: str) -> None:
    """A wrapper dies at once on SIGTERM; what it started gets the grace period to shut down, even
    outside the wrapper's group and session, and stop returns only when all of it is gone."""
    script, out = tmp_path / "graceful.py", tmp_path / "server"
    script.write_text(GRACEFUL)
    prefix = "setsid " if how == "setsid" else ""
    supervisor = Supervisor(tmp_path)
    try:
        child = supervisor.start("wrapped", ["sh", "-c", f'{prefix}"{sys.executable}" {script} {out} & wait'])
        ready = Path(f"{out}.ready")
        assert poll_until(lambda: True if ready.exists() else None, time.monotonic() + 30)
        server = int(ready.read_text())
        child.stop(grace=30)  # a wide margin: it needs half a second
        assert Path(f"{out}.done").exists(), "the server was not given its grace period"
        assert not alive(server)
    finally:
        supervisor.close()


def test_a_program_whose_main_thread_exited_is_alive_until_its_last_thread_ends(tmp_path: Path) -> None:
    """/proc shows the main thread of such a process as a zombie while its other threads still run
    (and hold its sockets): the supervisor must not take it for gone."""
    from gofail_py.processes.proctable import alive as supervisor_alive

    release = tmp_path / "release"
    code = ("import ctypes, os, threading, time\n"
            f"def work():\n    while not os.path.exists({str(release)!r}):\n        time.sleep(0.01)\n"
            "threading.Thread(target=work).start()\n"
            "ctypes.CDLL(None).pthread_exit(None)\n")
    proc = subprocess.Popen([sys.executable, "-c", code])
    try:
        assert poll_until(lambda: True if not alive(proc.pid) else None, time.monotonic() + 30)  # the main thread
        assert Path(f"/proc/{proc.pid}/stat").read_text().split(") ")[1][0] == "Z"
        assert supervisor_alive(proc.pid)  # its other thread waits for the release
        release.touch()
        assert proc.wait(timeout=30) == 0
        assert not supervisor_alive(proc.pid)
    finally:
        proc.kill()
        proc.wait()


def test_free_port_never_hands_out_the_same_port_twice_in_a_process() -> None:
    """The kernel's bind(0) returns recently freed ports again (149 repeats in 2,000 calls here):
    a process's {port} and its GOFAIL_HTTP port must not be the same port."""
    from gofail_py.processes.supervisor import free_port

    ports = [free_port() for _ in range(2000)]
    assert len(set(ports)) == len(ports)
