"""`sweep --stop` and `ps --stale --stop` never signal themselves or their ancestors, and say
only what they really stopped and removed (issue 21, item 7)."""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from gofail_py.processes.supervisor import RUN_ENV
from gofail_py.processes.proctable import alive, start_time
from tests.support.hostile import GOFAIL_PY


def dead_token() -> str:
    """The token of a run that is gone: made by a process that exited since."""
    gone = subprocess.Popen(["sleep", "0"])
    started = start_time(gone.pid)
    gone.wait()
    return f"{gone.pid}.{started}.{os.urandom(4).hex()}"


@pytest.fixture
def dead_run() -> Iterator[tuple[str, Path, subprocess.Popen[bytes]]]:
    """A dead run's token, its temp dir and a process it left (in a session of its own, as runs start them)."""
    token = dead_token()
    folder = Path(tempfile.mkdtemp(prefix=f"gofail-py-run-{token}-"))
    (folder / "kv.1.stdout.log").write_text("log\n")
    left = subprocess.Popen(["sleep", "300"], env={**os.environ, RUN_ENV: token}, start_new_session=True)
    try:
        yield token, folder, left
    finally:
        if left.poll() is None:
            left.kill()
        left.wait()
        if folder.exists():
            import shutil

            shutil.rmtree(folder)


@pytest.mark.parametrize("command", ["sweep --stop", "ps --stale --stop"])
def test_a_shell_that_inherited_a_dead_runs_token_is_not_killed(command: str,
                                                                 dead_run: tuple[str, Path, subprocess.Popen[bytes]]) -> None:
    # the reproduction: the command killed itself and its shell (exit 143) and left the temp dir
    token, folder, left = dead_run
    shell = subprocess.run(["bash", "-c", f"{GOFAIL_PY} {command}; echo exit=$?"], env={**os.environ, RUN_ENV: token},
                           capture_output=True, text=True, timeout=120)
    assert shell.returncode == 0, shell.stdout + shell.stderr
    assert shell.stdout.endswith("exit=0\n"), shell.stdout + shell.stderr
    assert f"{left.pid}\tstopped run {token}\tsleep 300\n" in shell.stdout
    assert f"-\tremoved run {token}\t{folder}\n" in shell.stdout
    assert f"\tspared (an ancestor of this command) run {token}\tbash -c" in shell.stdout
    assert f"`unset {RUN_ENV}` there" in shell.stderr
    assert left.wait(timeout=10) is not None and not folder.exists()


def test_a_script_without_job_control_keeps_its_own_background_jobs(dead_run: tuple[str, Path, subprocess.Popen[bytes]],
                                                                     tmp_path: Path) -> None:
    # a script shares its process group with what it starts: its own `sleep &` carries the same
    # inherited token but is the script's, not the dead run's
    token, folder, left = dead_run
    script = tmp_path / "s.sh"
    script.write_text(f"sleep 300 &\necho job=$!\n{GOFAIL_PY} sweep --stop --json > {tmp_path}/out.json\n"
                      "kill -0 $! && echo job-alive\nkill $!\n")
    shell = subprocess.run(["bash", str(script)], env={**os.environ, RUN_ENV: token}, capture_output=True,
                           text=True, timeout=120)
    assert shell.returncode == 0 and "job-alive" in shell.stdout, shell.stdout + shell.stderr
    import json

    statuses = {entry["pid"]: entry["status"] for entry in json.loads((tmp_path / "out.json").read_text())
                if entry["run"] == token}
    job = int(shell.stdout.split("job=")[1].split()[0])
    assert statuses[left.pid] == "stopped" and statuses[job] == "spared" and statuses[None] == "removed"
    assert not alive(left.pid) or left.poll() is not None


def test_listing_marks_the_ancestor_and_signals_nothing(dead_run: tuple[str, Path, subprocess.Popen[bytes]]) -> None:
    token, folder, left = dead_run
    shell = subprocess.run(["bash", "-c", f"{GOFAIL_PY} sweep; echo exit=$?"], env={**os.environ, RUN_ENV: token},
                           capture_output=True, text=True, timeout=120)
    assert shell.stdout.endswith("exit=0\n")
    assert f"{left.pid}\tleft by run {token}\tsleep 300\n" in shell.stdout
    assert f"\tcarries the token (an ancestor of this command) of run {token}\tbash -c" in shell.stdout
    time.sleep(0.2)
    assert left.poll() is None and folder.exists()
