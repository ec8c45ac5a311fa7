"""What the README and docs tell a new user works: the quick tour runs, shell lines parse, links resolve."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import tree_digest
from tests.support.goprog import REPO, free_port

# real processes and Go builds for seconds a test: in the default suite, not the `-m "not slow"` loop
pytestmark = pytest.mark.slow

README = (REPO / "README.md").read_text(encoding="utf-8")
DOCUMENTS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md")), *sorted(REPO.glob("*/**/README.md"))]
SH_BLOCK = re.compile(r"^```sh\n(.*?)^```", re.S | re.M)
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def quick_tour() -> str:
    section = README.split("## Quick tour", 1)[1]
    found = SH_BLOCK.search(section)
    assert found, "README's quick tour has no ```sh block"
    return found[1]


def test_every_shell_block_in_the_docs_parses() -> None:
    """A line that is a shell syntax error (unquoted `sleep(1s)`) fails here, wherever it is."""
    for document in DOCUMENTS:
        for number, block in enumerate(SH_BLOCK.findall(document.read_text(encoding="utf-8")), 1):
            done = subprocess.run(["bash", "-n"], input=block, capture_output=True, text=True)
            assert done.returncode == 0, f"{document.relative_to(REPO)}, sh block {number}: {done.stderr}"


def test_the_quick_tour_runs_as_written(tmp_path: Path) -> None:
    """The tour's lines, one shell, on the bundled example: only the ports and /tmp/kv are replaced."""
    endpoint_port, listen_port = free_port(), free_port()
    tour = (quick_tour().replace("/tmp/kv", str(tmp_path / "kv"))
            .replace("22381", str(endpoint_port)).replace("22380", str(listen_port)))
    lines = []
    for line in tour.splitlines():
        lines.append(f"echo {shlex.quote('>>> ' + line.split('#')[0].strip())}")
        lines.append(line)
        if line.split("#")[0].rstrip().endswith("&"):  # a person pauses here; the script waits for the endpoint
            lines.append(f"for i in $(seq 300); do {sys.executable} -c \"import socket; "
                         f"socket.create_connection(('127.0.0.1', {endpoint_port}), 0.2)\" 2>/dev/null && break; "
                         "sleep 0.1; done")
    script = "set -euo pipefail\ntrap 'kill $(jobs -p) 2>/dev/null || true' EXIT\n" + "\n".join(lines) + "\n"
    # the gofail-py of the Python running the tests, as `source .venv/bin/activate` gives it
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    done = subprocess.run(["bash", "-c", script], cwd=REPO, capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = done.stdout
    assert "slowWrite\tstruct{}\tstore.go:" in out  # list
    assert re.search(r"^enabled 11 failpoint", out, re.M)
    assert "  slowWrite" in out and "  writeError" in out  # ls
    assert 'sleep("1s")' in out  # set and get
    assert re.search(r"^disabled 1 failpoint.*slowWrite", out, re.M)  # unset --all
    assert re.search(r"^disabled 11 failpoint", out, re.M)
    after = {name: digest for name, digest in tree_digest(tmp_path / "kv").items()
             if name != "kvserver" and not name.startswith("data")}
    assert after == tree_digest(REPO / "examples" / "kvserver"), "disable gave back the example byte for byte"


def test_the_etcd_build_line_is_the_one_the_etcd_job_runs() -> None:
    assert "`go build -o etcd .`" in README
    assert 'go build -o "$work/etcd" .' in (REPO / "examples" / "etcd" / "run.sh").read_text()


def test_relative_links_resolve_inside_the_repository() -> None:
    for document in DOCUMENTS:
        text = document.read_text(encoding="utf-8")
        assert "shared/gofail-compat" not in text, f"{document.relative_to(REPO)} points outside the repository"
        for target in LINK.findall(text):
            if re.match(r"[a-z]+:", target) or target.startswith("#"):
                continue
            resolved = (document.parent / target.split("#")[0]).resolve()
            assert resolved.exists(), f"{document.relative_to(REPO)}: link {target} does not resolve"
            assert resolved.is_relative_to(REPO), f"{document.relative_to(REPO)}: link {target} leaves the repository"
