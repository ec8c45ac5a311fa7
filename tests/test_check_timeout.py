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
    assert ": unknown (kv model, 2042 operations, 41 without an answer" in done.stdout
    assert "the deadline (--timeout 1 s) came before a verdict" in done.stdout


@pytest.mark.parametrize("method", ["revisions", "search"])
def test_the_python_api_gives_unknown_never_linearizable(method: str) -> None:
    result = check(explosive_kv(), "kv", timeout=0.5, method=method)
    assert result.verdict == "unknown" and not result.linearizable and result.exit_code == 3
    assert result.to_json()["verdict"] == "unknown"


def _late(kind: str) -> list:  # type: ignore[type-arg]
    """explosive_kv's gaps, then a read no order can explain: every order fails there, so the
    check stops at the first one that reaches it instead of trying them all."""
    ops = explosive_kv(keys=200)
    last = ops.pop()
    ops.pop()  # the put of zz
    top = last.output["revision"]  # type: ignore[index]
    if kind == "never written":
        last.output = {"revision": top, "kvs": [{"key": "f00007", "value": "nobody", "create_revision": 9,
                                                 "mod_revision": 9, "version": 1}]}
        return [*ops, last]
    # stale: the read of revision top is called after the put of top + 1 returned
    put = type(last)(9999, 99, "put", {"key": "f00001", "value": "late"}, last.call, last.call + 5, {"revision": top + 1})
    last.call, last.ret, last.output = last.call + 10, last.call + 20, {"revision": top, "kvs": []}
    return [*ops, put, last]


@pytest.mark.parametrize("kind", ["never written", "stale"])
def test_a_read_no_order_explains_ends_an_exploding_search_at_once(kind: str) -> None:
    result = check(_late(kind), "kv", timeout=60, method="revisions")
    assert result.verdict == "not linearizable", "it tried every order first (unknown at the deadline)"
    assert result.violation is not None and result.violation.unplaced[0].op.id == 200 + 40
