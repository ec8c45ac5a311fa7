"""`sweep --stop` and `ps --stale --stop` never signal themselves or their ancestors, and say
only what they really stopped and removed (issue 21, item 7).

Each case runs in a PID namespace of its own (`unshare --pid --fork --mount-proc`) with a temp
dir of its own: an unscoped `sweep --stop` there sees only the case's processes and dirs, never
what another test (or another session on this machine) left on purpose. Where namespaces are not
allowed, the commands get `--run TOKEN` instead, which scopes them the same way.
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from gofail_py.processes.supervisor import RUN_ENV
from tests.support.hostile import GOFAIL_PY

# Made in the namespace: a dead run's token, its temp dir and a process it left (in a session of
# its own, as runs start them); then the shell command, with the token, as a shell started from
# that run would have it. Prints what happened as JSON.
DRIVER = r"""
import json, os, subprocess, sys, tempfile, time
from pathlib import Path
from gofail_py.processes.proctable import alive, start_time
gone = subprocess.Popen(["sleep", "0"]); started = start_time(gone.pid); gone.wait()
token = f"{gone.pid}.{started}.{os.urandom(4).hex()}"
folder = Path(tempfile.mkdtemp(prefix=f"gofail-py-run-{token}-"))
(folder / "kv.1.stdout.log").write_text("log\n")
left = subprocess.Popen(["sleep", "300"], env={**os.environ, "GOFAIL_PY_RUN": token}, start_new_session=True)
command = sys.argv[1].replace("TOKEN", token)
shell = subprocess.run(["bash", "-c", command], env={**os.environ, "GOFAIL_PY_RUN": token},
                       capture_output=True, text=True, timeout=120)
time.sleep(0.2)
print(json.dumps({"token": token, "folder": str(folder), "left": left.pid, "left_alive": left.poll() is None,
                  "folder_exists": folder.exists(), "code": shell.returncode, "stdout": shell.stdout,
                  "stderr": shell.stderr}))
left.kill()
"""


@functools.cache
def namespaces() -> bool:
    probe = subprocess.run(["unshare", "--pid", "--fork", "--mount-proc", "true"], capture_output=True)
    return probe.returncode == 0


def in_a_namespace(command: str, tmp_path: Path) -> dict[str, Any]:
    tmp = tmp_path / "tmp"
    tmp.mkdir(exist_ok=True)
    if not namespaces():
        command = command.replace("--stop", "--stop --run TOKEN").replace("sweep;", "sweep --run TOKEN;")
    prefix = ["unshare", "--pid", "--fork", "--mount-proc"] if namespaces() else []
    done = subprocess.run([*prefix, sys.executable, "-c", DRIVER, command], env=dict(os.environ, TMPDIR=str(tmp)),
                          capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


@pytest.mark.parametrize("command", ["sweep --stop", "ps --stale --stop"])
def test_a_shell_that_inherited_a_dead_runs_token_is_not_killed(command: str, tmp_path: Path) -> None:
    # the reproduction: the command killed itself and its shell (exit 143) and left the temp dir
    seen = in_a_namespace(f"{GOFAIL_PY} {command}; echo exit=$?", tmp_path)
    token = seen["token"]
    assert seen["code"] == 0 and seen["stdout"].endswith("exit=0\n"), seen
    assert f"{seen['left']}\tstopped run {token}\tsleep 300\n" in seen["stdout"]
    assert f"-\tremoved run {token}\t{seen['folder']}\n" in seen["stdout"]
    assert f"\tspared (an ancestor of this command) run {token}\tbash -c" in seen["stdout"]
    assert f"`unset {RUN_ENV}` there" in seen["stderr"]
    assert not seen["left_alive"] and not seen["folder_exists"]


def test_a_script_without_job_control_keeps_its_own_background_jobs(tmp_path: Path) -> None:
    # a script shares its process group with what it starts: its own `sleep &` carries the same
    # inherited token but is the script's, not the dead run's
    script = tmp_path / "s.sh"
    script.write_text(f"sleep 300 &\necho job=$!\n{GOFAIL_PY} sweep --stop --json > {tmp_path}/out.json\n"
                      "kill -0 $! && echo job-alive\nkill $!\n")
    seen = in_a_namespace(f"bash {script}", tmp_path)
    assert seen["code"] == 0 and "job-alive" in seen["stdout"], seen
    statuses = {entry["pid"]: entry["status"] for entry in json.loads((tmp_path / "out.json").read_text())}
    job = int(seen["stdout"].split("job=")[1].split()[0])
    assert statuses[seen["left"]] == "stopped" and statuses[job] == "spared" and statuses[None] == "removed"
    assert not seen["left_alive"]


def test_listing_marks_the_ancestor_and_signals_nothing(tmp_path: Path) -> None:
    seen = in_a_namespace(f"{GOFAIL_PY} sweep; echo exit=$?", tmp_path)
    token = seen["token"]
    assert seen["stdout"].endswith("exit=0\n")
    assert f"{seen['left']}\tleft by run {token}\tsleep 300\n" in seen["stdout"]
    assert f"\tcarries the token (an ancestor of this command) of run {token}\tbash -c" in seen["stdout"]
    assert seen["left_alive"] and seen["folder_exists"]
