"""Running the go command so that it never outlives gofail-py (a go get left behind would write go.mod later)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import threading
from pathlib import Path
from types import FrameType

from gofail_py.children import die_with_parent
from gofail_py.errors import GoToolError

def find_go() -> str:
    go = shutil.which("go")
    if go is None:
        raise GoToolError("--go-get needs the go command, which is not on PATH; nothing was changed")
    return go


class _Terminated(BaseException):
    pass


def run_go(argv: list[str], cwd: Path) -> None:
    """Runs a go command in its own process group; raises GoToolError with its stderr on failure.

    On SIGTERM the whole group is killed before gofail-py unwinds (so callers can put go.mod
    back), and the process then exits 143."""
    flags = " ".join(f for f in [os.environ.get("GOFLAGS", ""), "-mod=mod"] if f)  # the user's flags kept
    env = dict(os.environ, GOFLAGS=flags, GOTOOLCHAIN=os.environ.get("GOTOOLCHAIN", "local"))
    proc = subprocess.Popen(
        argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True, preexec_fn=die_with_parent(),
    )

    def on_term(signum: int, frame: FrameType | None) -> None:
        raise _Terminated()

    main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, on_term) if main_thread else None
    try:
        _, stderr = proc.communicate()
    except BaseException as error:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()
        if isinstance(error, _Terminated):
            raise SystemExit(128 + signal.SIGTERM) from None
        raise
    finally:
        if main_thread:
            signal.signal(signal.SIGTERM, previous)
    if proc.returncode != 0:
        raise GoToolError(f"{cwd}: {' '.join(['go', *argv[1:]])} failed:\n{stderr.strip()}")
