"""A history that makes the search explode: the check ends at its deadline with the verdict
unknown (exit 3), never linearizable, and its memory stays bounded (the run has an address-space
limit it would pass if the memo grew with every configuration tried)."""

from __future__ import annotations

import json
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from gofail_py.check import check
from tests.support.histories import explosive_kv

GOFAIL_PY = str(Path(sys.executable).parent / "gofail-py")
LIMIT = 256 << 20  # address space of the whole run: the interpreter, the history, the search

# seconds of CPU: in the default suite, out of the developer loop `-m "not slow"`
pytestmark = pytest.mark.slow


def _write(path: Path) -> Path:
    path.write_text("".join(json.dumps(op.to_dict()) + "\n" for op in explosive_kv()))
    return path


def _limited() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (LIMIT, LIMIT))


@pytest.mark.parametrize("method", ["auto", "search"])
def test_an_exploding_search_ends_unknown_at_the_deadline_in_bounded_memory(tmp_path: Path, method: str) -> None:
    history = _write(tmp_path / "explode.jsonl")
    # unbounded, the memo of this search passes 800 MB in 5 s; --memory 16 keeps it to 16 MB
    done = subprocess.run([GOFAIL_PY, "check", str(history), "--timeout", "3", "--memory", "16", "--method", method,
                           "--json"], capture_output=True, text=True, timeout=120, preexec_fn=_limited)
    assert done.returncode == 3, done.stderr[-2000:]
    result = json.loads(done.stdout)
    assert result["verdict"] == "unknown" and result["violation"] is None
    assert result["parts"][0]["verdict"] == "unknown"


def test_the_text_output_says_the_deadline_came(tmp_path: Path) -> None:
    history = _write(tmp_path / "explode.jsonl")
    done = subprocess.run([GOFAIL_PY, "check", str(history), "--timeout", "1"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 3, done.stderr
    assert ": unknown (kv model, 2041 operations, 40 without an answer" in done.stdout
    assert "the deadline (--timeout 1 s) came before a verdict" in done.stdout


@pytest.mark.parametrize("method", ["revisions", "search"])
def test_the_python_api_gives_unknown_never_linearizable(method: str) -> None:
    result = check(explosive_kv(), "kv", timeout=0.5, method=method)
    assert result.verdict == "unknown" and not result.linearizable and result.exit_code == 3
    assert result.to_json()["verdict"] == "unknown"
