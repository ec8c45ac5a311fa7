"""docs/traffic.md as a user meets it: its command and its Python blocks run as written (only the
kvserver's path, its addresses and the output folder replaced), against the real examples/kvserver."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.goprog import REPO, free_port, start

pytestmark = pytest.mark.slow

DOC = (REPO / "docs" / "traffic.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"^```(sh|python)\n(.*?)^```", DOC, re.S | re.M)


def test_the_scenario_command_runs_as_written(kvserver_binary: Path, tmp_path: Path) -> None:
    [command] = [text for kind, text in BLOCKS if kind == "sh"]
    command = command.replace("./kvserver", str(kvserver_binary)).replace(" examples/", f" {REPO}/examples/")
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    done = subprocess.run(["bash", "-c", command], cwd=tmp_path, capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 1, done.stdout + done.stderr  # the stale read is caught: the check fails
    assert "not linearizable" in done.stdout and "could not be placed next:" in done.stdout
    assert (tmp_path / "run" / "j.traffic-2.jsonl").is_file()
    assert "history-head not-linearizable" in (tmp_path / "run" / "report.html").read_text()


def test_the_python_blocks_run_as_written(kvserver_binary: Path, tmp_path: Path) -> None:
    servers = []
    try:
        for address in ("127.0.0.1:8080", "127.0.0.1:8081"):
            port = free_port()
            proc, _ = start(kvserver_binary, "--listen", f"127.0.0.1:{port}", "--data", str(tmp_path / address),
                            stdout=subprocess.DEVNULL)
            servers.append((address, f"127.0.0.1:{port}", proc))
        code = "\n".join(text for kind, text in BLOCKS if kind == "python")
        for address, real, _ in servers:
            code = code.replace(address, real)
        script = tmp_path / "blocks.py"
        script.write_text(code)
        done = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stdout + done.stderr
        assert done.stdout.splitlines()[1:] == ["linearizable", "linearizable"], done.stdout
        assert done.stdout.startswith("traffic: ") and "operations" in done.stdout
    finally:
        for _, _, proc in servers:
            proc.kill()
            proc.wait()
