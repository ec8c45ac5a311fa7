"""Builds gofail-enabled Go programs with our rewriter and starts them on loopback ports."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import requests

from gofail_py.processes.supervisor import free_port  # the one helper; tests import it from here too

REPO = Path(__file__).resolve().parents[2]
TESTDATA = REPO / "testdata"


def go_env() -> dict[str, str]:
    """The environment for go commands: the machine's, with caches kept between runs."""
    env = dict(os.environ)
    env.setdefault("GOFLAGS", "-mod=mod")
    env.setdefault("GOTOOLCHAIN", "local")
    return env


def build_enabled(module_src: Path, workdir: Path | None = None, output_name: str = "prog", package: str = ".") -> Path:
    """A Go module enabled with gofail-py and built: once per content (tests/support/gobuild.py).
    ``workdir`` is no longer needed (the build is cached outside it); kept for callers that pass it."""
    from tests.support.gobuild import built

    return built(output_name, module_src, package, enabled=True)


def start(binary: Path, *args: str, env: dict[str, str] | None = None,
          port: int | None = None, stdout: int | None = subprocess.PIPE) -> tuple[subprocess.Popen[bytes], str]:
    """Starts a binary with GOFAIL_HTTP on a free loopback port; waits until the endpoint answers."""
    port = port or free_port()
    endpoint = f"127.0.0.1:{port}"
    full_env = dict(os.environ)
    full_env.update(env or {})
    full_env["GOFAIL_HTTP"] = endpoint
    proc = subprocess.Popen([str(binary), *args], env=full_env, stdout=stdout, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{binary} exited with {proc.returncode}: {proc.stderr.read().decode() if proc.stderr else ''}")
        try:
            # not GET /: the runtime v0.2.0 reads its map unlocked for it, fatal during start-up
            requests.get(f"http://{endpoint}/__readiness_probe", timeout=0.5)
            return proc, endpoint
        except requests.ConnectionError:
            time.sleep(0.02)
    proc.kill()
    raise RuntimeError(f"{binary} never answered on {endpoint}")


KVSERVER_STORE = REPO / "examples" / "kvserver" / "store.go"
# the 7 failpoints of examples/kvserver's write path, and the 4 that are seeded bugs (docs/traffic.md)
KV_WRITE_PATH = ["afterCommit", "beforeCommit", "flakyDisk", "readOnly", "slowWrite", "truncateValue", "writeError"]
KV_SEEDED_BUGS = ["applyTwice", "forgetWrite", "skipSync", "staleRead"]
KV_FAILPOINTS = sorted(KV_WRITE_PATH + KV_SEEDED_BUGS)


def marker_line(name: str, source: Path = KVSERVER_STORE) -> int:
    """The line of ``// gofail: var NAME`` in a source file (enabling keeps line numbers)."""
    for number, line in enumerate(source.read_text().splitlines(), 1):
        if line.strip().startswith(f"// gofail: var {name} "):
            return number
    raise LookupError(f"no failpoint {name} in {source}")
