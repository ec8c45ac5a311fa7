"""gofail-py's checker and Porcupine v1.3.1 (benchmarks/porcupine, built here from the committed
go.sum) give the same verdict on generated histories: kv on one hot key and on four keys, register,
with lost operations, txns comparing every target (value, version, create and mod revision) and
deleting, each linearizable and with a stale read put in near the end."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from benchmarks.history_gen import Spec, write
from gofail_py.check import check
from tests.support.goprog import REPO, go_env

pytestmark = pytest.mark.slow

CASES = [
    Spec(150 if stale else 400, keys=keys, lost=0.02, stale_read=stale, seed=seed, model=model, varied=varied)
    for seed in range(1, 6)
    for model, keys, varied in (("kv", 1, False), ("kv", 4, False), ("kv", 2, True), ("register", 1, False))
    for stale in (False, True)
]


@pytest.fixture(scope="module")
def porcupine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    binary = tmp_path_factory.mktemp("porcupine") / "porcupine"
    env = {**go_env(), "GOFLAGS": "-mod=readonly"}  # the committed go.mod and go.sum are enough
    subprocess.run(["go", "build", "-o", str(binary), "."], cwd=REPO / "benchmarks" / "porcupine", env=env,
                   check=True, capture_output=True, timeout=300)
    return binary


def porcupine_verdict(binary: Path, history: Path) -> str:
    result = subprocess.run([str(binary), "-timeout", "30s", "-max-mem", str(2 << 30), str(history)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return str(json.loads(result.stdout)["verdict"])


def test_both_checkers_give_the_same_verdict_on_every_generated_history(porcupine: Path, tmp_path: Path) -> None:
    verdicts: dict[str, tuple[str, str]] = {}
    for spec in CASES:
        history = tmp_path / f"{spec.model}-{spec.keys}-{spec.seed}-{'stale' if spec.stale_read else 'ok'}.jsonl"
        ops = write(spec, history)
        assert any(op.stale for op in ops) == spec.stale_read
        ours = check(str(history), timeout=60).verdict
        theirs = porcupine_verdict(porcupine, history)
        verdicts[history.name] = (ours, theirs)
    differ = {name: pair for name, pair in verdicts.items() if pair[0] != pair[1]}
    assert differ == {}
    # the generator makes what it says: every stale history is a violation, every other one is not
    for name, (ours, _) in verdicts.items():
        assert ours == ("not linearizable" if "stale" in name else "linearizable"), name


def test_porcupine_reads_lost_operations_as_both_outcomes(porcupine: Path, tmp_path: Path) -> None:
    """A put that got no answer, whose value a later read sees, and one whose value nobody sees:
    both fit (it took effect; it never did). The same value read before the put was called does not."""
    head = json.dumps({"gofail_py_history": 1, "model": "kv"})
    lines = [
        {"id": 1, "client": 0, "op": "put", "input": {"key": "k", "value": "a"}, "call": 10, "return": None,
         "output": None, "error": "timeout"},
        {"id": 2, "client": 1, "op": "put", "input": {"key": "k", "value": "b"}, "call": 12, "return": None,
         "output": None, "error": "timeout"},
        {"id": 3, "client": 2, "op": "get", "input": {"key": "k"}, "call": 20, "return": 30,
         "output": {"revision": 2, "kvs": [{"key": "k", "value": "a", "create_revision": 2, "mod_revision": 2, "version": 1}]}},
    ]
    good = tmp_path / "good.jsonl"
    good.write_text("\n".join([head, *map(json.dumps, lines)]) + "\n")
    lines[2]["call"], lines[2]["return"] = 1, 5  # the read returned before the put was called
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join([head, *map(json.dumps, lines)]) + "\n")
    assert (porcupine_verdict(porcupine, good), check(str(good)).verdict) == ("linearizable", "linearizable")
    assert (porcupine_verdict(porcupine, bad), check(str(bad)).verdict) == ("not linearizable", "not linearizable")


def test_porcupine_program_says_unknown_at_its_timeout(porcupine: Path, tmp_path: Path) -> None:
    history = tmp_path / "stale.jsonl"
    write(Spec(3000, stale_read=True, lost=0.01, seed=2), history)
    # the search Porcupine needs here takes minutes: its answer at 1 s is "unknown", not a verdict
    result = subprocess.run([str(porcupine), "-timeout", "1s", str(history)], capture_output=True, text=True, timeout=120)
    assert json.loads(result.stdout)["verdict"] == "unknown"
